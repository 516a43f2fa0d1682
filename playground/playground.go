// Package playground lets a person talk to the bot without Telegram: it turns HTTP
// requests into Telegram updates for the normal intake, and shows each simulated
// user's chat as the in-process fake Bot API recorded it.
package playground

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/queue"
)

// Intake queues an update, as the webhook does.
type Intake interface {
	Append(ctx context.Context, u queue.Update) (duplicate bool, err error)
}

// Message is one bot message in a simulated chat, with edits applied.
type Message struct {
	ID       int                `json:"message_id"`
	Text     string             `json:"text"`
	Keyboard [][]map[string]any `json:"keyboard,omitempty"`
	Edited   bool               `json:"edited,omitempty"`
	// Document is the name of a file the bot sent (an export).
	Document string `json:"document,omitempty"`
	// Thread is the forum topic of a message in the staff group.
	Thread int `json:"thread,omitempty"`
	// Copy says which message this one copies ("<chat>/<message id>").
	Copy string `json:"copy,omitempty"`
}

// Playground holds the simulated chats.
type Playground struct {
	intake Intake
	api    *telegramtest.Server
	staff  int64
	nextID atomic.Int64

	mu    sync.Mutex
	chats map[int64][]Message
	// users remembers each simulated user's name and language, so that only the first
	// request needs to give them, as a Telegram client sends them with every update.
	users map[int64]userFields
}

// New starts recording the bot's messages from api and returns the Playground; stop it
// by cancelling ctx. staff is the staff group (a forum supergroup of api).
func New(ctx context.Context, intake Intake, api *telegramtest.Server, staff int64) *Playground {
	p := &Playground{intake: intake, api: api, staff: staff, chats: map[int64][]Message{}, users: map[int64]userFields{}}
	// Update ids only need to be unique for 24 h, across restarts on a kept Redis too.
	p.nextID.Store(time.Now().Unix() * 1000)
	calls, cancel := api.Subscribe()
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case c := <-calls:
				p.record(c)
			}
		}
	}()
	return p
}

func (p *Playground) record(c telegramtest.Call) {
	if c.Status != http.StatusOK || c.ChatID == 0 {
		return
	}
	var res struct {
		MessageID   int    `json:"message_id"`
		Text        string `json:"text"`
		ReplyMarkup struct {
			InlineKeyboard [][]map[string]any `json:"inline_keyboard"`
		} `json:"reply_markup"`
	}
	_ = json.Unmarshal(c.Result, &res)
	var reply struct {
		Keyboard [][]map[string]any `json:"keyboard"`
	}
	_ = json.Unmarshal([]byte(c.Params["reply_markup"]), &reply)
	kb := res.ReplyMarkup.InlineKeyboard
	if kb == nil {
		kb = reply.Keyboard
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	msgs := p.chats[c.ChatID]
	thread, _ := strconv.Atoi(c.Params["message_thread_id"])
	from := c.Params["from_chat_id"] + "/"
	switch c.Method {
	case "sendMessage":
		p.chats[c.ChatID] = append(msgs, Message{ID: res.MessageID, Text: res.Text, Keyboard: kb, Thread: thread})
	case "copyMessage":
		p.chats[c.ChatID] = append(msgs, Message{ID: res.MessageID, Text: c.Params["caption"], Thread: thread,
			Copy: from + c.Params["message_id"]})
	case "copyMessages":
		var ids []int
		var made []struct {
			ID int `json:"message_id"`
		}
		_ = json.Unmarshal([]byte(c.Params["message_ids"]), &ids)
		_ = json.Unmarshal(c.Result, &made)
		for i, m := range made {
			if i < len(ids) {
				msgs = append(msgs, Message{ID: m.ID, Thread: thread, Copy: from + strconv.Itoa(ids[i])})
			}
		}
		p.chats[c.ChatID] = msgs
	case "createForumTopic":
		var topic struct {
			ID int `json:"message_thread_id"`
		}
		_ = json.Unmarshal(c.Result, &topic)
		p.chats[c.ChatID] = append(msgs, Message{ID: topic.ID, Text: "topic: " + c.Params["name"], Thread: topic.ID})
	case "sendDocument":
		p.chats[c.ChatID] = append(msgs, Message{ID: res.MessageID, Text: c.Params["caption"], Keyboard: kb,
			Document: c.Files["document"].Name})
	case "editMessageText":
		for i := range msgs {
			if msgs[i].ID == res.MessageID {
				msgs[i] = Message{ID: res.MessageID, Text: res.Text, Keyboard: kb, Edited: true}
			}
		}
	case "deleteMessage":
		id, _ := strconv.Atoi(c.Params["message_id"])
		for i := range msgs {
			if msgs[i].ID == id {
				p.chats[c.ChatID] = append(msgs[:i:i], msgs[i+1:]...)
				break
			}
		}
	}
}

// Chat returns the bot's messages to a user, oldest first.
func (p *Playground) Chat(user int64) []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.chats[user]...)
}

