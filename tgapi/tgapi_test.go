package tgapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/tgapi"
)

const token = "123456:SECRET-token-never-logged"

func newClient(t *testing.T, url string, opts ...tgapi.Option) *tgapi.Client {
	t.Helper()
	c, err := tgapi.New(token, url, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestSendClassifies(t *testing.T) {
	const user = 42
	hello := queue.Message{ID: "1", Method: queue.MethodSendMessage, ChatID: user, Text: "hello"}
	doc := queue.Message{ID: "8", Method: queue.MethodSendDocument, ChatID: user, Document: []byte("a,b\n"), FileName: "x.csv"}
	tests := []struct {
		name      string
		fault     *telegramtest.Fault
		blocked   bool
		msg       queue.Message
		want      tgapi.Outcome
		wantRetry time.Duration
		wantMig   int64
		// wantDetail is the description Telegram answered a refusal with.
		wantDetail string
	}{
		{name: "ok", msg: hello, want: tgapi.OK},
		{name: "429", fault: &telegramtest.Fault{Code: 429, RetryAfter: 3}, msg: hello, want: tgapi.RateLimited, wantRetry: 3 * time.Second,
			wantDetail: "Too Many Requests: retry after 3"},
		{name: "403", blocked: true, msg: hello, want: tgapi.Forbidden, wantDetail: "Forbidden: bot was blocked by the user"},
		{name: "migrate", fault: &telegramtest.Fault{Code: 400, MigrateToChatID: -1009}, msg: hello, want: tgapi.Migrated, wantMig: -1009,
			wantDetail: "Bad Request: group chat was upgraded to a supergroup chat"},
		{name: "other 400", fault: &telegramtest.Fault{Code: 400, Description: "Bad Request: message thread not found"}, msg: hello, want: tgapi.Failed,
			wantDetail: "Bad Request: message thread not found"},
		{name: "500", fault: &telegramtest.Fault{Code: 500}, msg: hello, want: tgapi.Ambiguous, wantDetail: "Internal Server Error"},
		{name: "502 html", fault: &telegramtest.Fault{Code: 502, HTML: true}, msg: hello, want: tgapi.Ambiguous},
		{name: "dropped connection", fault: &telegramtest.Fault{Drop: true}, msg: hello, want: tgapi.Ambiguous},
		{name: "timeout", fault: &telegramtest.Fault{Delay: 2 * time.Second}, msg: hello, want: tgapi.Ambiguous},
		{name: "not modified", fault: &telegramtest.Fault{Code: 400, Description: "Bad Request: message is not modified: specified new message content and reply markup are exactly the same"},
			msg: queue.Message{ID: "2", Method: queue.MethodEditMessageText, ChatID: user, MessageID: 1, Text: "x"}, want: tgapi.OK},
		{name: "answer", msg: queue.Message{ID: "3", Method: queue.MethodAnswerCallbackQuery, ChatID: user, CallbackID: "cb1", Text: "ok"}, want: tgapi.OK},
		{name: "chat action", msg: queue.Message{ID: "4", Method: queue.MethodSendChatAction, ChatID: user, Action: "typing"}, want: tgapi.OK},
		{name: "keyboards", msg: queue.Message{ID: "5", Method: queue.MethodSendMessage, ChatID: user, Text: "<b>pick</b>", ParseMode: "HTML",
			Inline: [][]queue.Button{{{Text: "a", Data: "a"}, {Text: "site", URL: "https://example.org"}}}}, want: tgapi.OK},
		{name: "reply keyboard", msg: queue.Message{ID: "6", Method: queue.MethodSendMessage, ChatID: user, Text: "share",
			Reply: [][]queue.Button{{{Text: "phone", RequestContact: true}}}}, want: tgapi.OK},
		{name: "remove keyboard", msg: queue.Message{ID: "7", Method: queue.MethodSendMessage, ChatID: user, Text: "thanks", RemoveKeyboard: true}, want: tgapi.OK},
		{name: "document", msg: doc, want: tgapi.OK},
		{name: "document 403", blocked: true, msg: doc, want: tgapi.Forbidden, wantDetail: "Forbidden: bot was blocked by the user"},
		{name: "document 500", fault: &telegramtest.Fault{Code: 500}, msg: doc, want: tgapi.Ambiguous, wantDetail: "Internal Server Error"},
		{name: "document dropped", fault: &telegramtest.Fault{Drop: true}, msg: doc, want: tgapi.Ambiguous},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(telegramtest.WithTB(t))
			t.Cleanup(srv.Close)
			if tt.fault != nil {
				srv.Inject(*tt.fault)
			}
			srv.SetBlocked(user, tt.blocked)
			c := newClient(t, srv.URL(), tgapi.WithSendTimeout(500*time.Millisecond))
			got, err := c.Send(context.Background(), tt.msg)
			if got.Outcome != tt.want {
				t.Fatalf("Send(%s) outcome = %v (err %v), want %v", tt.msg.Method, got.Outcome, err, tt.want)
			}
			if (err == nil) != (tt.want == tgapi.OK) {
				t.Errorf("Send(%s) err = %v, want nil exactly when OK", tt.msg.Method, err)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("Send error %q contains the token", err)
			}
			if got.RetryAfter != tt.wantRetry || got.MigrateTo != tt.wantMig {
				t.Errorf("Send retry_after, migrate = %v, %d; want %v, %d", got.RetryAfter, got.MigrateTo, tt.wantRetry, tt.wantMig)
			}
			if got.Detail != tt.wantDetail {
				t.Errorf("Send detail = %q, want %q", got.Detail, tt.wantDetail)
			}
			if tt.want == tgapi.OK && (tt.msg.Method == queue.MethodSendMessage || tt.msg.Method == queue.MethodSendDocument) && got.MessageID == 0 {
				t.Errorf("Send(%s) message id = 0, want the new message's id", tt.msg.Method)
			}
			if tt.name == "keyboards" {
				calls := srv.CallsFor("sendMessage")
				if len(calls) != 1 || strings.Contains(calls[0].Params["reply_markup"], "copy_text") {
					t.Errorf("sendMessage reply_markup = %v, want an inline keyboard without copy_text", calls)
				}
			}
		})
	}
}

