package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// The sending side of the outbox. A chat's queued messages live in its shard's slot
// (out, snd, ready, unreach, the shard stream); pacing and pause state lives in the slot of
// the scope: the target chat's shard for a chat scope, {<prefix>:g} for the bulk lane and
// the global pause. Claims and completions are fenced by the shard lease like Commit.

// ErrBadMessage is returned by ClaimHead when the head of a chat's outbox could not be
// decoded; it has been removed from the queue so the chat is not blocked behind it.
var ErrBadMessage = errors.New("undecodable outbox message")

// Pacing scopes (DESIGN §2 "Pacing"), also the values of metrics.RateLimited's label.
const (
	ScopePrivate = "private"
	ScopeGroup   = "group"
	ScopeBulk    = "bulk"
	ScopeGlobal  = "global"
)

// Pacing limits: a scope allows burst calls at once, then one per interval.
const (
	privateBurst    = 3
	privateInterval = time.Second
	groupBurst      = 5
	groupInterval   = 3 * time.Second // 20 per minute
	// rateWindow is how far apart 429s from different chats may be to pause all sending;
	// rateWindowChats is how many chats it takes.
	rateWindow      = time.Second
	rateWindowChats = 3
)

// chatPaced are the methods paced in their target chat's scope: every call that makes a
// message appear or change in the chat (a topic's creation posts one too).
var chatPaced = []string{
	queue.MethodSendMessage, queue.MethodEditMessageText, queue.MethodSendDocument, queue.MethodSendPhoto,
	queue.MethodCopyMessage, queue.MethodCopyMessages, queue.MethodCreateForumTopic,
}

// ChatScope returns the pacing scope of m's target chat: "" when the call is never paced
// (answers, chat actions, deletes, deliveries), else ScopePrivate or ScopeGroup (groups,
// supergroups and channels have negative ids). Bulk-lane messages are paced in this scope
// and, in addition, in ScopeBulk.
func ChatScope(m queue.Message) string {
	if !slices.Contains(chatPaced, m.Method) {
		return ""
	}
	if m.ChatID < 0 {
		return ScopeGroup
	}
	return ScopePrivate
}

// ReadyChat is a chat with queued messages and the time its head may next be tried.
type ReadyChat struct {
	ChatID int64
	At     time.Time
}

// ReadyChats returns up to limit chats of the shard's ready set, earliest first. Chats at or
// before now are due.
func (s *Store) ReadyChats(ctx context.Context, shard int, limit int64) ([]ReadyChat, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.keys(shard).ready, 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("ready chats of shard %d: %w", shard, err)
	}
	out := make([]ReadyChat, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, ReadyChat{ChatID: id, At: time.UnixMilli(int64(z.Score))})
	}
	return out, nil
}

// Claim is the head of a chat's outbox, marked as being sent.
type Claim struct {
	Message queue.Message
	// Attempt counts the attempts whose outcome may have reached Telegram, this one
	// included: 1 for a first try, more when earlier attempts were ambiguous (or the
	// replica making them died).
	Attempt int
	// Token identifies this claim in Postpone.
	Token string
	// Paced is true when the claim also took the message's pacing slot, as Take would
	// have (Wait and Reserved are then Take's answer): the message is paced only in the
	// scope of the outbox's own chat, which lives in the same slot. Otherwise the caller
	// calls Take itself.
	Paced    bool
	Wait     time.Duration
	Reserved bool
}

// takeLua is the GCRA token bucket of takeScript as a Lua function, shared with the claim
// scripts: take(tat key, pause key, interval ms, burst) returns wait ms, reserved (0/1).
const takeLua = `
local function take(tatKey, pauseKey, interval, burst)
  local p = redis.call('PTTL', pauseKey)
  if p > 0 then return p, 0 end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local tau = (burst - 1) * interval
  local tat = tonumber(redis.call('GET', tatKey)) or now
  if tat < now then tat = now end
  local wait = tat - tau - now
  if wait < 0 then wait = 0 end
  tat = tat + interval
  redis.call('SET', tatKey, string.format('%d', tat), 'PX', tat - now + tau + 1000)
  return wait, 1
end
`