// Mount adds the playground routes to an engine.
func (p *Playground) Mount(e *gin.Engine) {
	e.GET("/", func(c *gin.Context) { c.String(http.StatusOK, usage) })
	e.POST("/playground/send", p.send)
	e.POST("/playground/tap", p.tap)
	e.GET("/playground/chat", func(c *gin.Context) {
		if c.Query("chat") == "staff" {
			c.JSON(http.StatusOK, gin.H{"messages": p.Chat(p.staff)})
			return
		}
		user, err := strconv.ParseInt(c.Query("user"), 10, 64)
		if err != nil || user <= 0 {
			c.JSON(http.StatusBadRequest, gin.H{"error": "user must be a positive integer, or chat=staff"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"messages": p.Chat(user)})
	})
}

type userFields struct {
	User int64  `json:"user"`
	Name string `json:"name"`
	Lang string `json:"lang"`
	// Staff makes the user write in the staff group instead of their private chat.
	Staff bool `json:"staff"`
}

// remember fills the name and language a request leaves out with the user's earlier ones,
// and keeps those it gives.
func (p *Playground) remember(f *userFields) {
	p.mu.Lock()
	defer p.mu.Unlock()
	known := p.users[f.User]
	if f.Name == "" {
		f.Name = known.Name
	}
	if f.Lang == "" {
		f.Lang = known.Lang
	}
	p.users[f.User] = userFields{User: f.User, Name: f.Name, Lang: f.Lang}
}

func (f userFields) from() map[string]any {
	name := f.Name
	if name == "" {
		name = "User " + strconv.FormatInt(f.User, 10)
	}
	u := map[string]any{"id": f.User, "is_bot": false, "first_name": name}
	if f.Lang != "" {
		u["language_code"] = f.Lang
	}
	return u
}

func (p *Playground) chat(f userFields) map[string]any {
	if f.Staff {
		return map[string]any{"id": p.staff, "type": "supergroup", "title": "staff", "is_forum": true}
	}
	return map[string]any{"id": f.User, "type": "private", "first_name": f.from()["first_name"]}
}

func (p *Playground) chatID(f userFields) int64 {
	if f.Staff {
		return p.staff
	}
	return f.User
}

// sendRequest is a message from a simulated user: exactly one of text, a shared contact,
// a shared location or a sticker.
type sendRequest struct {
	userFields
	Text    string `json:"text"`
	Contact *struct {
		Phone string `json:"phone"`
		// UserID is whose contact it is; 0 or absent means the sender's own.
		UserID int64 `json:"user_id"`
	} `json:"contact"`
	Location *struct {
		Lat float64 `json:"lat"`
		Lon float64 `json:"lon"`
	} `json:"location"`
	Sticker bool `json:"sticker"`
	// Photo sends a photo, with Text as its caption.
	Photo bool `json:"photo"`
	// Thread and ReplyTo place a staff message in a topic or in reply to a message.
	Thread  int `json:"thread"`
	ReplyTo int `json:"reply_to"`
}

const sendUsage = `want {"user": <positive id>, "name"?, "lang"?, "staff"?, "thread"?, "reply_to"?} and one of ` +
	`"text": "...", "photo": true (with "text" as its caption), "contact": {"phone": "...", "user_id"?}, ` +
	`"location": {"lat": .., "lon": ..}, "sticker": true`

func (p *Playground) send(c *gin.Context) {
	var req sendRequest
	if err := c.ShouldBindJSON(&req); err != nil || req.User <= 0 || req.kinds() != 1 {
		c.JSON(http.StatusBadRequest, gin.H{"error": sendUsage})
		return
	}
	p.remember(&req.userFields)
	id := p.nextID.Add(1)
	chat := p.chatID(req.userFields)
	msg := map[string]any{
		"message_id": p.api.NewMessageID(chat), "date": time.Now().Unix(),
		"from": req.from(), "chat": p.chat(req.userFields),
	}
	if req.Staff && req.Thread > 0 {
		msg["message_thread_id"], msg["is_topic_message"] = req.Thread, true
	}
	if req.ReplyTo > 0 {
		msg["reply_to_message"] = map[string]any{"message_id": req.ReplyTo, "date": time.Now().Unix(), "chat": p.chat(req.userFields)}
	}
	switch {
	case req.Photo:
		msg["photo"] = []map[string]any{{"file_id": "playground-photo", "file_unique_id": "pgp", "width": 800, "height": 600}}
		if req.Text != "" {
			msg["caption"] = req.Text
		}
	case req.Text != "":
		msg["text"] = req.Text
		if len(req.Text) > 1 && req.Text[0] == '/' {
			n := len(req.Text)
			for i, r := range req.Text {
				if r == ' ' {
					n = i
					break
				}
			}
			msg["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": n}}
		}
	case req.Contact != nil:
		owner := req.Contact.UserID
		if owner == 0 {
			owner = req.User
		}
		msg["contact"] = map[string]any{"phone_number": req.Contact.Phone, "first_name": req.from()["first_name"], "user_id": owner}
	case req.Location != nil:
		msg["location"] = map[string]any{"latitude": req.Location.Lat, "longitude": req.Location.Lon}
	case req.Sticker:
		msg["sticker"] = map[string]any{"file_id": "playground-sticker", "file_unique_id": "pgs", "type": "regular",
			"width": 512, "height": 512, "is_animated": false, "is_video": false}
	}
	p.queue(c, id, chat, map[string]any{"update_id": id, "message": msg})
}

