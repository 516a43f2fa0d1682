package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// Broadcasts (issue 7). Each broadcast lives in its own slot, {<prefix>:b:<id>}:
//
//	meta    hash: content snapshot, state, schedule and times, counters, claim cursor
//	to      string: the recipients' chat ids, 8 bytes each (big-endian), in audience order
//	st      string: one status byte per recipient (RecipientStatus), same order
//	redo    list: indexes given back (a released or expired claim), claimed before the cursor
//	own     hash: index -> claim token, for recipients claimed or being sent only
//	lease   zset: claim token -> deadline (ms, server clock)
//	why     hash: index -> Telegram's reason, for failed recipients
//	reasons hash: reason -> failed recipients
//	tick    string: set while a progress report is not yet due again (ProgressDue)
//
// so a recipient costs 9 bytes plus what is in flight. The global slot holds the list of
// broadcasts ({…:g}:broadcasts, id -> created ms), those not yet finished
// ({…:g}:broadcasts:active), the id counter, the audit stream ({…:g}:audit:broadcasts) and
// the broadcast pacing bucket ({…:g}:pace:broadcast, in µs). Pauses are shared with the
// reply sender: {…:g}:pause:bulk and {…:g}:pause:all (RateLimited, GlobalPause).
//
// At most once per recipient: a recipient is claimed (status claimed, its index owned by
// the claim token, the token leased until a deadline) and marked sending right before its
// call, in a script that checks the token, the lease and the broadcast's state. Only
// claimed recipients are ever given back to be claimed again (a released claim, or one
// whose lease expired: its worker died or stalled); one left sending becomes ambiguous
// and is never sent again.

// Broadcast states.
const (
	BroadcastScheduled = "scheduled"
	BroadcastSending   = "sending"
	BroadcastPaused    = "paused"
	BroadcastStopped   = "stopped"
	BroadcastDone      = "done"
)

// RecipientStatus is the status byte of one recipient.
type RecipientStatus byte

// Recipient statuses. StatusLost is a recipient whose worker's claim expired while it was
// being sent: it counts as ambiguous until that worker (if alive) reports the outcome.
const (
	StatusPending RecipientStatus = iota
	StatusClaimed
	StatusSending
	StatusSent
	StatusBlocked
	StatusFailed
	StatusAmbiguous
	StatusSkipped
	StatusLost
)

var statusNames = [...]string{"pending", "claimed", "sending", "sent", "blocked", "failed", "ambiguous", "skipped", "ambiguous"}

// String returns the status as the API shows it ("ambiguous" for StatusLost too).
func (r RecipientStatus) String() string {
	if int(r) < len(statusNames) {
		return statusNames[r]
	}
	return "unknown"
}

// Outcomes that Record accepts, each with its counter field in meta.
var outcomeField = map[RecipientStatus]string{
	StatusSent: "sent", StatusBlocked: "blocked", StatusFailed: "failed",
	StatusAmbiguous: "ambiguous", StatusSkipped: "skipped",
}

// ErrBadState is returned (wrapped) when a broadcast cannot take a control action in its
// state, e.g. resuming one that is done.
var ErrBadState = errors.New("not possible in this state")

// BroadcastContent is a broadcast's message, snapshotted when it is created: a text with
// its parse mode, or a message to copy (copyMessage, so photos and documents work).
// StopData, when set, adds one inline button labelled StopText carrying it.
type BroadcastContent struct {
	Text       string `json:"text,omitempty"`
	ParseMode  string `json:"parse_mode,omitempty"`
	FromChatID int64  `json:"from_chat_id,omitempty"`
	MessageID  int    `json:"message_id,omitempty"`
	StopText   string `json:"stop_text,omitempty"`
	StopData   string `json:"stop_data,omitempty"`
	// Entities format Text instead of ParseMode; Media ("photo", "document") with FileID
	// sends a file Telegram has, Text being its caption. A notice decided in the staff
	// group is kept so, a snapshot that no later edit or deletion changes.
	Entities json.RawMessage `json:"entities,omitempty"`
	Media    string          `json:"media,omitempty"`
	FileID   string          `json:"file_id,omitempty"`
}

// NewBroadcast describes a broadcast to create. Recipients are deduplicated, keeping the
// first occurrence; ScheduleAt in the future schedules it, otherwise it starts at once.
type NewBroadcast struct {
	CreatedBy  string
	Content    BroadcastContent
	Recipients []int64
	ScheduleAt time.Time
	// ReportTo is the staff chat that follows the broadcast's progress (0: none).
	ReportTo int64
	// Key, when set, makes creation idempotent: the id is derived from it, and creating
	// with a key whose broadcast exists returns that broadcast (the follow-up step that
	// creates a broadcast decided in the staff group is retried after a crash).
	Key string
}