// mergeLua folds a burst of copies into one call (a user's messages relayed to a ticket
// topic one by one): merge(head, m) rewrites a copyMessages head, not yet being sent, to
// also copy the ids of the copyMessages entries right behind it that copy from the same
// chat into the same chat, topic and ticket (ref) and lane, up to maxCopy distinct ids in
// ascending order, and removes those entries; it returns the (new) head and its decoded
// form. The merged entry keeps the head's id, and asks for a result when any part did.
// It is written field by field, with integers formatted as such, because cjson would
// re-encode the numbers of a decoded entry with 14 significant digits; entries holding a
// field it would not write back are left alone. K[2] is the outbox (see claimLua).
var mergeLua = fmt.Sprintf(`
local K, A = KEYS, ARGV
local maxCopy = %d
local copyMethod = %q
`, queue.MaxCopy, queue.MethodCopyMessages) + `
local copyFields = {id = true, m = true, lane = true, chat = true, thread = true, fc = true, ids = true, want = true, ref = true}
local function isInt(x)
  return type(x) == 'number' and x == math.floor(x) and x > -2^53 and x < 2^53
end
local function optional(x, kind)
  return x == nil or type(x) == kind
end
local function copies(m)
  if type(m) ~= 'table' or m.m ~= copyMethod or type(m.id) ~= 'string' or not isInt(m.chat) or not isInt(m.fc)
    or (m.thread ~= nil and not isInt(m.thread)) or type(m.ids) ~= 'table' or not optional(m.lane, 'string')
    or not optional(m.ref, 'string') or not optional(m.want, 'boolean') then
    return false
  end
  for k in pairs(m) do
    if not copyFields[k] then return false end
  end
  local n = 0
  for _, id in pairs(m.ids) do
    if not isInt(id) then return false end
    n = n + 1
  end
  return n > 0 and n == #m.ids
end
local function merge(head, m)
  if not copies(m) then return head, m end
  local ids, seen = {}, {}
  for _, id in ipairs(m.ids) do
    if not seen[id] then seen[id] = true; ids[#ids + 1] = id end
  end
  local want, k = m.want, 0
  for _, raw in ipairs(redis.call('LRANGE', K[2], 1, maxCopy)) do
    local ok, o = pcall(cjson.decode, raw)
    if not ok or not copies(o) or o.chat ~= m.chat or o.thread ~= m.thread or o.fc ~= m.fc
      or o.ref ~= m.ref or o.lane ~= m.lane then
      break
    end
    local new, more = {}, {}
    for _, id in ipairs(o.ids) do
      if not seen[id] and not more[id] then more[id] = true; new[#new + 1] = id end
    end
    if #ids + #new > maxCopy then break end
    for _, id in ipairs(new) do seen[id] = true; ids[#ids + 1] = id end
    if o.want then want = true end
    k = k + 1
  end
  if k == 0 then return head, m end
  table.sort(ids)
  local nums = {}
  for i, id in ipairs(ids) do nums[i] = string.format('%d', id) end
  local parts = {'"id":' .. cjson.encode(m.id), '"m":' .. cjson.encode(copyMethod)}
  if m.lane then parts[#parts + 1] = '"lane":' .. cjson.encode(m.lane) end
  parts[#parts + 1] = '"chat":' .. string.format('%d', m.chat)
  if m.thread then parts[#parts + 1] = '"thread":' .. string.format('%d', m.thread) end
  parts[#parts + 1] = '"fc":' .. string.format('%d', m.fc)
  parts[#parts + 1] = '"ids":[' .. table.concat(nums, ',') .. ']'
  if want then parts[#parts + 1] = '"want":true' end
  if m.ref then parts[#parts + 1] = '"ref":' .. cjson.encode(m.ref) end
  head = '{' .. table.concat(parts, ',') .. '}'
  for _ = 0, k do redis.call('LPOP', K[2]) end
  redis.call('LPUSH', K[2], head)
  m.ids, m.want = ids, want
  return head, m
end
`

