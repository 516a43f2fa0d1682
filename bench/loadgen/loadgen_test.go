package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/tgapi"
	"github.com/nanta-district/bangban/webhook"
)

// TestFakeAPI drives the fake through the bot's own Bot API client: every call the bot
// makes in the scenario and at start-up must decode, and the chat's calls must be counted
// and timestamped in order.
func TestFakeAPI(t *testing.T) {
	const base, chat = 5_000_000, 5_000_003
	f := newFakeAPI(base, 10)
	srv := httptest.NewServer(f)
	defer srv.Close()
	api, err := tgapi.New("123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check, err := api.SelfCheck(ctx, -100123)
	if err != nil || check.Username != "bench_bot" || !check.StaffChatIsForum || !check.CanManageTopics {
		t.Fatalf("SelfCheck = %+v, %v", check, err)
	}
	if err := api.SetMyCommands(ctx, "en", []tgapi.Command{{Command: "help", Description: "Help"}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := api.GetWebhookInfo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := api.SetWebhook(ctx, "https://x.example/telegram/webhook", "s", 40, nil, false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.hooked:
	default:
		t.Fatal("setWebhook not noticed")
	}

	cs := f.chat(chat)
	cs.expect(2)
	picker := [][]queue.Button{{{Text: "中文", Data: "lang:zh"}, {Text: "English", Data: "lang:en"}}}
	calls := []queue.Message{
		{Method: queue.MethodSendMessage, ChatID: chat, Text: "hello"},
		{Method: queue.MethodSendMessage, ChatID: chat, Text: "pick", Inline: picker},
		{Method: queue.MethodAnswerCallbackQuery, CallbackID: "5000003-2"},
		{Method: queue.MethodEditMessageText, ChatID: chat, MessageID: 42, Text: "done"},
		{Method: queue.MethodDeleteMessage, ChatID: chat, MessageID: 42},
	}
	var pickerID int
	for i, m := range calls {
		s, err := api.Send(ctx, m)
		if err != nil {
			t.Fatalf("Send %s: %v", m.Method, err)
		}
		if i == 1 {
			pickerID = s.MessageID
		}
		if m.Method == queue.MethodEditMessageText && s.MessageID != 42 {
			t.Errorf("edit answered message %d, want 42", s.MessageID)
		}
	}
	if at, ok := cs.wait(2, time.Second); !ok || at.IsZero() {
		t.Fatalf("wait(2) = %v, %v", at, ok)
	}
	msg, langEN, n := cs.last()
	if n != len(calls) || !langEN || msg != int64(pickerID) || pickerID == 0 {
		t.Errorf("chat state: last message %d (picker %d), langEN %v, %d calls; want %d calls", msg, pickerID, langEN, n, len(calls))
	}
	for i := 1; i < n; i++ {
		if cs.at[i].Before(cs.at[i-1]) {
			t.Errorf("call %d arrived before call %d", i+1, i)
		}
	}
	if f.foreign.Load() != 0 {
		t.Errorf("%d calls for unknown chats", f.foreign.Load())
	}
}

// TestUpdates checks the updates the generator posts: valid JSON the intake accepts, and
// what the bot's decoder (the library's models) reads from them.
func TestUpdates(t *testing.T) {
	const chat = 5_000_007
	for _, tt := range []struct {
		name string
		raw  []byte
	}{
		{"command", command(nil, 11, 3, chat, "/start", 1_700_000_000)},
		{"tap", tap(nil, 12, chat, 1234, 2, 1_700_000_000)},
	} {
		u, err := webhook.ParseUpdate(tt.raw)
		if err != nil || u.ChatID != chat {
			t.Fatalf("%s: ParseUpdate = %+v, %v\n%s", tt.name, u, err, tt.raw)
		}
		var m models.Update
		if err := json.Unmarshal(tt.raw, &m); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		switch tt.name {
		case "command":
			if m.ID != 11 || m.Message == nil || m.Message.Text != "/start" || m.Message.From.ID != chat ||
				len(m.Message.Entities) != 1 || m.Message.Entities[0].Length != 6 {
				t.Errorf("command decoded as %+v", m.Message)
			}
		case "tap":
			q := m.CallbackQuery
			if q == nil || q.ID != "5000007-2" || q.Data != "lang:en" || q.Message.Message == nil || q.Message.Message.ID != 1234 {
				t.Errorf("tap decoded as %+v", q)
			}
		}
	}
}

func TestField(t *testing.T) {
	form := []byte("--b\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n-100123\r\n--b\r\n" +
		"Content-Disposition: form-data; name=\"reply_parameters\"\r\n\r\n{\"message_id\":9}\r\n--b--\r\n")
	if got := parseInt(field(form, keyChatID, jsonChatID)); got != -100123 {
		t.Errorf("form chat_id = %d", got)
	}
	if got := field(form, keyMessageID, jsonMessageID); got != nil {
		t.Errorf("form message_id = %q, want none (reply_parameters is not message_id)", got)
	}
	js := []byte(`{"chat_id": 42, "callback_query_id":"7-1"}`)
	if got := parseInt(field(js, keyChatID, jsonChatID)); got != 42 {
		t.Errorf("json chat_id = %d", got)
	}
	if got := string(field(js, keyCallbackID, jsonCallback)); got != "7-1" {
		t.Errorf("json callback_query_id = %q", got)
	}
}
