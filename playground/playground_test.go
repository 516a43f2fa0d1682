package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-telegram/bot/models"

	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/webhook"
)

type fakeIntake struct {
	mu  sync.Mutex
	got []queue.Update
}

func (f *fakeIntake) Append(_ context.Context, u queue.Update) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, u)
	return false, nil
}

func setup(t *testing.T) (*Playground, *fakeIntake, *telegramtest.Server, *gin.Engine) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	api := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(api.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	api.AddChat(telegramtest.Chat{ID: testStaff, Type: "supergroup", Title: "staff", IsForum: true,
		BotStatus: "administrator", CanManageTopics: true})
	in := &fakeIntake{}
	p := New(ctx, in, api, testStaff)
	e := gin.New()
	p.Mount(e)
	return p, in, api, e
}

const testStaff = -1001000000001

func do(e *gin.Engine, method, path, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
	return w
}

func TestSendAndTapQueueTelegramShapedUpdates(t *testing.T) {
	_, in, _, e := setup(t)
	if w := do(e, http.MethodPost, "/playground/send", `{"user":1001,"name":"王师傅","lang":"zh-hans","text":"/start"}`); w.Code != http.StatusOK {
		t.Fatalf("send = %d %s", w.Code, w.Body)
	}
	if w := do(e, http.MethodPost, "/playground/tap", `{"user":1001,"message_id":1,"data":"lang:en"}`); w.Code != http.StatusOK {
		t.Fatalf("tap = %d %s", w.Code, w.Body)
	}
	if len(in.got) != 2 {
		t.Fatalf("queued %d updates, want 2", len(in.got))
	}
	for i, u := range in.got {
		// The intake decoder must see what Telegram would send: id and chat.
		parsed, err := webhook.ParseUpdate(u.Raw)
		if err != nil || parsed.UpdateID != u.UpdateID || parsed.ChatID != 1001 || u.ChatID != 1001 {
			t.Errorf("update %d: parsed %+v, %v; queued chat %d", i, parsed, err, u.ChatID)
		}
	}
	if in.got[1].UpdateID <= in.got[0].UpdateID {
		t.Errorf("update ids %d then %d, want increasing", in.got[0].UpdateID, in.got[1].UpdateID)
	}
	var msg struct {
		Message struct {
			Text     string `json:"text"`
			Entities []struct {
				Type   string `json:"type"`
				Length int    `json:"length"`
			} `json:"entities"`
			From struct {
				FirstName    string `json:"first_name"`
				LanguageCode string `json:"language_code"`
			} `json:"from"`
		} `json:"message"`
	}
	if err := json.Unmarshal(in.got[0].Raw, &msg); err != nil {
		t.Fatal(err)
	}
	m := msg.Message
	if m.Text != "/start" || len(m.Entities) != 1 || m.Entities[0].Type != "bot_command" || m.Entities[0].Length != 6 ||
		m.From.FirstName != "王师傅" || m.From.LanguageCode != "zh-hans" {
		t.Errorf("message = %+v", m)
	}
}

// sendAll posts each body to /playground/send and returns the messages of the updates
// queued.
func sendAll(t *testing.T, e *gin.Engine, in *fakeIntake, bodies ...string) []models.Message {
	t.Helper()
	for _, body := range bodies {
		if w := do(e, http.MethodPost, "/playground/send", body); w.Code != http.StatusOK {
			t.Fatalf("send %s = %d %s", body, w.Code, w.Body)
		}
	}
	var got []models.Message
	for _, u := range in.got {
		var upd models.Update
		if err := json.Unmarshal(u.Raw, &upd); err != nil || upd.Message == nil {
			t.Fatalf("update %s: %v", u.Raw, err)
		}
		got = append(got, *upd.Message)
	}
	return got
}

