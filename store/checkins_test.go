package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

// fixture is a store with the raw client under it, for reading keys the store has no
// reader for, and one lease per shard.
type fixture struct {
	s      *store.Store
	rdb    redis.UniversalClient
	prefix string
	shards int
	leases map[int]store.Lease
	update int64
}

func newFixture(t *testing.T, rdb redis.UniversalClient, shards int) *fixture {
	t.Helper()
	p := redistest.Prefix(t)
	return &fixture{s: store.New(rdb, rdb, p, shards), rdb: rdb, prefix: p, shards: shards, leases: map[int]store.Lease{}}
}

// singleFixture runs on one server with the slot check, like newStore.
func singleFixture(t *testing.T, shards int) *fixture {
	t.Helper()
	srv := redistest.Single(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	rdb.AddHook(store.SlotCheck{})
	return newFixture(t, rdb, shards)
}

// eachTopology runs f on a single server (with the slot check) and on a 3-master cluster,
// where a script or a read that crosses slots fails for real.
func eachTopology(t *testing.T, shards int, f func(t *testing.T, fx *fixture)) {
	t.Run("single", func(t *testing.T) { f(t, singleFixture(t, shards)) })
	t.Run("cluster", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts a cluster")
		}
		f(t, newFixture(t, redistest.Cluster(t).Client(), shards))
	})
}

// key returns the key of a shard named by suffix, as keys.go lays it out.
func (fx *fixture) key(shard int, suffix string) string {
	return fmt.Sprintf("{%s:s%02d}:%s", fx.prefix, shard, suffix)
}

func (fx *fixture) lease(t *testing.T, shard int) store.Lease {
	t.Helper()
	l, ok := fx.leases[shard]
	if !ok {
		l = acquire(t, fx.s, shard, "a")
		fx.leases[shard] = l
	}
	return l
}

// next queues a new update of chat and reads it back as its shard's holder would.
func (fx *fixture) next(t *testing.T, chat int64) (store.Lease, queue.Update) {
	t.Helper()
	ctx := context.Background()
	fx.update++
	u := queue.Update{UpdateID: fx.update, ChatID: chat, Kind: queue.KindTelegram, Raw: []byte(`{}`)}
	if _, err := fx.s.Append(ctx, u); err != nil {
		t.Fatalf("Append(%d): %v", chat, err)
	}
	l := fx.lease(t, queue.Shard(chat, fx.shards))
	us, err := fx.s.Read(ctx, l, 10, 0, "")
	if err != nil || len(us) != 1 || us[0].UpdateID != fx.update {
		t.Fatalf("Read after Append(update %d of chat %d) = %+v, %v; want that update", fx.update, chat, us, err)
	}
	return l, us[0]
}

// commit queues an update of chat and commits eff for it.
func (fx *fixture) commit(t *testing.T, chat int64, eff queue.Effects) queue.Update {
	t.Helper()
	l, u := fx.next(t, chat)
	if err := fx.s.Commit(context.Background(), l, u, eff); err != nil {
		t.Fatalf("Commit(chat %d): %v", chat, err)
	}
	return u
}

func (fx *fixture) load(t *testing.T, chat int64) queue.State {
	t.Helper()
	st, err := fx.s.Load(context.Background(), queue.Shard(chat, fx.shards), chat)
	if err != nil {
		t.Fatalf("Load(%d): %v", chat, err)
	}
	return st
}

func (fx *fixture) checkIns(t *testing.T, from, to time.Time) []string {
	t.Helper()
	recs, err := fx.s.CheckIns(context.Background(), from, to)
	if err != nil {
		t.Fatalf("CheckIns(%v, %v): %v", from, to, err)
	}
	return strs(recs)
}

// chatOn returns the first chat id above after that falls on shard.
func chatOn(shards, shard int, after int64) int64 {
	for c := after + 1; ; c++ {
		if queue.Shard(c, shards) == shard {
			return c
		}
	}
}

// rec is a check-in record of chat; n keeps a chat's records distinct members of the log.
func rec(chat int64, n int) string { return fmt.Sprintf(`{"c":%d,"n":%d}`, chat, n) }