// luaSet returns a Lua table constructor with each of names as a key set to true.
func luaSet(names []string) string {
	var b strings.Builder
	b.WriteString("{")
	for _, n := range names {
		fmt.Fprintf(&b, "[%q] = true, ", n)
	}
	b.WriteString("}")
	return b.String()
}

// claimLua marks the head of a chat's outbox as being sent and, when the head is paced in
// the outbox chat's own scope, takes its pacing slot too (ChatScope, in Lua). A head not
// yet being sent is first merged with the copies behind it (mergeLua), so a claim made
// again after a crash sends the merged entry, and an entry already attempted never grows.
// It runs after the lease check. K: lease, out, snd, ready, pace, pause. A: lease value,
// chat, claim token, id of a head whose slot is already reserved, interval ms, burst. K and
// A are KEYS and ARGV unless a script whose own layout differs points them at tables in
// that order before it calls claim (the commit script does). Returns {0} empty, {2, raw} an undecodable head (removed), {1, raw, attempt,
// paced, wait ms, reserved}. The marker counts the attempts that may have reached
// Telegram; replaying the same claim token (a retried script) does not count again. A
// replay takes a second pacing slot, which only makes pacing stricter.
var claimLua = takeLua + mergeLua + fmt.Sprintf(`
local paced = %s
local function claim()
  local head = redis.call('LINDEX', K[2], 0)
  if not head then
    redis.call('ZREM', K[4], A[2])
    return {0}
  end
  local ok, m = pcall(cjson.decode, head)
  if not ok or type(m) ~= 'table' or type(m.id) ~= 'string' then
    redis.call('LPOP', K[2])
    redis.call('DEL', K[3])
    return {2, head}
  end
  local s = redis.call('HMGET', K[3], 'id', 'n', 'tok')
  local n = 1
  if s[1] == m.id then
    n = tonumber(s[2]) or 0
    if s[3] ~= A[3] then n = n + 1 end
  else
    head, m = merge(head, m)
  end
  redis.call('HSET', K[3], 'id', m.id, 'n', n, 'tok', A[3])
  if m.id ~= A[4] and m.chat == tonumber(A[2]) and m.lane ~= %q and paced[m.m] then
    local wait, reserved = take(K[5], K[6], tonumber(A[5]), tonumber(A[6]))
    return {1, head, n, 1, wait, reserved}
  end
  return {1, head, n, 0}
end
`, luaSet(chatPaced), queue.LaneBulk)