func TestSendDocument(t *testing.T) {
	const admin = 42
	srv := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL())
	csv := []byte("date,name\n2026-11-01,Somchai\n")
	m := queue.Message{ID: "1", Method: queue.MethodSendDocument, ChatID: admin,
		Document: csv, FileName: "checkins-2026-11-01_2026-11-30.csv",
		Text: "<b>Check-ins</b> 1&#8211;30 Nov", ParseMode: "HTML",
		Inline: [][]queue.Button{{{Text: "Again", Data: "export"}}}}
	got, err := c.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send(sendDocument): %v", err)
	}
	calls := srv.CallsFor("sendDocument")
	if len(calls) != 1 {
		t.Fatalf("sendDocument calls = %d, want 1", len(calls))
	}
	call := calls[0]
	if f := call.Files["document"]; f.Name != m.FileName || string(f.Data) != string(csv) {
		t.Errorf("uploaded document = %q %q, want %q %q", f.Name, f.Data, m.FileName, csv)
	}
	if call.Params["caption"] != m.Text || call.Params["parse_mode"] != "HTML" {
		t.Errorf("sendDocument caption, parse_mode = %q, %q; want %q, HTML", call.Params["caption"], call.Params["parse_mode"], m.Text)
	}
	if rm := call.Params["reply_markup"]; !strings.Contains(rm, `"callback_data":"export"`) || strings.Contains(rm, "copy_text") {
		t.Errorf("sendDocument reply_markup = %s, want the inline keyboard without copy_text", rm)
	}
	var sent struct {
		MessageID       int    `json:"message_id"`
		Caption         string `json:"caption"`
		CaptionEntities []struct {
			Type string `json:"type"`
		} `json:"caption_entities"`
		Document struct {
			FileName string `json:"file_name"`
			FileSize int    `json:"file_size"`
		} `json:"document"`
	}
	if err := call.Decode(&sent); err != nil {
		t.Fatal(err)
	}
	if got.MessageID == 0 || got.MessageID != sent.MessageID {
		t.Errorf("Send(sendDocument) message id = %d, want %d", got.MessageID, sent.MessageID)
	}
	if sent.Caption != "Check-ins 1–30 Nov" || len(sent.CaptionEntities) != 1 || sent.CaptionEntities[0].Type != "bold" {
		t.Errorf("sent caption = %q %+v, want the HTML parsed: Check-ins 1–30 Nov, one bold entity", sent.Caption, sent.CaptionEntities)
	}
	if sent.Document.FileName != m.FileName || sent.Document.FileSize != len(csv) {
		t.Errorf("sent document = %+v, want %s of %d bytes", sent.Document, m.FileName, len(csv))
	}
}