// Broadcast is a broadcast's record and progress.
type Broadcast struct {
	ID          string
	ReportTo    int64
	CreatedBy   string
	CreatedAt   time.Time
	Content     BroadcastContent
	State       string
	ScheduledAt time.Time // zero unless scheduled
	StartedAt   time.Time // zero until it starts
	FinishedAt  time.Time // zero until done or stopped
	Total       int64
	Sent        int64
	Failed      int64
	Blocked     int64
	Ambiguous   int64
	Skipped     int64
	// Reasons counts failed recipients by Telegram's description.
	Reasons map[string]int64
}

// Processed is how many recipients have an outcome.
func (b Broadcast) Processed() int64 {
	return b.Sent + b.Failed + b.Blocked + b.Ambiguous + b.Skipped
}

// Finished reports whether the broadcast is done or stopped.
func (b Broadcast) Finished() bool {
	return b.State == BroadcastDone || b.State == BroadcastStopped
}

type bcastKeys struct {
	meta, to, st, redo, own, lease, why, reasons string
}

func (s *Store) bkeys(id string) bcastKeys {
	t := "{" + s.prefix + ":b:" + id + "}:"
	return bcastKeys{meta: t + "meta", to: t + "to", st: t + "st", redo: t + "redo", own: t + "own",
		lease: t + "lease", why: t + "why", reasons: t + "reasons"}
}

// Global keys of broadcasts.
func (s *Store) bcastList() string   { return s.global("broadcasts") }
func (s *Store) bcastActive() string { return s.global("broadcasts:active") }
func (s *Store) bcastAudit() string  { return s.global("audit:broadcasts") }

// bcastRetention is how long the per-recipient data of a finished broadcast is kept; its
// record (meta: content, counters, times) stays.
const bcastRetention = 30 * 24 * time.Hour

// bcastAuditKept caps the broadcast audit stream (approximately, XADD MAXLEN ~).
const bcastAuditKept = 10000

// validID reports whether id can be a broadcast id (a positive decimal number), so that a
// request for "x}y" never builds a key in another slot.
func validID(id string) bool {
	if h, ok := strings.CutPrefix(id, "k"); ok {
		_, err := hex.DecodeString(h)
		return err == nil && len(h) == 16
	}
	n, err := strconv.ParseUint(id, 10, 63)
	return err == nil && n > 0 && strconv.FormatUint(n, 10) == id
}

// CreateBroadcast stores a new broadcast and its audience and records it in the audit
// log. The broadcast's own keys are written first, in one transaction, then it is listed:
// a crash in between leaves an unlisted broadcast that never sends.
func (s *Store) CreateBroadcast(ctx context.Context, nb NewBroadcast) (Broadcast, error) {
	seen := make(map[int64]struct{}, len(nb.Recipients))
	to := make([]byte, 0, 8*len(nb.Recipients))
	for _, c := range nb.Recipients {
		if _, dup := seen[c]; dup {
			continue
		}
		seen[c] = struct{}{}
		to = binary.BigEndian.AppendUint64(to, uint64(c))
	}
	total := int64(len(to) / 8)
	if total == 0 {
		return Broadcast{}, errors.New("create broadcast: no recipients")
	}
	content, err := json.Marshal(nb.Content)
	if err != nil {
		return Broadcast{}, fmt.Errorf("encode broadcast content: %w", err)
	}
	var id string
	if nb.Key != "" {
		sum := sha256.Sum256([]byte(nb.Key))
		id = "k" + hex.EncodeToString(sum[:8])
		existing, err := s.Progress(ctx, id)
		switch {
		case err == nil:
			// Created before a crash: list it again in case that step was lost.
			return existing, s.listBroadcast(ctx, id, existing.CreatedAt, nil)
		case !errors.Is(err, ErrNotFound):
			return Broadcast{}, err
		}
	} else {
		n, err := s.rdb.Incr(ctx, s.global("broadcasts:seq")).Result()
		if err != nil {
			return Broadcast{}, fmt.Errorf("draw broadcast id: %w", err)
		}
		id = strconv.FormatInt(n, 10)
	}
	now := time.Now()
	b := Broadcast{ID: id, ReportTo: nb.ReportTo, CreatedBy: nb.CreatedBy, CreatedAt: now.Truncate(time.Millisecond), Content: nb.Content,
		State: BroadcastSending, StartedAt: now.Truncate(time.Millisecond), Total: total}
	if nb.ScheduleAt.After(now) {
		b.State, b.StartedAt, b.ScheduledAt = BroadcastScheduled, time.Time{}, nb.ScheduleAt.Truncate(time.Millisecond)
	}
	k := s.bkeys(id)
	meta := []any{"id", id, "by", nb.CreatedBy, "created", now.UnixMilli(), "content", content, "report", nb.ReportTo,
		"state", b.State, "total", total, "next", 0, "sent", 0, "failed", 0, "blocked", 0, "ambiguous", 0, "skipped", 0}
	if b.State == BroadcastScheduled {
		meta = append(meta, "at", b.ScheduledAt.UnixMilli())
	} else {
		meta = append(meta, "started", now.UnixMilli())
	}
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k.meta, k.to, k.st, k.redo, k.own, k.lease, k.why, k.reasons)
		p.HSet(ctx, k.meta, meta...)
		p.Set(ctx, k.to, to, 0)
		return nil
	}); err != nil {
		return Broadcast{}, fmt.Errorf("store broadcast %s: %w", id, err)
	}
	audit := map[string]any{"event": "created", "id": id, "by": nb.CreatedBy, "at": now.UTC().Format(time.RFC3339Nano),
		"audience": total, "content": nb.Content}
	if b.State == BroadcastScheduled {
		audit["schedule_at"] = b.ScheduledAt.UTC().Format(time.RFC3339)
	}
	return b, s.listBroadcast(ctx, id, now, audit)
}

