package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nanta-district/bangban/store"
)

const claimTTL = 5 * time.Second

// TestBroadcasts runs the broadcast store's cases on one server with the slot check and
// on a 3-master cluster, sharing one store per topology (each case its own broadcast).
func TestBroadcasts(t *testing.T) {
	eachTopology(t, 4, func(t *testing.T, fx *fixture) {
		t.Run("lifecycle", func(t *testing.T) { testBroadcastLifecycle(t, fx.s) })
		t.Run("dead worker", func(t *testing.T) { testBroadcastDeadWorker(t, fx.s) })
		t.Run("not sent", func(t *testing.T) { testBroadcastNotSent(t, fx.s) })
		t.Run("pause and stop", func(t *testing.T) { testBroadcastPauseStop(t, fx.s) })
		t.Run("scheduled", func(t *testing.T) { testBroadcastScheduled(t, fx.s) })
		t.Run("pacing", func(t *testing.T) { testBroadcastPacing(t, fx.s) })
		t.Run("unreachable", func(t *testing.T) { testBroadcastUnreachable(t, fx.s) })
	})
}

func create(t *testing.T, s *store.Store, nb store.NewBroadcast) store.Broadcast {
	t.Helper()
	if nb.CreatedBy == "" {
		nb.CreatedBy = "test"
	}
	if nb.Content.Text == "" && nb.Content.FromChatID == 0 {
		nb.Content.Text = "notice"
	}
	b, err := s.CreateBroadcast(context.Background(), nb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func claim(t *testing.T, s *store.Store, id, token string, n int, ttl time.Duration) (string, []store.Recipient) {
	t.Helper()
	state, rs, err := s.ClaimRecipients(context.Background(), id, token, n, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return state, rs
}

func mark(t *testing.T, s *store.Store, id, token string, idx int64) string {
	t.Helper()
	r, err := s.MarkSending(context.Background(), id, token, idx, claimTTL)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func record(t *testing.T, s *store.Store, id, token string, out store.RecipientStatus, reason string, idxs ...int64) {
	t.Helper()
	if err := s.Record(context.Background(), id, token, out, reason, idxs...); err != nil {
		t.Fatal(err)
	}
}

func progress(t *testing.T, s *store.Store, id string) store.Broadcast {
	t.Helper()
	b, err := s.Progress(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// statuses returns the status of each recipient by chat.
func statuses(t *testing.T, s *store.Store, id string) map[int64]store.RecipientStatus {
	t.Helper()
	chats, sts, _, err := s.RecipientStatuses(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]store.RecipientStatus{}
	for i, c := range chats {
		out[c] = sts[i]
	}
	return out
}

func chatsOf(rs []store.Recipient) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ChatID
	}
	return out
}

func testBroadcastLifecycle(t *testing.T, s *store.Store) {
	ctx := context.Background()
	b := create(t, s, store.NewBroadcast{Recipients: []int64{11, 12, 11, 1 << 50, -1001234567890}})
	if b.Total != 4 || b.State != store.BroadcastSending {
		t.Fatalf("created %+v; want 4 recipients (duplicates dropped), sending", b)
	}
	state, rs := claim(t, s, b.ID, "a", 3, claimTTL)
	if state != store.BroadcastSending || !slices.Equal(chatsOf(rs), []int64{11, 12, 1 << 50}) {
		t.Fatalf("claim = %s %v; want sending 11, 12, 2^50", state, rs)
	}
	_, rs2 := claim(t, s, b.ID, "b", 3, claimTTL)
	if !slices.Equal(chatsOf(rs2), []int64{-1001234567890}) {
		t.Fatalf("second claim = %v; want the last recipient only", rs2)
	}
	if r := mark(t, s, b.ID, "b", rs[0].Index); r != store.MarkLost {
		t.Errorf("mark of a's recipient by b = %q; want lost", r)
	}
	for _, r := range rs {
		if got := mark(t, s, b.ID, "a", r.Index); got != store.MarkOK {
			t.Fatalf("mark %d = %q", r.Index, got)
		}
	}
	if r := mark(t, s, b.ID, "a", rs[0].Index); r != store.MarkLost {
		t.Errorf("second mark of a recipient = %q; want lost (it is being sent already)", r)
	}
	record(t, s, b.ID, "a", store.StatusSent, "", rs[0].Index)
	record(t, s, b.ID, "a", store.StatusSent, "", rs[0].Index) // a replay changes nothing
	record(t, s, b.ID, "a", store.StatusBlocked, "", rs[1].Index)
	record(t, s, b.ID, "a", store.StatusFailed, "Bad Request: message is too long", rs[2].Index)
	if st, _ := claim(t, s, b.ID, "c", 3, claimTTL); st != "wait" {
		t.Errorf("claim while b holds a recipient = %q; want wait", st)
	}
	record(t, s, b.ID, "b", store.StatusSkipped, "", rs2[0].Index)
	if st, rs := claim(t, s, b.ID, "c", 3, claimTTL); st != store.BroadcastDone || len(rs) != 0 {
		t.Errorf("claim with everything recorded = %q %v; want done", st, rs)
	}
	got := progress(t, s, b.ID)
	want := store.Broadcast{Total: 4, Sent: 1, Blocked: 1, Failed: 1, Skipped: 1, State: store.BroadcastDone}
	if got.Total != want.Total || got.Sent != want.Sent || got.Blocked != want.Blocked || got.Failed != want.Failed ||
		got.Skipped != want.Skipped || got.Ambiguous != 0 || got.State != want.State || got.FinishedAt.IsZero() {
		t.Errorf("progress = %+v; want %+v with a finish time", got, want)
	}
	if got.Reasons["Bad Request: message is too long"] != 1 {
		t.Errorf("reasons = %v; want the failure's reason counted", got.Reasons)
	}
	sts := statuses(t, s, b.ID)
	if sts[11] != store.StatusSent || sts[12] != store.StatusBlocked || sts[1<<50] != store.StatusFailed || sts[-1001234567890] != store.StatusSkipped {
		t.Errorf("statuses = %v", sts)
	}
	for i, want := range []bool{true, false} {
		if wrote, err := s.FinishBroadcast(ctx, b.ID); err != nil || wrote != want {
			t.Fatalf("FinishBroadcast #%d = %v, %v; want %v", i, wrote, err, want)
		}
	}
	active, err := s.ActiveBroadcasts(ctx)
	if err != nil || slices.Contains(active, b.ID) {
		t.Errorf("active = %v, %v; want %s gone once finished", active, err, b.ID)
	}
	audit, err := s.BroadcastAudit(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]int{}
	for _, raw := range audit {
		var e struct {
			Event, ID string
			Sent      int
			Audience  int
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		if e.ID == b.ID {
			events[e.Event]++
			if e.Audience != 4 {
				t.Errorf("audit entry %s has audience %d; want 4", raw, e.Audience)
			}
		}
	}
	if events["created"] != 1 || events["finished"] != 1 {
		t.Errorf("audit events of %s = %v; want one created and one finished", b.ID, events)
	}
	list, err := s.Broadcasts(ctx, 1000)
	if err != nil || !slices.ContainsFunc(list, func(x store.Broadcast) bool { return x.ID == b.ID }) {
		t.Errorf("Broadcasts = %v, %v; want it listed", list, err)
	}
}

// A worker that dies loses its claims after their lease: recipients it had only claimed
// are claimed again by others; the one it was sending becomes ambiguous and is never
// claimed again, unless the worker was alive after all and reports the outcome.
func testBroadcastDeadWorker(t *testing.T, s *store.Store) {
	b := create(t, s, store.NewBroadcast{Recipients: []int64{21, 22, 23, 24}})
	const ttl = 300 * time.Millisecond
	_, rs := claim(t, s, b.ID, "dead", 3, ttl)
	if r, err := s.MarkSending(context.Background(), b.ID, "dead", rs[0].Index, ttl); err != nil || r != store.MarkOK {
		t.Fatalf("mark = %q, %v", r, err)
	}
	_, rs2 := claim(t, s, b.ID, "live", 10, claimTTL)
	if !slices.Equal(chatsOf(rs2), []int64{24}) {
		t.Fatalf("claim before the lease expired = %v; want only 24", chatsOf(rs2))
	}
	time.Sleep(ttl + 100*time.Millisecond)
	if r := mark(t, s, b.ID, "dead", rs[1].Index); r != store.MarkLost {
		t.Errorf("mark after the lease expired = %q; want lost", r)
	}
	_, rs3 := claim(t, s, b.ID, "live", 10, claimTTL)
	if !slices.Equal(chatsOf(rs3), []int64{22, 23}) {
		t.Fatalf("claim after the lease expired = %v; want 22 and 23 back, never 21", chatsOf(rs3))
	}
	if got := progress(t, s, b.ID); got.Ambiguous != 1 {
		t.Errorf("ambiguous = %d; want 1 (21 was being sent)", got.Ambiguous)
	}
	if sts := statuses(t, s, b.ID); sts[21] != store.StatusLost {
		t.Errorf("status of 21 = %v; want lost", sts[21])
	}
	// The stalled worker comes back and reports that 21 was sent.
	record(t, s, b.ID, "dead", store.StatusSent, "", rs[0].Index)
	if got := progress(t, s, b.ID); got.Ambiguous != 0 || got.Sent != 1 {
		t.Errorf("after the late report: ambiguous %d, sent %d; want 0, 1", got.Ambiguous, got.Sent)
	}
	for _, r := range append(rs2, rs3...) {
		if got := mark(t, s, b.ID, "live", r.Index); got != store.MarkOK {
			t.Fatalf("mark %d = %q", r.Index, got)
		}
		record(t, s, b.ID, "live", store.StatusSent, "", r.Index)
	}
	if st, _ := claim(t, s, b.ID, "live", 10, claimTTL); st != store.BroadcastDone {
		t.Errorf("state = %q; want done", st)
	}
	if got := progress(t, s, b.ID); got.Sent != 4 {
		t.Errorf("sent = %d; want 4", got.Sent)
	}
}

// A call that certainly did not leave gives the recipient back to its claim; a released
// claim's recipients go to the next claim, first.
func testBroadcastNotSent(t *testing.T, s *store.Store) {
	ctx := context.Background()
	b := create(t, s, store.NewBroadcast{Recipients: []int64{31, 32, 33}})
	_, rs := claim(t, s, b.ID, "a", 2, claimTTL)
	mark(t, s, b.ID, "a", rs[0].Index)
	mine, err := s.Unsend(ctx, b.ID, "a", rs[0].Index)
	if err != nil || !mine {
		t.Fatalf("Unsend = %v, %v; want the recipient still a's", mine, err)
	}
	if r := mark(t, s, b.ID, "a", rs[0].Index); r != store.MarkOK {
		t.Fatalf("mark again after unsend = %q", r)
	}
	mark(t, s, b.ID, "a", rs[0].Index)
	record(t, s, b.ID, "a", store.StatusSent, "", rs[0].Index)
	if err := s.ReleaseClaims(ctx, b.ID, "a"); err != nil {
		t.Fatal(err)
	}
	_, rs2 := claim(t, s, b.ID, "b", 1, claimTTL)
	if !slices.Equal(chatsOf(rs2), []int64{32}) {
		t.Fatalf("claim after release = %v; want 32 (given back) before 33", chatsOf(rs2))
	}
	if r := mark(t, s, b.ID, "a", rs[1].Index); r != store.MarkLost {
		t.Errorf("mark of a released recipient by its old claim = %q; want lost", r)
	}
}

func testBroadcastPauseStop(t *testing.T, s *store.Store) {
	ctx := context.Background()
	b := create(t, s, store.NewBroadcast{Recipients: []int64{41, 42, 43, 44}})
	_, rs := claim(t, s, b.ID, "a", 2, claimTTL)
	if _, err := s.ControlBroadcast(ctx, b.ID, store.ActionResume, "api"); !errors.Is(err, store.ErrBadState) {
		t.Errorf("resume while sending: %v; want ErrBadState", err)
	}
	got, err := s.ControlBroadcast(ctx, b.ID, store.ActionPause, "api")
	if err != nil || got.State != store.BroadcastPaused {
		t.Fatalf("pause = %+v, %v", got, err)
	}
	if r := mark(t, s, b.ID, "a", rs[0].Index); r != store.BroadcastPaused {
		t.Errorf("mark while paused = %q; want paused", r)
	}
	if st, rs := claim(t, s, b.ID, "b", 2, claimTTL); st != store.BroadcastPaused || len(rs) != 0 {
		t.Errorf("claim while paused = %q %v; want paused, nothing", st, rs)
	}
	if _, err := s.ControlBroadcast(ctx, b.ID, store.ActionResume, "api"); err != nil {
		t.Fatal(err)
	}
	if r := mark(t, s, b.ID, "a", rs[0].Index); r != store.MarkOK {
		t.Errorf("mark after resume = %q; want ok", r)
	}
	record(t, s, b.ID, "a", store.StatusSent, "", rs[0].Index)
	if got, err := s.ControlBroadcast(ctx, b.ID, store.ActionStop, "api"); err != nil || got.State != store.BroadcastStopped || got.FinishedAt.IsZero() {
		t.Fatalf("stop = %+v, %v", got, err)
	}
	if r := mark(t, s, b.ID, "a", rs[1].Index); r != store.BroadcastStopped {
		t.Errorf("mark after stop = %q; want stopped", r)
	}
	if st, _ := claim(t, s, b.ID, "b", 2, claimTTL); st != store.BroadcastStopped {
		t.Errorf("claim after stop = %q; want stopped", st)
	}
	for _, a := range []string{store.ActionPause, store.ActionResume, store.ActionStop} {
		if _, err := s.ControlBroadcast(ctx, b.ID, a, "api"); !errors.Is(err, store.ErrBadState) {
			t.Errorf("%s after stop: %v; want ErrBadState", a, err)
		}
	}
	if _, err := s.FinishBroadcast(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if due, err := s.ProgressDue(ctx, b.ID, time.Minute); err != nil || due != want {
			t.Errorf("ProgressDue #%d = %v, %v; want %v", i, due, err, want)
		}
	}
	if _, err := s.ControlBroadcast(ctx, "999999", store.ActionPause, "api"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pause of an unknown broadcast: %v; want ErrNotFound", err)
	}
	if _, err := s.Progress(ctx, "1}x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("progress of a malformed id: %v; want ErrNotFound", err)
	}
}

func testBroadcastScheduled(t *testing.T, s *store.Store) {
	ctx := context.Background()
	b := create(t, s, store.NewBroadcast{Recipients: []int64{51}, ScheduleAt: time.Now().Add(300 * time.Millisecond)})
	if b.State != store.BroadcastScheduled {
		t.Fatalf("state = %q; want scheduled", b.State)
	}
	if st, err := s.StartDue(ctx, b.ID); err != nil || st != store.BroadcastScheduled {
		t.Errorf("StartDue before its time = %q, %v; want scheduled", st, err)
	}
	if st, _ := claim(t, s, b.ID, "a", 1, claimTTL); st != store.BroadcastScheduled {
		t.Errorf("claim of a scheduled broadcast = %q", st)
	}
	time.Sleep(400 * time.Millisecond)
	if st, err := s.StartDue(ctx, b.ID); err != nil || st != store.BroadcastSending {
		t.Errorf("StartDue after its time = %q, %v; want sending", st, err)
	}
	if got := progress(t, s, b.ID); got.StartedAt.IsZero() {
		t.Errorf("started at is zero after the start")
	}
}

// Slots are spaced by the interval on every replica (one bucket in Redis), and a 429
// pauses them.
func testBroadcastPacing(t *testing.T, s *store.Store) {
	ctx := context.Background()
	const interval = 100 * time.Millisecond
	var waits []time.Duration
	for range 3 {
		w, ok, err := s.TakeBroadcastSlot(ctx, interval)
		if err != nil || !ok {
			t.Fatalf("take = %v, %v, %v", w, ok, err)
		}
		waits = append(waits, w)
	}
	// The three slots are 100 ms apart; the takes themselves take a little time.
	if waits[1] < 80*time.Millisecond || waits[1] > interval || waits[2] < 180*time.Millisecond || waits[2] > 2*interval {
		t.Errorf("waits = %v; want about 0, 100 ms, 200 ms", waits)
	}
	if err := s.BroadcastRateLimited(ctx, time.Second, false); err != nil {
		t.Fatal(err)
	}
	w, ok, err := s.TakeBroadcastSlot(ctx, interval)
	if err != nil || ok || w < 900*time.Millisecond || w > time.Second {
		t.Errorf("take during a 429 pause = %v, %v, %v; want not reserved, about 1 s", w, ok, err)
	}
	if d, err := s.GlobalPause(ctx); err != nil || d < 900*time.Millisecond {
		t.Errorf("global pause after a broadcast 429 = %v, %v; want about 1 s: replies pause too", d, err)
	}
}

func testBroadcastUnreachable(t *testing.T, s *store.Store) {
	ctx := context.Background()
	for _, c := range []int64{61, 63} {
		if err := s.MarkUnreachable(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.UnreachableAmong(ctx, []int64{61, 62, 63, 64})
	if err != nil || len(got) != 2 || !got[61] || !got[63] {
		t.Errorf("UnreachableAmong = %v, %v; want 61 and 63", got, err)
	}
}

// TestCreateBroadcastWithKey: creating twice with one key makes one broadcast, so the
// follow-up step that creates it can be retried after a crash.
func TestCreateBroadcastWithKey(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 4)
	nb := store.NewBroadcast{CreatedBy: "admin:1", Content: store.BroadcastContent{Text: "通知"}, Recipients: []int64{1, 2, 3}, Key: "-100:1-0.d0"}
	a, err := s.CreateBroadcast(ctx, nb)
	if err != nil {
		t.Fatal(err)
	}
	nb.Recipients = []int64{9}
	b, err := s.CreateBroadcast(ctx, nb)
	if err != nil || b.ID != a.ID || b.Total != 3 {
		t.Fatalf("second create = %+v, %v; want broadcast %s with its 3 recipients", b, err, a.ID)
	}
	list, err := s.Broadcasts(ctx, 10)
	if err != nil || len(list) != 1 {
		t.Errorf("Broadcasts = %d, %v; want one", len(list), err)
	}
	other, err := s.CreateBroadcast(ctx, store.NewBroadcast{Content: nb.Content, Recipients: []int64{1}, Key: "-100:2-0.d0"})
	if err != nil || other.ID == a.ID {
		t.Errorf("another key = %+v, %v; want a broadcast of its own", other, err)
	}
}