func TestSendDocumentRefusedWithoutCall(t *testing.T) {
	tests := []struct {
		name    string
		doc     []byte
		file    string
		wantErr string
	}{
		{"over the cap", make([]byte, queue.MaxDocument+1), "big.csv", fmt.Sprintf(`document "big.csv" has %d bytes, over the cap of %d`, queue.MaxDocument+1, queue.MaxDocument)},
		{"no file name", []byte("a\n"), "", "document without a file name"},
		{"empty", nil, "empty.csv", `document "empty.csv" is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(telegramtest.WithTB(t))
			t.Cleanup(srv.Close)
			c := newClient(t, srv.URL())
			m := queue.Message{ID: "1", Method: queue.MethodSendDocument, ChatID: 42, Document: tt.doc, FileName: tt.file}
			got, err := c.Send(context.Background(), m)
			if got.Outcome != tgapi.Failed || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Send(%s) = %v, %v; want Failed with %q", tt.name, got.Outcome, err, tt.wantErr)
			}
			if calls := srv.Calls(); len(calls) != 0 {
				t.Errorf("Send(%s) made %d calls, want none", tt.name, len(calls))
			}
		})
	}
}

// TestErrorDescriptionOverLongBody checks that a long error answer still reaches the library
// whole, past the part read for its description.
func TestErrorDescriptionOverLongBody(t *testing.T) {
	desc := "Bad Request: " + strings.Repeat("x", 100<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": 400, "description": desc})
	}))
	defer srv.Close()
	got, err := newClient(t, srv.URL).Send(context.Background(), queue.Message{ID: "1", Method: queue.MethodSendMessage, ChatID: 1, Text: "hi"})
	if got.Outcome != tgapi.Failed || err == nil || !strings.HasSuffix(err.Error(), "xxx") {
		t.Errorf("Send = %v, %.80v; want Failed with the whole description in the error", got.Outcome, err)
	}
}

func TestSendDialErrorIsNotSent(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newClient(t, url)
	got, err := c.Send(context.Background(), queue.Message{ID: "1", Method: queue.MethodSendMessage, ChatID: 1, Text: "hi"})
	if got.Outcome != tgapi.NotSent {
		t.Fatalf("Send to a closed port outcome = %v (err %v), want NotSent", got.Outcome, err)
	}
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Send error = %v, want an error without the token", err)
	}
	if _, err := c.GetUpdates(context.Background(), 0, 0, nil); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("GetUpdates error = %v, want an error without the token", err)
	}
}

func TestGetUpdatesKeepsRawJSON(t *testing.T) {
	srv := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(srv.Close)
	raw := `{"update_id":100,"future_kind":{"x":1}}`
	if _, err := srv.PushUpdate([]byte(raw)); err != nil {
		t.Fatalf("PushUpdate: %v", err)
	}
	c := newClient(t, srv.URL())
	ups, err := c.GetUpdates(context.Background(), 0, time.Second, nil)
	if err != nil {
		t.Fatalf("GetUpdates: %v", err)
	}
	if len(ups) != 1 {
		t.Fatalf("GetUpdates returned %d updates, want 1", len(ups))
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(ups[0], &got); err != nil || string(got["future_kind"]) != `{"x":1}` {
		t.Errorf("GetUpdates update = %s, want the unknown field kept", ups[0])
	}
}

func TestSelfCheck(t *testing.T) {
	const staff = -1001
	srv := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(srv.Close)
	srv.AddChat(telegramtest.Chat{ID: staff, Type: "supergroup", Title: "staff", IsForum: true,
		BotStatus: "administrator", CanManageTopics: true, CanDeleteMessages: true})
	c := newClient(t, srv.URL())
	got, err := c.SelfCheck(context.Background(), staff)
	if err != nil {
		t.Fatalf("SelfCheck: %v", err)
	}
	want := tgapi.Check{Username: telegramtest.DefaultBot.Username, SupportsInlineQueries: true, StaffChatIsForum: true,
		StaffChatTitle: "staff", CanManageTopics: true, CanDeleteMessages: true}
	if got != want {
		t.Errorf("SelfCheck = %+v, want %+v", got, want)
	}

	srv.Inject(telegramtest.Fault{Method: "getChat", Code: 400, MigrateToChatID: -1002, Times: 1})
	got, err = c.SelfCheck(context.Background(), staff)
	if err != nil || got.MigrateToChatID != -1002 {
		t.Errorf("SelfCheck of a migrated chat = %+v, %v; want MigrateToChatID -1002", got, err)
	}
}

func TestWebhookCalls(t *testing.T) {
	srv := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL())
	ctx := context.Background()
	if err := c.SetWebhook(ctx, "https://bot.example.org/telegram/webhook", "s3cret", 40, []string{"message", "callback_query"}, false); err != nil {
		t.Fatalf("SetWebhook: %v", err)
	}
	info, err := c.GetWebhookInfo(ctx)
	if err != nil || info.URL != "https://bot.example.org/telegram/webhook" {
		t.Errorf("GetWebhookInfo = %+v, %v; want the URL just set", info, err)
	}
	if err := c.SetMyCommands(ctx, "en", []tgapi.Command{{Command: "start", Description: "Start"}}, 0); err != nil {
		t.Errorf("SetMyCommands: %v", err)
	}
	if err := c.DeleteWebhook(ctx, false); err != nil {
		t.Errorf("DeleteWebhook: %v", err)
	}
}

func TestSendInlineAnswer(t *testing.T) {
	const user = 77
	srv := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL())
	id, _ := srv.InlineQuery(user, "社保", time.Time{})
	m := queue.Message{ID: "1", Method: queue.MethodAnswerInlineQuery, ChatID: user, InlineQueryID: id, CacheTime: 30, ParseMode: "HTML",
		Results: []queue.InlineResult{
			{ID: "p1", Title: "社保", Description: "Social security", Text: "<b>社保</b>: bring your ID card", URL: "https://example.org/p1",
				Inline: [][]queue.Button{{{Text: "Details", URL: "https://example.org/p1"}}}},
			{ID: "p2", Title: "Hours", Text: "Mon&#8211;Fri"},
		}}
	if got, err := c.Send(context.Background(), m); got.Outcome != tgapi.OK || err != nil {
		t.Fatalf("Send(answerInlineQuery) = %v, %v; want OK", got.Outcome, err)
	}
	calls := srv.CallsFor("answerInlineQuery")
	if len(calls) != 1 {
		t.Fatalf("answerInlineQuery calls = %d, want 1", len(calls))
	}
	p := calls[0].Params
	if p["inline_query_id"] != id || p["cache_time"] != "30" || p["is_personal"] != "true" {
		t.Errorf("answerInlineQuery params = %v, want query %s, cache_time 30, is_personal true", p, id)
	}
	if strings.Contains(p["results"], "copy_text") {
		t.Errorf("answerInlineQuery results = %s, want keyboards without copy_text", p["results"])
	}
	type button struct {
		Text string `json:"text"`
		URL  string `json:"url"`
	}
	type article struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
		Content     struct {
			MessageText string `json:"message_text"`
			ParseMode   string `json:"parse_mode"`
		} `json:"input_message_content"`
		ReplyMarkup *struct {
			InlineKeyboard [][]button `json:"inline_keyboard"`
		} `json:"reply_markup"`
	}
	var got []article
	if err := calls[0].DecodeParam("results", &got); err != nil {
		t.Fatalf("decode results: %v", err)
	}
	if len(got) != len(m.Results) {
		t.Fatalf("answered %d results, want %d", len(got), len(m.Results))
	}
	for i, r := range m.Results {
		a := got[i]
		if a.Type != "article" || a.ID != r.ID || a.Title != r.Title || a.Description != r.Description || a.URL != r.URL ||
			a.Content.MessageText != r.Text || a.Content.ParseMode != "HTML" {
			t.Errorf("result %d = %+v, want an HTML article of %+v", i, a, r)
		}
		if (a.ReplyMarkup != nil) != (r.Inline != nil) {
			t.Errorf("result %d reply_markup = %+v, want one exactly when the result has buttons", i, a.ReplyMarkup)
		}
	}
	if kb := got[0].ReplyMarkup; kb == nil || len(kb.InlineKeyboard) != 1 || kb.InlineKeyboard[0][0] != (button{"Details", "https://example.org/p1"}) {
		t.Errorf("result 0 keyboard = %+v, want the Details button", kb)
	}

	// Telegram takes one answer per query, within seconds: a second or a late answer is
	// refused for good, never retried.
	late, _ := srv.InlineQuery(user, "社保", time.Now().Add(-time.Minute))
	for name, qid := range map[string]string{"answered twice": id, "late": late} {
		m.InlineQueryID = qid
		got, err := c.Send(context.Background(), m)
		if got.Outcome != tgapi.Failed || err == nil || !strings.Contains(err.Error(), "query is too old") {
			t.Errorf("Send(answerInlineQuery, %s) = %v, %v; want Failed, query is too old", name, got.Outcome, err)
		}
	}
}

// TestRequestsAreBuffered checks that a call goes out as one body with a Content-Length:
// the library streams its multipart forms through a pipe, which would otherwise go out
// chunked, a write per piece.
func TestRequestsAreBuffered(t *testing.T) {
	var chunked atomic.Bool
	var length atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunked.Store(len(r.TransferEncoding) > 0)
		length.Store(r.ContentLength)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true,"result":{"message_id":7,"date":1,"chat":{"id":1,"type":"private"},"text":"hi"}}`)
	}))
	defer srv.Close()
	c, err := tgapi.New("123456789:AAFAKEAAFAKEAAFAKEAAFAKEAAFAKEAAFAK", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Send(context.Background(), queue.Message{ID: "1", Method: queue.MethodSendMessage, ChatID: 1, Text: "hi"})
	if err != nil || got.MessageID != 7 {
		t.Fatalf("Send = %+v, %v", got, err)
	}
	if chunked.Load() || length.Load() <= 0 {
		t.Errorf("request sent chunked %v with Content-Length %d, want one buffered body", chunked.Load(), length.Load())
	}
}

