package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

// TestEmbeddedEngine runs the pipeline's scripts on miniredis, the engine behind the
// default "no REDIS_URL" mode, which implements Lua and streams by itself.
func TestEmbeddedEngine(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	s := store.New(rdb, rdb, "emb", 2)
	if err := s.CheckShards(ctx); err != nil {
		t.Fatal(err)
	}
	u := queue.Update{UpdateID: 3, ChatID: 8, Kind: queue.KindTelegram, Raw: []byte(`{"update_id":3}`)}
	for i, want := range []bool{false, true} {
		if dup, err := s.Append(ctx, u); err != nil || dup != want {
			t.Fatalf("Append #%d = %v, %v; want %v", i, dup, err, want)
		}
	}
	sh := queue.Shard(8, 2)
	l, ok, err := s.Acquire(ctx, sh, "a", time.Second)
	if err != nil || !ok {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	if err := s.EnsureGroup(ctx, sh); err != nil {
		t.Fatal(err)
	}
	// An empty shard of the embedded engine waits, and wakes for a new entry.
	l2, _, err := s.Acquire(ctx, 1-sh, "a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureGroup(ctx, 1-sh); err != nil {
		t.Fatal(err)
	}
	if us, err := s.Read(ctx, l2, 10, 20*time.Millisecond, ""); err != nil || len(us) != 0 {
		t.Fatalf("Read of an empty shard = %v, %v; want nothing after the wait", us, err)
	}
	us, err := s.Read(ctx, l, 10, 0, "")
	if err != nil || len(us) != 1 {
		t.Fatalf("Read = %v, %v", us, err)
	}
	if p, err := s.Pending(ctx, l, 10); err != nil || len(p) != 1 {
		t.Fatalf("Pending = %v, %v", p, err)
	}
	if dead, err := s.Fail(ctx, l, us[0], errors.New("x"), 5); err != nil || dead {
		t.Fatalf("Fail = %v, %v", dead, err)
	}
	eff := queue.Effects{Session: []byte(`{}`), Outbox: []queue.Message{{ID: "1", Method: queue.MethodSendMessage, ChatID: 8, Text: "hi"}}}
	if err := s.Commit(ctx, l, us[0], eff); err != nil {
		t.Fatal(err)
	}
	if held, err := s.Renew(ctx, []store.Lease{l}, time.Second); err != nil || !held[0] {
		t.Fatalf("Renew = %v, %v", held, err)
	}
	if ms, err := s.Outbox(ctx, sh, 8); err != nil || len(ms) != 1 {
		t.Fatalf("Outbox = %v, %v", ms, err)
	}
}
