package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

func newStore(t *testing.T, shards int) *store.Store {
	t.Helper()
	srv := redistest.Single(t)
	// Every store test runs with the slot check, so a script touching two shards fails
	// here as it would on a cluster.
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	rdb.AddHook(store.SlotCheck{})
	return store.New(rdb, rdb, redistest.Prefix(t), shards)
}

func TestAppendDedupes(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 4)
	u := queue.Update{UpdateID: 7, ChatID: 42, Kind: queue.KindTelegram, Raw: []byte(`{"update_id":7}`)}
	for i, want := range []bool{false, true, true} {
		dup, err := s.Append(ctx, u)
		if err != nil {
			t.Fatalf("Append #%d: %v", i, err)
		}
		if dup != want {
			t.Errorf("Append #%d duplicate = %v, want %v", i, dup, want)
		}
	}
	shard := queue.Shard(42, 4)
	l := acquire(t, s, shard, "a")
	got, err := s.Read(ctx, l, 10, 10*time.Millisecond, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].UpdateID != 7 || got[0].ChatID != 42 || string(got[0].Raw) != `{"update_id":7}` {
		t.Fatalf("Read = %+v, want the one update 7 of chat 42", got)
	}
}

func acquire(t *testing.T, s *store.Store, shard int, owner string) store.Lease {
	t.Helper()
	ctx := context.Background()
	l, ok, err := s.Acquire(ctx, shard, owner, 5*time.Second)
	if err != nil || !ok {
		t.Fatalf("Acquire(%d, %s) = %v, %v", shard, owner, ok, err)
	}
	if err := s.EnsureGroup(ctx, shard); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCommitIsFencedAndOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 1)
	if _, err := s.Append(ctx, queue.Update{UpdateID: 1, ChatID: 5, Raw: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	old := acquire(t, s, 0, "a")
	us, err := s.Read(ctx, old, 10, 10*time.Millisecond, "")
	if err != nil || len(us) != 1 {
		t.Fatalf("Read = %v, %v", us, err)
	}
	// The lease moves: "a" stalls, "b" takes over after expiry.
	if err := s.Release(ctx, old); err != nil {
		t.Fatal(err)
	}
	cur := acquire(t, s, 0, "b")
	if cur.Epoch <= old.Epoch {
		t.Fatalf("new epoch %d not above old %d", cur.Epoch, old.Epoch)
	}
	eff := queue.Effects{Session: []byte(`{"v":1}`), Outbox: []queue.Message{{ID: "x", Method: queue.MethodSendMessage, ChatID: 5, Text: "hi"}}}
	if err := s.Commit(ctx, old, us[0], eff); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Commit with stale lease = %v, want ErrLeaseLost", err)
	}
	st, err := s.Load(ctx, 0, 5)
	if err != nil || st.Session != nil {
		t.Fatalf("after stale commit Load = %+v, %v; want no session", st, err)
	}
	pending, err := s.Pending(ctx, cur, 10)
	if err != nil || len(pending) != 1 || pending[0].StreamID != us[0].StreamID {
		t.Fatalf("Pending for new holder = %v, %v; want the uncommitted entry", pending, err)
	}
	for range 2 {
		if err := s.Commit(ctx, cur, pending[0], eff); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	st, err = s.Load(ctx, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"v":1}`, string(st.Session)); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	if n, _, err := s.Depth(ctx, 0); err != nil || n != 0 {
		t.Errorf("Depth after commit = %d, %v; want 0", n, err)
	}
	if n := srvLen(t, s, 0, 5); n != 1 {
		t.Errorf("outbox length after two commits of one update = %d, want 1", n)
	}
}

func srvLen(t *testing.T, s *store.Store, shard int, chat int64) int {
	t.Helper()
	ms, err := s.Outbox(context.Background(), shard, chat)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func TestFailMovesToDeadLettersAndReplay(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 2)
	u := queue.Update{UpdateID: 9, ChatID: 77, Kind: queue.KindTelegram, Raw: []byte(`{"update_id":9}`)}
	if _, err := s.Append(ctx, u); err != nil {
		t.Fatal(err)
	}
	shard := queue.Shard(77, 2)
	l := acquire(t, s, shard, "a")
	us, err := s.Read(ctx, l, 10, 10*time.Millisecond, "")
	if err != nil || len(us) != 1 {
		t.Fatalf("Read = %v, %v", us, err)
	}
	for i, want := range []bool{false, false, true} {
		dead, err := s.Fail(ctx, l, us[0], errors.New("boom"), 3)
		if err != nil || dead != want {
			t.Fatalf("Fail #%d = %v, %v; want %v", i, dead, err, want)
		}
	}
	dls, err := s.DeadLetters(ctx, 10)
	if err != nil || len(dls) != 1 {
		t.Fatalf("DeadLetters = %v, %v; want 1", dls, err)
	}
	d := dls[0]
	if d.UpdateID != 9 || d.ChatID != 77 || d.Error != "boom" || d.Failures != 3 || string(d.Raw) != `{"update_id":9}` {
		t.Errorf("dead letter = %+v", d)
	}
	if got, err := s.DeadLetter(ctx, d.ID); err != nil || got.ID != d.ID {
		t.Errorf("DeadLetter(%s) = %+v, %v", d.ID, got, err)
	}
	if err := s.Replay(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Replay(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Replay = %v, want ErrNotFound", err)
	}
	us, err = s.Read(ctx, l, 10, 10*time.Millisecond, "")
	if err != nil || len(us) != 1 || us[0].UpdateID != 9 {
		t.Fatalf("Read after replay = %v, %v", us, err)
	}
	for _, id := range []string{"nope", "99.1-0", d.ID} {
		if err := s.Drop(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Drop(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestCheckShards(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Single(t)
	rdb := srv.Client()
	p := redistest.Prefix(t)
	if err := store.New(rdb, rdb, p, 8).CheckShards(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.New(rdb, rdb, p, 8).CheckShards(ctx); err != nil {
		t.Errorf("same count again: %v", err)
	}
	if err := store.New(rdb, rdb, p, 16).CheckShards(ctx); err == nil {
		t.Error("CheckShards with a different count succeeded, want an error")
	}
}

func TestStaleHolderCannotReadOrClaim(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 1)
	old := acquire(t, s, 0, "a")
	if err := s.Release(ctx, old); err != nil {
		t.Fatal(err)
	}
	cur := acquire(t, s, 0, "b")
	if _, err := s.Append(ctx, queue.Update{UpdateID: 1, ChatID: 5, Raw: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if us, err := s.Read(ctx, old, 10, 10*time.Millisecond, ""); !errors.Is(err, store.ErrLeaseLost) || len(us) != 0 {
		t.Fatalf("stale Read = %v, %v; want nothing and ErrLeaseLost", us, err)
	}
	if us, err := s.Pending(ctx, old, 10); !errors.Is(err, store.ErrLeaseLost) || len(us) != 0 {
		t.Fatalf("stale Pending = %v, %v; want nothing and ErrLeaseLost", us, err)
	}
	us, err := s.Read(ctx, cur, 10, 10*time.Millisecond, "")
	if err != nil || len(us) != 1 {
		t.Fatalf("holder Read = %v, %v; want the update", us, err)
	}
}

func TestReadWaitsForNewEntries(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 1)
	l := acquire(t, s, 0, "a")
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = s.Append(ctx, queue.Update{UpdateID: 2, ChatID: 5, Raw: []byte(`{}`)})
	}()
	us, err := s.Read(ctx, l, 10, 5*time.Second, "")
	if err != nil || len(us) != 1 || us[0].UpdateID != 2 {
		t.Fatalf("Read = %v, %v; want update 2 once it arrives", us, err)
	}
}

func TestAppendWaitsForReplicas(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Single(t) // no replicas: every wait falls short
	if !srv.CanRestart() {
		t.Skip("WAIT needs a real redis-server")
	}
	rdb := srv.Client()
	s := store.New(rdb, rdb, redistest.Prefix(t), 2)
	s.WaitReplicas(1)
	u := queue.Update{UpdateID: 11, ChatID: 3, Raw: []byte(`{}`)}
	for i := range 2 {
		if _, err := s.Append(ctx, u); !errors.Is(err, store.ErrNotReplicated) {
			t.Fatalf("Append #%d without replicas = %v, want ErrNotReplicated", i, err)
		}
	}
	s.WaitReplicas(0)
	if dup, err := s.Append(ctx, u); err != nil || !dup {
		t.Errorf("Append after the unreplicated write = %v, %v; want a duplicate (it is queued on the master)", dup, err)
	}
}

// TestReadAfterWaitsFirst: a read given the last entry of a read that was not full waits
// for a newer entry, returns one that is already there at once, and still refuses a lease
// that is no longer held.
// readFirst queues update 1 for chat 5 and reads it; it returns the entry's id.
func readFirst(t *testing.T, s *store.Store, l store.Lease) string {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Append(ctx, queue.Update{UpdateID: 1, ChatID: 5, Raw: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	first, err := s.Read(ctx, l, 10, time.Second, "")
	if err != nil || len(first) != 1 {
		t.Fatalf("Read = %v, %v", first, err)
	}
	return first[0].StreamID
}

func TestReadAfterWaitsFirst(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Single(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	s := store.New(rdb, rdb, redistest.Prefix(t), 1)
	l := acquire(t, s, 0, "a")
	// scripts counts the scripts Redis has run, reads included.
	scripts := func() int64 {
		info, err := rdb.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(info, "\r\n") {
			if rest, ok := strings.CutPrefix(line, "cmdstat_evalsha:calls="); ok {
				n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
				return n
			}
		}
		return 0
	}
	after := readFirst(t, s, l)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = s.Append(ctx, queue.Update{UpdateID: 2, ChatID: 5, Raw: []byte(`{}`)})
	}()
	before := scripts()
	us, err := s.Read(ctx, l, 10, 5*time.Second, after)
	if err != nil || len(us) != 1 || us[0].UpdateID != 2 {
		t.Fatalf("Read after %s = %v, %v; want update 2 once it arrives", after, us, err)
	}
	// The append's script and the one read: no read that found nothing.
	if n := scripts() - before; n != 2 {
		t.Errorf("%d scripts ran for one append and one read, want 2", n)
	}
	if _, err := s.Append(ctx, queue.Update{UpdateID: 3, ChatID: 5, Raw: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	us, err = s.Read(ctx, l, 10, 5*time.Second, after)
	if err != nil || len(us) != 1 || us[0].UpdateID != 3 {
		t.Fatalf("Read after %s = %v, %v; want update 3 at once", after, us, err)
	}
	if waited := time.Since(start); waited > 4*time.Second {
		t.Errorf("Read waited %v for an entry already there", waited)
	}
	if us, err := s.Read(ctx, l, 10, 50*time.Millisecond, us[0].StreamID); err != nil || len(us) != 0 {
		t.Errorf("Read of an idle shard = %v, %v; want nothing", us, err)
	}
	if err := s.Release(ctx, l); err != nil {
		t.Fatal(err)
	}
	acquire(t, s, 0, "b")
	if _, err := s.Append(ctx, queue.Update{UpdateID: 4, ChatID: 5, Raw: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(ctx, l, 10, time.Second, after); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Read after with a lost lease = %v, want ErrLeaseLost", err)
	}
}

// roundTrips counts what a client sends, single commands and pipelines, one each; a new
// connection's handshake (HELLO, CLIENT SETINFO) is not counted.
type roundTrips struct{ singles, pipelines atomic.Int64 }

func handshake(cmd redis.Cmder) bool { return cmd.Name() == "hello" || cmd.Name() == "client" }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !handshake(cmd) {
			r.singles.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !handshake(cmds[0]) {
			r.pipelines.Add(1)
		}
		return next(ctx, cmds)
	}
}

// TestReadWaitIsOneRoundTrip: waiting for a new entry and reading it is one pipeline on
// the blocking client; it still reads when Redis has lost its scripts, and it never
// outwaits the client's read timeout, which bounds the pipeline's answer.
func TestReadWaitIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Single(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	blocking := redis.NewClient(&redis.Options{Addr: srv.Addr(), ReadTimeout: 2 * time.Second})
	t.Cleanup(func() { rdb.Close(); blocking.Close() })
	var trips roundTrips
	blocking.AddHook(&trips)
	s := store.New(rdb, blocking, redistest.Prefix(t), 1)
	l := acquire(t, s, 0, "a")
	after := readFirst(t, s, l)
	for i, flush := range []bool{false, true} {
		if flush {
			if err := rdb.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		id := int64(2 + i)
		go func() {
			time.Sleep(100 * time.Millisecond)
			_, _ = s.Append(ctx, queue.Update{UpdateID: id, ChatID: 5, Raw: []byte(`{}`)})
		}()
		trips.singles.Store(0)
		trips.pipelines.Store(0)
		us, err := s.Read(ctx, l, 10, 5*time.Second, after)
		if err != nil || len(us) != 1 || us[0].UpdateID != id {
			t.Fatalf("Read after %s (scripts flushed: %v) = %v, %v; want update %d once it arrives", after, flush, us, err, id)
		}
		after = us[0].StreamID
		if p, c := trips.pipelines.Load(), trips.singles.Load(); !flush && (p != 1 || c != 0) {
			t.Errorf("waiting and reading took %d pipelines and %d commands on the blocking client, want one pipeline", p, c)
		}
	}
	start := time.Now()
	if us, err := s.Read(ctx, l, 10, 5*time.Second, after); err != nil || len(us) != 0 {
		t.Errorf("Read of an idle shard with a 5 s wait and a 2 s read timeout = %v, %v; want nothing, no error", us, err)
	}
	if waited := time.Since(start); waited >= 2*time.Second {
		t.Errorf("the wait took %v, past the client's read timeout", waited)
	}
}

// TestReadLoadsState: a read hands over the state of the first entry of each chat as Load
// would read it, and none for the chat's later entries (committed in between, they need a
// fresh load).
func TestReadLoadsState(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 1)
	l := acquire(t, s, 0, "a")
	if _, err := s.Append(ctx, queue.Update{UpdateID: 1, ChatID: 5, Raw: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	us, err := s.Read(ctx, l, 10, 10*time.Millisecond, "")
	if err != nil || len(us) != 1 {
		t.Fatalf("Read = %v, %v", us, err)
	}
	eff := queue.Effects{Session: []byte(`{"v":1}`), Profile: []byte(`{"v":1,"lang":"en"}`), CheckIn: []byte(`{"p":"a"}`),
		Segments: []string{"lang:en"}}
	if err := s.Commit(ctx, l, us[0], eff); err != nil {
		t.Fatal(err)
	}
	for id, chat := range []int64{5, 6, 5} {
		if _, err := s.Append(ctx, queue.Update{UpdateID: int64(10 + id), ChatID: chat, Raw: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	us, err = s.Read(ctx, l, 10, 10*time.Millisecond, "")
	if err != nil || len(us) != 3 {
		t.Fatalf("Read = %v, %v; want 3 entries", us, err)
	}
	want, err := s.Load(ctx, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, us[0].Loaded); diff != "" || !want.Indexed || len(want.History) != 1 {
		t.Errorf("state of chat 5 with its first entry (-Load +read):\n%s", diff)
	}
	if got := us[1].Loaded; got == nil || got.Session != nil || got.Profile != nil || got.Indexed {
		t.Errorf("state of the new chat 6 = %+v, want an empty one", got)
	}
	if us[2].Loaded != nil {
		t.Errorf("chat 5's second entry came with a state: %+v", us[2].Loaded)
	}
}