// listBroadcast adds a broadcast to the list and the active set, with its audit entry
// when one is given.
func (s *Store) listBroadcast(ctx context.Context, id string, created time.Time, audit map[string]any) error {
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, s.bcastList(), redis.Z{Score: float64(created.UnixMilli()), Member: id})
		p.SAdd(ctx, s.bcastActive(), id)
		if audit != nil {
			s.auditBroadcast(ctx, p, audit)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("list broadcast %s: %w", id, err)
	}
	return nil
}

func (s *Store) auditBroadcast(ctx context.Context, p redis.Pipeliner, entry map[string]any) {
	e, _ := json.Marshal(entry) // strings, numbers and BroadcastContent always encode
	p.XAdd(ctx, &redis.XAddArgs{Stream: s.bcastAudit(), MaxLen: bcastAuditKept, Approx: true, Values: []any{"e", e}})
}

// BroadcastAudit returns up to limit entries of the broadcast audit log (JSON), newest
// first.
func (s *Store) BroadcastAudit(ctx context.Context, limit int64) ([]json.RawMessage, error) {
	ms, err := s.rdb.XRevRangeN(ctx, s.bcastAudit(), "+", "-", limit).Result()
	if err != nil {
		return nil, fmt.Errorf("read broadcast audit: %w", err)
	}
	out := make([]json.RawMessage, 0, len(ms))
	for _, m := range ms {
		if e, ok := m.Values["e"].(string); ok {
			out = append(out, json.RawMessage(e))
		}
	}
	return out, nil
}

