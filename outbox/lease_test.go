package outbox_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/outbox"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/tgapi"
)

// The tests of this file move the shard's lease while a chat is being drained or is
// postponed, as a lease lost under load and taken again, or a shard handed to another
// replica and back, does: the chat's queued messages must still be sent by the new lease.

// scriptedAPI answers each call with the next of its outcomes (OK once they run out) and
// reports every call on calls.
type scriptedAPI struct {
	mu       sync.Mutex
	outcomes []tgapi.Sent
	calls    chan queue.Message
}

func (a *scriptedAPI) Send(_ context.Context, m queue.Message) (tgapi.Sent, error) {
	a.mu.Lock()
	sent := tgapi.Sent{Outcome: tgapi.OK, MessageID: 1}
	if len(a.outcomes) > 0 {
		sent, a.outcomes = a.outcomes[0], a.outcomes[1:]
	}
	a.mu.Unlock()
	a.calls <- m
	return sent, nil
}

// expectCall waits for the next call and fails unless it sends message id.
func (a *scriptedAPI) expectCall(t *testing.T, id string, within time.Duration) {
	t.Helper()
	select {
	case m := <-a.calls:
		if m.ID != id {
			t.Fatalf("sent message %s, want %s", m.ID, id)
		}
	case <-time.After(within):
		t.Fatalf("message %s not sent within %v", id, within)
	}
}

// noPause is the store without the scope pauses of 429s, which would hold back the next
// claim of the chat, whoever holds the lease.
type noPause struct{ *store.Store }

func (noPause) RateLimited(context.Context, queue.Message, time.Duration, bool) (bool, error) {
	return false, nil
}

