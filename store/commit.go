package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// commitScript applies one update's effects and marks it done, fenced by the lease.
// KEYS: lease, stream, fails, session, profile, outbox, ready, unreach.
// ARGV: lease value, stream id, chat, session, session ttl ms, delete session,
// profile, reachable (empty, 0 or 1), now ms, outbox entries...
// An entry that is no longer pending was committed already (a retried call): nothing is
// applied twice.
var commitScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('XACK', KEYS[2], 'w', ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
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
if #ARGV > 9 then
  for i = 10, #ARGV do redis.call('RPUSH', KEYS[6], ARGV[i]) end
  redis.call('ZADD', KEYS[7], 'NX', ARGV[9], ARGV[3])
end
return 1
`)

// Commit applies the effects of update u and marks it done, in one transaction fenced by
// the lease: it returns ErrLeaseLost, having written nothing, when l is no longer held.
// Committing an update that was already committed is a no-op.
func (s *Store) Commit(ctx context.Context, l Lease, u queue.Update, eff queue.Effects) error {
	k := s.keys(l.Shard)
	t := s.tag(l.Shard)
	reach := ""
	if eff.Reachable != nil {
		reach = "0"
		if *eff.Reachable {
			reach = "1"
		}
	}
	del := "0"
	if eff.DeleteSession {
		del = "1"
	}
	ttl := eff.SessionTTL
	if ttl <= 0 {
		ttl = 48 * time.Hour
	}
	args := make([]any, 0, 9+len(eff.Outbox))
	args = append(args, l.value(), u.StreamID, u.ChatID, []byte(eff.Session), ttl.Milliseconds(), del,
		[]byte(eff.Profile), reach, time.Now().UnixMilli())
	for _, m := range eff.Outbox {
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode outbox message %s: %w", m.ID, err)
		}
		args = append(args, b)
	}
	keys := []string{k.lease, k.stream, k.fails,
		chatKey(t, kindSession, u.ChatID), chatKey(t, kindProfile, u.ChatID),
		chatKey(t, kindOutbox, u.ChatID), k.ready, k.unrch}
	n, err := commitScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("commit update %s of shard %d: %w", u.StreamID, l.Shard, err)
	}
	if n < 0 {
		return ErrLeaseLost
	}
	return nil
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
