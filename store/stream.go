package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// EnsureGroup creates the shard stream and its consumer group if they do not exist.
func (s *Store) EnsureGroup(ctx context.Context, shard int) error {
	err := s.rdb.XGroupCreateMkStream(ctx, s.keys(shard).stream, groupName, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create group of shard %d: %w", shard, err)
	}
	return nil
}

// pendingScript claims, for the lease holder only, pending entries of the shard from
// start on. KEYS: lease, stream. ARGV: lease value, consumer, start, count.
var pendingScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return redis.call('XAUTOCLAIM', KEYS[2], 'w', ARGV[2], 0, ARGV[3], 'COUNT', ARGV[4])
`)

// Pending claims every entry of the shard that was delivered but not committed (by this
// or a previous holder) and returns them in stream order. A new lease holder calls it
// before reading new entries, so per-chat order holds across a move. The claim is fenced:
// it returns ErrLeaseLost, claiming nothing, when l is no longer held, so a stalled
// replica cannot take entries back from its successor.
func (s *Store) Pending(ctx context.Context, l Lease, count int64) ([]queue.Update, error) {
	k := s.keys(l.Shard)
	var out []queue.Update
	start := "0-0"
	for {
		res, err := pendingScript.Run(ctx, s.rdb, []string{k.lease, k.stream}, l.value(), l.Owner, start, count).Result()
		if err != nil {
			return nil, fmt.Errorf("claim pending of shard %d: %w", l.Shard, err)
		}
		arr, ok := res.([]any)
		if !ok || len(arr) < 2 {
			return nil, ErrLeaseLost
		}
		msgs := entries(arr[1])
		for _, m := range msgs {
			out = append(out, decodeEntry(m))
		}
		next, _ := arr[0].(string)
		if next == "0-0" || next == "" || len(msgs) == 0 {
			break
		}
		start = next
	}
	if len(out) == 0 {
		return nil, nil
	}
	return s.withDeliveries(ctx, l, out)
}

// entries converts a script's array of stream entries; entries deleted while pending
// come without fields and are skipped.
func entries(v any) []redis.XMessage {
	arr, _ := v.([]any)
	out := make([]redis.XMessage, 0, len(arr))
	for _, e := range arr {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			continue
		}
		id, _ := pair[0].(string)
		fields, ok := pair[1].([]any)
		if !ok {
			continue
		}
		vals := make(map[string]any, len(fields)/2)
		for i := 0; i+1 < len(fields); i += 2 {
			if k, ok := fields[i].(string); ok {
				vals[k] = fields[i+1]
			}
		}
		out = append(out, redis.XMessage{ID: id, Values: vals})
	}
	return out
}

// withDeliveries fills in how many times each entry was delivered, from the failure
// counts the store keeps (XPENDING counts claims, which are not failures).
func (s *Store) withDeliveries(ctx context.Context, l Lease, us []queue.Update) ([]queue.Update, error) {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.StreamID
	}
	fails, err := s.rdb.HMGet(ctx, s.keys(l.Shard).fails, ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("failure counts of shard %d: %w", l.Shard, err)
	}
	for i, f := range fails {
		n := 0
		if v, ok := f.(string); ok {
			n, _ = strconv.Atoi(v)
		}
		us[i].Deliveries = n + 1
	}
	return us, nil
}

// readScript delivers new entries to the lease holder only: a blocking XREADGROUP could
// not be fenced, and one issued by a stalled replica would bury entries in its own
// pending list after its successor had claimed the others, breaking per-chat order.
// KEYS: lease, stream. ARGV: lease value, consumer, count, last history index loaded.
// Returns -1 when the lease is lost; the entries, with the state of the chat of each
// entry that is its chat's first in the read (as Load reads it: session, profile,
// unreachable, history, indexed; 0 for the others), when there are some; else the
// stream's last generated id to wait on. The chat keys are the shard's, in its slot.
var readScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local r = redis.call('XREADGROUP', 'GROUP', 'w', ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[2], '>')
if r then
  local es = r[1][2]
  local tag = string.sub(KEYS[2], 1, -3)
  local states, seen = {}, {}
  for i, e in ipairs(es) do
    local chat
    local f = e[2]
    for j = 1, #f, 2 do
      if f[j] == 'c' then chat = f[j + 1] end
    end
    if chat and not seen[chat] then
      seen[chat] = true
      states[i] = {
        redis.call('GET', tag .. ':sess:' .. chat),
        redis.call('GET', tag .. ':prof:' .. chat),
        redis.call('SISMEMBER', tag .. ':unreach', chat),
        redis.call('LRANGE', tag .. ':hist:' .. chat, 0, tonumber(ARGV[4])),
        redis.call('EXISTS', tag .. ':segs:' .. chat),
      }
    else
      states[i] = 0
    end
  end
  return {es, states}
end
local info = redis.call('XINFO', 'STREAM', KEYS[2])
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then return info[i + 1] end
end
return '0-0'
`)

