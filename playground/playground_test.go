package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/go-telegram/bot/models"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

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

// TestSendContactLocationSticker checks the other kinds of message a user can send: they
// decode with the client library's models into what the bot reads.
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

func TestSendContactLocationSticker(t *testing.T) {
	_, in, _, e := setup(t)
	got := sendAll(t, e, in,
		`{"user":1001,"contact":{"phone":"+8613800000000"}}`,
		`{"user":1001,"contact":{"phone":"+8613900000000","user_id":42}}`,
		`{"user":1001,"location":{"lat":41.7697,"lon":123.4556}}`,
		`{"user":1001,"sticker":true}`,
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
}

func TestBadRequestsAreRefused(t *testing.T) {
	_, in, _, e := setup(t)
	for _, tt := range []struct{ path, body string }{
		{"/playground/send", `{"user":0,"text":"hi"}`},
		{"/playground/send", `{"user":5}`},
		{"/playground/send", `{"user":5,"text":"hi","sticker":true}`},
		{"/playground/send", `{"user":5,"contact":{}}`},
		{"/playground/send", `not json`},
		{"/playground/tap", `{"user":5,"data":"x"}`},
	} {
		if w := do(e, http.MethodPost, tt.path, tt.body); w.Code != http.StatusBadRequest {
			t.Errorf("POST %s %s = %d, want 400", tt.path, tt.body, w.Code)
		}
	}
	if w := do(e, http.MethodGet, "/playground/chat?user=abc", ""); w.Code != http.StatusBadRequest {
		t.Errorf("chat?user=abc = %d, want 400", w.Code)
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
	if m := view.Messages; m[0].Thread == 0 || !strings.Contains(m[0].Text, "#1 维修") || m[1].Copy != fmt.Sprintf("1001/%d", got[0].ID) {
		t.Errorf("staff chat = %+v", m)
	}
}
