package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// dedupeSeconds is how long an update_id is remembered (DESIGN §1: 24 h).
const dedupeSeconds = 24 * 60 * 60

// appendScript dedupes a Telegram update by update_id and appends it to its shard stream,
// atomically. Run twice (go-redis retries after a dropped connection) it reports a
// duplicate the second time, which is the right answer: the update is queued.
var appendScript = redis.NewScript(`
if ARGV[1] ~= '0' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[5]) then return 0 end
end
redis.call('XADD', KEYS[2], '*', 'u', ARGV[1], 'c', ARGV[2], 'k', ARGV[3], 'r', ARGV[4])
return 1
`)

// Append queues an update on the shard of its chat. duplicate is true when the update_id
// was already queued in the last 24 h; nothing is written then. Internal updates
// (UpdateID 0) are never deduplicated.
func (s *Store) Append(ctx context.Context, u queue.Update) (duplicate bool, err error) {
	shard := queue.Shard(u.ChatID, s.shards)
	t := s.tag(shard)
	uid := strconv.FormatInt(u.UpdateID, 10)
	kind := u.Kind
	if kind == "" {
		kind = queue.KindTelegram
	}
	n, err := appendScript.Run(ctx, s.rdb,
		[]string{t + ":" + kindSeen + ":" + uid, s.keys(shard).stream},
		uid, u.ChatID, string(kind), []byte(u.Raw), dedupeSeconds).Int()
	if err != nil {
		return false, fmt.Errorf("append update %d: %w", u.UpdateID, err)
	}
	return n == 0, nil
}
