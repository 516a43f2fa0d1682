package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/outbox"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/tgapi"
)

type env struct {
	st    *store.Store
	l     store.Lease
	fake  *telegramtest.Server
	snd   *outbox.Sender
	uid   int64
	other []queue.Update // stream entries read while enqueuing (results)
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// setup runs a Sender over a real Redis and the fake Bot API; apiURL overrides the URL the
// client uses (for a server that is down at first).
func setup(t *testing.T, apiURL string) *env {
	t.Helper()
	return setupShards(t, apiURL, 1)
}

// setupShards is setup with a store of several shards, of which the Sender holds shard 0.
func setupShards(t *testing.T, apiURL string, shards int) *env {
	t.Helper()
	return setupWrapped(t, apiURL, shards, nil)
}

// setupWrapped is setupShards with the Sender's store wrapped by wrap, when given.
func setupWrapped(t *testing.T, apiURL string, shards int, wrap func(*store.Store) outbox.Store) *env {
	t.Helper()
	ctx := context.Background()
	rdb := redistest.Single(t).Client()
	st := store.New(rdb, rdb, redistest.Prefix(t), shards)
	if err := st.EnsureGroup(ctx, 0); err != nil {
		t.Fatal(err)
	}
	l, _, err := st.Acquire(ctx, 0, "r1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fake := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(fake.Close)
	if apiURL == "" {
		apiURL = fake.URL()
	}
	client, err := tgapi.New("1:T", apiURL, tgapi.WithSendTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var sst outbox.Store = st
	if wrap != nil {
		sst = wrap(st)
	}
	snd := outbox.New(outbox.Options{Store: sst, API: client, Workers: 8,
		Logger: slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- snd.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	snd.AddShard(l)
	return &env{st: st, l: l, fake: fake, snd: snd}
}

// enqueue commits msgs as the effects of a new update of chat, as the worker does.
func (e *env) enqueue(t *testing.T, chat int64, msgs ...queue.Message) {
	t.Helper()
	ctx := context.Background()
	e.uid++
	if _, err := e.st.Append(ctx, queue.Update{UpdateID: e.uid, Kind: queue.KindTelegram, ChatID: chat, Raw: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	us, err := e.st.Read(ctx, e.l, 100, time.Millisecond, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.UpdateID != e.uid {
			e.other = append(e.other, u)
			continue
		}
		if err := e.st.Commit(ctx, e.l, u, queue.Effects{Outbox: msgs}); err != nil {
			t.Fatal(err)
		}
	}
	e.snd.Notify(0, chat)
}

func text(id string, chat int64, s string) queue.Message {
	return queue.Message{ID: id, Method: queue.MethodSendMessage, ChatID: chat, Text: s}
}

// document is a CSV export sent to chat.
func document(id string, chat int64) queue.Message {
	return queue.Message{ID: id, Method: queue.MethodSendDocument, ChatID: chat,
		Document: []byte("date,name\n2026-11-01,Somchai\n"), FileName: "checkins-2026-11-01_2026-11-30.csv",
		Text: "<b>Check-ins</b>, November", ParseMode: "HTML"}
}

// sends returns the recorded sendMessage calls to chat.
func sends(fake *telegramtest.Server, chat int64) []telegramtest.Call {
	var out []telegramtest.Call
	for _, c := range fake.CallsFor("sendMessage") {
		if c.ChatID == chat {
			out = append(out, c)
		}
	}
	return out
}

// waitSends waits until chat has n sendMessage calls recorded.
func waitSends(t *testing.T, fake *telegramtest.Server, chat int64, n int, within time.Duration) []telegramtest.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	err := fake.WaitFor(ctx, func([]telegramtest.Call) bool { return len(sends(fake, chat)) >= n })
	got := sends(fake, chat)
	if err != nil {
		t.Fatalf("chat %d got %d sendMessage calls within %v, want %d", chat, len(got), within, n)
	}
	return got
}

func ok(calls []telegramtest.Call) []telegramtest.Call {
	var out []telegramtest.Call
	for _, c := range calls {
		if c.Status == http.StatusOK {
			out = append(out, c)
		}
	}
	return out
}

// results reads the shard stream until n results of chat's outbox were fed back or within
// has passed, and returns them by reference.
func (e *env) results(t *testing.T, chat int64, n int, within time.Duration) map[string]queue.Result {
	t.Helper()
	got := map[string]queue.Result{}
	deadline := time.Now().Add(within)
	for len(got) < n && time.Now().Before(deadline) {
		us, err := e.st.Read(context.Background(), e.l, 10, 100*time.Millisecond, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range append(e.other, us...) {
			if u.Kind != queue.KindResult {
				continue
			}
			if u.ChatID != chat {
				t.Errorf("result entry chat = %d, want %d", u.ChatID, chat)
			}
			var r queue.Result
			if err := json.Unmarshal(u.Raw, &r); err != nil {
				t.Fatal(err)
			}
			got[r.MessageRef] = r
		}
		e.other = nil
	}
	return got
}

// settle waits until no chat of the shard has queued messages.
func (e *env) settle(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		r, err := e.st.ReadyChats(context.Background(), 0, 1)
		if err == nil && len(r) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("outboxes not drained within %v", within)
}

func TestRateLimitPausesOnlyItsChat(t *testing.T) {
	e := setup(t, "")
	const a, b = 101, 102
	e.fake.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: a, Code: 429, RetryAfter: 2, Times: 1})
	e.enqueue(t, a, text("a1", a, "hi a"))
	first := waitSends(t, e.fake, a, 1, 5*time.Second)[0]

	e.enqueue(t, b, text("b1", b, "hi b"))
	got := waitSends(t, e.fake, b, 1, 5*time.Second)[0]
	if d := got.Time.Sub(first.Time); d > time.Second {
		t.Errorf("chat %d answered %v after chat %d's 429, want well within its 2s pause", b, d, a)
	}
	again := ok(waitSends(t, e.fake, a, 2, 10*time.Second))
	if len(again) != 1 {
		t.Fatalf("chat %d sent %d times after its 429, want once", a, len(again))
	}
	if d := again[0].Time.Sub(first.Time); d < 1900*time.Millisecond {
		t.Errorf("chat %d re-sent %v after a 429 with retry_after 2, want ≥ 2s", a, d)
	}
}

func TestRateLimitFromThreeChatsPausesAll(t *testing.T) {
	e := setup(t, "")
	chats := []int64{201, 202, 203}
	for _, c := range chats {
		e.fake.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: c, Code: 429, RetryAfter: 3, Times: 1})
	}
	for _, c := range chats {
		e.enqueue(t, c, text("m", c, "hi"))
	}
	var last time.Time
	for _, c := range chats {
		if at := waitSends(t, e.fake, c, 1, 5*time.Second)[0].Time; at.After(last) {
			last = at
		}
	}
	time.Sleep(200 * time.Millisecond) // let the sender record the third 429
	const d = 204
	e.enqueue(t, d, text("m", d, "hi"))
	got := ok(waitSends(t, e.fake, d, 1, 10*time.Second))
	if len(got) != 1 {
		t.Fatalf("chat %d calls = %d OK, want 1", d, len(got))
	}
	if wait := got[0].Time.Sub(last); wait < 2500*time.Millisecond {
		t.Errorf("chat %d sent %v after 429s from 3 chats with retry_after 3, want all sending paused ~3s", d, wait)
	}
}

func TestForbiddenMarksUnreachableAndDropsQueue(t *testing.T) {
	e := setup(t, "")
	const a, staff = 301, 302
	e.fake.SetBlocked(a, true)
	e.enqueue(t, a, text("1", a, "one"), text("2", staff, "relay"), text("3", a, "three"))
	e.settle(t, 5*time.Second)
	if n := len(sends(e.fake, a)); n != 1 {
		t.Errorf("blocked chat got %d sendMessage calls, want 1 (the rest dropped)", n)
	}
	if n := len(ok(sends(e.fake, staff))); n != 1 {
		t.Errorf("message to another chat sent %d times, want 1", n)
	}
	st, err := e.st.Load(context.Background(), 0, a)
	if err != nil || !st.Unreachable {
		t.Errorf("Load(%d).Unreachable = %v, %v; want true", a, st.Unreachable, err)
	}
}

func TestAmbiguousReplySentAtMostTwice(t *testing.T) {
	e := setup(t, "")
	const reply, bulk = 401, 402
	e.fake.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: reply, Code: 502})
	e.fake.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: bulk, Drop: true})
	e.enqueue(t, reply, text("r", reply, "answer"))
	b := text("b", bulk, "notice")
	b.Lane = queue.LaneBulk
	e.enqueue(t, bulk, b)
	e.settle(t, 10*time.Second)
	if n := len(sends(e.fake, reply)); n != 2 {
		t.Errorf("reply with ambiguous answers sent %d times, want 2 (re-sent once)", n)
	}
	if n := len(sends(e.fake, bulk)); n != 1 {
		t.Errorf("broadcast with an ambiguous answer sent %d times, want 1", n)
	}
}

