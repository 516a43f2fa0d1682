package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/queue"
)

func newOutboxStore(t *testing.T) (*Store, Lease) {
	t.Helper()
	srv := redistest.Single(t)
	rdb := srv.Client()
	s := New(rdb, rdb, redistest.Prefix(t), 1)
	l, ok, err := s.Acquire(context.Background(), 0, "r1", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	return s, l
}

// queueOutbox queues messages in chat's outbox the way Commit does.
func queueOutbox(t *testing.T, s *Store, chat int64, msgs ...queue.Message) {
	t.Helper()
	ctx := context.Background()
	tag := s.tag(0)
	for _, m := range msgs {
		b, _ := json.Marshal(m)
		if err := s.rdb.RPush(ctx, chatKey(tag, kindOutbox, chat), b).Err(); err != nil {
			t.Fatal(err)
		}
	}
	s.rdb.ZAddNX(ctx, s.keys(0).ready, redisZ(time.Now(), chat))
}

func outboxIDs(t *testing.T, s *Store, chat int64) []string {
	t.Helper()
	raws, err := s.rdb.LRange(context.Background(), chatKey(s.tag(0), kindOutbox, chat), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range raws {
		var m queue.Message
		_ = json.Unmarshal([]byte(r), &m)
		ids = append(ids, m.ID)
	}
	return ids
}

func results(t *testing.T, s *Store) []queue.Result {
	t.Helper()
	msgs, err := s.rdb.XRange(context.Background(), s.keys(0).stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []queue.Result
	for _, m := range msgs {
		u := decodeEntry(m)
		if u.Kind != queue.KindResult || u.UpdateID != 0 {
			t.Errorf("stream entry %v: kind %q update %d, want a result with update 0", m.Values, u.Kind, u.UpdateID)
		}
		var r queue.Result
		if err := json.Unmarshal(u.Raw, &r); err != nil {
			t.Errorf("result %s: %v", u.Raw, err)
		}
		out = append(out, r)
	}
	return out
}

func TestClaimCompleteFeedsResult(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	const chat = 7
	queueOutbox(t, s, chat,
		queue.Message{ID: "a", Method: queue.MethodSendMessage, ChatID: chat, Text: "one", WantResult: true, Ref: "ticket:1"},
		queue.Message{ID: "b", Method: queue.MethodSendMessage, ChatID: chat, Text: "two"})

	c, ok, err := s.ClaimHead(ctx, l, chat, "t1", "")
	if err != nil || !ok || c.Message.ID != "a" || c.Attempt != 1 {
		t.Fatalf("ClaimHead = %+v, %v, %v; want message a, attempt 1", c, ok, err)
	}
	if err := s.Complete(ctx, l, chat, c.Message, queue.Result{MessageRef: "ticket:1", ChatID: chat, MessageID: 55}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	// A retried Complete must neither pop b nor report twice.
	if err := s.Complete(ctx, l, chat, c.Message, queue.Result{MessageRef: "ticket:1", ChatID: chat, MessageID: 55}); err != nil {
		t.Fatalf("Complete again: %v", err)
	}
	if got := outboxIDs(t, s, chat); !cmp.Equal(got, []string{"b"}) {
		t.Errorf("outbox after Complete(a) = %v, want [b]", got)
	}
	want := []queue.Result{{MessageRef: "ticket:1", ChatID: chat, MessageID: 55}}
	if diff := cmp.Diff(want, results(t, s)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if u, _ := s.rdb.XRange(ctx, s.keys(0).stream, "-", "+").Result(); len(u) == 1 && u[0].Values["c"] != "7" {
		t.Errorf("result entry chat = %v, want 7", u[0].Values["c"])
	}
	ready, _ := s.ReadyChats(ctx, 0, 10)
	if len(ready) != 1 || ready[0].ChatID != chat {
		t.Errorf("ReadyChats = %v, want chat %d still ready", ready, chat)
	}
	c, _, _ = s.ClaimHead(ctx, l, chat, "t2", "")
	if err := s.Complete(ctx, l, chat, c.Message, queue.Result{}); err != nil {
		t.Fatal(err)
	}
	if ready, _ := s.ReadyChats(ctx, 0, 10); len(ready) != 0 {
		t.Errorf("ReadyChats after draining = %v, want none", ready)
	}
	if _, ok, err := s.ClaimHead(ctx, l, chat, "t3", ""); ok || err != nil {
		t.Errorf("ClaimHead of an empty outbox = %v, %v; want nothing", ok, err)
	}
}

func TestAttemptsCountOnlyPossibleDeliveries(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	const chat = 8
	queueOutbox(t, s, chat, queue.Message{ID: "a", Method: queue.MethodSendMessage, ChatID: chat, Text: "x"})
	steps := []struct {
		token string
		sent  bool // outcome of the attempt, for Postpone
		want  int
	}{
		{"t1", true, 1},  // ambiguous
		{"t2", false, 2}, // dial error: not counted
		{"t3", false, 2},
	}
	for _, st := range steps {
		c, _, err := s.ClaimHead(ctx, l, chat, st.token, "")
		if err != nil || c.Attempt != st.want {
			t.Fatalf("ClaimHead(%s) attempt = %d, %v; want %d", st.token, c.Attempt, err, st.want)
		}
		// A retried claim script must not count again.
		if c2, _, _ := s.ClaimHead(ctx, l, chat, st.token, ""); c2.Attempt != st.want {
			t.Errorf("ClaimHead(%s) replayed attempt = %d, want %d", st.token, c2.Attempt, st.want)
		}
		if err := s.Postpone(ctx, l, chat, c, st.sent, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStaleLeaseWritesNothing(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	const chat = 9
	m := queue.Message{ID: "a", Method: queue.MethodSendMessage, ChatID: chat, Text: "x", WantResult: true}
	queueOutbox(t, s, chat, m)
	c, _, err := s.ClaimHead(ctx, l, chat, "t1", "")
	if err != nil {
		t.Fatal(err)
	}
	// Another replica takes the shard over: the epoch moves on.
	if err := s.rdb.Del(ctx, s.keys(0).lease).Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Acquire(ctx, 0, "r2", time.Minute); !ok || err != nil {
		t.Fatalf("Acquire by r2 = %v, %v", ok, err)
	}
	before, _ := s.rdb.HGetAll(ctx, chatKey(s.tag(0), kindSending, chat)).Result()
	checks := map[string]error{
		"ClaimHead":   func() error { _, _, err := s.ClaimHead(ctx, l, chat, "t2", ""); return err }(),
		"Postpone":    s.Postpone(ctx, l, chat, c, false, time.Now()),
		"Complete":    s.Complete(ctx, l, chat, m, queue.Result{MessageID: 1}),
		"Unreachable": s.Unreachable(ctx, l, chat, m, ""),
	}
	for name, err := range checks {
		if !errors.Is(err, ErrLeaseLost) {
			t.Errorf("%s with a stale lease = %v, want ErrLeaseLost", name, err)
		}
	}
	after, _ := s.rdb.HGetAll(ctx, chatKey(s.tag(0), kindSending, chat)).Result()
	if !cmp.Equal(before, after) || !cmp.Equal(outboxIDs(t, s, chat), []string{"a"}) || len(results(t, s)) != 0 {
		t.Errorf("stale lease wrote: marker %v -> %v, outbox %v", before, after, outboxIDs(t, s, chat))
	}
	if n, _ := s.rdb.SCard(ctx, s.keys(0).unrch).Result(); n != 0 {
		t.Errorf("stale lease marked %d chats unreachable", n)
	}
}

func TestUnreachableDropsOnlyThatChat(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	const chat, staff = 10, -100
	queueOutbox(t, s, chat,
		queue.Message{ID: "a", Method: queue.MethodSendMessage, ChatID: chat, Text: "x"},
		queue.Message{ID: "b", Method: queue.MethodSendMessage, ChatID: staff, Text: "relay"},
		queue.Message{ID: "c", Method: queue.MethodSendMessage, ChatID: chat, Text: "y", WantResult: true, Ref: "r"})
	c, _, _ := s.ClaimHead(ctx, l, chat, "t1", "")
	const blocked = "Forbidden: bot was blocked by the user"
	if err := s.Unreachable(ctx, l, chat, c.Message, blocked); err != nil {
		t.Fatal(err)
	}
	if got := outboxIDs(t, s, chat); !cmp.Equal(got, []string{"b"}) {
		t.Errorf("outbox after 403 = %v, want [b] (the message to another chat)", got)
	}
	if ok, _ := s.rdb.SIsMember(ctx, s.keys(0).unrch, chat).Result(); !ok {
		t.Errorf("chat %d not in unreach", chat)
	}
	want := []queue.Result{{MessageRef: "r", ChatID: chat, Error: "forbidden", Detail: blocked}}
	if diff := cmp.Diff(want, results(t, s)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestUnreachableRelayReportsDetail(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	const user, staff = 11, -1001234567890
	relay := queue.Message{ID: "a", Method: queue.MethodCopyMessages, ChatID: staff, FromChatID: user, MessageIDs: []int{5},
		WantResult: true, Ref: "ticket:1"}
	queueOutbox(t, s, user, relay, queue.Message{ID: "b", Method: queue.MethodSendMessage, ChatID: user, Text: "sent"})
	c, _, _ := s.ClaimHead(ctx, l, user, "t1", "")
	const kicked = "Forbidden: bot was kicked from the supergroup chat"
	if err := s.Unreachable(ctx, l, user, c.Message, kicked); err != nil {
		t.Fatal(err)
	}
	if got := outboxIDs(t, s, user); !cmp.Equal(got, []string{"b"}) {
		t.Errorf("outbox after a relay's 403 = %v, want [b]", got)
	}
	want := []queue.Result{{MessageRef: "ticket:1", ChatID: staff, Error: "forbidden", Detail: kicked}}
	if diff := cmp.Diff(want, results(t, s)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestTakePaces(t *testing.T) {
	s, _ := newOutboxStore(t)
	ctx := context.Background()
	waits := func(m queue.Message, n int) []time.Duration {
		var out []time.Duration
		for range n {
			w, r, err := s.Take(ctx, m, 25)
			if err != nil || !r {
				t.Fatalf("Take = %v, %v, %v", w, r, err)
			}
			out = append(out, w)
		}
		return out
	}
	private := waits(queue.Message{Method: queue.MethodSendMessage, ChatID: 11}, 5)
	for i, w := range private {
		lo, hi := time.Duration(max(i-2, 0))*time.Second-100*time.Millisecond, time.Duration(max(i-2, 0))*time.Second+50*time.Millisecond
		if w < lo || w > hi {
			t.Errorf("private Take #%d wait = %v, want about %v (burst 3, then 1/s)", i+1, w, time.Duration(max(i-2, 0))*time.Second)
		}
	}
	group := waits(queue.Message{Method: queue.MethodEditMessageText, ChatID: -12}, 6)
	if group[4] != 0 || group[5] < 2900*time.Millisecond {
		t.Errorf("group Take waits = %v, want 5 free then about 3s", group)
	}
	if w, _, _ := s.Take(ctx, queue.Message{Method: queue.MethodAnswerCallbackQuery, ChatID: 11}, 25); w != 0 {
		t.Errorf("answerCallbackQuery paced: wait %v", w)
	}

	m := queue.Message{Method: queue.MethodSendMessage, ChatID: 13}
	if _, err := s.RateLimited(ctx, m, 5*time.Second, false); err != nil {
		t.Fatal(err)
	}
	w, reserved, err := s.Take(ctx, m, 25)
	if err != nil || reserved || w < 4*time.Second {
		t.Errorf("Take in a paused scope = %v, reserved %v, %v; want about 5s, not reserved", w, reserved, err)
	}
}

func TestRateLimitedWindowPausesAll(t *testing.T) {
	s, _ := newOutboxStore(t)
	ctx := context.Background()
	for i, chat := range []int64{21, 22, 21, 23} {
		global, err := s.RateLimited(ctx, queue.Message{Method: queue.MethodSendMessage, ChatID: chat}, 2*time.Second, false)
		if err != nil {
			t.Fatal(err)
		}
		if want := i == 3; global != want {
			t.Errorf("RateLimited #%d (chat %d) global = %v, want %v", i+1, chat, global, want)
		}
	}
	if d, err := s.GlobalPause(ctx); err != nil || d < time.Second {
		t.Errorf("GlobalPause = %v, %v; want about 2s", d, err)
	}
	// A parked scope (retry_after over a minute) never counts towards the window.
	s2, _ := newOutboxStore(t)
	for _, chat := range []int64{31, 32, 33} {
		if global, _ := s2.RateLimited(ctx, queue.Message{ChatID: chat}, 2*time.Minute, true); global {
			t.Errorf("parked 429 of chat %d paused everything", chat)
		}
	}
}

func TestMigrations(t *testing.T) {
	s, _ := newOutboxStore(t)
	ctx := context.Background()
	if err := s.RecordMigration(ctx, -5, -1005); err != nil {
		t.Fatal(err)
	}
	got, err := s.Migrations(ctx)
	if err != nil || !cmp.Equal(got, map[int64]int64{-5: -1005}) {
		t.Errorf("Migrations = %v, %v; want -5 -> -1005", got, err)
	}
}

func redisZ(at time.Time, chat int64) redis.Z {
	return redis.Z{Score: float64(at.UnixMilli()), Member: chat}
}

func TestBadHeadIsDropped(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	const chat = 14
	key := chatKey(s.tag(0), kindOutbox, chat)
	s.rdb.RPush(ctx, key, "not json", `{"id":"x","chat":"wrong type"}`)
	queueOutbox(t, s, chat, queue.Message{ID: "ok", Method: queue.MethodSendMessage, ChatID: chat})
	for i := range 2 {
		if _, _, err := s.ClaimHead(ctx, l, chat, "t", ""); !errors.Is(err, ErrBadMessage) {
			t.Errorf("ClaimHead of bad head #%d = %v, want ErrBadMessage", i+1, err)
		}
	}
	if c, ok, err := s.ClaimHead(ctx, l, chat, "t", ""); !ok || err != nil || c.Message.ID != "ok" {
		t.Errorf("ClaimHead after bad heads = %+v, %v, %v; want message ok", c, ok, err)
	}
}

func TestClaimTakesOwnChatPacing(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	const chat, staff = 15, -200
	var msgs []queue.Message
	for _, id := range []string{"1", "2", "3", "4"} {
		msgs = append(msgs, queue.Message{ID: id, Method: queue.MethodSendMessage, ChatID: chat, Text: id})
	}
	msgs = append(msgs,
		queue.Message{ID: "relay", Method: queue.MethodSendMessage, ChatID: staff, Text: "to staff"},
		queue.Message{ID: "bulk", Method: queue.MethodSendMessage, ChatID: chat, Lane: queue.LaneBulk, Text: "notice"},
		queue.Message{ID: "answer", Method: queue.MethodAnswerCallbackQuery, ChatID: chat, CallbackID: "q"},
		queue.Message{ID: "inline", Method: queue.MethodAnswerInlineQuery, ChatID: chat, InlineQueryID: "iq"})
	queueOutbox(t, s, chat, msgs...)

	c, ok, err := s.ClaimHead(ctx, l, chat, "t1", "")
	if err != nil || !ok || !c.Paced || !c.Reserved || c.Wait != 0 {
		t.Fatalf("ClaimHead(1) = %+v, %v, %v; want paced, reserved, no wait", c, ok, err)
	}
	// Each completion claims the next head and takes its slot: burst 3, then 1/s.
	wantWait := []time.Duration{0, 0, time.Second}
	for i, w := range wantWait {
		next, ok, err := s.CompleteAndClaim(ctx, l, chat, c.Message, queue.Result{}, fmt.Sprint("t", i+2), "")
		if err != nil || !ok || next.Message.ID != msgs[i+1].ID || next.Attempt != 1 || !next.Paced {
			t.Fatalf("CompleteAndClaim(%s) = %+v, %v, %v; want %s claimed and paced", c.Message.ID, next, ok, err, msgs[i+1].ID)
		}
		if next.Wait < w-100*time.Millisecond || next.Wait > w+50*time.Millisecond {
			t.Errorf("claim of %s waits %v, want about %v", next.Message.ID, next.Wait, w)
		}
		c = next
	}
	// The fourth message was not sent (it must wait): claimed again with its slot held,
	// it must not take a second one.
	if err := s.Postpone(ctx, l, chat, c, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	again, _, err := s.ClaimHead(ctx, l, chat, "t5", "4")
	if err != nil || again.Message.ID != "4" || again.Paced {
		t.Errorf("ClaimHead with its slot reserved = %+v, %v; want message 4, not paced again", again, err)
	}
	// Relays, broadcasts and answers are paced by Take, not by the claim.
	for _, id := range []string{"relay", "bulk", "answer", "inline"} {
		next, ok, err := s.CompleteAndClaim(ctx, l, chat, again.Message, queue.Result{}, "t-"+id, "")
		if err != nil || !ok || next.Message.ID != id || next.Paced {
			t.Errorf("CompleteAndClaim before %s = %+v, %v, %v; want %s claimed, not paced", id, next, ok, err, id)
		}
		again = next
	}
	if _, ok, err := s.CompleteAndClaim(ctx, l, chat, again.Message, queue.Result{}, "t-end", ""); ok || err != nil {
		t.Errorf("CompleteAndClaim of the last message = %v, %v; want nothing left", ok, err)
	}
	if ready, _ := s.ReadyChats(ctx, 0, 10); len(ready) != 0 {
		t.Errorf("ReadyChats after draining = %v, want none", ready)
	}
}

func TestCompleteAndClaimReplay(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	const chat = 16
	a := queue.Message{ID: "a", Method: queue.MethodSendMessage, ChatID: chat, Text: "one", WantResult: true, Ref: "r"}
	queueOutbox(t, s, chat, a, queue.Message{ID: "b", Method: queue.MethodSendMessage, ChatID: chat, Text: "two"})
	if _, _, err := s.ClaimHead(ctx, l, chat, "t1", ""); err != nil {
		t.Fatal(err)
	}
	// go-redis may run the script twice: a must be popped and reported once, and b's
	// claim counted once.
	for i := range 2 {
		c, ok, err := s.CompleteAndClaim(ctx, l, chat, a, queue.Result{MessageRef: "r", ChatID: chat, MessageID: 9}, "t2", "")
		if err != nil || !ok || c.Message.ID != "b" || c.Attempt != 1 {
			t.Errorf("CompleteAndClaim #%d = %+v, %v, %v; want b, attempt 1", i+1, c, ok, err)
		}
	}
	if got := outboxIDs(t, s, chat); !cmp.Equal(got, []string{"b"}) {
		t.Errorf("outbox = %v, want [b]", got)
	}
	if n := len(results(t, s)); n != 1 {
		t.Errorf("%d results reported, want 1", n)
	}
}

// TestChatScope checks which messages count against a chat's pacing scope: every message
// the user sees appear (a document too), never an answer to a callback or inline query.
func TestChatScope(t *testing.T) {
	tests := []struct {
		m    queue.Message
		want string
	}{
		{queue.Message{Method: queue.MethodSendMessage, ChatID: 7}, ScopePrivate},
		{queue.Message{Method: queue.MethodEditMessageText, ChatID: -7}, ScopeGroup},
		{queue.Message{Method: queue.MethodSendDocument, ChatID: 7}, ScopePrivate},
		{queue.Message{Method: queue.MethodSendDocument, ChatID: -7}, ScopeGroup},
		{queue.Message{Method: queue.MethodAnswerCallbackQuery, ChatID: 7}, ""},
		{queue.Message{Method: queue.MethodAnswerInlineQuery, ChatID: 7}, ""},
		{queue.Message{Method: queue.MethodCopyMessage, ChatID: -7}, ScopeGroup},
		{queue.Message{Method: queue.MethodCopyMessages, ChatID: 7}, ScopePrivate},
		{queue.Message{Method: queue.MethodCreateForumTopic, ChatID: -7}, ScopeGroup},
		{queue.Message{Method: queue.MethodDeleteForumTopic, ChatID: -7}, ""},
		{queue.Message{Method: queue.MethodDeliver, ChatID: -7}, ""},
	}
	for _, tt := range tests {
		if got := ChatScope(tt.m); got != tt.want {
			t.Errorf("ChatScope(%s to %d) = %q, want %q", tt.m.Method, tt.m.ChatID, got, tt.want)
		}
	}
}

// TestClaimPacesLikeChatScope checks that the claim script, which paces a head addressed
// to the outbox's own chat, agrees with ChatScope on every method.
func TestClaimPacesLikeChatScope(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	methods := []string{
		queue.MethodSendMessage, queue.MethodEditMessageText, queue.MethodAnswerCallbackQuery, queue.MethodDeleteMessage,
		queue.MethodSendChatAction, queue.MethodSendDocument, queue.MethodAnswerInlineQuery, queue.MethodCopyMessage,
		queue.MethodCopyMessages, queue.MethodCreateForumTopic, queue.MethodDeleteForumTopic, queue.MethodDeliver,
	}
	for i, method := range methods {
		chat := int64(-300 - i)
		m := queue.Message{ID: "1", Method: method, ChatID: chat}
		queueOutbox(t, s, chat, m)
		c, ok, err := s.ClaimHead(ctx, l, chat, "t", "")
		if err != nil || !ok {
			t.Fatalf("ClaimHead(%s) = %v, %v", method, ok, err)
		}
		if want := ChatScope(m) != ""; c.Paced != want {
			t.Errorf("claim of %s paced = %v, want %v as ChatScope says", method, c.Paced, want)
		}
	}
}

// copies is a copyMessages entry of a ticket: a user's message ids copied into the staff
// group's topic.
func copies(id string, ids ...int) queue.Message {
	return queue.Message{ID: id, Method: queue.MethodCopyMessages, ChatID: staffGroup, ThreadID: 77,
		FromChatID: largestUser, MessageIDs: ids, Ref: "ticket:7"}
}

// staffGroup is a supergroup id of the real shape; largestUser is the largest user id the
// Bot API allows (52 bits): 16 digits, more than the 14 cjson keeps when it encodes a number.
const (
	staffGroup  = -1001234567890
	largestUser = 1<<52 - 1
)

// embeddedOutboxStore is newOutboxStore on miniredis, the engine of the default mode.
func embeddedOutboxStore(t *testing.T) (*Store, Lease) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	s := New(rdb, rdb, "emb", 1)
	l, ok, err := s.Acquire(context.Background(), 0, "r1", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	return s, l
}

func TestClaimMergesCopies(t *testing.T) {
	for name, open := range map[string]func(*testing.T) (*Store, Lease){"redis": newOutboxStore, "embedded": embeddedOutboxStore} {
		t.Run(name, func(t *testing.T) {
			s, l := open(t)
			ctx := context.Background()
			const user = 4242
			second := copies("b", 12, 13)
			second.WantResult = true
			reply := queue.Message{ID: "r", Method: queue.MethodSendMessage, ChatID: user, Text: "Sent to staff",
				Inline: [][]queue.Button{{{Text: "Close", Data: "close:7"}}}}
			queueOutbox(t, s, user, copies("a", 11), second, copies("c", 12, 14), reply, copies("d", 15))

			c, ok, err := s.ClaimHead(ctx, l, user, "t1", "")
			if err != nil || !ok {
				t.Fatalf("ClaimHead = %v, %v", ok, err)
			}
			want := copies("a", 11, 12, 13, 14)
			want.WantResult = true
			if diff := cmp.Diff(want, c.Message); diff != "" {
				t.Errorf("claimed head (-want +got):\n%s", diff)
			}
			if got := outboxIDs(t, s, user); !cmp.Equal(got, []string{"a", "r", "d"}) {
				t.Errorf("outbox after the claim = %v, want [a r d]: the burst merged into a, the rest untouched", got)
			}
			queued, err := s.Outbox(ctx, 0, user)
			if err != nil || len(queued) != 3 || !cmp.Equal(queued[0], want) || !cmp.Equal(queued[1], reply) {
				t.Errorf("Outbox = %+v, %v; want the merged head stored, then the reply as queued", queued, err)
			}

			// Claimed again after a crash, the head is the merged entry, and it no longer grows:
			// a copy queued meanwhile may not ride on an attempt that may have happened.
			const other = 4343
			queueOutbox(t, s, other, copies("x", 21), copies("y", 22))
			first, _, err := s.ClaimHead(ctx, l, other, "t2", "")
			if err != nil || !cmp.Equal(first.Message.MessageIDs, []int{21, 22}) {
				t.Fatalf("ClaimHead(other) = %+v, %v; want ids 21 and 22", first, err)
			}
			queueOutbox(t, s, other, copies("z", 23))
			again, _, err := s.ClaimHead(ctx, l, other, "t3", "")
			if err != nil || again.Attempt != 2 || !cmp.Equal(again.Message, first.Message) {
				t.Errorf("ClaimHead after a crash = %+v, %v; want %+v, attempt 2", again, err, first.Message)
			}
			if got := outboxIDs(t, s, other); !cmp.Equal(got, []string{"x", "z"}) {
				t.Errorf("outbox after claiming again = %v, want [x z]", got)
			}
		})
	}
}

func TestClaimMergesOnlyTheSameCopies(t *testing.T) {
	head := make([]int, queue.MaxCopy-1)
	for i := range head {
		head[i] = i + 1
	}
	const b, c = queue.MaxCopy + 10, queue.MaxCopy + 11
	separate := []string{"a", "b", "c"}
	tests := []struct {
		name       string
		change     func(*queue.Message)
		wantIDs    []int
		wantOutbox []string
	}{
		{"the same ticket", func(*queue.Message) {}, append(slices.Clone(head), b), []string{"a", "c"}},
		// An id copied already adds nothing, so c fits.
		{"an id already copied", func(m *queue.Message) { m.MessageIDs = []int{1} }, append(slices.Clone(head), c), []string{"a"}},
		{"over the cap", func(m *queue.Message) { m.MessageIDs = []int{b, b + 1} }, head, separate},
		{"another thread", func(m *queue.Message) { m.ThreadID = 78 }, head, separate},
		{"no thread", func(m *queue.Message) { m.ThreadID = 0 }, head, separate},
		{"another ticket", func(m *queue.Message) { m.Ref = "ticket:8" }, head, separate},
		{"another origin", func(m *queue.Message) { m.FromChatID = 43 }, head, separate},
		{"another target", func(m *queue.Message) { m.ChatID = staffGroup - 1 }, head, separate},
		{"the bulk lane", func(m *queue.Message) { m.Lane = queue.LaneBulk }, head, separate},
		{"a single copy", func(m *queue.Message) { m.Method = queue.MethodCopyMessage }, head, separate},
		// A field the merge would not write back keeps the entry apart.
		{"a caption", func(m *queue.Message) { m.Text = "caption" }, head, separate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l := newOutboxStore(t)
			const user = 4242
			next := copies("b", b)
			tt.change(&next)
			queueOutbox(t, s, user, copies("a", head...), next, copies("c", c))
			claimed, _, err := s.ClaimHead(context.Background(), l, user, "t1", "")
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(claimed.Message.MessageIDs, tt.wantIDs) {
				t.Errorf("claimed ids = %v, want %v", claimed.Message.MessageIDs, tt.wantIDs)
			}
			if got := outboxIDs(t, s, user); !cmp.Equal(got, tt.wantOutbox) {
				t.Errorf("outbox after the claim = %v, want %v", got, tt.wantOutbox)
			}
		})
	}
}

// TestCommitAndClaim checks the commit that claims the chat's first reply: the claim is the
// one ClaimHead would make (merged copies aside), a commit without a token or without
// messages claims nothing, a retried commit claims nothing and the caller's claim with the
// same token is not counted as a second attempt, and a stale lease writes nothing.
func TestCommitAndClaim(t *testing.T) {
	s, l := newOutboxStore(t)
	ctx := context.Background()
	const chat = 21
	if err := s.EnsureGroup(ctx, 0); err != nil {
		t.Fatal(err)
	}
	read := func(id int64) queue.Update {
		t.Helper()
		if _, err := s.Append(ctx, queue.Update{UpdateID: id, ChatID: chat, Raw: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		us, err := s.Read(ctx, l, 10, 10*time.Millisecond, "")
		if err != nil || len(us) != 1 {
			t.Fatalf("Read = %v, %v", us, err)
		}
		return us[0]
	}
	a := queue.Message{ID: "a", Method: queue.MethodSendMessage, ChatID: chat, Text: "one"}
	b := queue.Message{ID: "b", Method: queue.MethodSendMessage, ChatID: chat, Text: "two"}

	u := read(1)
	if hc, err := s.CommitAndClaim(ctx, l, u, queue.Effects{}, "t0", ""); err != nil || hc.Made {
		t.Fatalf("commit without messages = %+v, %v; want no claim", hc, err)
	}
	u = read(2)
	hc, err := s.CommitAndClaim(ctx, l, u, queue.Effects{Outbox: []queue.Message{a, b}}, "t1", "")
	if err != nil || !hc.Made || !hc.OK || hc.Err != nil {
		t.Fatalf("CommitAndClaim = %+v, %v; want a claim", hc, err)
	}
	if c := hc.Claim; c.Message.ID != "a" || c.Message.Text != "one" || c.Attempt != 1 || c.Token != "t1" || !c.Paced || c.Wait != 0 || !c.Reserved {
		t.Errorf("claim = %+v; want a, attempt 1, paced now under t1", c)
	}
	// The answer was lost and the script retried: the entry is no longer pending, nothing
	// is claimed, and the sender's own claim with the same token is still attempt 1.
	if hc, err := s.CommitAndClaim(ctx, l, u, queue.Effects{Outbox: []queue.Message{a, b}}, "t1", ""); err != nil || hc.Made {
		t.Fatalf("retried CommitAndClaim = %+v, %v; want no claim", hc, err)
	}
	if got := outboxIDs(t, s, chat); !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("outbox = %v, want [a b] (queued once)", got)
	}
	if c, ok, err := s.ClaimHead(ctx, l, chat, "t1", "a"); err != nil || !ok || c.Message.ID != "a" || c.Attempt != 1 {
		t.Errorf("ClaimHead with the commit's token = %+v, %v, %v; want a, attempt 1", c, ok, err)
	}
	if c, ok, err := s.ClaimHead(ctx, l, chat, "t2", "a"); err != nil || !ok || c.Attempt != 2 {
		t.Errorf("ClaimHead with another token = %+v, %v, %v; want attempt 2 (it may have been sent)", c, ok, err)
	}

	// A commit whose copies merge at the head hands over the merged entry, not the first
	// entry it queued.
	const group = 22
	u2 := queue.Update{UpdateID: 4, ChatID: group, Raw: []byte(`{}`)}
	if _, err := s.Append(ctx, u2); err != nil {
		t.Fatal(err)
	}
	us, err := s.Read(ctx, l, 10, 10*time.Millisecond, "")
	if err != nil || len(us) != 1 {
		t.Fatalf("Read = %v, %v", us, err)
	}
	first, second := copies("x", 11), copies("y", 12)
	first.ChatID, second.ChatID = group, group
	hc, err = s.CommitAndClaim(ctx, l, us[0], queue.Effects{Outbox: []queue.Message{first, second}}, "t4", "")
	want := copies("x", 11, 12)
	want.ChatID = group
	if err != nil || !hc.OK || !cmp.Equal(hc.Claim.Message, want) {
		t.Errorf("claim of merged copies = %+v, %v; want %+v", hc.Claim.Message, err, want)
	}

	// A stale lease commits and claims nothing.
	u = read(3)
	stale := l
	stale.Epoch--
	if _, err := s.CommitAndClaim(ctx, stale, u, queue.Effects{Outbox: []queue.Message{{ID: "c", Method: queue.MethodSendMessage, ChatID: chat, Text: "3"}}}, "t3", ""); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("stale CommitAndClaim err = %v, want ErrLeaseLost", err)
	}
	if got := outboxIDs(t, s, chat); !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("outbox after a stale commit = %v, want [a b]", got)
	}
}