// TestSendCopiesAndTopics opens a ticket as the staff desk does: a topic, the user's
// messages copied into it, then the topic deleted.
func TestSendCopiesAndTopics(t *testing.T) {
	const user, staff = 42, -1001234567890
	srv := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(srv.Close)
	srv.AddChat(telegramtest.Chat{ID: staff, Title: "Staff", IsForum: true, CanManageTopics: true})
	var ids []int
	for i, content := range []string{`"text":"hello"`, `"photo":[{"file_id":"p","file_unique_id":"u","width":9,"height":9}]`, `"voice":{"file_id":"v","file_unique_id":"w","duration":1}`} {
		id := srv.NewMessageID(user)
		if _, err := srv.PushUpdate(fmt.Appendf(nil, `{"message":{"message_id":%d,"date":1,"chat":{"id":%d,"type":"private"},%s}}`, id, user, content)); err != nil {
			t.Fatalf("PushUpdate(%d): %v", i, err)
		}
		ids = append(ids, id)
	}
	c := newClient(t, srv.URL())
	ctx := context.Background()

	topic, err := c.Send(ctx, queue.Message{ID: "1", Method: queue.MethodCreateForumTopic, ChatID: staff, Name: "#7 Somchai"})
	if err != nil || topic.ThreadID == 0 {
		t.Fatalf("Send(createForumTopic) = %+v, %v; want a thread id", topic, err)
	}
	if got := srv.Topics(staff); got[topic.ThreadID] != "#7 Somchai" || len(got) != 1 {
		t.Errorf("topics after createForumTopic = %v, want %d: #7 Somchai", got, topic.ThreadID)
	}

	card := queue.Message{ID: "2", Method: queue.MethodCopyMessage, ChatID: staff, ThreadID: topic.ThreadID, FromChatID: user,
		MessageIDs: []int{ids[1]}, Text: "<b>#7</b> photo", ParseMode: "HTML", Inline: [][]queue.Button{{{Text: "Take", Data: "take:7"}}}}
	one, err := c.Send(ctx, card)
	if err != nil || one.MessageID == 0 || one.ThreadID != topic.ThreadID {
		t.Fatalf("Send(copyMessage) = %+v, %v; want a message in thread %d", one, err, topic.ThreadID)
	}
	plain := queue.Message{ID: "3", Method: queue.MethodCopyMessage, ChatID: staff, ThreadID: topic.ThreadID, FromChatID: user, MessageIDs: []int{ids[0]}}
	if _, err := c.Send(ctx, plain); err != nil {
		t.Fatalf("Send(copyMessage without caption): %v", err)
	}
	calls := srv.CallsFor("copyMessage")
	wantParams := []map[string]string{
		{"chat_id": fmt.Sprint(staff), "message_thread_id": fmt.Sprint(topic.ThreadID), "from_chat_id": fmt.Sprint(user),
			"message_id": fmt.Sprint(ids[1]), "caption": card.Text, "parse_mode": "HTML",
			"reply_markup": `{"inline_keyboard":[[{"text":"Take","callback_data":"take:7"}]]}`},
		{"chat_id": fmt.Sprint(staff), "message_thread_id": fmt.Sprint(topic.ThreadID), "from_chat_id": fmt.Sprint(user),
			"message_id": fmt.Sprint(ids[0])},
	}
	if len(calls) != len(wantParams) {
		t.Fatalf("copyMessage calls = %d, want %d", len(calls), len(wantParams))
	}
	for i, w := range wantParams {
		if diff := cmp.Diff(w, calls[i].Params); diff != "" {
			t.Errorf("copyMessage #%d params (-want +got):\n%s", i+1, diff)
		}
	}

	// Ids out of order go ascending, as the Bot API requires; the copies come back in that order.
	many, err := c.Send(ctx, queue.Message{ID: "4", Method: queue.MethodCopyMessages, ChatID: staff, ThreadID: topic.ThreadID,
		FromChatID: user, MessageIDs: []int{ids[2], ids[0], ids[1]}})
	if err != nil {
		t.Fatalf("Send(copyMessages): %v", err)
	}
	cm := srv.CallsFor("copyMessages")
	if len(cm) != 1 || cm[0].Params["message_ids"] != fmt.Sprintf("[%d,%d,%d]", ids[0], ids[1], ids[2]) ||
		cm[0].Params["message_thread_id"] != fmt.Sprint(topic.ThreadID) || cm[0].Params["from_chat_id"] != fmt.Sprint(user) {
		t.Fatalf("copyMessages calls = %+v, want one with ids %v ascending into thread %d", cm, ids, topic.ThreadID)
	}
	var copies []int
	for _, m := range srv.Messages(staff) {
		if m.CopyOf.ChatID == user && m.ID > one.MessageID+1 {
			copies = append(copies, m.ID)
		}
	}
	if len(copies) != 3 || !cmp.Equal(many.MessageIDs, copies) || many.ThreadID != topic.ThreadID {
		t.Errorf("Send(copyMessages) ids, thread = %v, %d; want %v, %d", many.MessageIDs, many.ThreadID, copies, topic.ThreadID)
	}

	if _, err := c.Send(ctx, queue.Message{ID: "5", Method: queue.MethodDeleteForumTopic, ChatID: staff, ThreadID: topic.ThreadID}); err != nil {
		t.Fatalf("Send(deleteForumTopic): %v", err)
	}
	if got := srv.Topics(staff); len(got) != 0 {
		t.Errorf("topics after deleteForumTopic = %v, want none", got)
	}
	late, err := c.Send(ctx, queue.Message{ID: "6", Method: queue.MethodSendMessage, ChatID: staff, ThreadID: topic.ThreadID, Text: "reply"})
	if late.Outcome != tgapi.Failed || err == nil || late.Detail != "Bad Request: message thread not found" {
		t.Errorf("Send into a deleted topic = %+v, %v; want Failed, detail Bad Request: message thread not found", late, err)
	}
}