func TestAmbiguousDocumentSentAtMostTwice(t *testing.T) {
	e := setup(t, "")
	const admin = 403
	e.fake.Inject(telegramtest.Fault{Method: "sendDocument", ChatID: admin, Code: 502})
	e.enqueue(t, admin, document("d", admin))
	e.settle(t, 10*time.Second)
	if n := len(e.fake.CallsFor("sendDocument")); n != 2 {
		t.Errorf("document with ambiguous answers sent %d times, want 2 (re-sent once)", n)
	}
}

func TestDialErrorRetriedWithoutCounting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e := setup(t, "http://"+addr)
	const c = 501
	m := text("b", c, "notice")
	m.Lane = queue.LaneBulk // a bulk message would be dropped if a dial error counted as sent
	e.enqueue(t, c, m)
	time.Sleep(1200 * time.Millisecond) // a few refused dials
	if ln, err = net.Listen("tcp", addr); err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	srv := &http.Server{Handler: e.fake}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	waitSends(t, e.fake, c, 1, 10*time.Second)
	e.settle(t, 5*time.Second)
	if n := len(ok(sends(e.fake, c))); n != 1 {
		t.Errorf("message sent %d times once the server is up, want 1", n)
	}
}

func TestSlowChatDoesNotDelayOthers(t *testing.T) {
	e := setup(t, "")
	const slow, fast = 601, 602
	e.fake.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: slow, Delay: 3 * time.Second, Times: 1})
	start := time.Now()
	e.enqueue(t, slow, text("s", slow, "slow"))
	time.Sleep(50 * time.Millisecond)
	for i := range 3 {
		e.enqueue(t, fast, text(fmt.Sprint(i), fast, "fast"))
	}
	waitSends(t, e.fake, fast, 3, 5*time.Second)
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("fast chat's 3 messages took %v behind a chat delayed 3s", d)
	}
}