// claimScript is claimLua behind the lease check; {-1} when the lease is lost.
var claimScript = redis.NewScript(claimLua + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
return claim()
`)

// ClaimHead marks the head of chatID's outbox as being sent, under token (unique per
// claim; a retried call with the same token claims once), and takes its pacing slot when
// it can (Claim.Paced) unless the head is reservedID, whose slot the caller already holds.
// ok is false when the outbox is empty (the chat then leaves the ready set). It returns
// ErrLeaseLost, having written nothing, when l is no longer held, and an error wrapping
// ErrBadMessage when the head could not be decoded and was dropped.
func (s *Store) ClaimHead(ctx context.Context, l Lease, chatID int64, token, reservedID string) (c Claim, ok bool, err error) {
	res, err := claimScript.Run(ctx, s.rdb, s.claimKeys(l, chatID), s.claimArgs(l, chatID, token, reservedID)...).Slice()
	if err != nil {
		return Claim{}, false, fmt.Errorf("claim head of chat %d: %w", chatID, err)
	}
	return s.claimed(ctx, l, chatID, token, res, nil)
}

// claimKeys are the keys of claimLua, in order; completeScript adds the stream.
func (s *Store) claimKeys(l Lease, chatID int64) []string {
	t := s.tag(l.Shard)
	k := s.keys(l.Shard)
	return []string{k.lease, chatKey(t, kindOutbox, chatID), chatKey(t, kindSending, chatID), k.ready,
		chatKey(t, kindPace, chatID), chatKey(t, kindPause, chatID)}
}

// claimArgs are the arguments of claimLua, in order; the chat's own scope sets the pace.
func (s *Store) claimArgs(l Lease, chatID int64, token, reservedID string) []any {
	scope := ScopePrivate
	if chatID < 0 {
		scope = ScopeGroup
	}
	burst, interval := limits(scope)
	return []any{l.value(), chatID, token, reservedID, interval.Milliseconds(), burst}
}

// encoded is an outbox entry as queued and the message it encodes.
type encoded struct {
	raw []byte
	m   queue.Message
}

// claimed turns claimLua's answer into ClaimHead's results. A head that is byte for byte
// one of known (the entries the same script queued) is not decoded again.
func (s *Store) claimed(ctx context.Context, l Lease, chatID int64, token string, res []any, known []encoded) (Claim, bool, error) {
	code, _ := res[0].(int64)
	switch code {
	case -1:
		return Claim{}, false, ErrLeaseLost
	case 0:
		return Claim{}, false, nil
	case 2:
		return Claim{}, false, fmt.Errorf("claim head of chat %d: %w: %.200s", chatID, ErrBadMessage, res[1])
	}
	raw, _ := res[1].(string)
	n, _ := res[2].(int64)
	c := Claim{Attempt: int(n), Token: token}
	if paced, _ := res[3].(int64); paced == 1 {
		wait, _ := res[4].(int64)
		reserved, _ := res[5].(int64)
		c.Paced, c.Wait, c.Reserved = true, time.Duration(wait)*time.Millisecond, reserved == 1
	}
	for _, k := range known {
		if string(k.raw) == raw {
			c.Message = k.m
			return c, true, nil
		}
	}
	if err := json.Unmarshal([]byte(raw), &c.Message); err != nil {
		// The script found a string id, so the entry is JSON with fields of the wrong type
		// (written by another release): drop it by that id, as the script drops non-JSON.
		var head struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal([]byte(raw), &head)
		if cerr := s.Complete(ctx, l, chatID, queue.Message{ID: head.ID}, queue.Result{}); cerr != nil {
			return Claim{}, false, cerr
		}
		return Claim{}, false, fmt.Errorf("claim head of chat %d: %w: %v", chatID, ErrBadMessage, err)
	}
	return c, true, nil
}

// postponeScript gives a claim back without completing it. KEYS: lease, snd, ready, out.
// ARGV: lease value, message id, claim token, undo ('1': the attempt did not happen),
// retry-at ms, chat. The token is cleared, so a replay changes nothing more.
var postponeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local s = redis.call('HMGET', KEYS[2], 'id', 'n', 'tok')
if s[1] == ARGV[2] and s[3] == ARGV[3] then
  local n = tonumber(s[2]) or 0
  if ARGV[4] == '1' then n = n - 1 end
  if n <= 0 then
    redis.call('DEL', KEYS[2])
  else
    redis.call('HSET', KEYS[2], 'n', n, 'tok', '')
  end
end
if redis.call('LLEN', KEYS[4]) > 0 then
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
end
return 1
`)

// Postpone gives back a claim of chatID's head without removing it and schedules the chat's
// next try at at. sent says whether the attempt may have reached Telegram (ambiguous): it
// then keeps counting, so the next claim sees Attempt+1; otherwise (nothing left, 429,
// waiting for pacing) the attempt is forgotten. It returns ErrLeaseLost, having written
// nothing, when l is no longer held.
func (s *Store) Postpone(ctx context.Context, l Lease, chatID int64, c Claim, sent bool, at time.Time) error {
	t := s.tag(l.Shard)
	k := s.keys(l.Shard)
	undo := "1"
	if sent {
		undo = "0"
	}
	n, err := postponeScript.Run(ctx, s.rdb,
		[]string{k.lease, chatKey(t, kindSending, chatID), k.ready, chatKey(t, kindOutbox, chatID)},
		l.value(), c.Message.ID, c.Token, undo, at.UnixMilli(), chatID).Int()
	if err != nil {
		return fmt.Errorf("postpone message %s of chat %d: %w", c.Message.ID, chatID, err)
	}
	if n < 0 {
		return ErrLeaseLost
	}
	return nil
}

