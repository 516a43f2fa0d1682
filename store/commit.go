package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// commitScript applies one update's effects and marks it done, fenced by the lease.
// KEYS: lease, stream, fails, session, profile, outbox, ready, unreach, history, check-in
// log, audit, dead letters, the chat's tickets, ticket index, open tickets, all tickets,
// the chat's segment list, the active users, the chat's sending marker, pacing and pause
// keys, then one statistics hash per counter, then the segments to add and to remove.
// ARGV: lease value, stream id, chat, session, session ttl ms, delete session, profile,
// reachable (empty, 0 or 1), now ms, forget, check-in record, its score, oldest log score
// kept, number of outbox entries, of audit entries, of counters; ticket number (empty:
// none), record, open (0/1), queue score, opened score, number of index keys; segments to
// add, to remove, active (0/1); claim token (empty: claim nothing), id of a head whose
// pacing slot is already reserved, pacing interval ms and burst; then the outbox entries,
// the audit entries, the index keys and, per counter, field, increment and ttl ms (0: none).
// An entry that is no longer pending was committed already (a retried call): nothing is
// applied twice. Returns -1 (lease lost), 0 (committed before), 1, or, when it queued
// messages and was given a claim token, 1 followed by claimLua's answer for the chat.
var commitScript = redis.NewScript(claimLua + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('XACK', KEYS[2], 'w', ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
if ARGV[10] == '1' then
  -- The segment sets are keys of this shard's slot, listed in the chat's segment list.
  for _, seg in ipairs(redis.call('SMEMBERS', KEYS[17])) do redis.call('SREM', seg, ARGV[3]) end
  redis.call('DEL', KEYS[17])
  redis.call('ZREM', KEYS[18], ARGV[3])
  for _, rec in ipairs(redis.call('LRANGE', KEYS[9], 0, -1)) do redis.call('ZREM', KEYS[10], rec) end
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[9])
  redis.call('SREM', KEYS[8], ARGV[3])
  for _, e in ipairs(redis.call('XRANGE', KEYS[12], '-', '+')) do
    local f = e[2]
    for i = 1, #f, 2 do
      if f[i] == 'c' and f[i + 1] == ARGV[3] then redis.call('XDEL', KEYS[12], e[1]) end
    end
  end
end
if ARGV[6] == '1' then
  redis.call('DEL', KEYS[4])
elseif ARGV[4] ~= '' then
  redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[5])
end
if ARGV[7] ~= '' then redis.call('SET', KEYS[5], ARGV[7]) end
if ARGV[8] == '1' then
  redis.call('SREM', KEYS[8], ARGV[3])
elseif ARGV[8] == '0' then
  redis.call('SADD', KEYS[8], ARGV[3])
end
if ARGV[11] ~= '' then
  redis.call('LPUSH', KEYS[9], ARGV[11])
  redis.call('LTRIM', KEYS[9], 0, ` + historyKeptLua + `)
  redis.call('ZADD', KEYS[10], ARGV[12], ARGV[11])
  redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', '(' .. ARGV[13])
end
local nout, naudit, ncount, nindex = tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[22])
local nseg, nunseg = tonumber(ARGV[23]), tonumber(ARGV[24])
if ARGV[25] == '1' then redis.call('ZADD', KEYS[18], ARGV[9], ARGV[3]) end
local i = 30
if nout > 0 then
  for j = i, i + nout - 1 do redis.call('RPUSH', KEYS[6], ARGV[j]) end
  redis.call('ZADD', KEYS[7], 'NX', ARGV[9], ARGV[3])
end
i = i + nout
for j = i, i + naudit - 1 do
  redis.call('XADD', KEYS[11], 'MAXLEN', '~', ` + auditKeptLua + `, '*', 'e', ARGV[j])