func TestPrivateChatPacing(t *testing.T) {
	e := setup(t, "")
	const c = 701
	var msgs []queue.Message
	for i := range 5 {
		msgs = append(msgs, text(fmt.Sprint(i), c, fmt.Sprint("m", i)))
	}
	e.enqueue(t, c, msgs...)
	got := waitSends(t, e.fake, c, 5, 10*time.Second)
	t0 := got[0].Time
	for i, call := range got {
		want := time.Duration(max(i-2, 0)) * time.Second
		d := call.Time.Sub(t0)
		if d < want-150*time.Millisecond || d > want+900*time.Millisecond {
			t.Errorf("message %d sent at +%v, want about +%v (burst 3, then 1/s)", i, d, want)
		}
		if call.Params["text"] != fmt.Sprint("m", i) {
			t.Errorf("message %d text = %q, want m%d (order)", i, call.Params["text"], i)
		}
	}
}

func TestResultsFedBack(t *testing.T) {
	e := setup(t, "")
	const c = 801
	m := text("1", c, "ticket #1 opened")
	m.WantResult, m.Ref = true, "ticket:1"
	e.enqueue(t, c, m)
	call := waitSends(t, e.fake, c, 1, 5*time.Second)[0]
	var sent struct {
		MessageID int `json:"message_id"`
	}
	if err := call.Decode(&sent); err != nil {
		t.Fatal(err)
	}
	// An edit that changes nothing is a success too.
	edit := queue.Message{ID: "2", Method: queue.MethodEditMessageText, ChatID: c, MessageID: sent.MessageID,
		Text: "ticket #1 opened", WantResult: true, Ref: "edit:1"}
	e.enqueue(t, c, edit)

	want := map[string]queue.Result{
		"ticket:1": {MessageRef: "ticket:1", ChatID: c, MessageID: sent.MessageID},
		"edit:1":   {MessageRef: "edit:1", ChatID: c, MessageID: sent.MessageID},
	}
	got := e.results(t, c, len(want), 5*time.Second)
	for ref, w := range want {
		if !cmp.Equal(got[ref], w) {
			t.Errorf("result %s = %+v, want %+v", ref, got[ref], w)
		}
	}
	if edits := e.fake.CallsFor("editMessageText"); len(edits) != 1 || edits[0].Status != http.StatusBadRequest {
		t.Errorf("editMessageText calls = %+v, want one answered 400 message is not modified", edits)
	}
}

