package playground

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nanta-district/bangban/internal/telegramtest"
)

// sse reads a server-sent event stream.
type sse struct {
	t    *testing.T
	resp *http.Response
	sc   *bufio.Scanner
}

func openStream(t *testing.T, srv *httptest.Server, query string) *sse {
	t.Helper()
	resp, err := http.Get(srv.URL + "/playground/events?" + query)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events?%s = %d %s", query, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &sse{t: t, resp: resp, sc: bufio.NewScanner(resp.Body)}
}

// next returns the next event's name and data; ok is false at the end of the stream.
func (s *sse) next() (name string, data []byte, ok bool) {
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimPrefix(line, "event:")
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(line, "data:")...)
		case line == "" && name != "":
			return name, data, true
		}
	}
	return "", nil, false
}

// event reads the next event, which must be of type name.
func (s *sse) event(name string) Event {
	s.t.Helper()
	var ev Event
	s.want(name, &ev)
	return ev
}

// want reads the next event, which must be of type name, into v.
func (s *sse) want(name string, v any) {
	s.t.Helper()
	got, data, ok := s.next()
	if !ok || got != name {
		s.t.Fatalf("next event = %q %s (stream open: %v), want %q", got, data, ok, name)
	}
	if err := json.Unmarshal(data, v); err != nil {
		s.t.Fatalf("event %s %s: %v", name, data, err)
	}
}

func callAPI(t *testing.T, api *telegramtest.Server, method, body string) {
	t.Helper()
	resp, err := http.Post(api.URL()+"/bot1:x/"+method, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s = %d", method, body, resp.StatusCode)
	}
}

// TestEventStream follows one user's chat: a snapshot first, then the bot's messages,
// edits in place, the reply keyboard, deletions and the answer to a tapped button, and
// nothing of another user's chat.
func TestEventStream(t *testing.T) {
	_, _, api, e := setup(t)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	callAPI(t, api, "sendMessage", `{"chat_id":1001,"text":"earlier"}`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var snap Snapshot
		s := openStream(t, srv, "user=1001")
		s.want("snapshot", &snap)
		if len(snap.Messages) == 1 && snap.Messages[0].Text == "earlier" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot = %+v, want the earlier message", snap)
		}
		s.resp.Body.Close()
		time.Sleep(10 * time.Millisecond)
	}
	s := openStream(t, srv, "user=1001")
	var snap Snapshot
	s.want("snapshot", &snap)

	callAPI(t, api, "sendMessage", `{"chat_id":1002,"text":"someone else"}`)
	callAPI(t, api, "sendMessage", `{"chat_id":1001,"text":"<b>Hi</b>","parse_mode":"HTML",`+
		`"reply_markup":{"inline_keyboard":[[{"text":"OK","callback_data":"ok"}]]}}`)
	ev := s.event(EventMessage)
	if m := ev.Message; m == nil || m.Text != "Hi" || !strings.Contains(string(m.Entities), "bold") || m.Keyboard[0][0]["callback_data"] != "ok" {
		t.Fatalf("message event = %+v, want Hi in bold with its button (and not another chat's message)", ev.Message)
	}
	id := ev.Message.ID

	callAPI(t, api, "editMessageText", fmt.Sprintf(`{"chat_id":1001,"message_id":%d,"text":"Bye"}`, id))
	ev = s.event(EventMessage)
	if m := ev.Message; m == nil || m.ID != id || m.Text != "Bye" || !m.Edited || m.Keyboard != nil {
		t.Errorf("edit event = %+v, want message %d edited to Bye without its keyboard", ev.Message, id)
	}

	callAPI(t, api, "sendMessage", `{"chat_id":1001,"text":"phone?","reply_markup":{"keyboard":[[{"text":"Share","request_contact":true}]],"one_time_keyboard":true}}`)
	ev = s.event(EventMessage)
	ev = s.event(EventKeyboard)
	if k := ev.Keyboard; k == nil || !k.OneTime || k.Rows[0][0]["request_contact"] != true {
		t.Errorf("keyboard event = %+v, want a one-time contact button", ev.Keyboard)
	}
	callAPI(t, api, "sendMessage", `{"chat_id":1001,"text":"thanks","reply_markup":{"remove_keyboard":true}}`)
	ev = s.event(EventMessage)
	ev = s.event(EventKeyboard)
	if ev.Keyboard != nil {
		t.Errorf("keyboard event = %+v, want the keyboard removed", ev.Keyboard)
	}

	callAPI(t, api, "deleteMessage", fmt.Sprintf(`{"chat_id":1001,"message_id":%d}`, id))
	ev = s.event(EventDelete)
	if ev.MessageID != id {
		t.Errorf("delete event = %+v, want message %d", ev, id)
	}

	resp, err := http.Post(srv.URL+"/playground/tap", "application/json", strings.NewReader(`{"user":1001,"message_id":1,"data":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tapped struct {
		UpdateID int64 `json:"update_id"`
	}
	json.NewDecoder(resp.Body).Decode(&tapped)
	resp.Body.Close()
	callAPI(t, api, "answerCallbackQuery", fmt.Sprintf(`{"callback_query_id":"%d","text":"Done","show_alert":true}`, tapped.UpdateID))
	ev = s.event(EventAnswer)
	if ev.Text != "Done" || !ev.Alert {
		t.Errorf("answer event = %+v, want the alert Done", ev)
	}
}

// TestEventStreamEnds: a stream ends when the playground stops, and a subscriber that
// falls too far behind is cut off (the page reconnects and starts from a snapshot).
func TestEventStreamEnds(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	api := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(api.Close)
	ctx, cancel := context.WithCancel(context.Background())
	p := New(ctx, &fakeIntake{}, api, testStaff)
	e := gin.New()
	p.Mount(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	s := openStream(t, srv, "chat=staff")
	var snap Snapshot
	s.want("snapshot", &snap)
	cancel()
	done := make(chan bool)
	go func() {
		_, _, ok := s.next()
		done <- ok
	}()
	select {
	case ok := <-done:
		if ok {
			t.Error("stream sent an event after the playground stopped, want its end")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open 5 s after the playground stopped")
	}

	_, events, stop := p.Subscribe(1001)
	defer stop()
	for range streamBuffer + 1 {
		p.record(telegramtest.Call{Method: "sendChatAction", ChatID: 1001, Status: http.StatusOK, Params: map[string]string{"action": "typing"}})
	}
	n := 0
	for range events {
		n++
	}
	if n != streamBuffer {
		t.Errorf("a subscriber that never read got %d events before its end, want %d", n, streamBuffer)
	}
}

// TestShutdownEndsStreams: an HTTP server shutting down does not wait for open streams.
func TestShutdownEndsStreams(t *testing.T) {
	_, _, _, e := setup(t)
	srv := httptest.NewUnstartedServer(e)
	srv.Start()
	t.Cleanup(srv.Close)
	s := openStream(t, srv, "user=1001")
	var snap Snapshot
	s.want("snapshot", &snap)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a stream open: %v after %v, want the stream ended", err, time.Since(start))
	}
	if _, _, ok := s.next(); ok {
		t.Error("stream sent an event after the shutdown, want its end")
	}
}