// completeScript removes a finished head and, given a claim token, claims the next one
// (claimLua), so that a drain needs one script per message. KEYS: those of claimLua, then
// stream. ARGV: those of claimLua (an empty token claims nothing), message id, now ms,
// result JSON (empty for none). Replayed after the head was popped, it finds another head
// (ids are unique within an outbox) and neither pops nor reports again; the claim replays
// as claimLua does.
var completeScript = redis.NewScript(claimLua + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
local head = redis.call('LINDEX', KEYS[2], 0)
if head then
  local ok, m = pcall(cjson.decode, head)
  if ok and type(m) == 'table' and m.id == ARGV[7] then
    redis.call('LPOP', KEYS[2])
    if ARGV[9] ~= '' then
      redis.call('XADD', KEYS[7], '*', 'u', '0', 'c', ARGV[2], 'k', 'result', 'r', ARGV[9])
    end
  end
end
if redis.call('HGET', KEYS[3], 'id') == ARGV[7] then redis.call('DEL', KEYS[3]) end
if redis.call('LLEN', KEYS[2]) > 0 then
  redis.call('ZADD', KEYS[4], ARGV[8], ARGV[2])
else
  redis.call('ZREM', KEYS[4], ARGV[2])
  return {0}
end
if ARGV[3] == '' then return {0} end
return claim()
`)

// Complete removes message m from the head of chatID's outbox after its call finished
// (successfully or for good). When m.WantResult, res is appended to the shard stream as a
// queue.KindResult update of chatID, in the same script; res is ignored otherwise. The chat
// stays ready (due now) while messages remain. Completing a message that is no longer the
// head does nothing. It returns ErrLeaseLost, having written nothing, when l is no longer
// held.
func (s *Store) Complete(ctx context.Context, l Lease, chatID int64, m queue.Message, res queue.Result) error {
	_, err := s.complete(ctx, l, chatID, m, res, "", "")
	return err
}

// CompleteAndClaim is Complete followed, in the same script, by ClaimHead(token,
// reservedID) of the next head: ok is false when the outbox is now empty.
func (s *Store) CompleteAndClaim(ctx context.Context, l Lease, chatID int64, m queue.Message, res queue.Result, token, reservedID string) (c Claim, ok bool, err error) {
	out, err := s.complete(ctx, l, chatID, m, res, token, reservedID)
	if err != nil {
		return Claim{}, false, err
	}
	return s.claimed(ctx, l, chatID, token, out, nil)
}

func (s *Store) complete(ctx context.Context, l Lease, chatID int64, m queue.Message, res queue.Result, token, reservedID string) ([]any, error) {
	var r []byte
	if m.WantResult {
		var err error
		if r, err = json.Marshal(res); err != nil {
			return nil, fmt.Errorf("encode result of message %s: %w", m.ID, err)
		}
	}
	keys := append(s.claimKeys(l, chatID), s.keys(l.Shard).stream)
	args := append(s.claimArgs(l, chatID, token, reservedID), m.ID, time.Now().UnixMilli(), r)
	out, err := completeScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("complete message %s of chat %d: %w", m.ID, chatID, err)
	}
	if code, _ := out[0].(int64); code < 0 {
		return nil, ErrLeaseLost
	}
	return out, nil
}

// unreachableScript records that the bot cannot write to a chat and drops the messages
// queued to it in its own outbox (messages to other chats stay, in order). Dropped messages
// that asked for a result report err "forbidden". KEYS: lease, out, snd, ready, stream,
// unreach. ARGV: lease value, chat, now ms, the results' detail field (`,"detail":"…"`, or
// empty for none). A replay finds nothing left to drop.
var unreachableScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('SADD', KEYS[6], ARGV[2])
local chat = tonumber(ARGV[2])
local keep = {}
for _, raw in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local ok, m = pcall(cjson.decode, raw)
  if ok and type(m) == 'table' and m.chat ~= chat then
    keep[#keep + 1] = raw
  elseif ok and type(m) == 'table' and m.want then
    local ref = ''
    if type(m.ref) == 'string' then ref = m.ref end
    redis.call('XADD', KEYS[5], '*', 'u', '0', 'c', ARGV[2], 'k', 'result',
      'r', '{"ref":' .. cjson.encode(ref) .. ',"chat":' .. ARGV[2] .. ',"err":"forbidden"' .. ARGV[4] .. '}')
  end
end
redis.call('DEL', KEYS[2], KEYS[3])
if #keep > 0 then
  redis.call('RPUSH', KEYS[2], unpack(keep))
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
else
  redis.call('ZREM', KEYS[4], ARGV[2])
end
return 1
`)