func TestSendCopiesRefusedWithoutCall(t *testing.T) {
	tests := []struct {
		name string
		m    queue.Message
		want string
	}{
		{"copyMessage of two", queue.Message{Method: queue.MethodCopyMessage, MessageIDs: []int{1, 2}}, "2 message ids, want one"},
		{"copyMessage of none", queue.Message{Method: queue.MethodCopyMessage}, "0 message ids, want one"},
		{"copyMessages of none", queue.Message{Method: queue.MethodCopyMessages}, "0 message ids, want 1 to 100"},
		{"copyMessages over the cap", queue.Message{Method: queue.MethodCopyMessages, MessageIDs: func() []int {
			ids := make([]int, queue.MaxCopy+1)
			for i := range ids {
				ids[i] = i + 1
			}
			return ids
		}()}, "101 message ids, want 1 to 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(telegramtest.WithTB(t))
			t.Cleanup(srv.Close)
			tt.m.ID, tt.m.ChatID, tt.m.FromChatID = "1", -100, 42
			got, err := newClient(t, srv.URL()).Send(context.Background(), tt.m)
			if got.Outcome != tgapi.Failed || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Send(%s) = %v, %v; want Failed with %q", tt.name, got.Outcome, err, tt.want)
			}
			if calls := srv.Calls(); len(calls) != 0 {
				t.Errorf("Send(%s) made %d calls, want none", tt.name, len(calls))
			}
		})
	}
}

func TestStarBalance(t *testing.T) {
	api := telegramtest.New(telegramtest.WithTB(t))
	defer api.Close()
	api.SetStarBalance(250)
	got, err := newClient(t, api.URL()).StarBalance(context.Background())
	if err != nil || got != 250 {
		t.Fatalf("StarBalance = %v, %v; want 250", got, err)
	}
}