// Progress returns a broadcast's record and counters, or ErrNotFound.
func (s *Store) Progress(ctx context.Context, id string) (Broadcast, error) {
	if !validID(id) {
		return Broadcast{}, fmt.Errorf("broadcast %q: %w", id, ErrNotFound)
	}
	k := s.bkeys(id)
	var meta *redis.MapStringStringCmd
	var reasons *redis.MapStringStringCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HGetAll(ctx, k.meta)
		reasons = p.HGetAll(ctx, k.reasons)
		return nil
	}); err != nil {
		return Broadcast{}, fmt.Errorf("read broadcast %s: %w", id, err)
	}
	h := meta.Val()
	if len(h) == 0 {
		return Broadcast{}, fmt.Errorf("broadcast %s: %w", id, ErrNotFound)
	}
	num := func(f string) int64 { n, _ := strconv.ParseInt(h[f], 10, 64); return n }
	at := func(f string) time.Time {
		if n := num(f); n > 0 {
			return time.UnixMilli(n)
		}
		return time.Time{}
	}
	b := Broadcast{ID: id, CreatedBy: h["by"], CreatedAt: at("created"), State: h["state"],
		ScheduledAt: at("at"), StartedAt: at("started"), FinishedAt: at("finished"),
		Total: num("total"), Sent: num("sent"), Failed: num("failed"), Blocked: num("blocked"),
		Ambiguous: num("ambiguous"), Skipped: num("skipped"), ReportTo: num("report")}
	if err := json.Unmarshal([]byte(h["content"]), &b.Content); err != nil {
		return Broadcast{}, fmt.Errorf("decode content of broadcast %s: %w", id, err)
	}
	if r := reasons.Val(); len(r) > 0 {
		b.Reasons = make(map[string]int64, len(r))
		for why, v := range r {
			b.Reasons[why], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return b, nil
}

// Broadcasts returns up to limit broadcasts, newest first.
func (s *Store) Broadcasts(ctx context.Context, limit int64) ([]Broadcast, error) {
	ids, err := s.rdb.ZRevRange(ctx, s.bcastList(), 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("list broadcasts: %w", err)
	}
	out := make([]Broadcast, 0, len(ids))
	for _, id := range ids {
		b, err := s.Progress(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// ActiveBroadcasts returns the ids of the broadcasts not yet finished and audited.
func (s *Store) ActiveBroadcasts(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.bcastActive()).Result()
	if err != nil {
		return nil, fmt.Errorf("list active broadcasts: %w", err)
	}
	return ids, nil
}

// nowLua sets now to the server's clock in ms: replicas share the deadlines.
const nowLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// statusLua reads and writes a recipient's status byte in KEYS[2].
const statusLua = `
local function status(i)
  local b = redis.call('GETRANGE', KEYS[2], i, i)
  if b == '' then return 0 end
  return string.byte(b)
end
local function setStatus(i, v)
  redis.call('SETRANGE', KEYS[2], i, string.char(v))
end
`

// controlScript changes a broadcast's state. KEYS: meta. ARGV: action (start: a scheduled
// broadcast whose time has come; pause; resume; stop). Returns {changed (0/1), state}.
var controlScript = redis.NewScript(nowLua + `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, ''} end
local a = ARGV[1]
if a == 'start' then
  local at = tonumber(redis.call('HGET', KEYS[1], 'at')) or 0
  if state ~= 'scheduled' or at > now then return {0, state} end
  redis.call('HSET', KEYS[1], 'state', 'sending', 'started', now)
  return {1, 'sending'}
elseif a == 'pause' then
  if state ~= 'sending' then return {0, state} end
  redis.call('HSET', KEYS[1], 'state', 'paused')
  return {1, 'paused'}
elseif a == 'resume' then
  if state ~= 'paused' then return {0, state} end
  redis.call('HSET', KEYS[1], 'state', 'sending')
  return {1, 'sending'}
elseif a == 'stop' then
  if state == 'done' or state == 'stopped' then return {0, state} end
  redis.call('HSET', KEYS[1], 'state', 'stopped', 'finished', now)
  return {1, 'stopped'}
end
return {0, state}
`)

// Control actions of ControlBroadcast.
const (
	ActionPause  = "pause"
	ActionResume = "resume"
	ActionStop   = "stop"
)

// ControlBroadcast pauses, resumes or stops a broadcast on behalf of by, recording it in
// the audit log. It returns ErrNotFound for an unknown id and an error wrapping ErrBadState
// when the broadcast's state does not allow the action (pause: sending; resume: paused;
// stop: not yet done or stopped). Workers see the change before their next message.
func (s *Store) ControlBroadcast(ctx context.Context, id, action, by string) (Broadcast, error) {
	switch action {
	case ActionPause, ActionResume, ActionStop:
	default:
		return Broadcast{}, fmt.Errorf("broadcast action %q: %w", action, ErrBadState)
	}
	if !validID(id) {
		return Broadcast{}, fmt.Errorf("broadcast %q: %w", id, ErrNotFound)
	}
	changed, state, err := s.control(ctx, id, action)
	if err != nil {
		return Broadcast{}, err
	}
	if !changed {
		return Broadcast{}, fmt.Errorf("cannot %s broadcast %s, which is %s: %w", action, id, state, ErrBadState)
	}
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		s.auditBroadcast(ctx, p, map[string]any{"event": action, "id": id, "by": by, "at": time.Now().UTC().Format(time.RFC3339Nano)})
		return nil
	}); err != nil {
		return Broadcast{}, fmt.Errorf("audit %s of broadcast %s: %w", action, id, err)
	}
	return s.Progress(ctx, id)
}

func (s *Store) control(ctx context.Context, id, action string) (changed bool, state string, err error) {
	res, err := controlScript.Run(ctx, s.rdb, []string{s.bkeys(id).meta}, action).Slice()
	if err != nil {
		return false, "", fmt.Errorf("%s broadcast %s: %w", action, id, err)
	}
	state, _ = res[1].(string)
	if state == "" {
		return false, "", fmt.Errorf("broadcast %s: %w", id, ErrNotFound)
	}
	n, _ := res[0].(int64)
	return n == 1, state, nil
}

// StartDue starts a scheduled broadcast whose time has come and returns its state.
func (s *Store) StartDue(ctx context.Context, id string) (string, error) {
	_, state, err := s.control(ctx, id, "start")
	return state, err
}

// FinishBroadcast writes the final audit entry of a done or stopped broadcast, sets its
// per-recipient data to expire after bcastRetention and removes it from the active set;
// wrote reports whether this call wrote the entry (the final report is due). The entry is
// written before the broadcast is marked audited, so a crash in between writes it twice
// (same id) rather than never. It does nothing to a broadcast that is not finished.
func (s *Store) FinishBroadcast(ctx context.Context, id string) (wrote bool, err error) {
	b, err := s.Progress(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, s.rdb.SRem(ctx, s.bcastActive(), id).Err()
	}
	if err != nil || !b.Finished() {
		return false, err
	}
	k := s.bkeys(id)
	audited, err := s.rdb.HGet(ctx, k.meta, "audited").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("read broadcast %s: %w", id, err)
	}
	if audited != "1" {
		entry := map[string]any{"event": "finished", "id": id, "by": b.CreatedBy,
			"at": b.FinishedAt.UTC().Format(time.RFC3339Nano), "state": b.State, "audience": b.Total,
			"sent": b.Sent, "failed": b.Failed, "blocked": b.Blocked, "ambiguous": b.Ambiguous,
			"skipped": b.Skipped, "not_sent": b.Total - b.Processed(), "reasons": b.Reasons}
		if !b.StartedAt.IsZero() {
			entry["duration_s"] = b.FinishedAt.Sub(b.StartedAt).Seconds()
		}
		if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			s.auditBroadcast(ctx, p, entry)
			return nil
		}); err != nil {
			return false, fmt.Errorf("audit end of broadcast %s: %w", id, err)
		}
		if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, k.meta, "audited", "1")
			for _, key := range []string{k.to, k.st, k.redo, k.own, k.lease, k.why, k.reasons} {
				p.PExpire(ctx, key, bcastRetention)
			}
			return nil
		}); err != nil {
			return false, fmt.Errorf("finish broadcast %s: %w", id, err)
		}
		wrote = true
	}
	if err := s.rdb.SRem(ctx, s.bcastActive(), id).Err(); err != nil {
		return wrote, fmt.Errorf("finish broadcast %s: %w", id, err)
	}
	return wrote, nil
}