// TestPacingHoldsAcrossNotifies commits a chat's messages one update at a time: a
// notification must not start a chat that waits for its pacing slot.
func TestPacingHoldsAcrossNotifies(t *testing.T) {
	e := setup(t, "")
	const c = 702
	for i := range 5 {
		e.enqueue(t, c, text(fmt.Sprint(i), c, fmt.Sprint("m", i)))
		time.Sleep(100 * time.Millisecond)
	}
	got := waitSends(t, e.fake, c, 5, 10*time.Second)
	t0 := got[0].Time
	for i, call := range got {
		want := time.Duration(max(i-2, 0)) * time.Second
		if d := call.Time.Sub(t0); d < want-150*time.Millisecond {
			t.Errorf("message %d sent at +%v, want not before +%v (burst 3, then 1/s)", i, d, want)
		}
		if call.Params["text"] != fmt.Sprint("m", i) {
			t.Errorf("message %d text = %q, want m%d (order)", i, call.Params["text"], i)
		}
	}
}

func TestDocumentDeliveredWithResult(t *testing.T) {
	e := setup(t, "")
	const admin = 802
	m := document("1", admin)
	m.Inline = [][]queue.Button{{{Text: "Export again", Data: "export"}}}
	m.WantResult, m.Ref = true, "export:1"
	e.enqueue(t, admin, m)
	calls, err := e.fake.Wait(context.Background(), "sendDocument", 1)
	if err != nil {
		t.Fatalf("sendDocument calls = %+v, %v; want one", calls, err)
	}
	call := calls[0]
	if f := call.Files["document"]; call.ChatID != admin || f.Name != m.FileName || string(f.Data) != string(m.Document) {
		t.Errorf("sendDocument to %d uploaded %q %q, want %d, %q %q", call.ChatID, f.Name, f.Data, admin, m.FileName, m.Document)
	}
	var sent struct {
		MessageID int    `json:"message_id"`
		Caption   string `json:"caption"`
	}
	if err := call.Decode(&sent); err != nil {
		t.Fatal(err)
	}
	if sent.Caption != "Check-ins, November" {
		t.Errorf("sent caption = %q, want the HTML caption parsed", sent.Caption)
	}
	want := map[string]queue.Result{"export:1": {MessageRef: "export:1", ChatID: admin, MessageID: sent.MessageID}}
	if got := e.results(t, admin, 1, 5*time.Second); !cmp.Equal(got, want) {
		t.Errorf("results fed back = %+v, want %+v", got, want)
	}
}

// inlineAnswer answers the inline query q of user, queued under the user's id.
func inlineAnswer(id string, user int64, q string) queue.Message {
	return queue.Message{ID: id, Method: queue.MethodAnswerInlineQuery, ChatID: user, InlineQueryID: q, ParseMode: "HTML",
		Results: []queue.InlineResult{{ID: "p1", Title: "社保", Text: "<b>社保</b>: bring your ID card"}}}
}

// TestInlineAnswerForbiddenKeepsChat: inline mode works for users who never started the
// bot, so a 403 to an inline answer drops only the answer and marks nobody unreachable.
func TestInlineAnswerForbiddenKeepsChat(t *testing.T) {
	e := setup(t, "")
	const user = 901
	e.fake.Inject(telegramtest.Fault{Method: "answerInlineQuery", Code: http.StatusForbidden, Times: 1})
	q, _ := e.fake.InlineQuery(user, "社保", time.Time{})
	a := inlineAnswer("a", user, q)
	a.WantResult, a.Ref = true, "inline:1"
	e.enqueue(t, user, a, text("t", user, "after"))
	if got := ok(waitSends(t, e.fake, user, 1, 5*time.Second)); len(got) != 1 {
		t.Errorf("message after a refused inline answer sent %d times OK, want 1", len(got))
	}
	want := map[string]queue.Result{"inline:1": {MessageRef: "inline:1", ChatID: user, Error: "forbidden", Detail: "Forbidden: bot was blocked by the user"}}
	if got := e.results(t, user, 1, 5*time.Second); !cmp.Equal(got, want) {
		t.Errorf("results fed back = %+v, want %+v", got, want)
	}
	if n := len(e.fake.CallsFor("answerInlineQuery")); n != 1 {
		t.Errorf("answerInlineQuery calls = %d, want 1 (a 403 is not retried)", n)
	}
	st, err := e.st.Load(context.Background(), 0, user)
	if err != nil || st.Unreachable {
		t.Errorf("Load(%d).Unreachable = %v, %v; want false after a refused inline answer", user, st.Unreachable, err)
	}
}