// Read returns at most count new entries of the shard, waiting up to block for some to
// arrive. It returns no entries and no error when none arrived, and ErrLeaseLost when l
// is no longer held.
//
// after, when set, is the id of the last entry the caller read, when that read was not
// full: the shard had no more then, so Read waits for a newer entry first instead of
// reading to find nothing. On a shard that gets an update now and then (most of them, at
// a person's pace) that is one round trip less per update.
//
// The wait is a plain XREAD, which changes nothing if it outlives the lease, sent in one
// pipeline with the read script: Redis runs the script the moment the wait ends, so
// waiting and reading cost one round trip. The script checks the lease when it runs.
func (s *Store) Read(ctx context.Context, l Lease, count int64, block time.Duration, after string) ([]queue.Update, error) {
	k := s.keys(l.Shard)
	keys := []string{k.lease, k.stream}
	args := []any{l.value(), l.Owner, count, queue.HistoryLoaded - 1}
	if after == "" || block <= 0 {
		res, err := readScript.Run(ctx, s.rdb, keys, args...).Result()
		if err != nil {
			return nil, fmt.Errorf("read shard %d: %w", l.Shard, err)
		}
		last, ok := res.(string)
		if !ok || block <= 0 {
			return readAnswer(l.Shard, res)
		}
		// The embedded engine reports no last id for a stream that never had an entry.
		after = cmp.Or(last, "0-0")
	}
	res, err := s.waitAndRead(ctx, k.stream, after, block, keys, args)
	if err != nil {
		return nil, fmt.Errorf("wait on shard %d: %w", l.Shard, err)
	}
	return readAnswer(l.Shard, res)
}

// waitAndRead waits up to block for an entry of the stream newer than id, then runs the
// read script, in one pipeline on a connection of the blocking client. The wait is kept
// under half the client's read timeout, which bounds the whole pipeline's answer.
func (s *Store) waitAndRead(ctx context.Context, stream, id string, block time.Duration, keys []string, args []any) (any, error) {
	if rt := s.blockingReadTimeout(); rt > 0 {
		block = min(block, rt/2)
	}
	var read *redis.Cmd
	_, err := s.blocking.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.XRead(ctx, &redis.XReadArgs{Streams: []string{stream, id}, Count: 1, Block: block})
		read = readScript.EvalSha(ctx, p, keys, args...)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) && !redis.HasErrorPrefix(err, "NOSCRIPT") {
		return nil, err
	}
	res, err := read.Result()
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		// Not loaded yet (a new or restarted Redis): the wait is over, read as usual.
		res, err = readScript.Run(ctx, s.rdb, keys, args...).Result()
	}
	return res, err
}

// blockingReadTimeout returns the read timeout of the blocking client's connections
// (0: none).
func (s *Store) blockingReadTimeout() time.Duration {
	var rt time.Duration
	switch c := s.blocking.(type) {
	case *redis.Client:
		rt = c.Options().ReadTimeout
	case *redis.ClusterClient:
		rt = c.Options().ReadTimeout
	}
	return max(rt, 0)
}

// readAnswer decodes the read script's answer: the entries, with the state loaded for the
// first of each chat; none when the stream had no new entry.
func readAnswer(shard int, res any) ([]queue.Update, error) {
	switch v := res.(type) {
	case int64:
		return nil, ErrLeaseLost
	case string:
		return nil, nil
	case []any:
		if len(v) != 2 {
			return nil, fmt.Errorf("read shard %d: unexpected answer %v", shard, v)
		}
		raw, _ := v[0].([]any)
		states, _ := v[1].([]any)
		out := make([]queue.Update, 0, len(raw))
		for i, e := range raw {
			msgs := entries([]any{e})
			if len(msgs) == 0 {
				continue
			}
			u := decodeEntry(msgs[0])
			u.Deliveries = 1
			if i < len(states) {
				u.Loaded = loadedState(states[i])
			}
			out = append(out, u)
		}
		return out, nil
	}
	return nil, fmt.Errorf("read shard %d: unexpected answer %v", shard, res)
}