// ProgressDue reports whether a progress report of broadcast id is due: true at most once
// per every across all replicas, so that the staff group's progress message is edited at
// most that often.
func (s *Store) ProgressDue(ctx context.Context, id string, every time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, "{"+s.prefix+":b:"+id+"}:tick", 1, every).Result()
	if err != nil {
		return false, fmt.Errorf("progress tick of broadcast %s: %w", id, err)
	}
	return ok, nil
}

// claimBcastScript first gives back the recipients of expired claims (claimed: to be
// claimed again; sending: lost, counted ambiguous), then, when the broadcast is sending,
// claims up to n pending recipients for token: those given back first, then from the
// cursor. With nothing left to claim or in flight it marks the broadcast done. KEYS: meta,
// st, to, redo, own, lease. ARGV: token, n, lease ms. Returns {state} or {'sending',
// index, chat id (8 bytes), …}; state 'wait' means recipients are still in flight.
var claimBcastScript = redis.NewScript(nowLua + statusLua + `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
local expired = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', '(' .. now)
if #expired > 0 then
  local dead = {}
  for _, tok in ipairs(expired) do dead[tok] = true end
  local own = redis.call('HGETALL', KEYS[5])
  for i = 1, #own, 2 do
    if dead[own[i + 1]] then
      local idx = tonumber(own[i])
      local st = status(idx)
      if st == 1 then
        setStatus(idx, 0)
        redis.call('RPUSH', KEYS[4], idx)
      elseif st == 2 then
        setStatus(idx, 8)
        redis.call('HINCRBY', KEYS[1], 'ambiguous', 1)
      end
      redis.call('HDEL', KEYS[5], own[i])
    end
  end
  redis.call('ZREM', KEYS[6], unpack(expired))
end
if state ~= 'sending' then return {state} end
local n = tonumber(ARGV[2])
local got = {}
while #got < n do
  local idx = redis.call('LPOP', KEYS[4])
  if not idx then break end
  idx = tonumber(idx)
  if status(idx) == 0 then got[#got + 1] = idx end
end
local total = tonumber(redis.call('HGET', KEYS[1], 'total'))
local nxt = tonumber(redis.call('HGET', KEYS[1], 'next')) or 0
if #got < n and nxt < total then
  local k = math.min(n - #got, total - nxt)
  for i = nxt, nxt + k - 1 do got[#got + 1] = i end
  redis.call('HSET', KEYS[1], 'next', nxt + k)
end
if #got == 0 then
  if redis.call('HLEN', KEYS[5]) == 0 and redis.call('LLEN', KEYS[4]) == 0 then
    redis.call('HSET', KEYS[1], 'state', 'done', 'finished', now)
    return {'done'}
  end
  return {'wait'}
end
local out = {'sending'}
for _, idx in ipairs(got) do
  setStatus(idx, 1)
  redis.call('HSET', KEYS[5], idx, ARGV[1])
  out[#out + 1] = idx
  out[#out + 1] = redis.call('GETRANGE', KEYS[3], idx * 8, idx * 8 + 7)
end
redis.call('ZADD', KEYS[6], now + tonumber(ARGV[3]), ARGV[1])
return out
`)

