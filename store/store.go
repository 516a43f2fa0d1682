// Package store owns every Redis key and script of bangban: intake, shard leases, the
// update streams, sessions and profiles, the outbox and dead letters. Nothing else talks
// to Redis, and redis.Nil never leaves this package.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// ErrLeaseLost is returned by fenced writes when the caller no longer holds the shard
// lease with the epoch it presented; nothing was written.
var ErrLeaseLost = errors.New("shard lease lost")

// ErrNotFound is returned when a dead letter does not exist.
var ErrNotFound = errors.New("not found")

// Store is bangban's Redis storage. It is safe for concurrent use.
type Store struct {
	rdb          redis.UniversalClient
	blocking     redis.UniversalClient
	prefix       string
	shards       int
	waitReplicas int
	tags         []string    // tag of each shard, built once
	shardKeys    []shardKeys // keys of each shard, built once (they were ~2% of allocations)

	apOnce sync.Once
	ap     redis.Scripter // see appender
}

// New returns a Store over rdb. Blocking stream reads use blocking, so that intake never
// waits behind them for a pool connection; it may be rdb itself in tests.
func New(rdb, blocking redis.UniversalClient, prefix string, shards int) *Store {
	s := &Store{rdb: rdb, blocking: blocking, prefix: prefix, shards: shards, tags: make([]string, max(shards, 0))}
	s.shardKeys = make([]shardKeys, len(s.tags))
	for i := range s.tags {
		s.tags[i] = fmt.Sprintf("{%s:s%02d}", prefix, i)
		s.shardKeys[i] = keysOf(s.tags[i])
	}
	return s
}

// WaitReplicas makes Append wait until n replicas acknowledged each update
// (REDIS_WAIT_REPLICAS), so that an update answered 200 survives a failover.
func (s *Store) WaitReplicas(n int) { s.waitReplicas = n }

// Shards returns the number of update shards.
func (s *Store) Shards() int { return s.shards }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.rdb.Ping(ctx).Err()
}

// CheckShards records the shard count on first start and refuses a different one later:
// changing it would move chats to other shards while their updates are still queued.
func (s *Store) CheckShards(ctx context.Context) error {
	key := s.global("shards")
	ok, err := s.rdb.SetNX(ctx, key, s.shards, 0).Result()
	if err != nil {
		return fmt.Errorf("record shard count: %w", err)
	}
	if ok {
		return nil
	}
	v, err := s.rdb.Get(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("read shard count: %w", err)
	}
	if n, _ := strconv.Atoi(v); n != s.shards {
		return fmt.Errorf("QUEUE_SHARDS is %d but this Redis (prefix %q) was set up with %s shards; drain the queue and delete %s to change it", s.shards, s.prefix, v, key)
	}
	return nil
}