end
i = i + naudit
if ARGV[17] ~= '' then
  redis.call('HSET', KEYS[13], ARGV[17], ARGV[18])
  if ARGV[19] == '1' then
    redis.call('ZADD', KEYS[15], ARGV[20], ARGV[17])
  else
    redis.call('ZREM', KEYS[15], ARGV[17])
  end
  redis.call('ZADD', KEYS[16], ARGV[21], ARGV[17])
  for j = i, i + nindex - 1 do redis.call('HSET', KEYS[14], ARGV[j], ARGV[17]) end
end
i = i + nindex
for c = 1, ncount do
  local k, a = KEYS[21 + c], i + 3 * (c - 1)
  redis.call('HINCRBY', k, ARGV[a], ARGV[a + 1])
  if ARGV[a + 2] ~= '0' then redis.call('PEXPIRE', k, ARGV[a + 2]) end
end
for s = 1, nseg do
  local k = KEYS[21 + ncount + s]
  redis.call('SADD', k, ARGV[3])
  redis.call('SADD', KEYS[17], k)
end
for s = 1, nunseg do
  local k = KEYS[21 + ncount + nseg + s]
  redis.call('SREM', k, ARGV[3])
  redis.call('SREM', KEYS[17], k)
end
if nout > 0 and ARGV[26] ~= '' then
  K = {KEYS[1], KEYS[6], KEYS[19], KEYS[7], KEYS[20], KEYS[21]}
  A = {ARGV[1], ARGV[3], ARGV[26], ARGV[27], ARGV[28], ARGV[29]}
  return {1, unpack(claim())}