func strs(bs [][]byte) []string {
	if len(bs) == 0 {
		return nil
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// allFrom and allTo bound a window that holds every record the tests write.
var allFrom, allTo = time.Unix(0, 0), time.Now().Add(24 * time.Hour)

func TestCheckInHistoryAndLog(t *testing.T) {
	eachTopology(t, 4, func(t *testing.T, fx *fixture) {
		a, b := chatOn(4, 0, 0), chatOn(4, 1, 0)
		base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		at := func(i int) time.Time { return base.Add(time.Duration(i) * 10 * time.Millisecond) }

		fx.commit(t, a, queue.Effects{CheckIn: []byte(rec(a, 0)), CheckInAt: at(0)})
		if diff := cmp.Diff([]string{rec(a, 0)}, strs(fx.load(t, a).History)); diff != "" {
			t.Fatalf("History after one check-in (-want +got):\n%s", diff)
		}
		for i := 1; i < 12; i++ {
			fx.commit(t, a, queue.Effects{CheckIn: []byte(rec(a, i)), CheckInAt: at(i)})
			if i < 3 {
				// b checks in between a's check-ins, on another shard.
				fx.commit(t, b, queue.Effects{CheckIn: []byte(rec(b, i)), CheckInAt: at(i).Add(5 * time.Millisecond)})
			}
		}
		var want []string
		for i := 11; i > 1; i-- {
			want = append(want, rec(a, i))
		}
		if diff := cmp.Diff(want, strs(fx.load(t, a).History)); diff != "" {
			t.Errorf("History after 12 check-ins: want the latest %d, newest first (-want +got):\n%s", queue.HistoryLoaded, diff)
		}
		if diff := cmp.Diff([]string{rec(b, 2), rec(b, 1)}, strs(fx.load(t, b).History)); diff != "" {
			t.Errorf("History of the other chat (-want +got):\n%s", diff)
		}

		want = nil
		for i := range 12 {
			want = append(want, rec(a, i))
			if i == 1 || i == 2 {
				want = append(want, rec(b, i))
			}
		}
		if diff := cmp.Diff(want, fx.checkIns(t, allFrom, allTo)); diff != "" {
			t.Errorf("CheckIns of everything: want both shards merged by time (-want +got):\n%s", diff)
		}
		for _, c := range []struct {
			name     string
			from, to time.Time
			want     []string
		}{
			{"from inclusive, to exclusive", at(1), at(2), []string{rec(a, 1), rec(b, 1)}},
			{"from a record of the other shard", at(1).Add(5 * time.Millisecond), at(2).Add(5 * time.Millisecond), []string{rec(b, 1), rec(a, 2)}},
			{"up to just after the last", at(11), at(11).Add(time.Millisecond), []string{rec(a, 11)}},
			{"empty window", at(0).Add(time.Millisecond), at(1), nil},
		} {
			got := fx.checkIns(t, c.from, c.to)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("CheckIns %s [%s, %s) (-want +got):\n%s", c.name,
					c.from.Sub(base), c.to.Sub(base), diff)
			}
		}
	})
}

func TestCheckInHistoryCapped(t *testing.T) {
	fx := singleFixture(t, 1)
	ctx := context.Background()
	const chat = 3
	at := time.Now().Add(-time.Hour)
	hist := fx.key(0, "hist:3")
	// A full history, written directly (committing thousands would outlive the lease):
	// record HistoryKept-1 is the newest, record 0 the oldest.
	full := make([]any, store.HistoryKept)
	for i := range full {
		full[i] = rec(chat, store.HistoryKept-1-i)
	}
	if err := fx.rdb.RPush(ctx, hist, full...).Err(); err != nil {
		t.Fatal(err)
	}
	fx.commit(t, chat, queue.Effects{CheckIn: []byte(rec(chat, store.HistoryKept)), CheckInAt: at})
	if n, err := fx.rdb.LLen(ctx, hist).Result(); err != nil || n != store.HistoryKept {
		t.Errorf("LLEN %s after %d check-ins = %d, %v; want %d", hist, store.HistoryKept+1, n, err, store.HistoryKept)
	}
	if last, err := fx.rdb.LIndex(ctx, hist, -1).Result(); err != nil || last != rec(chat, 1) {
		t.Errorf("oldest record kept = %q, %v; want %q (the very first dropped)", last, err, rec(chat, 1))
	}
	if first, err := fx.rdb.LIndex(ctx, hist, 0).Result(); err != nil || first != rec(chat, store.HistoryKept) {
		t.Errorf("newest record = %q, %v; want the one just committed", first, err)
	}
}

func TestCommitRetryAppliesOnce(t *testing.T) {
	fx := singleFixture(t, 2)
	ctx := context.Background()
	const chat = 5
	sh := queue.Shard(chat, 2)
	eff := queue.Effects{
		CheckIn: []byte(rec(chat, 1)), CheckInAt: time.Now(),
		Counters: []queue.Counter{{Key: "ck:d", Field: "p1", By: 1, TTL: time.Hour}, {Key: "members", Field: "visitor", By: 1}},
		Audit:    [][]byte{[]byte(`{"a":"checkin"}`)},
	}
	l, u := fx.next(t, chat)
	for i := range 3 {
		if err := fx.s.Commit(ctx, l, u, eff); err != nil {
			t.Fatalf("Commit #%d of update %s: %v", i, u.StreamID, err)
		}
	}
	// A new holder that finds nothing pending cannot commit it either.
	if err := fx.s.Release(ctx, l); err != nil {
		t.Fatal(err)
	}
	cur := acquire(t, fx.s, sh, "b")
	if err := fx.s.Commit(ctx, cur, u, eff); err != nil {
		t.Fatalf("Commit by the next holder: %v", err)
	}

	if diff := cmp.Diff([]string{rec(chat, 1)}, strs(fx.load(t, chat).History)); diff != "" {
		t.Errorf("History after a retried commit (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{rec(chat, 1)}, fx.checkIns(t, allFrom, allTo)); diff != "" {
		t.Errorf("CheckIns after a retried commit (-want +got):\n%s", diff)
	}
	stats, err := fx.s.Stats(ctx, []string{"ck:d", "members"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int64{"ck:d": {"p1": 1}, "members": {"visitor": 1}}
	if diff := cmp.Diff(want, stats); diff != "" {
		t.Errorf("Stats after a retried commit (-want +got):\n%s", diff)
	}
	if n, err := fx.rdb.XLen(ctx, fx.key(sh, "audit")).Result(); err != nil || n != 1 {
		t.Errorf("audit entries after a retried commit = %d, %v; want 1", n, err)
	}
}

func TestStatsSumShards(t *testing.T) {
	eachTopology(t, 4, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		a, b, c := chatOn(4, 0, 0), chatOn(4, 1, 0), chatOn(4, 2, 0)
		day := 40 * 24 * time.Hour
		fx.commit(t, a, queue.Effects{Counters: []queue.Counter{
			{Key: "ck:2026-01-01", Field: "p1", By: 1, TTL: day},
			{Key: "members", Field: "staff", By: 1},
		}})
		fx.commit(t, b, queue.Effects{Counters: []queue.Counter{
			{Key: "ck:2026-01-01", Field: "p1", By: 2, TTL: day},
			{Key: "ck:2026-01-01", Field: "p2", By: 1, TTL: day},
			{Key: "members", Field: "staff", By: 1},
		}})
		fx.commit(t, c, queue.Effects{Counters: []queue.Counter{
			{Key: "members", Field: "staff", By: -1},
			{Key: "members", Field: "visitor", By: 1, TTL: -time.Hour}, // not > 0: no expiry
			{Key: "ck:2026-01-02", Field: "p1", By: -3, TTL: day},
		}})
		got, err := fx.s.Stats(ctx, []string{"ck:2026-01-01", "members", "ck:2026-01-02", "reg:none"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]map[string]int64{
			"ck:2026-01-01": {"p1": 3, "p2": 1},
			"members":       {"staff": 1, "visitor": 1},
			"ck:2026-01-02": {"p1": -3},
			"reg:none":      {},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Stats summed over shards (-want +got):\n%s", diff)
		}
		for _, k := range []struct {
			shard int
			name  string
			ttl   bool
		}{{0, "ck:2026-01-01", true}, {1, "ck:2026-01-01", true}, {2, "ck:2026-01-02", true}, {0, "members", false}, {2, "members", false}} {
			key := fx.key(k.shard, "stat:"+k.name)
			ttl, err := fx.rdb.PTTL(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case k.ttl && (ttl <= day-time.Minute || ttl > day):
				t.Errorf("PTTL %s = %v, want about %v", key, ttl, day)
			case !k.ttl && ttl != -1*time.Nanosecond && ttl != -1*time.Millisecond:
				t.Errorf("PTTL %s = %v, want none (-1) for a counter without TTL", key, ttl)
			}
		}
	})
}

func TestCheckInLogRetention(t *testing.T) {
	ctx := context.Background()
	fx := singleFixture(t, 2)
	a, b := chatOn(2, 0, 0), chatOn(2, 1, 0)
	now := time.Now()
	old, kept := now.Add(-store.CheckInRetention-time.Hour), now.Add(-store.CheckInRetention+time.Hour)

	// A record that was already too old when committed stays in the chat's history only.
	fx.commit(t, a, queue.Effects{CheckIn: []byte(rec(a, 0)), CheckInAt: old})
	fx.commit(t, a, queue.Effects{CheckIn: []byte(rec(a, 1)), CheckInAt: kept})
	if diff := cmp.Diff([]string{rec(a, 1)}, fx.checkIns(t, allFrom, allTo)); diff != "" {
		t.Errorf("CheckIns after committing a record older than the retention (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{rec(a, 1), rec(a, 0)}, strs(fx.load(t, a).History)); diff != "" {
		t.Errorf("History (not trimmed by age) (-want +got):\n%s", diff)
	}

	// Records that aged in the logs of both shards since they were written.
	for sh, r := range map[int]string{0: `{"aged":0}`, 1: `{"aged":1}`} {
		z := redis.Z{Score: float64(old.UnixMilli()), Member: r}
		if err := fx.rdb.ZAdd(ctx, fx.key(sh, "checkins"), z).Err(); err != nil {
			t.Fatal(err)
		}
	}
	fx.commit(t, b, queue.Effects{CheckIn: []byte(rec(b, 0)), CheckInAt: now})
	want := []string{`{"aged":0}`, rec(a, 1), rec(b, 0)}
	if diff := cmp.Diff(want, fx.checkIns(t, allFrom, allTo)); diff != "" {
		t.Errorf("CheckIns after a check-in on shard 1: want its aged record gone, shard 0's kept (-want +got):\n%s", diff)
	}
	fx.commit(t, a, queue.Effects{CheckIn: []byte(rec(a, 2)), CheckInAt: now.Add(time.Millisecond)})
	want = []string{rec(a, 1), rec(b, 0), rec(a, 2)}
	if diff := cmp.Diff(want, fx.checkIns(t, allFrom, allTo)); diff != "" {
		t.Errorf("CheckIns after a check-in on shard 0 (-want +got):\n%s", diff)
	}
}

func TestForget(t *testing.T) {
	eachTopology(t, 2, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		a := chatOn(2, 0, 0)
		other := chatOn(2, 0, a) // same shard
		sh := queue.Shard(a, 2)
		now := time.Now().Add(-time.Minute)

		// One dead letter each for a and other, in the shard's dead-letter stream.
		for _, c := range []int64{a, other} {
			l, u := fx.next(t, c)
			if dead, err := fx.s.Fail(ctx, l, u, errors.New("boom"), 1); err != nil || !dead {
				t.Fatalf("Fail(chat %d) = %v, %v; want dead", c, dead, err)
			}
		}
		unreachable := false
		fx.commit(t, a, queue.Effects{Profile: []byte(`{"name":"A"}`), Session: []byte(`{"v":1}`)})
		for i := range 3 {
			fx.commit(t, a, queue.Effects{CheckIn: []byte(rec(a, i)), CheckInAt: now.Add(time.Duration(2*i) * time.Millisecond)})
			fx.commit(t, other, queue.Effects{CheckIn: []byte(rec(other, i)), CheckInAt: now.Add(time.Duration(2*i+1) * time.Millisecond)})
		}
		fx.commit(t, a, queue.Effects{Reachable: &unreachable})
		fx.commit(t, other, queue.Effects{Profile: []byte(`{"name":"O"}`), Reachable: &unreachable})
		if st := fx.load(t, a); st.Profile == nil || st.Session == nil || len(st.History) != 3 || !st.Unreachable {
			t.Fatalf("before Forget Load(%d) = %+v; want profile, session, 3 check-ins, unreachable", a, st)
		}

		fx.commit(t, a, queue.Effects{Forget: true})

		st := fx.load(t, a)
		if diff := cmp.Diff(queue.State{}, st); diff != "" {
			t.Errorf("Load(%d) after Forget: want nothing (-want +got):\n%s", a, diff)
		}
		if n, err := fx.rdb.Exists(ctx, fx.key(sh, fmt.Sprintf("hist:%d", a))).Result(); err != nil || n != 0 {
			t.Errorf("history key after Forget: exists = %d, %v; want 0", n, err)
		}
		want := []string{rec(other, 0), rec(other, 1), rec(other, 2)}
		if diff := cmp.Diff(want, fx.checkIns(t, allFrom, allTo)); diff != "" {
			t.Errorf("CheckIns after Forget: want only the other chat's (-want +got):\n%s", diff)
		}
		dls, err := fx.s.DeadLetters(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var dead []int64
		for _, d := range dls {
			dead = append(dead, d.ChatID)
		}
		if diff := cmp.Diff([]int64{other}, dead); diff != "" {
			t.Errorf("chats of the dead letters after Forget (-want +got):\n%s", diff)
		}
		ost := fx.load(t, other)
		if string(ost.Profile) != `{"name":"O"}` || len(ost.History) != 3 || !ost.Unreachable {
			t.Errorf("Load(%d) of the other chat after Forget = %+v; want its profile, 3 check-ins, unreachable", other, ost)
		}

		// Forget comes first: a fresh profile and session in the same effects survive it.
		fx.commit(t, a, queue.Effects{CheckIn: []byte(rec(a, 9)), CheckInAt: now})
		fx.commit(t, a, queue.Effects{Forget: true, Profile: []byte(`{"lang":"th"}`), Session: []byte(`{"v":2}`)})
		want2 := queue.State{Profile: []byte(`{"lang":"th"}`), Session: []byte(`{"v":2}`)}
		if diff := cmp.Diff(want2, fx.load(t, a)); diff != "" {
			t.Errorf("Load after Forget with a new profile (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, fx.checkIns(t, allFrom, allTo)); diff != "" {
			t.Errorf("CheckIns after the second Forget (-want +got):\n%s", diff)
		}
	})
}

func TestCommitWithLostLeaseWritesNothing(t *testing.T) {
	ctx := context.Background()
	fx := singleFixture(t, 1)
	const chat = 8
	at := time.Now().Add(-time.Minute)
	fx.commit(t, chat, queue.Effects{Profile: []byte(`{"p":1}`), CheckIn: []byte(rec(chat, 1)), CheckInAt: at})

	old, u := fx.next(t, chat)
	if err := fx.s.Release(ctx, old); err != nil {
		t.Fatal(err)
	}
	cur := acquire(t, fx.s, 0, "b")
	unreachable := false
	eff := queue.Effects{
		Forget:  true,
		Profile: []byte(`{"p":2}`), Session: []byte(`{"v":2}`), Reachable: &unreachable,
		CheckIn: []byte(rec(chat, 2)), CheckInAt: at.Add(time.Millisecond),
		Counters: []queue.Counter{{Key: "members", Field: "staff", By: 1, TTL: time.Hour}},
		Audit:    [][]byte{[]byte(`{"a":"x"}`)},
		Outbox:   []queue.Message{{ID: "m", Method: queue.MethodSendMessage, ChatID: chat, Text: "hi"}},
	}
	if err := fx.s.Commit(ctx, old, u, eff); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Commit with a lost lease = %v, want ErrLeaseLost", err)
	}
	want := queue.State{Profile: []byte(`{"p":1}`), History: [][]byte{[]byte(rec(chat, 1))}}
	if diff := cmp.Diff(want, fx.load(t, chat)); diff != "" {
		t.Errorf("Load after a fenced-off commit (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{rec(chat, 1)}, fx.checkIns(t, allFrom, allTo)); diff != "" {
		t.Errorf("CheckIns after a fenced-off commit (-want +got):\n%s", diff)
	}
	stats, err := fx.s.Stats(ctx, []string{"members"})
	if err != nil || len(stats["members"]) != 0 {
		t.Errorf("Stats after a fenced-off commit = %v, %v; want no counts", stats, err)
	}
	for _, k := range []string{"audit", "stat:members"} {
		if n, err := fx.rdb.Exists(ctx, fx.key(0, k)).Result(); err != nil || n != 0 {
			t.Errorf("%s after a fenced-off commit: exists = %d, %v; want 0", k, n, err)
		}
	}
	if n := srvLen(t, fx.s, 0, chat); n != 0 {
		t.Errorf("outbox after a fenced-off commit holds %d, want 0", n)
	}
	if p, err := fx.s.Pending(ctx, cur, 10); err != nil || len(p) != 1 || p[0].StreamID != u.StreamID {
		t.Errorf("Pending for the new holder = %+v, %v; want the uncommitted update", p, err)
	}
}

func TestAuditAppended(t *testing.T) {
	ctx := context.Background()
	fx := singleFixture(t, 4)
	a, b := chatOn(4, 0, 0), chatOn(4, 3, 0)
	fx.commit(t, a, queue.Effects{Audit: [][]byte{[]byte(`{"a":"export"}`), []byte(`{"a":"stats"}`)}})
	fx.commit(t, b, queue.Effects{Audit: [][]byte{[]byte(`{"a":"forget"}`)}})
	fx.commit(t, a, queue.Effects{Audit: [][]byte{[]byte(`{"a":"edit"}`)}})
	for sh, want := range map[int][]string{0: {`{"a":"export"}`, `{"a":"stats"}`, `{"a":"edit"}`}, 3: {`{"a":"forget"}`}} {
		key := fx.key(sh, "audit")
		msgs, err := fx.rdb.XRange(ctx, key, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range msgs {
			if len(m.Values) != 1 {
				t.Errorf("XRANGE %s entry %s = %v, want the one field \"e\"", key, m.ID, m.Values)
			}
			e, _ := m.Values["e"].(string)
			got = append(got, e)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("XRANGE %s field e (-want +got):\n%s", key, diff)
		}
	}
	for _, sh := range []int{1, 2} {
		if n, err := fx.rdb.Exists(ctx, fx.key(sh, "audit")).Result(); err != nil || n != 0 {
			t.Errorf("audit log of shard %d without audited updates: exists = %d, %v; want 0", sh, n, err)
		}
	}
}

func TestProfiles(t *testing.T) {
	eachTopology(t, 4, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		a, b, c := chatOn(4, 0, 0), chatOn(4, 1, 0), chatOn(4, 2, 0)
		sessionOnly := chatOn(4, 0, a)
		fx.commit(t, a, queue.Effects{Profile: []byte(`{"n":"a"}`)})
		fx.commit(t, b, queue.Effects{Profile: []byte(`{"n":"b"}`)})
		fx.commit(t, sessionOnly, queue.Effects{Session: []byte(`{"v":1}`)})
		got, err := fx.s.Profiles(ctx, []int64{c, a, sessionOnly, b, 424242})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64][]byte{a: []byte(`{"n":"a"}`), b: []byte(`{"n":"b"}`)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Profiles (-want +got):\n%s", diff)
		}
		if got, err := fx.s.Profiles(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("Profiles(nil) = %v, %v; want an empty map", got, err)
		}
	})
}

func TestProfilesReportsAnUnreachableNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := redistest.Cluster(t)
	fx := newFixture(t, c.Client(), 8)
	ctx := context.Background()
	node := func(shard int) int {
		slots, err := fx.rdb.(*redis.ClusterClient).ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		slot := store.Slot(fx.key(shard, "prof:1"))
		for _, s := range slots {
			if slot >= s.Start && slot <= s.End {
				for i, a := range c.Addrs() {
					if s.Nodes[0].Addr == a {
						return i
					}
				}
			}
		}
		t.Fatalf("no node serves slot %d", slot)
		return -1
	}
	// A chat without a profile on a node that stays up is read first; a chat with one
	// lives on the node that goes down.
	var missing, lost int64
	for sh := range fx.shards {
		for sh2 := range fx.shards {
			if node(sh) != node(sh2) {
				missing, lost = chatOn(fx.shards, sh, 0), chatOn(fx.shards, sh2, 0)
			}
		}
	}
	if missing == 0 {
		t.Fatal("all shards on one node")
	}
	fx.commit(t, lost, queue.Effects{Profile: []byte(`{"n":"lost"}`)})
	c.Kill(node(queue.Shard(lost, fx.shards)))
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	got, err := fx.s.Profiles(ctx, []int64{missing, lost})
	if err == nil {
		t.Errorf("Profiles with the node of chat %d down = %v, nil; want an error, not a profile reported absent", lost, got)
	}
}