// Recipient is one claimed recipient: its index in the audience and its chat.
type Recipient struct {
	Index  int64
	ChatID int64
}

// ClaimRecipients claims up to n recipients of broadcast id for token, leased for ttl
// (each MarkSending renews the lease). It first recovers the recipients of expired
// claims. state is the broadcast's state: recipients come only with BroadcastSending;
// "wait" means that nothing is left to claim but recipients are still claimed by others;
// BroadcastDone is returned once, by the claim that finished the broadcast, and after.
func (s *Store) ClaimRecipients(ctx context.Context, id, token string, n int, ttl time.Duration) (state string, rs []Recipient, err error) {
	k := s.bkeys(id)
	res, err := claimBcastScript.Run(ctx, s.rdb, []string{k.meta, k.st, k.to, k.redo, k.own, k.lease},
		token, n, ttl.Milliseconds()).Slice()
	if err != nil {
		return "", nil, fmt.Errorf("claim recipients of broadcast %s: %w", id, err)
	}
	state, _ = res[0].(string)
	if state == "missing" {
		return "", nil, fmt.Errorf("broadcast %s: %w", id, ErrNotFound)
	}
	for i := 1; i+1 < len(res); i += 2 {
		idx, _ := res[i].(int64)
		raw, _ := res[i+1].(string)
		if len(raw) != 8 {
			return "", nil, fmt.Errorf("broadcast %s: recipient %d has no chat id", id, idx)
		}
		rs = append(rs, Recipient{Index: idx, ChatID: int64(binary.BigEndian.Uint64([]byte(raw)))})
	}
	return state, rs, nil
}

// markScript marks a claimed recipient as being sent, renewing the claim's lease. KEYS:
// meta, st, own, lease. ARGV: token, index, lease ms. Returns 'ok', the broadcast's state
// when it is not sending, or 'lost' when the claim is no longer token's or has expired.
var markScript = redis.NewScript(nowLua + statusLua + `
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'sending' then return state or 'missing' end
if redis.call('HGET', KEYS[3], ARGV[2]) ~= ARGV[1] then return 'lost' end
local dl = tonumber(redis.call('ZSCORE', KEYS[4], ARGV[1]))
if not dl or dl < now then return 'lost' end
local idx = tonumber(ARGV[2])
if status(idx) ~= 1 then return 'lost' end
setStatus(idx, 2)
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[1])
return 'ok'
`)

// Answers of MarkSending besides a broadcast state.
const (
	MarkOK   = "ok"
	MarkLost = "lost"
)

// MarkSending marks recipient idx, claimed by token, as being sent, renewing the claim's
// lease for ttl. It answers MarkOK, MarkLost (the claim expired or was given back: do not
// send) or the broadcast's state when it is not sending (paused, stopped…: do not send).
func (s *Store) MarkSending(ctx context.Context, id, token string, idx int64, ttl time.Duration) (string, error) {
	k := s.bkeys(id)
	r, err := markScript.Run(ctx, s.rdb, []string{k.meta, k.st, k.own, k.lease}, token, idx, ttl.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("mark recipient %d of broadcast %s: %w", idx, id, err)
	}
	return r, nil
}

// recordScript records an outcome for recipients. KEYS: meta, st, own, why, reasons. ARGV:
// token, outcome, counter field, reason, indexes…. Skipped applies to claimed recipients,
// other outcomes to recipients being sent or lost (a lost one stops counting as
// ambiguous). Any other recipient is left alone, so a replay changes nothing. Returns how
// many recipients it recorded.
var recordScript = redis.NewScript(statusLua + `
local out = tonumber(ARGV[2])
local n = 0
for i = 5, #ARGV do
  local idx = tonumber(ARGV[i])
  local st = status(idx)
  if (out == 7 and st == 1) or (out ~= 7 and (st == 2 or st == 8)) then
    if st == 8 then redis.call('HINCRBY', KEYS[1], 'ambiguous', -1) end
    setStatus(idx, out)
    redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
    if ARGV[4] ~= '' then
      redis.call('HSET', KEYS[4], idx, ARGV[4])
      redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
    end
    n = n + 1
  end
  if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[1] then redis.call('HDEL', KEYS[3], ARGV[i]) end
end
return n
`)

