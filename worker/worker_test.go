package worker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/worker"
)

// recorder is a Handler that records which updates it was given and fails the updates
// listed in failing. An update may be handled more than once (a stalled lease holder
// and its successor); its effects, one outbox message, must be committed once.
type recorder struct {
	mu      sync.Mutex
	seen    map[int64][]int64
	failing map[int64]bool
}

func (r *recorder) Handle(_ context.Context, u queue.Update, _ queue.State) (queue.Effects, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing[u.UpdateID] {
		return queue.Effects{}, errors.New("handler broke")
	}
	r.seen[u.ChatID] = append(r.seen[u.ChatID], u.UpdateID)
	id := strconv.FormatInt(u.UpdateID, 10)
	return queue.Effects{
		Session: []byte(id),
		Outbox:  []queue.Message{{ID: id, Method: queue.MethodSendMessage, ChatID: u.ChatID, Text: id}},
	}, nil
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.seen {
		n += len(s)
	}
	return n
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startPool(t *testing.T, s *store.Store, h worker.Handler, name string) (*worker.Pool, context.CancelFunc, chan struct{}) {
	t.Helper()
	p := worker.New(worker.Options{Store: s, Handler: h, Logger: quiet(), Replica: name,
		LeaseTTL: 600 * time.Millisecond, MaxFailures: 3, Block: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p, cancel, done
}

func waitUntil(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTwoPoolsShareShardsAndKeepOrder(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Single(t)
	rdb := srv.Client()
	s := store.New(rdb, rdb, redistest.Prefix(t), 8)
	h := &recorder{seen: map[int64][]int64{}}
	a, _, _ := startPool(t, s, h, "a")
	waitUntil(t, "a to hold all shards", func() bool { return a.Held() == 8 })
	b, stopB, doneB := startPool(t, s, h, "b")
	waitUntil(t, "an even split", func() bool { return a.Held() == 4 && b.Held() == 4 })

	const chats, per = 20, 30
	id := int64(0)
	for i := range per {
		for c := range chats {
			id++
			u := queue.Update{UpdateID: id, ChatID: int64(1000 + c), Raw: []byte(fmt.Sprintf(`{"update_id":%d}`, id))}
			if _, err := s.Append(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		if i == per/2 {
			stopB()
			<-doneB
		}
	}
	waitUntil(t, "every update handled", func() bool { return h.total() >= chats*per && depth(t, s) == 0 })
	if a.Held() != 8 {
		t.Errorf("after b left, a holds %d shards, want 8", a.Held())
	}
	for c := range chats {
		chat := int64(1000 + c)
		ms, err := s.Outbox(ctx, queue.Shard(chat, 8), chat)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != per {
			t.Errorf("chat %d has %d committed effects, want %d (each update once)", chat, len(ms), per)
		}
		for i := 1; i < len(ms); i++ {
			prev, _ := strconv.Atoi(ms[i-1].ID)
			cur, _ := strconv.Atoi(ms[i].ID)
			if cur <= prev {
				t.Fatalf("chat %d effects out of intake order at %d: %d after %d", chat, i, cur, prev)
			}
		}
	}
}

func depth(t *testing.T, s *store.Store) int64 {
	t.Helper()
	var n int64
	for shard := range s.Shards() {
		d, _, err := s.Depth(context.Background(), shard)
		if err != nil {
			t.Fatal(err)
		}
		n += d
	}
	return n
}

func TestFailingUpdateBecomesDeadLetterAndChatMovesOn(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Single(t)
	rdb := srv.Client()
	s := store.New(rdb, rdb, redistest.Prefix(t), 2)
	h := &recorder{seen: map[int64][]int64{}, failing: map[int64]bool{1: true}}
	startPool(t, s, h, "a")
	for _, id := range []int64{1, 2} {
		if _, err := s.Append(ctx, queue.Update{UpdateID: id, ChatID: 5, Raw: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "update 2 committed", func() bool {
		st, err := s.Load(ctx, queue.Shard(5, 2), 5)
		return err == nil && string(st.Session) == "2"
	})
	dls, err := s.DeadLetters(ctx, 10)
	if err != nil || len(dls) != 1 || dls[0].UpdateID != 1 || dls[0].Failures != 3 {
		t.Fatalf("DeadLetters = %+v, %v; want update 1 after 3 failures", dls, err)
	}
	if n := h.total(); n != 1 {
		t.Errorf("handled %d updates successfully, want 1 (update 2)", n)
	}
}

// lossyReads is a store whose first read that delivers entries loses its answer, as when
// the connection drops after Redis ran the read: the entries are delivered to the
// consumer, and the worker hears only an error.
type lossyReads struct {
	*store.Store
	lost atomic.Bool
}

func (s *lossyReads) Read(ctx context.Context, l store.Lease, count int64, block time.Duration, after string) ([]queue.Update, error) {
	us, err := s.Store.Read(ctx, l, count, block, after)
	if err == nil && len(us) > 0 && s.lost.CompareAndSwap(false, true) {
		return nil, errors.New("read: connection reset by peer")
	}
	return us, err
}

// TestLostReadAnswer: entries delivered by a read whose answer was lost are handled next,
// before any newer entry of their chat, not left pending until the shard moves.
func TestLostReadAnswer(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Single(t)
	rdb := srv.Client()
	s := &lossyReads{Store: store.New(rdb, rdb, redistest.Prefix(t), 1)}
	h := &recorder{seen: map[int64][]int64{}}
	p := worker.New(worker.Options{Store: s, Handler: h, Logger: quiet(), Replica: "a",
		LeaseTTL: 5 * time.Second, Block: 100 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	if _, err := s.Append(ctx, queue.Update{UpdateID: 1, ChatID: 5, Raw: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the first read's answer to be lost", s.lost.Load)
	if _, err := s.Append(ctx, queue.Update{UpdateID: 2, ChatID: 5, Raw: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "both updates handled", func() bool { return h.total() >= 2 && depth(t, s.Store) == 0 })
	h.mu.Lock()
	defer h.mu.Unlock()
	if got := h.seen[5]; len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("chat 5 handled %v, want [1 2]: the lost read's update first", got)
	}
}