// TestSendContactLocationSticker checks the other kinds of message a user can send: they
// decode with the client library's models into what the bot reads.
func TestSendContactLocationSticker(t *testing.T) {
	_, in, _, e := setup(t)
	got := sendAll(t, e, in,
		`{"user":1001,"contact":{"phone":"+8613800000000"}}`,
		`{"user":1001,"contact":{"phone":"+8613900000000","user_id":42}}`,
		`{"user":1001,"location":{"lat":41.7697,"lon":123.4556}}`,
		`{"user":1001,"sticker":true}`,
		`{"user":1001,"document":"plan.pdf","text":"见附件"}`,
	)
	if c := got[0].Contact; c == nil || c.UserID != 1001 || c.PhoneNumber != "+8613800000000" {
		t.Errorf("own contact = %+v", c)
	}
	if c := got[1].Contact; c == nil || c.UserID != 42 {
		t.Errorf("someone else's contact = %+v", c)
	}
	if l := got[2].Location; l == nil || l.Latitude != 41.7697 || l.Longitude != 123.4556 {
		t.Errorf("location = %+v", l)
	}
	if got[3].Sticker == nil || got[3].Text != "" {
		t.Errorf("sticker message = %+v", got[3])
	}
	if d := got[4].Document; d == nil || d.FileName != "plan.pdf" || got[4].Caption != "见附件" || got[4].Text != "" {
		t.Errorf("document message = %+v", got[4])
	}
}

func TestBadRequestsAreRefused(t *testing.T) {
	_, in, _, e := setup(t)
	for _, tt := range []struct{ path, body string }{
		{"/playground/send", `{"user":0,"text":"hi"}`},
		{"/playground/send", `{"user":5}`},
		{"/playground/send", `{"user":5,"text":"hi","sticker":true}`},
		{"/playground/send", `{"user":5,"contact":{}}`},
		{"/playground/send", `not json`},
		{"/playground/send", `{"user":5,"photo":true,"document":"a.pdf"}`},
		{"/playground/send", `{"user":5,"location":{"lat":"north"}}`},
		{"/playground/tap", `{"user":5,"data":"x"}`},
		{"/playground/tap", `{"user":5,"message_id":1}`},
	} {
		if w := do(e, http.MethodPost, tt.path, tt.body); w.Code != http.StatusBadRequest {
			t.Errorf("POST %s %s = %d, want 400", tt.path, tt.body, w.Code)
		}
	}
	for _, path := range []string{"/playground/chat?user=abc", "/playground/events?user=-3", "/playground/events",
		"/playground/commands?chat=other"} {
		if w := do(e, http.MethodGet, path, ""); w.Code != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", path, w.Code)
		}
	}
	if len(in.got) != 0 {
		t.Errorf("bad requests queued %d updates", len(in.got))
	}
}

