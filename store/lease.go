package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lease is a replica's hold on one shard. Epoch grows on every acquisition, so a write
// fenced by an old epoch is refused even when the same replica holds the shard again.
type Lease struct {
	Shard int
	Owner string
	Epoch int64
}

func (l Lease) value() string { return l.Owner + "|" + strconv.FormatInt(l.Epoch, 10) }

// acquireScript takes a free lease with a fresh epoch. KEYS: lease, epoch.
var acquireScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local e = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. e, 'PX', ARGV[2])
return e
`)

// renewScript extends a lease still held with the same epoch. KEYS: lease.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// releaseScript frees a lease still held with the same epoch. KEYS: lease.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`)

// PollerShard is the Lease.Shard of the poller lease: the one replica allowed to call
// getUpdates holds it.
const PollerShard = -1

// leaseKey returns the lease key of a shard, or of the poller for PollerShard.
func (s *Store) leaseKey(shard int) string {
	if shard == PollerShard {
		return s.global("poller")
	}
	return s.keys(shard).lease
}

// Acquire takes the lease of shard (or of the poller, for PollerShard) for owner when
// nobody holds it. ok is false when another replica holds it.
func (s *Store) Acquire(ctx context.Context, shard int, owner string, ttl time.Duration) (l Lease, ok bool, err error) {
	epoch := s.global("poller:epoch")
	if shard != PollerShard {
		epoch = s.keys(shard).epoch
	}
	e, err := acquireScript.Run(ctx, s.rdb, []string{s.leaseKey(shard), epoch}, owner, ttl.Milliseconds()).Int64()
	if err != nil {
		return Lease{}, false, fmt.Errorf("acquire shard %d: %w", shard, err)
	}
	if e == 0 {
		return Lease{}, false, nil
	}
	return Lease{Shard: shard, Owner: owner, Epoch: e}, true, nil
}

// Renew extends the leases, in one round trip, and reports which are still held.
func (s *Store) Renew(ctx context.Context, leases []Lease, ttl time.Duration) ([]bool, error) {
	cmds := make([]*redis.Cmd, len(leases))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, l := range leases {
			cmds[i] = renewScript.Run(ctx, p, []string{s.leaseKey(l.Shard)}, l.value(), ttl.Milliseconds())
		}
		return nil
	})
	if err != nil && !isNoScript(err) {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	held := make([]bool, len(leases))
	for i, c := range cmds {
		n, err := c.Int()
		if err != nil {
			if !isNoScript(err) {
				return nil, fmt.Errorf("renew shard %d: %w", leases[i].Shard, err)
			}
			// The script cache was flushed (Redis restarted): renew this one directly.
			n, err = renewScript.Run(ctx, s.rdb, []string{s.leaseKey(leases[i].Shard)}, leases[i].value(), ttl.Milliseconds()).Int()
			if err != nil {
				return nil, fmt.Errorf("renew shard %d: %w", leases[i].Shard, err)
			}
		}
		held[i] = n == 1
	}
	return held, nil
}

// Release frees a lease this replica holds; a lease already lost is left alone.
func (s *Store) Release(ctx context.Context, l Lease) error {
	if err := releaseScript.Run(ctx, s.rdb, []string{s.leaseKey(l.Shard)}, l.value()).Err(); err != nil {
		return fmt.Errorf("release shard %d: %w", l.Shard, err)
	}
	return nil
}

// Heartbeat records replica as alive for ttl and returns the replicas alive now, itself
// included, sorted. Replicas use the count to share the shards evenly.
func (s *Store) Heartbeat(ctx context.Context, replica string, ttl time.Duration) ([]string, error) {
	key := s.global("replicas")
	now := time.Now().UnixMilli()
	var live *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(now + ttl.Milliseconds()), Member: replica})
		p.ZRemRangeByScore(ctx, key, "-inf", "("+strconv.FormatInt(now, 10))
		live = p.ZRange(ctx, key, 0, -1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("heartbeat: %w", err)
	}
	return live.Val(), nil
}

// Leave removes replica from the live set at shutdown, so the others rebalance at once.
func (s *Store) Leave(ctx context.Context, replica string) error {
	if err := s.rdb.ZRem(ctx, s.global("replicas"), replica).Err(); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	return nil
}

// LeaseHolder returns the owner of a shard's lease, or "" when it is free.
func (s *Store) LeaseHolder(ctx context.Context, shard int) (string, error) {
	v, err := s.rdb.Get(ctx, s.keys(shard).lease).Result()
	if err == redis.Nil {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lease holder of shard %d: %w", shard, err)
	}
	owner, _, _ := strings.Cut(v, "|")
	return owner, nil
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}