// Unreachable handles a 403 for the head message m of chatID's outbox. When m targets
// chatID itself, the chat is marked unreachable and every message queued to it is dropped,
// in one fenced script (messages in the outbox addressed to other chats stay). When m
// targets another chat (a relay), only m is dropped and its target marked unreachable in
// the target's shard. Dropped messages with WantResult report Error "forbidden" with detail
// (Telegram's description of the 403) as Detail. It returns ErrLeaseLost, having written
// nothing, when l is no longer held.
func (s *Store) Unreachable(ctx context.Context, l Lease, chatID int64, m queue.Message, detail string) error {
	if m.ChatID != chatID {
		res := queue.Result{MessageRef: m.Ref, ChatID: m.ChatID, Error: "forbidden", Detail: detail}
		if err := s.Complete(ctx, l, chatID, m, res); err != nil {
			return err
		}
		ts := queue.Shard(m.ChatID, s.shards)
		if err := s.rdb.SAdd(ctx, s.keys(ts).unrch, m.ChatID).Err(); err != nil {
			return fmt.Errorf("mark chat %d unreachable: %w", m.ChatID, err)
		}
		return nil
	}
	detailField := ""
	if detail != "" {
		b, _ := json.Marshal(detail) // a string always encodes
		detailField = `,"detail":` + string(b)
	}
	t := s.tag(l.Shard)
	k := s.keys(l.Shard)
	n, err := unreachableScript.Run(ctx, s.rdb,
		[]string{k.lease, chatKey(t, kindOutbox, chatID), chatKey(t, kindSending, chatID), k.ready, k.stream, k.unrch},
		l.value(), chatID, time.Now().UnixMilli(), detailField).Int()
	if err != nil {
		return fmt.Errorf("mark chat %d unreachable: %w", chatID, err)
	}
	if n < 0 {
		return ErrLeaseLost
	}
	return nil
}

// takeScript is a GCRA token bucket that reserves: a call gets the earliest time it may go
// and that slot is taken, so waiting callers spread out instead of retrying together.
// KEYS: tat (theoretical arrival time, ms), pause. ARGV: interval ms, burst. Returns
// {wait ms, reserved}: while the scope is paused nothing is reserved and the pause's rest
// is returned. Clocks come from the server (TIME) because replicas share the buckets. A
// replay reserves a second slot, which only makes pacing stricter.
var takeScript = redis.NewScript(takeLua + `
local wait, reserved = take(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]))
return {wait, reserved}
`)

// limits returns the burst and interval of a chat scope.
func limits(scope string) (burst int, interval time.Duration) {
	if scope == ScopeGroup {
		return groupBurst, groupInterval
	}
	return privateBurst, privateInterval
}

// Take reserves m's sending slot in every scope that paces it (its chat scope, and the bulk
// lane for LaneBulk at bulkRate messages per second) and returns how long to wait before
// sending. reserved is false when a scope is paused by a 429: the wait is the pause's rest
// and Take must be called again afterwards; when reserved is true the caller may send once
// wait has passed without calling Take again.
func (s *Store) Take(ctx context.Context, m queue.Message, bulkRate float64) (wait time.Duration, reserved bool, err error) {
	reserved = true
	if scope := ChatScope(m); scope != "" {
		burst, interval := limits(scope)
		t := s.tag(queue.Shard(m.ChatID, s.shards))
		w, r, err := s.take(ctx, chatKey(t, kindPace, m.ChatID), chatKey(t, kindPause, m.ChatID), interval, burst)
		if err != nil {
			return 0, false, fmt.Errorf("pace chat %d: %w", m.ChatID, err)
		}
		wait, reserved = max(wait, w), reserved && r
	}
	if m.Lane == queue.LaneBulk && bulkRate > 0 {
		interval := time.Duration(float64(time.Second) / bulkRate)
		w, r, err := s.take(ctx, s.global(kindPace+":bulk"), s.global(kindPause+":bulk"), interval, 1)
		if err != nil {
			return 0, false, fmt.Errorf("pace bulk lane: %w", err)
		}
		wait, reserved = max(wait, w), reserved && r
	}
	return wait, reserved, nil
}

