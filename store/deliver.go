package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// deliveryTTL is how long a delivery is remembered: the number it drew and the marker that
// keeps its event from being appended twice. A delivery is retried within seconds, or
// after a replica took its shard over; a week covers any outage worth surviving.
const deliveryTTL = 7 * 24 * time.Hour

// drawScript draws the next number of a global counter once per delivery: a replay, or
// the delivery retried, gets the number drawn first. KEYS: counter, drawn. ARGV: ttl s.
var drawScript = redis.NewScript(`
local n = redis.call('GET', KEYS[2])
if n then return tonumber(n) end
n = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], n, 'EX', ARGV[1])
return n
`)

// eventScript appends an event to a shard stream once per delivery. KEYS: seen marker,
// stream. ARGV: chat, event JSON, ttl s. Returns 0 when it was appended before.
var eventScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then return 0 end
redis.call('XADD', KEYS[2], '*', 'u', '0', 'c', ARGV[1], 'k', '` + string(queue.KindEvent) + `', 'r', ARGV[2])
return 1
`)

// Deliver carries out the MethodDeliver entry m of chat from's outbox: it appends
// queue.Event{From: from, Seq, Body: m.Body} to the shard stream of chat m.ChatID as a
// queue.KindEvent update, first drawing Seq from the global counter m.Counter when it is
// set. Both steps are idempotent per (from, m.ID) for a week, so an entry delivered again
// (a retry, a claim after a crash) appends once, with the number drawn first; the shard's
// worker, blocked reading its stream, wakes on the append. Each step is one script in one
// slot: the counter's is the global slot, the event's the target shard's. An error wraps
// ErrBadMessage when m cannot be delivered at all, else it is Redis's and the delivery may
// be retried.
func (s *Store) Deliver(ctx context.Context, from int64, m queue.Message) error {
	entry := strconv.FormatInt(from, 10) + ":" + m.ID
	ev := queue.Event{From: from, Body: m.Body}
	if m.Counter != "" {
		n, err := drawScript.Run(ctx, s.rdb, []string{s.global(counterName + m.Counter), s.global(drawnName + m.Counter + ":" + entry)},
			int64(deliveryTTL.Seconds())).Int64()
		if err != nil {
			return fmt.Errorf("draw %s for delivery %s: %w", m.Counter, entry, err)
		}
		ev.Seq = n
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode delivery %s: %w: %w", entry, ErrBadMessage, err)
	}
	t := s.tag(queue.Shard(m.ChatID, s.shards))
	err = eventScript.Run(ctx, s.rdb, []string{t + ":" + kindSeen + ":" + eventSeen + entry, t + streamSuffix},
		m.ChatID, raw, int64(deliveryTTL.Seconds())).Err()
	if err != nil {
		return fmt.Errorf("deliver %s to chat %d: %w", entry, m.ChatID, err)
	}
	return nil
}