// kinds counts what the request sends; exactly one is allowed (a photo's text is its caption).
func (r sendRequest) kinds() int {
	n := 0
	for _, set := range []bool{r.Text != "" && !r.Photo, r.Photo, r.Contact != nil && r.Contact.Phone != "", r.Location != nil, r.Sticker} {
		if set {
			n++
		}
	}
	return n
}

func (p *Playground) tap(c *gin.Context) {
	var req struct {
		userFields
		MessageID int    `json:"message_id"`
		Data      string `json:"data"`
	}
	if err := c.ShouldBindJSON(&req); err != nil || req.User <= 0 || req.MessageID <= 0 || req.Data == "" {
		c.JSON(http.StatusBadRequest, gin.H{"error": `want {"user": <positive id>, "message_id": <id>, "data": "..."}`})
		return
	}
	p.remember(&req.userFields)
	id := p.nextID.Add(1)
	cb := map[string]any{
		"id": strconv.FormatInt(id, 10), "from": req.from(), "chat_instance": "playground",
		"data": req.Data,
		"message": map[string]any{
			"message_id": req.MessageID, "date": time.Now().Unix(), "chat": p.chat(req.userFields),
			"from": map[string]any{"id": telegramtest.DefaultBot.ID, "is_bot": true, "first_name": telegramtest.DefaultBot.FirstName},
			"text": "",
		},
	}
	p.queue(c, id, p.chatID(req.userFields), map[string]any{"update_id": id, "callback_query": cb})
}

func (p *Playground) queue(c *gin.Context, id, chat int64, update map[string]any) {
	raw, err := json.Marshal(update)
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	if _, err := p.intake.Append(c.Request.Context(), queue.Update{UpdateID: id, ChatID: chat, Kind: queue.KindTelegram, Raw: raw}); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "could not queue the update: " + err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"update_id": id})
}

const usage = `bangban playground: the bot runs against an in-process fake Telegram.

Talk to it as user 1001 (any positive id is a new user):
  curl -s localhost:8080/playground/send -d '{"user":1001,"name":"Wang","lang":"zh-hans","text":"/start"}'
  curl -s 'localhost:8080/playground/chat?user=1001'
Tap an inline button (message_id and data from the chat above):
  curl -s localhost:8080/playground/tap -d '{"user":1001,"message_id":1,"data":"lang:en"}'
Scan a service point's QR code, share your phone number or a location:
  curl -s localhost:8080/playground/send -d '{"user":1001,"text":"/start cp_nt-p01"}'
  curl -s localhost:8080/playground/send -d '{"user":1001,"contact":{"phone":"+8613800000000"}}'
  curl -s localhost:8080/playground/send -d '{"user":1001,"location":{"lat":41.7697,"lon":123.4556}}'
Ask staff for help, then answer as staff in the ticket's topic (thread from chat=staff):
  curl -s localhost:8080/playground/send -d '{"user":1001,"text":"/request"}'
  curl -s 'localhost:8080/playground/chat?chat=staff'
  curl -s localhost:8080/playground/send -d '{"user":9001,"name":"Staff","staff":true,"thread":3,"text":"Hello!"}'
`