func (s *Store) take(ctx context.Context, tat, pause string, interval time.Duration, burst int) (time.Duration, bool, error) {
	res, err := takeScript.Run(ctx, s.rdb, []string{tat, pause}, max(interval.Milliseconds(), 1), burst).Int64Slice()
	if err != nil {
		return 0, false, err
	}
	return time.Duration(res[0]) * time.Millisecond, res[1] == 1, nil
}

// pauseScript pauses a scope for ARGV[1] ms unless it is already paused for longer, so a
// late, shorter 429 never shortens a pause. KEYS: pause.
var pauseScript = redis.NewScript(`
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
`)

// windowScript records a 429 of one chat and pauses all sending when enough distinct chats
// got one within the window. KEYS: window zset, global pause. ARGV: chat, window ms, chats,
// pause ms. Returns 1 when all sending is (now) paused. A replay re-adds the same member.
var windowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then return 0 end
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
end
return 1
`)

// RateLimited records a 429 answered to m: it pauses m's scope on every replica for
// retryAfter (the bulk lane for LaneBulk, else the target chat's scope) and, unless
// park is set, counts the 429 towards the global window, reporting whether all sending is
// now paused. park is for a retry_after too long to be a burst (over a minute): only the
// scope is parked then.
func (s *Store) RateLimited(ctx context.Context, m queue.Message, retryAfter time.Duration, park bool) (global bool, err error) {
	pause := s.global(kindPause + ":bulk")
	if m.Lane != queue.LaneBulk {
		pause = chatKey(s.tag(queue.Shard(m.ChatID, s.shards)), kindPause, m.ChatID)
	}
	ms := max(retryAfter.Milliseconds(), 1)
	if err := pauseScript.Run(ctx, s.rdb, []string{pause}, ms).Err(); err != nil {
		return false, fmt.Errorf("pause scope of chat %d: %w", m.ChatID, err)
	}
	if park {
		return false, nil
	}
	n, err := windowScript.Run(ctx, s.rdb, []string{s.global("r429"), s.global(kindPause + ":all")},
		m.ChatID, rateWindow.Milliseconds(), rateWindowChats, ms).Int()
	if err != nil {
		return false, fmt.Errorf("record 429 of chat %d: %w", m.ChatID, err)
	}
	return n == 1, nil
}

// GlobalPause returns how long all sending stays paused; zero when it is not.
func (s *Store) GlobalPause(ctx context.Context) (time.Duration, error) {
	d, err := s.rdb.PTTL(ctx, s.global(kindPause+":all")).Result()
	if err != nil {
		return 0, fmt.Errorf("read global pause: %w", err)
	}
	return max(d, 0), nil
}

// RecordMigration remembers that chat from became supergroup to, for operators and for
// the self-check (the staff chat id must then be changed in the configuration).
func (s *Store) RecordMigration(ctx context.Context, from, to int64) error {
	if err := s.rdb.HSet(ctx, s.global("migrations"), from, to).Err(); err != nil {
		return fmt.Errorf("record migration of chat %d: %w", from, err)
	}
	return nil
}

// Migrations returns every recorded migration, old chat id to new.
func (s *Store) Migrations(ctx context.Context) (map[int64]int64, error) {
	h, err := s.rdb.HGetAll(ctx, s.global("migrations")).Result()
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	out := make(map[int64]int64, len(h))
	for k, v := range h {
		from, err1 := strconv.ParseInt(k, 10, 64)
		to, err2 := strconv.ParseInt(v, 10, 64)
		if err1 == nil && err2 == nil {
			out[from] = to
		}
	}
	return out, nil
}