end
return 1
`)

// HistoryKept is how many check-in records a chat's history keeps. /forgetme finds the
// chat's records in the check-in log through this list, so it must outlast the log's
// retention for any real visitor: 5,000 is twelve check-ins a day for 400 days.
const HistoryKept = 5000

var historyKeptLua = strconv.Itoa(HistoryKept - 1)

// CheckInRetention is how long the shard check-in logs (the source of exports) keep records.
const CheckInRetention = 400 * 24 * time.Hour

// auditKeptLua caps each shard's audit log (approximately, as XADD MAXLEN ~ does).
const auditKeptLua = "100000"

// Commit applies the effects of update u and marks it done, in one transaction fenced by
// the lease: it returns ErrLeaseLost, having written nothing, when l is no longer held.
// Committing an update that was already committed is a no-op.
func (s *Store) Commit(ctx context.Context, l Lease, u queue.Update, eff queue.Effects) error {
	_, err := s.CommitAndClaim(ctx, l, u, eff, "", "")
	return err
}

// HeadClaim is ClaimHead's answer given by another script: Made is false when that
// script did not claim.
type HeadClaim struct {
	Made  bool
	Claim Claim
	OK    bool
	Err   error
}

// CommitAndClaim is Commit followed, in the same script and when the update queued
// messages, by ClaimHead(token, reservedID) of the chat's outbox, so that a reply can be
// sent without another round trip. It claims nothing with an empty token or when the
// update had been committed before (a retried call): the caller then claims with the same
// token, which a claim made by the lost answer's script recognises.
func (s *Store) CommitAndClaim(ctx context.Context, l Lease, u queue.Update, eff queue.Effects, token, reservedID string) (HeadClaim, error) {
	k := s.keys(l.Shard)
	t := s.tag(l.Shard)
	reach := ""
	if eff.Reachable != nil {
		reach = "0"
		if *eff.Reachable {
			reach = "1"
		}
	}
	ttl := eff.SessionTTL
	if ttl <= 0 {
		ttl = 48 * time.Hour
	}
	now := time.Now()
	claim := s.claimArgs(l, u.ChatID, token, reservedID)
	args := make([]any, 0, 29+len(eff.Outbox)+len(eff.Audit)+3*len(eff.Counters))
	args = append(args, l.value(), u.StreamID, u.ChatID, []byte(eff.Session), ttl.Milliseconds(), flag(eff.DeleteSession),
		[]byte(eff.Profile), reach, now.UnixMilli(), flag(eff.Forget),
		[]byte(eff.CheckIn), eff.CheckInAt.UnixMilli(), now.Add(-CheckInRetention).UnixMilli(),
		len(eff.Outbox), len(eff.Audit), len(eff.Counters))
	var index []string
	if tk := eff.Ticket; tk != nil {
		args = append(args, tk.N, tk.Record, flag(tk.Open), tk.Since.UnixMilli(), tk.Opened.UnixMilli(), len(tk.Index))
		index = tk.Index
	} else {
		args = append(args, "", "", "0", 0, 0, 0)
	}
	args = append(args, len(eff.Segments), len(eff.Unsegments), flag(eff.Active))
	args = append(args, claim[2:]...)
	queued := make([]encoded, 0, len(eff.Outbox))
	for _, m := range eff.Outbox {
		b, err := json.Marshal(m)
		if err != nil {
			return HeadClaim{}, fmt.Errorf("encode outbox message %s: %w", m.ID, err)
		}
		args = append(args, b)
		queued = append(queued, encoded{raw: b, m: m})
	}
	for _, a := range eff.Audit {
		args = append(args, a)
	}
	for _, x := range index {
		args = append(args, x)
	}
	keys := make([]string, 0, 21+len(eff.Counters)+len(eff.Segments)+len(eff.Unsegments))
	keys = append(keys, k.lease, k.stream, k.fails,
		chatKey(t, kindSession, u.ChatID), chatKey(t, kindProfile, u.ChatID),
		chatKey(t, kindOutbox, u.ChatID), k.ready, k.unrch,
		chatKey(t, kindHistory, u.ChatID), k.checkins, k.audit, k.dead,
		chatKey(t, kindTickets, u.ChatID), chatKey(t, kindTicketIndex, u.ChatID),
		chatKey(t, kindTicketsOpen, u.ChatID), chatKey(t, kindTicketsAll, u.ChatID),
		chatKey(t, kindSegmentsOf, u.ChatID), activeKey(t),
		chatKey(t, kindSending, u.ChatID), chatKey(t, kindPace, u.ChatID), chatKey(t, kindPause, u.ChatID))
	for _, c := range eff.Counters {
		keys = append(keys, k.stat(c.Key))
		// A TTL that is not > 0 means none: PEXPIRE with it would delete the whole hash.
		args = append(args, c.Field, c.By, max(c.TTL.Milliseconds(), 0))
	}
	for _, seg := range append(slices.Clone(eff.Segments), eff.Unsegments...) {
		keys = append(keys, segmentKey(t, seg))
	}
	res, err := commitScript.Run(ctx, s.rdb, keys, args...).Result()
	if err != nil {
		return HeadClaim{}, fmt.Errorf("commit update %s of shard %d: %w", u.StreamID, l.Shard, err)
	}
	switch r := res.(type) {
	case int64:
		if r < 0 {
			return HeadClaim{}, ErrLeaseLost
		}
		return HeadClaim{}, nil
	case []any:
		c, ok, err := s.claimed(ctx, l, u.ChatID, token, r[1:], queued)
		return HeadClaim{Made: true, Claim: c, OK: ok, Err: err}, nil
	}
	return HeadClaim{}, fmt.Errorf("commit update %s of shard %d: unexpected answer %v", u.StreamID, l.Shard, res)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Outbox returns the messages queued for a chat of the shard, oldest first.
func (s *Store) Outbox(ctx context.Context, shard int, chatID int64) ([]queue.Message, error) {
	raws, err := s.rdb.LRange(ctx, chatKey(s.tag(shard), kindOutbox, chatID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read outbox of chat %d: %w", chatID, err)
	}
	out := make([]queue.Message, 0, len(raws))
	for _, r := range raws {
		var m queue.Message
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			return nil, fmt.Errorf("decode outbox entry of chat %d: %w", chatID, err)
		}
		out = append(out, m)
	}
	return out, nil
}
