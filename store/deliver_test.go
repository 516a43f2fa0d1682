package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

// events reads the new entries of a shard and returns its events by target chat, failing
// on anything else.
func events(t *testing.T, s *store.Store, l store.Lease) map[int64][]queue.Event {
	t.Helper()
	us, err := s.Read(context.Background(), l, 100, 0, "")
	if err != nil {
		t.Fatalf("Read(shard %d): %v", l.Shard, err)
	}
	out := map[int64][]queue.Event{}
	for _, u := range us {
		if u.Kind != queue.KindEvent || u.UpdateID != 0 {
			t.Errorf("shard %d entry = %+v, want an event with update 0", l.Shard, u)
			continue
		}
		var ev queue.Event
		if err := json.Unmarshal(u.Raw, &ev); err != nil {
			t.Fatalf("event %s: %v", u.Raw, err)
		}
		out[u.ChatID] = append(out[u.ChatID], ev)
	}
	return out
}

func TestDeliverOnce(t *testing.T) {
	eachTopology(t, 4, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		user := chatOn(4, 0, 0)
		staff := int64(-1001234567890) // a supergroup on another shard
		for queue.Shard(staff, 4) != 1 {
			staff--
		}
		other := chatOn(4, 2, 0)
		l := fx.lease(t, 1)
		deliver := func(from int64, id, counter, body string) {
			t.Helper()
			m := queue.Message{ID: id, Method: queue.MethodDeliver, ChatID: staff, Counter: counter, Body: json.RawMessage(body)}
			if err := fx.s.Deliver(ctx, from, m); err != nil {
				t.Fatalf("Deliver(%d, %s): %v", from, id, err)
			}
		}
		// The same entry delivered twice (a retry) appends once, with the number drawn first.
		deliver(user, "9:0", "ticket", `{"open":"bike stolen"}`)
		deliver(user, "9:0", "ticket", `{"open":"bike stolen"}`)
		deliver(user, "10:0", "ticket", `{"open":"lost card"}`)
		// Another chat's entry of the same id is another delivery.
		deliver(other, "9:0", "ticket", `{"open":"noise"}`)
		deliver(user, "11:0", "", `{"msg":"hello"}`)
		deliver(user, "11:0", "", `{"msg":"hello"}`)

		want := map[int64][]queue.Event{staff: {
			{From: user, Seq: 1, Body: json.RawMessage(`{"open":"bike stolen"}`)},
			{From: user, Seq: 2, Body: json.RawMessage(`{"open":"lost card"}`)},
			{From: other, Seq: 3, Body: json.RawMessage(`{"open":"noise"}`)},
			{From: user, Body: json.RawMessage(`{"msg":"hello"}`)},
		}}
		if diff := cmp.Diff(want, events(t, fx.s, l)); diff != "" {
			t.Errorf("events on the staff chat's shard (-want +got):\n%s", diff)
		}
		// A retry after the event was read still appends nothing.
		deliver(user, "10:0", "ticket", `{"open":"lost card"}`)
		if got := events(t, fx.s, l); len(got) != 0 {
			t.Errorf("events after delivering again = %v, want none", got)
		}
		if n, err := fx.rdb.Get(ctx, "{"+fx.prefix+":g}:seq:ticket").Int(); err != nil || n != 3 {
			t.Errorf("counter ticket = %d, %v; want 3", n, err)
		}
	})
}

// TestDeliverWakesTheTargetShard checks that a worker blocked reading its shard sees an
// event delivered from another shard at once.
func TestDeliverWakesTheTargetShard(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 4)
	from, to := chatOn(4, 0, 0), chatOn(4, 3, 0)
	l := acquire(t, s, 3, "a")
	delivered := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		delivered <- s.Deliver(ctx, from, queue.Message{ID: "1", Method: queue.MethodDeliver, ChatID: to, Body: json.RawMessage(`{}`)})
	}()
	// Read waits at most this long: it returns nothing unless the append woke it.
	us, err := s.Read(ctx, l, 10, 10*time.Second, "")
	if err := <-delivered; err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if err != nil || len(us) != 1 || us[0].Kind != queue.KindEvent || us[0].ChatID != to {
		t.Fatalf("Read = %+v, %v; want the event for chat %d", us, err, to)
	}
}