func decodeEntry(m redis.XMessage) queue.Update {
	u := queue.Update{StreamID: m.ID}
	if v, ok := m.Values["u"].(string); ok {
		u.UpdateID, _ = strconv.ParseInt(v, 10, 64)
	}
	if v, ok := m.Values["c"].(string); ok {
		u.ChatID, _ = strconv.ParseInt(v, 10, 64)
	}
	if v, ok := m.Values["k"].(string); ok {
		u.Kind = queue.Kind(v)
	}
	if v, ok := m.Values["r"].(string); ok {
		u.Raw = []byte(v)
	}
	return u
}

// loadedState decodes the state the read script loaded with an entry, nil when it did
// not (the entry's chat came earlier in the read).
func loadedState(v any) *queue.State {
	f, ok := v.([]any)
	if !ok || len(f) != 5 {
		return nil
	}
	st := &queue.State{}
	if b, ok := f[0].(string); ok {
		st.Session = []byte(b)
	}
	if b, ok := f[1].(string); ok {
		st.Profile = []byte(b)
	}
	unrch, _ := f[2].(int64)
	st.Unreachable = unrch == 1
	hist, _ := f[3].([]any)
	for _, h := range hist {
		if b, ok := h.(string); ok {
			st.History = append(st.History, []byte(b))
		}
	}
	indexed, _ := f[4].(int64)
	st.Indexed = indexed == 1
	return st
}

// Load returns what the store holds for a chat of the shard.
func (s *Store) Load(ctx context.Context, shard int, chatID int64) (queue.State, error) {
	t := s.tag(shard)
	var sess, prof *redis.StringCmd
	var unrch *redis.BoolCmd
	var hist *redis.StringSliceCmd
	var segs *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		sess = p.Get(ctx, chatKey(t, kindSession, chatID))
		prof = p.Get(ctx, chatKey(t, kindProfile, chatID))
		unrch = p.SIsMember(ctx, s.keys(shard).unrch, chatID)
		hist = p.LRange(ctx, chatKey(t, kindHistory, chatID), 0, queue.HistoryLoaded-1)
		segs = p.Exists(ctx, chatKey(t, kindSegmentsOf, chatID))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return queue.State{}, fmt.Errorf("load chat %d: %w", chatID, err)
	}
	// The pipeline reports only its first error, which may be a missing session's redis.Nil
	// while a later read failed: each read is checked, so a failed profile read is never
	// taken for a user the bot has not met.
	var st queue.State
	for _, c := range []*redis.StringCmd{sess, prof} {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return queue.State{}, fmt.Errorf("load chat %d: %w", chatID, err)
		}
	}
	if err := cmp.Or(unrch.Err(), hist.Err(), segs.Err()); err != nil {
		return queue.State{}, fmt.Errorf("load chat %d: %w", chatID, err)
	}
	if b, err := sess.Bytes(); err == nil {
		st.Session = b
	}
	if b, err := prof.Bytes(); err == nil {
		st.Profile = b
	}
	st.Unreachable = unrch.Val()
	st.Indexed = segs.Val() > 0
	for _, h := range hist.Val() {
		st.History = append(st.History, []byte(h))
	}
	return st, nil
}

// Depth returns the number of entries in a shard stream and the time the oldest was queued
// (zero when empty).
func (s *Store) Depth(ctx context.Context, shard int) (n int64, oldest time.Time, err error) {
	k := s.keys(shard).stream
	var lenCmd *redis.IntCmd
	var first *redis.XMessageSliceCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		lenCmd = p.XLen(ctx, k)
		first = p.XRangeN(ctx, k, "-", "+", 1)
		return nil
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("depth of shard %d: %w", shard, err)
	}
	if ms := first.Val(); len(ms) > 0 {
		if v, _, ok := strings.Cut(ms[0].ID, "-"); ok {
			if t, err := strconv.ParseInt(v, 10, 64); err == nil {
				oldest = time.UnixMilli(t)
			}
		}
	}
	return lenCmd.Val(), oldest, nil
}