// shardOne is a one-shard store over a fresh Redis.
func shardOne(t *testing.T) *store.Store {
	t.Helper()
	rdb := redistest.Single(t).Client()
	st := store.New(rdb, rdb, redistest.Prefix(t), 1)
	if err := st.EnsureGroup(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	return st
}

func acquire(t *testing.T, st *store.Store, owner string) store.Lease {
	t.Helper()
	l, ok, err := st.Acquire(context.Background(), 0, owner, time.Minute)
	if err != nil || !ok {
		t.Fatalf("acquire shard 0 for %s: %v, %v", owner, ok, err)
	}
	return l
}

func release(t *testing.T, st *store.Store, l store.Lease) {
	t.Helper()
	if err := st.Release(context.Background(), l); err != nil {
		t.Fatal(err)
	}
}

// commitUpdate appends an update of chat and commits it with lease l, queuing msgs, as
// the worker does (without notifying the sender).
func commitUpdate(t *testing.T, st *store.Store, l store.Lease, uid, chat int64, msgs ...queue.Message) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Append(ctx, queue.Update{UpdateID: uid, Kind: queue.KindTelegram, ChatID: chat, Raw: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	us, err := st.Read(ctx, l, 100, time.Millisecond, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.UpdateID == uid {
			if err := st.Commit(ctx, l, u, queue.Effects{Outbox: msgs}); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("update %d not read", uid)
}

func leaseMsg(id string, chat int64, s string) queue.Message {
	return queue.Message{ID: id, Method: queue.MethodSendMessage, ChatID: chat, Text: s}
}

type leaseLog struct{ t *testing.T }

func (w leaseLog) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func runSender(t *testing.T, o outbox.Options) *outbox.Sender {
	t.Helper()
	o.Logger = slog.New(slog.NewTextHandler(leaseLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	snd := outbox.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- snd.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return snd
}

// A drain that outlives its lease ends without sending; the scan of the new lease, which
// ran meanwhile and skipped the chat as being drained, must look at it again.
func TestDrainOfLostLeaseLeavesChatToNewLease(t *testing.T) {
	st := shardOne(t)
	const a, b = 101, 102
	l1 := acquire(t, st, "r1")
	api := &scriptedAPI{calls: make(chan queue.Message, 10)}
	inFlight, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	snd := runSender(t, outbox.Options{Store: st, API: api, Workers: 4, Valid: func(l store.Lease) bool {
		if l.Epoch != l1.Epoch {
			return true
		}
		// The replica stalled past its lease right before sending a1.
		once.Do(func() { close(inFlight) })
		<-resume
		return false
	}})
	snd.AddShard(l1)

	commitUpdate(t, st, l1, 1, a, leaseMsg("a1", a, "hi a"))
	snd.Notify(0, a)
	select {
	case <-inFlight:
	case <-time.After(5 * time.Second):
		t.Fatal("a1 not claimed within 5s")
	}
	// b is due after a and is not notified: only a scan of the ready set starts it.
	commitUpdate(t, st, l1, 2, b, leaseMsg("b1", b, "hi b"))

	// The lease lapses and is taken again, as the worker pool does it.
	release(t, st, l1)
	l2 := acquire(t, st, "r1")
	snd.RemoveShard(0)
	snd.AddShard(l2)
	// The new lease's first scan skipped a, still being drained, and started b.
	api.expectCall(t, "b1", 5*time.Second)
	close(resume)

	api.expectCall(t, "a1", 5*time.Second)
}

// A chat postponed under an earlier lease of the shard may have been sent meanwhile by
// another replica, leaving the ready set; a message queued to it after the lease came back
// must be sent at once, not left to a timer the new lease never set.
func TestNotifyAfterLeaseCameBack(t *testing.T) {
	st := shardOne(t)
	const a = 101
	l1 := acquire(t, st, "r1")
	api := &scriptedAPI{calls: make(chan queue.Message, 10),
		outcomes: []tgapi.Sent{{Outcome: tgapi.RateLimited, RetryAfter: time.Minute}}}
	snd := runSender(t, outbox.Options{Store: noPause{st}, API: api, Workers: 4})
	snd.AddShard(l1)

	commitUpdate(t, st, l1, 1, a, leaseMsg("a1", a, "hi a"))
	snd.Notify(0, a)
	api.expectCall(t, "a1", 5*time.Second)
	// Wait until the 429 has postponed the chat.
	ctx := context.Background()
	for deadline := time.Now().Add(5 * time.Second); ; {
		r, err := st.ReadyChats(ctx, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(r) == 1 && time.Until(r[0].At) > 30*time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chat not postponed after a 429: ready set %v", r)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The shard moves to r2, which sends a1, and comes back.
	<-snd.RemoveShard(0)
	release(t, st, l1)
	l2 := acquire(t, st, "r2")
	if err := st.Complete(ctx, l2, a, leaseMsg("a1", a, "hi a"), queue.Result{}); err != nil {
		t.Fatal(err)
	}
	release(t, st, l2)
	l3 := acquire(t, st, "r1")
	snd.AddShard(l3)

	commitUpdate(t, st, l3, 2, a, leaseMsg("a2", a, "hi again"))
	snd.Notify(0, a)
	api.expectCall(t, "a2", 5*time.Second)
}

// While the local clock cannot vouch for the lease (renewals late under load), a chat's
// head is given back with its pacing slot and tried again a little later: neither claimed
// again at once in a loop nor delayed by the pacing slots its tries would take.
func TestUnvouchedLeaseRetriesCalmly(t *testing.T) {
	st := shardOne(t)
	const a = 101
	l := acquire(t, st, "r1")
	api := &scriptedAPI{calls: make(chan queue.Message, 10)}
	var asked atomic.Int32
	until := time.Now().Add(600 * time.Millisecond)
	snd := runSender(t, outbox.Options{Store: st, API: api, Workers: 4, Valid: func(store.Lease) bool {
		asked.Add(1)
		return time.Now().After(until)
	}})
	snd.AddShard(l)
	commitUpdate(t, st, l, 1, a, leaseMsg("a1", a, "hi a"))
	snd.Notify(0, a)
	api.expectCall(t, "a1", 5*time.Second)
	if late := time.Since(until); late > 400*time.Millisecond {
		t.Errorf("sent %v after the lease was vouched for again; want within a retry (the tries must not use up the chat's pacing)", late.Round(time.Millisecond))
	}
	if n := asked.Load(); n < 3 || n > 12 {
		t.Errorf("the lease was asked about %d times in 0.6 s; want a try every 100 ms or so", n)
	}
}
