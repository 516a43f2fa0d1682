package outbox

import (
	"testing"
	"time"

	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

type shardsOnly struct {
	Store
	n int
}

func (s shardsOnly) Shards() int { return s.n }

// TestRemoveShardForgetsItsChats: what the sender keeps per chat (postponements, pacing
// slots, failure counts, holds) goes with the shard, except for a chat still being drained
// and for chats of the shards it still holds; an unwritten completion is kept.
func TestRemoveShardForgetsItsChats(t *testing.T) {
	const shards = 4
	s := New(Options{Store: shardsOnly{n: shards}})
	defer s.cancel()
	chatOf := func(shard int, skip int) int64 {
		for c := int64(1); ; c++ {
			if queue.Shard(c, shards) == shard {
				if skip == 0 {
					return c
				}
				skip--
			}
		}
	}
	gone, busy, kept := chatOf(1, 0), chatOf(1, 1), chatOf(2, 0)
	for _, sh := range []int{1, 2} {
		s.shards[sh] = &shard{lease: store.Lease{Shard: sh, Epoch: 1}, wake: make(chan struct{}, 1),
			stop: make(chan struct{}), drained: make(chan struct{})}
	}
	later := time.Now().Add(time.Minute)
	for _, c := range []int64{gone, busy, kept} {
		s.until[c] = postponed{at: later, epoch: 1}
		s.reserved[c] = "m"
		s.failures[c] = 2
		s.hold[c] = later
		s.done[c] = finished{id: "m"}
	}
	s.busy[busy] = false
	s.shards[1].inflight = 1

	s.RemoveShard(1)

	for _, c := range []int64{busy, kept} {
		_, u := s.until[c]
		_, r := s.reserved[c]
		_, f := s.failures[c]
		_, h := s.hold[c]
		if !u || !r || !f || !h {
			t.Errorf("chat %d lost its state (until %v, reserved %v, failures %v, hold %v)", c, u, r, f, h)
		}
	}
	_, u := s.until[gone]
	_, r := s.reserved[gone]
	_, f := s.failures[gone]
	_, h := s.hold[gone]
	if u || r || f || h {
		t.Errorf("chat %d of the removed shard kept state (until %v, reserved %v, failures %v, hold %v)", gone, u, r, f, h)
	}
	if _, d := s.done[gone]; !d {
		t.Error("an unwritten completion was dropped with the shard")
	}
}