// TestInlineAnswersNotPaced: an inline answer leaves at once even when the user's chat has
// used its burst, since a query is answerable for seconds only.
func TestInlineAnswersNotPaced(t *testing.T) {
	e := setup(t, "")
	const user = 902
	var msgs []queue.Message
	for i := range 3 {
		msgs = append(msgs, text(fmt.Sprint("t", i), user, fmt.Sprint("m", i)))
	}
	for i := range 3 {
		q, _ := e.fake.InlineQuery(user, fmt.Sprint("q", i), time.Time{})
		msgs = append(msgs, inlineAnswer(fmt.Sprint("a", i), user, q))
	}
	e.enqueue(t, user, msgs...)
	first := waitSends(t, e.fake, user, 1, 5*time.Second)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	answers, err := e.fake.Wait(ctx, "answerInlineQuery", 3)
	if err != nil {
		t.Fatalf("answerInlineQuery calls answered OK = %d, want 3: %v", len(answers), err)
	}
	for i, a := range answers {
		if d := a.Time.Sub(first.Time); d > 600*time.Millisecond {
			t.Errorf("inline answer %d sent %v after the chat's burst of 3, want at once (never paced)", i, d)
		}
	}
}

// TestAmbiguousInlineAnswerRetried: an inline answer is safe to repeat (Telegram takes
// one answer per query), so an ambiguous one is retried beyond a reply's single re-send.
func TestAmbiguousInlineAnswerRetried(t *testing.T) {
	e := setup(t, "")
	const user = 903
	e.fake.Inject(telegramtest.Fault{Method: "answerInlineQuery", Code: http.StatusBadGateway, Times: 2})
	q, _ := e.fake.InlineQuery(user, "社保", time.Time{})
	e.enqueue(t, user, inlineAnswer("a", user, q))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	answered, err := e.fake.Wait(ctx, "answerInlineQuery", 1)
	if err != nil {
		t.Fatalf("inline answer after two 502s: %v (calls %d), want it answered on the third attempt",
			err, len(e.fake.CallsFor("answerInlineQuery")))
	}
	if n := len(e.fake.CallsFor("answerInlineQuery")); n != 3 {
		t.Errorf("answerInlineQuery calls = %d, want 3", n)
	}
	var results []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := answered[0].DecodeParam("results", &results); err != nil || len(results) != 1 || results[0].ID != "p1" || results[0].Title != "社保" {
		t.Errorf("answered results = %+v, %v; want the article p1 社保", results, err)
	}
}

// chatOn returns the first chat id from from on, counting away from zero, that falls on
// shard.
func chatOn(shards, shard int, from int64) int64 {
	step := int64(1)
	if from < 0 {
		step = -1
	}
	for c := from; ; c += step {
		if queue.Shard(c, shards) == shard {
			return c
		}
	}
}

