package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// PollOffset returns the getUpdates offset to ask for next (0 when none is stored).
func (s *Store) PollOffset(ctx context.Context) (int64, error) {
	n, err := s.rdb.Get(ctx, s.global("poller:offset")).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read poll offset: %w", err)
	}
	return n, nil
}

// setOffsetScript moves the offset forward only, fenced by the poller lease.
// KEYS: lease, offset. ARGV: lease value, offset.
var setOffsetScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('SET', KEYS[2], ARGV[2]) end
return 1
`)

// SetPollOffset records the next getUpdates offset once the updates before it are queued.
// It returns ErrLeaseLost when l no longer holds the poller lease.
func (s *Store) SetPollOffset(ctx context.Context, l Lease, offset int64) error {
	n, err := setOffsetScript.Run(ctx, s.rdb, []string{s.leaseKey(PollerShard), s.global("poller:offset")}, l.value(), offset).Int()
	if err != nil {
		return fmt.Errorf("set poll offset: %w", err)
	}
	if n < 0 {
		return ErrLeaseLost
	}
	return nil
}
