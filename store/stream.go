package store

import (
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

// Pending claims every entry of the shard that was delivered but not committed (by this
// or a previous holder) and returns them in stream order. A new lease holder calls it
// before reading new entries, so per-chat order holds across a move.
func (s *Store) Pending(ctx context.Context, l Lease, count int64) ([]queue.Update, error) {
	var out []queue.Update
	start := "0-0"
	for {
		msgs, next, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: s.keys(l.Shard).stream, Group: groupName, Consumer: l.Owner,
			MinIdle: 0, Start: start, Count: count,
		}).Result()
		if err != nil {
			return nil, fmt.Errorf("claim pending of shard %d: %w", l.Shard, err)
		}
		for _, m := range msgs {
			out = append(out, decodeEntry(m))
		}
		if next == "0-0" || len(msgs) == 0 {
			break
		}
		start = next
	}
	if len(out) == 0 {
		return nil, nil
	}
	return s.withDeliveries(ctx, l, out)
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

// Read waits up to block for new entries of the shard and returns at most count of them.
// It returns no entries and no error when none arrived.
func (s *Store) Read(ctx context.Context, l Lease, count int64, block time.Duration) ([]queue.Update, error) {
	res, err := s.blocking.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: groupName, Consumer: l.Owner,
		Streams: []string{s.keys(l.Shard).stream, ">"},
		Count:   count, Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read shard %d: %w", l.Shard, err)
	}
	var out []queue.Update
	for _, st := range res {
		for _, m := range st.Messages {
			u := decodeEntry(m)
			u.Deliveries = 1
			out = append(out, u)
		}
	}
	return out, nil
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

// Load returns what the store holds for a chat of the shard.
func (s *Store) Load(ctx context.Context, shard int, chatID int64) (queue.State, error) {
	t := s.tag(shard)
	var sess, prof *redis.StringCmd
	var unrch *redis.BoolCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		sess = p.Get(ctx, chatKey(t, kindSession, chatID))
		prof = p.Get(ctx, chatKey(t, kindProfile, chatID))
		unrch = p.SIsMember(ctx, s.keys(shard).unrch, chatID)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return queue.State{}, fmt.Errorf("load chat %d: %w", chatID, err)
	}
	var st queue.State
	if b, err := sess.Bytes(); err == nil {
		st.Session = b
	}
	if b, err := prof.Bytes(); err == nil {
		st.Profile = b
	}
	st.Unreachable = unrch.Val()
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
