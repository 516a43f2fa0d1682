package broadcast_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/broadcast"
	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/tgapi"
)

type env struct {
	st  *store.Store
	api *telegramtest.Server
	cl  *tgapi.Client
}

func newEnv(t *testing.T) env {
	t.Helper()
	srv := redistest.Single(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	rdb.AddHook(store.SlotCheck{})
	api := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(api.Close)
	cl, err := tgapi.New("123456:broadcast-engine-test-token-0123456789", api.URL())
	if err != nil {
		t.Fatal(err)
	}
	return env{st: store.New(rdb, rdb, redistest.Prefix(t), 4), api: api, cl: cl}
}

// run starts an engine until the test ends.
func (e env) run(t *testing.T, o broadcast.Options) {
	t.Helper()
	o.Store, o.API, o.Logger = e.st, e.cl, slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		_ = broadcast.New(o).Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func (e env) waitDone(t *testing.T, id string, within time.Duration) store.Broadcast {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		b, err := e.st.Progress(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if b.State == store.BroadcastDone {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcast not done after %v: %+v", within, b)
		}
	}
}

// perChat counts the successful calls of method per chat.
func perChat(calls []telegramtest.Call, method string) map[int64]int {
	out := map[int64]int{}
	for _, c := range calls {
		if c.Method == method && c.Status == http.StatusOK {
			out[c.ChatID]++
		}
	}
	return out
}

func audience(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 9_000_000 + int64(i)
	}
	return out
}

// A pause stops sending within a second; a resume finishes the broadcast with every
// recipient sent once.
func TestPauseAndResume(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.run(t, broadcast.Options{Rate: 20})
	to := audience(60)
	b, err := e.st.CreateBroadcast(ctx, store.NewBroadcast{CreatedBy: "test", Content: store.BroadcastContent{Text: "notice"}, Recipients: to})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := e.api.Wait(wctx, "sendMessage", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.ControlBroadcast(ctx, b.ID, store.ActionPause, "test"); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	time.Sleep(1500 * time.Millisecond)
	for _, c := range e.api.CallsFor("sendMessage") {
		if c.Time.After(paused.Add(time.Second)) {
			t.Errorf("a message left %v after the pause", c.Time.Sub(paused))
		}
	}
	if _, err := e.st.ControlBroadcast(ctx, b.ID, store.ActionResume, "test"); err != nil {
		t.Fatal(err)
	}
	got := e.waitDone(t, b.ID, 10*time.Second)
	if got.Sent != 60 {
		t.Errorf("sent = %d; want 60", got.Sent)
	}
	sent := perChat(e.api.Calls(), "sendMessage")
	for _, c := range to {
		if sent[c] != 1 {
			t.Errorf("chat %d got %d messages; want 1", c, sent[c])
		}
	}
}

// Two replicas share one broadcast and one rate: every recipient gets one message, no
// sliding second more than rate + 1, and the final report comes once.
func TestReplicasShare(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var mu sync.Mutex
	var finals []store.Broadcast
	report := func(_ context.Context, b store.Broadcast) {
		if b.Finished() {
			mu.Lock()
			finals = append(finals, b)
			mu.Unlock()
		}
	}
	const rate = 40
	e.run(t, broadcast.Options{Rate: rate, Batch: 5, OnProgress: report})
	e.run(t, broadcast.Options{Rate: rate, Batch: 5, OnProgress: report})
	to := audience(100)
	b, err := e.st.CreateBroadcast(ctx, store.NewBroadcast{CreatedBy: "test", Content: store.BroadcastContent{Text: "notice"}, Recipients: to})
	if err != nil {
		t.Fatal(err)
	}
	e.waitDone(t, b.ID, 15*time.Second)
	calls := e.api.CallsFor("sendMessage")
	sent := perChat(calls, "sendMessage")
	for _, c := range to {
		if sent[c] != 1 {
			t.Errorf("chat %d got %d messages; want 1", c, sent[c])
		}
	}
	times := make([]time.Time, len(calls))
	for i, c := range calls {
		times[i] = c.Time
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i, j := 0, 0; i < len(times); i++ {
		for !times[j].Add(time.Second).After(times[i]) {
			j++
		}
		if i-j+1 > rate+1 {
			t.Fatalf("%d messages within a second ending %v; want at most %d", i-j+1, times[i], rate+1)
		}
	}
	// The final report is due once the next discovery sees the broadcast done.
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(finals) != 1 || finals[0].Sent != 100 {
		t.Errorf("final reports = %+v; want one, with 100 sent", finals)
	}
}

// A copied message carries the stop button; recipients the Eligible hook refuses, and
// chats marked unreachable, are skipped without a call; a 403 marks the chat unreachable.
func TestCopyEligibleBlocked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const source = -1001999
	e.api.AddChat(telegramtest.Chat{ID: source, Type: "supergroup", Title: "staff", BotStatus: "administrator"})
	msg := e.api.NewMessageID(source)
	to := audience(6)
	optedOut, unreachable, blocked := to[1], to[2], to[3]
	if err := e.st.MarkUnreachable(ctx, unreachable); err != nil {
		t.Fatal(err)
	}
	e.api.SetBlocked(blocked, true)
	var asked [][]int64
	var mu sync.Mutex
	e.run(t, broadcast.Options{Rate: 30, Eligible: func(_ context.Context, chats []int64) (map[int64]bool, error) {
		mu.Lock()
		asked = append(asked, chats)
		mu.Unlock()
		out := map[int64]bool{}
		for _, c := range chats {
			out[c] = c != optedOut
		}
		return out, nil
	}})
	b, err := e.st.CreateBroadcast(ctx, store.NewBroadcast{CreatedBy: "test", Recipients: to,
		Content: store.BroadcastContent{FromChatID: source, MessageID: msg, StopText: "Stop these notices", StopData: "unsub:p"}})
	if err != nil {
		t.Fatal(err)
	}
	got := e.waitDone(t, b.ID, 10*time.Second)
	if got.Sent != 3 || got.Skipped != 2 || got.Blocked != 1 {
		t.Errorf("progress = %+v; want 3 sent, 2 skipped, 1 blocked", got)
	}
	copies := perChat(e.api.Calls(), "copyMessage")
	for _, c := range to {
		want := 1
		if c == optedOut || c == unreachable || c == blocked {
			want = 0
		}
		if copies[c] != want {
			t.Errorf("chat %d got %d copies; want %d", c, copies[c], want)
		}
	}
	for _, c := range e.api.CallsFor("copyMessage") {
		var kb struct {
			InlineKeyboard [][]struct {
				Text         string
				CallbackData string `json:"callback_data"`
			} `json:"inline_keyboard"`
		}
		if err := json.Unmarshal([]byte(c.Params["reply_markup"]), &kb); err != nil || len(kb.InlineKeyboard) != 1 ||
			kb.InlineKeyboard[0][0].CallbackData != "unsub:p" || kb.InlineKeyboard[0][0].Text != "Stop these notices" {
			t.Errorf("copy to %d has reply_markup %s; want the stop button", c.ChatID, c.Params["reply_markup"])
		}
		if c.Params["from_chat_id"] != "-1001999" {
			t.Errorf("copy to %d from %s; want -1001999", c.ChatID, c.Params["from_chat_id"])
		}
	}
	if u, err := e.st.UnreachableAmong(ctx, []int64{blocked}); err != nil || !u[blocked] {
		t.Errorf("blocked chat unreachable = %v, %v; want marked", u, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) == 0 || !slices.Contains(asked[0], optedOut) {
		t.Errorf("Eligible asked about %v; want the batch with the opted-out chat", asked)
	}
}