// TestDeliverAppendsEvents: deliveries from a user's outbox end as events of the staff
// group, in the group's shard, numbered by their counter; the user's next message follows.
func TestDeliverAppendsEvents(t *testing.T) {
	e := setupShards(t, "", 2)
	ctx := context.Background()
	user, staff := chatOn(2, 0, 1001), chatOn(2, 1, -1001234567890)
	deliver := func(id string, body string) queue.Message {
		return queue.Message{ID: id, Method: queue.MethodDeliver, ChatID: staff, Counter: "ticket", Body: json.RawMessage(body)}
	}
	first := deliver("d1", `{"open":"bike stolen"}`)
	first.WantResult, first.Ref = true, "ticket:open"
	e.enqueue(t, user, first, deliver("d2", `{"open":"lost card"}`), text("t", user, "Your request was sent"))
	waitSends(t, e.fake, user, 1, 5*time.Second)

	want := map[string]queue.Result{"ticket:open": {MessageRef: "ticket:open", ChatID: staff}}
	if got := e.results(t, user, 1, 5*time.Second); !cmp.Equal(got, want) {
		t.Errorf("results fed back = %+v, want %+v", got, want)
	}
	l, ok, err := e.st.Acquire(ctx, 1, "r2", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire(1) = %v, %v", ok, err)
	}
	if err := e.st.EnsureGroup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	us, err := e.st.Read(ctx, l, 10, time.Second, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []queue.Event
	for _, u := range us {
		if u.Kind != queue.KindEvent || u.ChatID != staff {
			t.Errorf("staff shard entry = %+v, want an event of chat %d", u, staff)
			continue
		}
		var ev queue.Event
		if err := json.Unmarshal(u.Raw, &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	wantEvents := []queue.Event{
		{From: user, Seq: 1, Body: json.RawMessage(`{"open":"bike stolen"}`)},
		{From: user, Seq: 2, Body: json.RawMessage(`{"open":"lost card"}`)},
	}
	if diff := cmp.Diff(wantEvents, got); diff != "" {
		t.Errorf("events on the staff shard (-want +got):\n%s", diff)
	}
	if calls := e.fake.Calls(); len(calls) != 1 {
		t.Errorf("Bot API calls = %d, want only the user's message (a delivery is no call)", len(calls))
	}
}

// TestTicketTopic opens a topic, copies a burst of a user's messages into it in one call,
// and reports why a message to the topic failed once staff deleted it.
func TestTicketTopic(t *testing.T) {
	e := setup(t, "")
	const user, staff = 1002, -1001234567890
	e.fake.AddChat(telegramtest.Chat{ID: staff, Title: "Staff", IsForum: true, CanManageTopics: true})
	var originals []int
	for _, content := range []string{`"text":"my bike"`, `"photo":[{"file_id":"p","file_unique_id":"u","width":9,"height":9}]`, `"voice":{"file_id":"v","file_unique_id":"w","duration":2}`} {
		id := e.fake.NewMessageID(user)
		if _, err := e.fake.PushUpdate(fmt.Appendf(nil, `{"message":{"message_id":%d,"date":1,"chat":{"id":%d,"type":"private"},%s}}`, id, user, content)); err != nil {
			t.Fatal(err)
		}
		originals = append(originals, id)
	}

	e.enqueue(t, user, queue.Message{ID: "topic", Method: queue.MethodCreateForumTopic, ChatID: staff, Name: "#7 bike", WantResult: true, Ref: "topic:7"})
	topic := e.results(t, user, 1, 5*time.Second)["topic:7"]
	if name := e.fake.Topics(staff)[topic.ThreadID]; topic.ThreadID == 0 || name != "#7 bike" || topic.Error != "" {
		t.Fatalf("createForumTopic result = %+v (topic %q), want the new topic #7 bike", topic, name)
	}

	copyOf := func(id string, ids ...int) queue.Message {
		return queue.Message{ID: id, Method: queue.MethodCopyMessages, ChatID: staff, ThreadID: topic.ThreadID, FromChatID: user,
			MessageIDs: ids, WantResult: true, Ref: "copy:7"}
	}
	e.enqueue(t, user, copyOf("c1", originals[0]), copyOf("c2", originals[1]), copyOf("c3", originals[2]), text("t", user, "Sent to staff"))
	waitSends(t, e.fake, user, 1, 5*time.Second)
	calls := e.fake.CallsFor("copyMessages")
	if len(calls) != 1 || calls[0].Params["message_ids"] != fmt.Sprintf("[%d,%d,%d]", originals[0], originals[1], originals[2]) {
		t.Fatalf("copyMessages calls = %+v, want one copying %v", calls, originals)
	}
	var copies []int
	for _, m := range e.fake.Messages(staff) {
		if m.Thread == topic.ThreadID && m.CopyOf.ChatID == user {
			copies = append(copies, m.ID)
		}
	}
	want := queue.Result{MessageRef: "copy:7", ChatID: staff, ThreadID: topic.ThreadID, MessageIDs: copies}
	if got := e.results(t, user, 1, 5*time.Second)["copy:7"]; len(copies) != 3 || !cmp.Equal(got, want) {
		t.Errorf("copyMessages result = %+v, want %+v", got, want)
	}

	e.fake.DeleteTopic(staff, topic.ThreadID)
	late := queue.Message{ID: "late", Method: queue.MethodSendMessage, ChatID: staff, ThreadID: topic.ThreadID, Text: "reply",
		WantResult: true, Ref: "reply:7"}
	e.enqueue(t, user, late)
	want = queue.Result{MessageRef: "reply:7", ChatID: staff, Error: "bad_request", Detail: "Bad Request: message thread not found"}
	if got := e.results(t, user, 1, 5*time.Second)["reply:7"]; !cmp.Equal(got, want) {
		t.Errorf("result of a message to a deleted topic = %+v, want %+v", got, want)
	}
	// A copy into the deleted topic says which messages it was to copy, so that they can
	// go to the topic made again.
	e.enqueue(t, user, copyOf("c4", originals[1]))
	want = queue.Result{MessageRef: "copy:7", ChatID: staff, Error: "bad_request", Detail: "Bad Request: message thread not found",
		Failed: []int{originals[1]}}
	if got := e.results(t, user, 1, 5*time.Second)["copy:7"]; !cmp.Equal(got, want) {
		t.Errorf("result of a copy to a deleted topic = %+v, want %+v", got, want)
	}
}

// claimCounter counts the claims the sender makes on its own.
type claimCounter struct {
	*store.Store
	n atomic.Int32
}

func (c *claimCounter) ClaimHead(ctx context.Context, l store.Lease, chat int64, token, reservedID string) (store.Claim, bool, error) {
	c.n.Add(1)
	return c.Store.ClaimHead(ctx, l, chat, token, reservedID)
}

// TestReservedDrain checks the worker's fast path: a chat reserved before its commit is
// drained from the head the commit claimed, with no claim of the sender's own; a second
// reservation of a chat being drained is declined; and a reserved drain whose commit
// claimed nothing (a retried commit) claims the head itself, once.
func TestReservedDrain(t *testing.T) {
	var cc *claimCounter
	e := setupWrapped(t, "", 1, func(st *store.Store) outbox.Store { cc = &claimCounter{Store: st}; return cc })
	ctx := context.Background()
	commit := func(chat int64, claim bool, msgs ...queue.Message) {
		t.Helper()
		e.uid++
		if _, err := e.st.Append(ctx, queue.Update{UpdateID: e.uid, Kind: queue.KindTelegram, ChatID: chat, Raw: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		us, err := e.st.Read(ctx, e.l, 100, time.Millisecond, "")
		if err != nil || len(us) != 1 {
			t.Fatalf("Read = %v, %v", us, err)
		}
		token, reservedID, ok := e.snd.Reserve(e.l, chat)
		if !ok {
			t.Fatalf("Reserve(%d) declined an idle chat", chat)
		}
		if _, _, again := e.snd.Reserve(e.l, chat); again {
			t.Errorf("Reserve(%d) twice: a chat being drained must be declined", chat)
		}
		if !claim {
			token = ""
		}
		hc, err := e.st.CommitAndClaim(ctx, e.l, us[0], queue.Effects{Outbox: msgs}, token, reservedID)
		if err != nil || hc.Made != claim {
			t.Fatalf("CommitAndClaim = %+v, %v; want claimed %v", hc, err, claim)
		}
		e.snd.Start(chat, hc)
	}

	commit(41, true, text("a", 41, "one"), text("b", 41, "two"))
	got := waitSends(t, e.fake, 41, 2, 5*time.Second)
	if got[0].Params["text"] != "one" || got[1].Params["text"] != "two" {
		t.Errorf("sent %q, %q; want one, two", got[0].Params["text"], got[1].Params["text"])
	}
	if n := cc.n.Load(); n != 0 {
		t.Errorf("the sender claimed %d times; the commit had claimed the head", n)
	}

	commit(42, false, text("c", 42, "three"))
	waitSends(t, e.fake, 42, 1, 5*time.Second)
	if n := cc.n.Load(); n != 1 {
		t.Errorf("the sender claimed %d times after a commit that claimed nothing, want 1", n)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(sends(e.fake, 41)) + len(sends(e.fake, 42)); n != 3 {
		t.Errorf("%d messages sent, want 3 (each once)", n)
	}
}
