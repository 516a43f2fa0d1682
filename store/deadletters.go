package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// deadRetention is how long dead letters are kept (DESIGN §2: 14 days).
const deadRetention = 14 * 24 * time.Hour

// failScript records a failed attempt at an update and moves it to the dead-letter
// stream once it has failed max times. KEYS: lease, stream, fails, dead.
// ARGV: lease value, stream id, max, error, min id to keep, update id, chat, kind, raw.
// Returns -1 when the lease is lost, 0 when dead-lettered, else the failures so far.
var failScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
if n < tonumber(ARGV[3]) then return n end
redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[5], '*',
  'sid', ARGV[2], 'u', ARGV[6], 'c', ARGV[7], 'k', ARGV[8], 'r', ARGV[9], 'err', ARGV[4], 'n', n)
redis.call('XACK', KEYS[2], 'w', ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
return 0
`)

// Fail records that handling u failed with cause. After max failures the update is moved
// to the dead-letter stream and dead is true; otherwise it stays pending for a retry.
func (s *Store) Fail(ctx context.Context, l Lease, u queue.Update, cause error, max int) (dead bool, err error) {
	k := s.keys(l.Shard)
	minID := strconv.FormatInt(time.Now().Add(-deadRetention).UnixMilli(), 10)
	n, err := failScript.Run(ctx, s.rdb, []string{k.lease, k.stream, k.fails, k.dead},
		l.value(), u.StreamID, max, cause.Error(), minID,
		u.UpdateID, u.ChatID, string(u.Kind), []byte(u.Raw)).Int()
	if err != nil {
		return false, fmt.Errorf("record failure of %s: %w", u.StreamID, err)
	}
	if n < 0 {
		return false, ErrLeaseLost
	}
	return n == 0, nil
}

// DeadLetter is an update that failed too often to be handled.
type DeadLetter struct {
	// ID is "<shard>.<dead-letter stream id>", stable until the letter is dropped or replayed.
	ID       string
	Shard    int
	UpdateID int64
	ChatID   int64
	Kind     queue.Kind
	Error    string
	Failures int
	FailedAt time.Time
	Raw      []byte
}

func (s *Store) deadLetter(shard int, m redis.XMessage) DeadLetter {
	u := decodeEntry(m)
	d := DeadLetter{
		ID: fmt.Sprintf("%d.%s", shard, m.ID), Shard: shard,
		UpdateID: u.UpdateID, ChatID: u.ChatID, Kind: u.Kind, Raw: u.Raw,
	}
	d.Error, _ = m.Values["err"].(string)
	if v, ok := m.Values["n"].(string); ok {
		d.Failures, _ = strconv.Atoi(v)
	}
	if ms, _, ok := strings.Cut(m.ID, "-"); ok {
		if v, err := strconv.ParseInt(ms, 10, 64); err == nil {
			d.FailedAt = time.UnixMilli(v)
		}
	}
	return d
}

// DeadLetters returns the newest dead letters of all shards, newest first, at most limit.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	cmds := make([]*redis.XMessageSliceCmd, s.shards)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range s.shards {
			cmds[i] = p.XRevRangeN(ctx, s.keys(i).dead, "+", "-", int64(limit))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	var out []DeadLetter
	for i, c := range cmds {
		for _, m := range c.Val() {
			out = append(out, s.deadLetter(i, m))
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].FailedAt.After(out[b].FailedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *Store) parseDeadID(id string) (shard int, sid string, err error) {
	sh, sid, ok := strings.Cut(id, ".")
	shard, err = strconv.Atoi(sh)
	if !ok || err != nil || shard < 0 || shard >= s.shards || sid == "" {
		return 0, "", fmt.Errorf("dead letter %q: %w", id, ErrNotFound)
	}
	return shard, sid, nil
}

// DeadLetter returns one dead letter, or ErrNotFound.
func (s *Store) DeadLetter(ctx context.Context, id string) (DeadLetter, error) {
	shard, sid, err := s.parseDeadID(id)
	if err != nil {
		return DeadLetter{}, err
	}
	ms, err := s.rdb.XRange(ctx, s.keys(shard).dead, sid, sid).Result()
	if err != nil {
		return DeadLetter{}, fmt.Errorf("read dead letter %s: %w", id, err)
	}
	if len(ms) == 0 {
		return DeadLetter{}, fmt.Errorf("dead letter %s: %w", id, ErrNotFound)
	}
	return s.deadLetter(shard, ms[0]), nil
}

// replayScript moves a dead letter back to the end of its shard stream. KEYS: dead, stream.
var replayScript = redis.NewScript(`
local m = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #m == 0 then return 0 end
local f = {}
local v = m[1][2]
for i = 1, #v, 2 do f[v[i]] = v[i + 1] end
redis.call('XADD', KEYS[2], '*', 'u', f['u'], 'c', f['c'], 'k', f['k'], 'r', f['r'])
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
`)

// Replay queues a dead letter again, at the end of its shard stream, and removes it from
// the dead letters. It returns ErrNotFound for an unknown id.
func (s *Store) Replay(ctx context.Context, id string) error {
	shard, sid, err := s.parseDeadID(id)
	if err != nil {
		return err
	}
	k := s.keys(shard)
	n, err := replayScript.Run(ctx, s.rdb, []string{k.dead, k.stream}, sid).Int()
	if err != nil {
		return fmt.Errorf("replay dead letter %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("dead letter %s: %w", id, ErrNotFound)
	}
	return nil
}

// Drop deletes a dead letter. It returns ErrNotFound for an unknown id.
func (s *Store) Drop(ctx context.Context, id string) error {
	shard, sid, err := s.parseDeadID(id)
	if err != nil {
		return err
	}
	n, err := s.rdb.XDel(ctx, s.keys(shard).dead, sid).Result()
	if err != nil {
		return fmt.Errorf("drop dead letter %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("dead letter %s: %w", id, ErrNotFound)
	}
	return nil
}