// Record records outcome for recipients idxs of broadcast id claimed by token: StatusSkipped
// for claimed recipients not sent (not eligible), the other outcomes for recipients marked
// sending. reason (Telegram's description) is kept with failed recipients.
func (s *Store) Record(ctx context.Context, id, token string, outcome RecipientStatus, reason string, idxs ...int64) error {
	field, ok := outcomeField[outcome]
	if !ok {
		return fmt.Errorf("record recipients of broadcast %s: %s is no outcome", id, outcome)
	}
	if len(idxs) == 0 {
		return nil
	}
	k := s.bkeys(id)
	args := make([]any, 0, 4+len(idxs))
	args = append(args, token, int(outcome), field, reason)
	for _, i := range idxs {
		args = append(args, i)
	}
	if err := recordScript.Run(ctx, s.rdb, []string{k.meta, k.st, k.own, k.why, k.reasons}, args...).Err(); err != nil {
		return fmt.Errorf("record recipients of broadcast %s: %w", id, err)
	}
	return nil
}

// unsendScript takes back the mark of a recipient whose call certainly did not reach
// Telegram (not sent, 429). KEYS: meta, st, own, redo. ARGV: token, index. A recipient
// still token's goes back to claimed (1 is returned: token may try again); a lost one
// (its claim expired meanwhile) goes back to pending for anyone (0).
var unsendScript = redis.NewScript(statusLua + `
local idx = tonumber(ARGV[2])
local st = status(idx)
if st == 2 and redis.call('HGET', KEYS[3], ARGV[2]) == ARGV[1] then
  setStatus(idx, 1)
  return 1
elseif st == 8 then
  setStatus(idx, 0)
  redis.call('HINCRBY', KEYS[1], 'ambiguous', -1)
  redis.call('RPUSH', KEYS[4], idx)
end
return 0
`)

// Unsend takes back MarkSending for recipient idx after a call that certainly did not
// reach Telegram. mine is true when the recipient is still claimed by token, which may
// send it later; otherwise its claim had expired and anyone may claim it again.
func (s *Store) Unsend(ctx context.Context, id, token string, idx int64) (mine bool, err error) {
	k := s.bkeys(id)
	n, err := unsendScript.Run(ctx, s.rdb, []string{k.meta, k.st, k.own, k.redo}, token, idx).Int()
	if err != nil {
		return false, fmt.Errorf("unmark recipient %d of broadcast %s: %w", idx, id, err)
	}
	return n == 1, nil
}

// releaseBcastScript gives back token's claimed recipients (not those being sent) and
// expires its lease, so the next claim recovers any recipient token left marked sending.
// KEYS: st, own, redo, lease. ARGV: token.
var releaseBcastScript = redis.NewScript(`
local function status(i)
  local b = redis.call('GETRANGE', KEYS[1], i, i)
  if b == '' then return 0 end
  return string.byte(b)
end
local own = redis.call('HGETALL', KEYS[2])
for i = #own - 1, 1, -2 do
  if own[i + 1] == ARGV[1] then
    local idx = tonumber(own[i])
    if status(idx) == 1 then
      redis.call('SETRANGE', KEYS[1], idx, string.char(0))
      redis.call('LPUSH', KEYS[3], idx)
      redis.call('HDEL', KEYS[2], own[i])
    end
  end
end
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return 1
`)

// ReleaseClaims gives back the recipients token claimed and has not begun to send, so
// anyone may claim them again, and ends token's lease: a recipient token left marked
// sending (its outcome could not be recorded) is then found lost by the next claim.
func (s *Store) ReleaseClaims(ctx context.Context, id, token string) error {
	k := s.bkeys(id)
	if err := releaseBcastScript.Run(ctx, s.rdb, []string{k.st, k.own, k.redo, k.lease}, token).Err(); err != nil {
		return fmt.Errorf("release claims of broadcast %s: %w", id, err)
	}
	return nil
}

