package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// Broadcast audiences come from segment indexes kept per shard, in the shard's slot, by
// Commit (queue.Effects.Segments): a set of chat ids per segment ("role:rider",
// "sub:labour", "visit:nt-p01"…), a zset of the chats' last activity, and per chat the list
// of its segments, so that /forgetme takes it out of all of them. An audience is computed
// shard by shard, never by scanning keys.

// kindSegmentsOf is the per-chat set of the segment keys the chat is in.
const kindSegmentsOf = "segs"

func segmentKey(tag, segment string) string { return tag + ":seg:" + segment }

func activeKey(tag string) string { return tag + ":active" }

// Audience is a broadcast's audience: the chats in at least one segment of every group
// (an AND of ORs), and, when ActiveSince is set, active since then.
type Audience struct {
	Groups      [][]string
	ActiveSince time.Time
}

// audienceScript computes an audience in one shard. KEYS: the segment sets, group by
// group, then the active zset. ARGV: number of groups, each group's size, active-since ms
// ("" for none).
var audienceScript = redis.NewScript(`
local ngroups = tonumber(ARGV[1])
local result = nil
local ki = 1
for g = 1, ngroups do
  local set = {}
  for j = 1, tonumber(ARGV[1 + g]) do
    for _, m in ipairs(redis.call('SMEMBERS', KEYS[ki])) do set[m] = true end
    ki = ki + 1
  end
  if result == nil then
    result = set
  else
    for m in pairs(result) do
      if not set[m] then result[m] = nil end
    end
  end
end
result = result or {}
local since = ARGV[2 + ngroups]
if since ~= '' then
  local active = {}
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[ki], since, '+inf')) do active[m] = true end
  for m in pairs(result) do
    if not active[m] then result[m] = nil end
  end
end
local out = {}
for m in pairs(result) do out[#out + 1] = m end
return out
`)

// Audience returns the chats of an audience, in ascending order. It needs at least one group.
func (s *Store) Audience(ctx context.Context, a Audience) ([]int64, error) {
	if len(a.Groups) == 0 {
		return nil, fmt.Errorf("audience has no segment groups")
	}
	since := ""
	if !a.ActiveSince.IsZero() {
		since = strconv.FormatInt(a.ActiveSince.UnixMilli(), 10)
	}
	// Eval, not EvalSha: an audience is computed rarely, and the pipeline then needs no
	// NOSCRIPT retry.
	cmds := make([]*redis.Cmd, s.shards)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for shard := range s.shards {
			t := s.tag(shard)
			var keys []string
			args := []any{len(a.Groups)}
			for _, g := range a.Groups {
				for _, seg := range g {
					keys = append(keys, segmentKey(t, seg))
				}
				args = append(args, len(g))
			}
			keys = append(keys, activeKey(t))
			args = append(args, since)
			cmds[shard] = audienceScript.Eval(ctx, p, keys, args...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	var out []int64
	for _, c := range cmds {
		ids, _ := c.StringSlice()
		for _, id := range ids {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// InSegment reports which of chats are in a segment, e.g. still subscribed when a
// broadcast reaches them.
func (s *Store) InSegment(ctx context.Context, segment string, chats []int64) (map[int64]bool, error) {
	cmds := make([]*redis.BoolCmd, len(chats))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range chats {
			cmds[i] = p.SIsMember(ctx, segmentKey(s.tag(queue.Shard(c, s.shards)), segment), c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("segment %s: %w", segment, err)
	}
	out := make(map[int64]bool, len(chats))
	for i, c := range chats {
		out[c] = cmds[i].Val()
	}
	return out, nil
}