func TestChatShowsBotMessagesWithEdits(t *testing.T) {
	p, _, api, e := setup(t)
	post := func(method string, body string) {
		t.Helper()
		resp, err := http.Post(api.URL()+"/bot1:x/"+method, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post("sendMessage", `{"chat_id":1001,"text":"你好","reply_markup":{"inline_keyboard":[[{"text":"English","callback_data":"lang:en"}]]}}`)
	post("sendMessage", `{"chat_id":1002,"text":"other user"}`)
	post("editMessageText", `{"chat_id":1001,"message_id":1,"text":"Hello"}`)
	deadline := time.Now().Add(5 * time.Second)
	for len(p.Chat(1001)) == 0 || !p.Chat(1001)[0].Edited {
		if time.Now().After(deadline) {
			t.Fatalf("chat 1001 = %+v, want the edited message", p.Chat(1001))
		}
		time.Sleep(10 * time.Millisecond)
	}
	w := do(e, http.MethodGet, "/playground/chat?user=1001", "")
	var got struct{ Messages []Message }
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 || got.Messages[0].Text != "Hello" || got.Messages[0].Keyboard != nil {
		t.Errorf("chat 1001 = %+v, want one message edited to Hello without its keyboard", got.Messages)
	}
}

// TestStaffGroup: a simulated staff member writes in the staff group, in a topic or in
// reply to a message, with a photo; chat=staff shows topics and copies.
func TestStaffGroup(t *testing.T) {
	p, in, api, e := setup(t)
	got := sendAll(t, e, in,
		`{"user":1001,"photo":true,"text":"漏水"}`,
		`{"user":9001,"name":"王姐","lang":"zh-hans","staff":true,"thread":3,"text":"马上到"}`,
		`{"user":9001,"staff":true,"reply_to":7,"text":"收到"}`,
	)
	if len(got[0].Photo) == 0 || got[0].Caption != "漏水" || in.got[0].ChatID != 1001 {
		t.Errorf("photo message = %+v", got[0])
	}
	if m := got[1]; m.Chat.ID != testStaff || !m.IsTopicMessage || m.MessageThreadID != 3 || in.got[1].ChatID != testStaff {
		t.Errorf("topic message = %+v", m)
	}
	if m := got[2]; m.ReplyToMessage == nil || m.ReplyToMessage.ID != 7 || m.IsTopicMessage {
		t.Errorf("reply = %+v", m)
	}
	if got[1].From.FirstName != "王姐" || got[2].From.FirstName != "王姐" || got[2].From.LanguageCode != "zh-hans" {
		t.Errorf("senders = %+v, %+v; want the name and language given first, remembered", got[1].From, got[2].From)
	}
	post := func(method, body string) {
		t.Helper()
		resp, err := http.Post(api.URL()+"/bot1:x/"+method, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post("createForumTopic", fmt.Sprintf(`{"chat_id":%d,"name":"#1 维修"}`, testStaff))
	post("copyMessages", fmt.Sprintf(`{"chat_id":%d,"from_chat_id":1001,"message_ids":[%d]}`, testStaff, got[0].ID))
	deadline := time.Now().Add(5 * time.Second)
	for len(p.Chat(testStaff)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("staff chat = %+v, want the topic and the copy", p.Chat(testStaff))
		}
		time.Sleep(10 * time.Millisecond)
	}
	w := do(e, http.MethodGet, "/playground/chat?chat=staff", "")
	var view struct{ Messages []Message }
	if err := json.Unmarshal(w.Body.Bytes(), &view); err != nil {
		t.Fatal(err)
	}
	m := view.Messages
	if len(m) != 4 {
		t.Fatalf("staff chat = %+v, want 2 staff messages, the topic and the copy", m)
	}
	if m[0].From == nil || m[0].From.Name != "王姐" || m[0].Thread != 3 || m[1].ReplyTo != 7 {
		t.Errorf("staff messages = %+v, %+v; want 王姐's, in topic 3 and replying to 7", m[0], m[1])
	}
	if m[2].Topic != "#1 维修" || m[2].Thread != m[2].ID {
		t.Errorf("topic = %+v, want the topic #1 维修 opening its thread", m[2])
	}
	if c := m[3]; c.Copy != fmt.Sprintf("1001/%d", got[0].ID) || !c.Photo || c.Text != "漏水" || c.From != nil {
		t.Errorf("copy = %+v, want the bot's copy of the user's photo with its caption", c)
	}
}

// TestReplyQuotesTheMessage: a reply carries the message replied to with its content, as
// Telegram sends it: /broadcast in reply to a notice reads the notice from it.
func TestReplyQuotesTheMessage(t *testing.T) {
	_, in, _, e := setup(t)
	got := sendAll(t, e, in,
		`{"user":9001,"name":"王姐","staff":true,"text":"明天起新规"}`,
		`{"user":9001,"staff":true,"photo":true,"text":"海报"}`,
	)
	got = sendAll(t, e, in,
		fmt.Sprintf(`{"user":9001,"staff":true,"reply_to":%d,"text":"/broadcast"}`, got[0].ID),
		fmt.Sprintf(`{"user":9001,"staff":true,"reply_to":%d,"text":"/broadcast"}`, got[1].ID),
	)[2:]
	if r := got[0].ReplyToMessage; r == nil || r.Text != "明天起新规" || r.From == nil || r.From.FirstName != "王姐" {
		t.Errorf("reply to a text = %+v, want the text and its sender", r)
	}
	if r := got[1].ReplyToMessage; r == nil || len(r.Photo) == 0 || r.Caption != "海报" {
		t.Errorf("reply to a photo = %+v, want the photo and its caption", r)
	}
}