// RecipientStatuses returns every recipient of broadcast id with its status, in audience
// order (for reports and tests; it reads the whole audience). Failed recipients' reasons
// are in reasons, by chat.
func (s *Store) RecipientStatuses(ctx context.Context, id string) (chats []int64, statuses []RecipientStatus, reasons map[int64]string, err error) {
	if !validID(id) {
		return nil, nil, nil, fmt.Errorf("broadcast %q: %w", id, ErrNotFound)
	}
	k := s.bkeys(id)
	var to, st *redis.StringCmd
	var why *redis.MapStringStringCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		to, st, why = p.Get(ctx, k.to), p.Get(ctx, k.st), p.HGetAll(ctx, k.why)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, nil, fmt.Errorf("read recipients of broadcast %s: %w", id, err)
	}
	raw, sts := []byte(to.Val()), []byte(st.Val())
	if len(raw) == 0 {
		return nil, nil, nil, fmt.Errorf("recipients of broadcast %s: %w", id, ErrNotFound)
	}
	chats = make([]int64, len(raw)/8)
	statuses = make([]RecipientStatus, len(chats))
	for i := range chats {
		chats[i] = int64(binary.BigEndian.Uint64(raw[8*i:]))
		if i < len(sts) {
			statuses[i] = RecipientStatus(sts[i])
		}
	}
	reasons = make(map[int64]string, len(why.Val()))
	for idx, r := range why.Val() {
		if i, err := strconv.Atoi(idx); err == nil && i < len(chats) {
			reasons[chats[i]] = r
		}
	}
	return chats, statuses, reasons, nil
}

// bcastTakeScript is a GCRA with burst 1 in µs that also honours the bulk-lane and global
// pauses: a call gets the earliest time it may send and that slot is taken. KEYS: tat,
// bulk pause, global pause. ARGV: interval µs. Returns {wait µs, reserved}; while paused
// nothing is reserved and the pause's rest is returned.
var bcastTakeScript = redis.NewScript(`
local p = math.max(redis.call('PTTL', KEYS[2]), redis.call('PTTL', KEYS[3]))
if p > 0 then return {p * 1000, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat - now
tat = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + 1000)
return {wait, 1}
`)

// TakeBroadcastSlot reserves the next sending slot of broadcast traffic, which is shared
// by every replica and spaced interval apart (burst 1), and returns how long to wait until
// it. reserved is false while broadcasts are paused by a 429 (the bulk lane's pause or
// the global one): wait is then the pause's rest and the caller must take again.
func (s *Store) TakeBroadcastSlot(ctx context.Context, interval time.Duration) (wait time.Duration, reserved bool, err error) {
	us := max(int64(math.Ceil(float64(interval)/float64(time.Microsecond))), 1)
	res, err := bcastTakeScript.Run(ctx, s.rdb,
		[]string{s.global(kindPace + ":broadcast"), s.global(kindPause + ":bulk"), s.global(kindPause + ":all")}, us).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("take broadcast slot: %w", err)
	}
	return time.Duration(res[0]) * time.Microsecond, res[1] == 1, nil
}

// BroadcastRateLimited records a 429 answered to a broadcast message: broadcast traffic
// pauses for retryAfter on every replica and so does all sending (replies too: a 429 in
// the bulk lane means the bot's overall limit is reached), unless park is set (a
// retry_after too long to be a burst), which parks the bulk lane only.
func (s *Store) BroadcastRateLimited(ctx context.Context, retryAfter time.Duration, park bool) error {
	ms := max(retryAfter.Milliseconds(), 1)
	keys := []string{s.global(kindPause + ":bulk")}
	if !park {
		keys = append(keys, s.global(kindPause+":all"))
	}
	for _, k := range keys {
		if err := pauseScript.Run(ctx, s.rdb, []string{k}, ms).Err(); err != nil {
			return fmt.Errorf("pause broadcasts: %w", err)
		}
	}
	return nil
}

// UnreachableAmong returns which of chats are in their shard's unreachable set (the bot
// was blocked or the chat is gone), in one pipeline.
func (s *Store) UnreachableAmong(ctx context.Context, chats []int64) (map[int64]bool, error) {
	byShard := map[int][]any{}
	for _, c := range chats {
		sh := queue.Shard(c, s.shards)
		byShard[sh] = append(byShard[sh], c)
	}
	type read struct {
		chats []any
		cmd   *redis.BoolSliceCmd
	}
	reads := make([]read, 0, len(byShard))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for sh, cs := range byShard {
			reads = append(reads, read{cs, p.SMIsMember(ctx, s.keys(sh).unrch, cs...)})
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read unreachable chats: %w", err)
	}
	out := make(map[int64]bool, len(chats))
	for _, r := range reads {
		for i, v := range r.cmd.Val() {
			if v {
				out[r.chats[i].(int64)] = true
			}
		}
	}
	return out, nil
}

// MarkUnreachable records that the bot cannot write to chat (403, "chat not found") in
// its shard's unreachable set, the one the reply sender keeps.
func (s *Store) MarkUnreachable(ctx context.Context, chat int64) error {
	if err := s.rdb.SAdd(ctx, s.keys(queue.Shard(chat, s.shards)).unrch, chat).Err(); err != nil {
		return fmt.Errorf("mark chat %d unreachable: %w", chat, err)
	}
	return nil
}
