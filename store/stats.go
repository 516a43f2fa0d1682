package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// Stats returns the statistics hashes named by names, each summed over every shard, as
// name → field → total. The reads of all shards go in one pipeline.
func (s *Store) Stats(ctx context.Context, names []string) (map[string]map[string]int64, error) {
	cmds := make([]*redis.MapStringStringCmd, 0, len(names)*s.shards)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for sh := range s.shards {
			k := s.keys(sh)
			for _, n := range names {
				cmds = append(cmds, p.HGetAll(ctx, k.stat(n)))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read statistics: %w", err)
	}
	out := make(map[string]map[string]int64, len(names))
	for _, n := range names {
		out[n] = map[string]int64{}
	}
	for i, c := range cmds {
		sum := out[names[i%len(names)]]
		for f, v := range c.Val() {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("statistics field %q holds %q, not an integer", f, v)
			}
			sum[f] += n
		}
	}
	return out, nil
}

// CheckIns returns the check-in records (JSON) of every shard's log with from ≤ time < to,
// oldest first.
func (s *Store) CheckIns(ctx context.Context, from, to time.Time) ([][]byte, error) {
	type scored struct {
		at  float64
		rec string
	}
	cmds := make([]*redis.ZSliceCmd, s.shards)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for sh := range s.shards {
			cmds[sh] = p.ZRangeByScoreWithScores(ctx, s.keys(sh).checkins, &redis.ZRangeBy{
				Min: strconv.FormatInt(from.UnixMilli(), 10),
				Max: "(" + strconv.FormatInt(to.UnixMilli(), 10),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read check-in logs: %w", err)
	}
	var all []scored
	for _, c := range cmds {
		for _, z := range c.Val() {
			rec, _ := z.Member.(string)
			all = append(all, scored{z.Score, rec})
		}
	}
	slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(a.at, b.at) })
	out := make([][]byte, len(all))
	for i, r := range all {
		out[i] = []byte(r.rec)
	}
	return out, nil
}

// Profiles returns the stored profiles of the given chats; chats without one are absent.
func (s *Store) Profiles(ctx context.Context, chats []int64) (map[int64][]byte, error) {
	cmds := make([]*redis.StringCmd, len(chats))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range chats {
			cmds[i] = p.Get(ctx, chatKey(s.tag(queue.Shard(c, s.shards)), kindProfile, c))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read profiles: %w", err)
	}
	// The pipeline reports only its first error, which may be a missing profile's redis.Nil
	// while a later read failed (on a cluster, another node): each read is checked.
	out := make(map[int64][]byte, len(chats))
	for i, c := range cmds {
		b, err := c.Bytes()
		switch {
		case err == nil:
			out[chats[i]] = b
		case !errors.Is(err, redis.Nil):
			return nil, fmt.Errorf("read profile of chat %d: %w", chats[i], err)
		}
	}
	return out, nil
}
