// Package playground lets a person talk to the bot without Telegram: it turns HTTP
// requests into Telegram updates for the normal intake, and shows each simulated
// user's chat as the in-process fake Bot API recorded it.
package playground

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/queue"
)

// Intake queues an update, as the webhook does.
type Intake interface {
	Append(ctx context.Context, u queue.Update) (duplicate bool, err error)
}

// Playground holds the simulated chats.
type Playground struct {
	intake Intake
	api    *telegramtest.Server
	staff  int64
	points []Point
	nextID atomic.Int64
	done   <-chan struct{}

	mu    sync.Mutex
	chats map[int64]*chat
	// users remembers each simulated user's name and language, so that only the first
	// request needs to give them, as a Telegram client sends them with every update.
	users map[int64]userFields
	// callbacks maps the id of a tapped button's callback query to its chat, until the
	// bot answers it.
	callbacks map[string]int64
	streams   map[int64]map[*stream]struct{}
	// servers are the HTTP servers told to end the streams when they shut down.
	servers map[*http.Server]bool
	// inline holds the answers of the inline queries issued (nil until answered), the
	// latest maxInlineKept of them, oldest first in inlineOrder.
	inline      map[string][]InlineResult
	inlineOrder []string
}

// Point is a service point the page offers as a location to share and a QR code to scan.
type Point struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	NameEN string  `json:"name_en,omitempty"`
	Lat    float64 `json:"lat"`
	Lon    float64 `json:"lon"`
}

// Option configures a Playground.
type Option func(*Playground)

// WithPoints offers the content's service points on the page.
func WithPoints(points []content.Point) Option {
	return func(p *Playground) {
		for _, pt := range points {
			p.points = append(p.points, Point{ID: pt.ID, Name: pt.Name.ZH, NameEN: pt.Name.EN, Lat: pt.Lat, Lon: pt.Lon})
		}
	}
}

// New starts recording the bot's messages from api and returns the Playground; stop it
// by cancelling ctx, which also ends its event streams. staff is the staff group (a forum
// supergroup of api).
func New(ctx context.Context, intake Intake, api *telegramtest.Server, staff int64, opts ...Option) *Playground {
	p := &Playground{intake: intake, api: api, staff: staff, points: []Point{}, done: ctx.Done(), chats: map[int64]*chat{},
		users: map[int64]userFields{}, callbacks: map[string]int64{}, streams: map[int64]map[*stream]struct{}{},
		servers: map[*http.Server]bool{}, inline: map[string][]InlineResult{}}
	for _, o := range opts {
		o(p)
	}
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

// Chat returns the messages of a simulated chat (a user's, or the staff group), oldest
// first.
func (p *Playground) Chat(chatID int64) []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch := p.chats[chatID]; ch != nil {
		return append([]Message(nil), ch.msgs...)
	}
	return nil
}

// Mount adds the playground's page and routes to an engine.
func (p *Playground) Mount(e *gin.Engine) {
	mountWeb(e)
	e.GET("/playground/info", p.info)
	e.GET("/playground/commands", p.commands)
	e.GET("/playground/events", p.events)
	e.POST("/playground/send", p.send)
	e.POST("/playground/tap", p.tap)
	e.POST("/playground/inline", p.inlineQuery)
	e.GET("/playground/inline", p.inlineAnswer)
	e.GET("/playground/chat", func(c *gin.Context) {
		if chatID, ok := p.chatParam(c); ok {
			c.JSON(http.StatusOK, gin.H{"messages": p.Chat(chatID)})
		}
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

func (p *Playground) tgChat(f userFields) map[string]any {
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

// sendRequest is a message from a simulated user: exactly one of text, a photo, a
// document, a shared contact, a shared location or a sticker.
type sendRequest struct {
	userFields
	Text    string `json:"text"`
	Contact *struct {
		Phone string `json:"phone"`
		// UserID is whose contact it is; 0 or absent means the sender's own.
		UserID int64 `json:"user_id"`
	} `json:"contact"`
	Location *Location `json:"location"`
	Sticker  bool      `json:"sticker"`
	// Photo sends a photo, with Text as its caption.
	Photo bool `json:"photo"`
	// Document sends a file of that name, with Text as its caption.
	Document string `json:"document"`
	// Thread and ReplyTo place a staff message in a topic or in reply to a message.
	Thread  int `json:"thread"`
	ReplyTo int `json:"reply_to"`
}

const sendUsage = `want {"user": <positive id>, "name"?, "lang"?, "staff"?, "thread"?, "reply_to"?} and one of ` +
	`"text": "...", "photo": true or "document": "name.pdf" (with "text" as its caption), ` +
	`"contact": {"phone": "...", "user_id"?}, "location": {"lat": .., "lon": ..}, "sticker": true`

func (p *Playground) send(c *gin.Context) {
	var req sendRequest
	if err := c.ShouldBindJSON(&req); err != nil || req.User <= 0 || req.kinds() != 1 {
		c.JSON(http.StatusBadRequest, gin.H{"error": sendUsage})
		return
	}
	p.remember(&req.userFields)
	id := p.nextID.Add(1)
	chatID := p.chatID(req.userFields)
	shown := Message{ID: p.api.NewMessageID(chatID), From: &Sender{ID: req.User, Name: req.from()["first_name"].(string)}}
	msg := map[string]any{
		"message_id": shown.ID, "date": time.Now().Unix(),
		"from": req.from(), "chat": p.tgChat(req.userFields),
	}
	if req.Staff && req.Thread > 0 {
		msg["message_thread_id"], msg["is_topic_message"] = req.Thread, true
		shown.Thread = req.Thread
	}
	if req.ReplyTo > 0 {
		msg["reply_to_message"] = p.quote(chatID, req.ReplyTo, p.tgChat(req.userFields))
		shown.ReplyTo = req.ReplyTo
	}
	switch {
	case req.Photo, req.Document != "":
		shown.Text, shown.Photo, shown.Document = req.Text, req.Photo, req.Document
		maps.Copy(msg, media(shown))
	case req.Text != "":
		msg["text"], shown.Text = req.Text, req.Text
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
		shown.Contact = req.Contact.Phone
	case req.Location != nil:
		msg["location"] = map[string]any{"latitude": req.Location.Lat, "longitude": req.Location.Lon}
		shown.Location = req.Location
	case req.Sticker:
		msg["sticker"] = map[string]any{"file_id": "playground-sticker", "file_unique_id": "pgs", "type": "regular",
			"width": 512, "height": 512, "is_animated": false, "is_video": false}
		shown.Sticker = true
	}
	if p.queue(c, id, chatID, map[string]any{"update_id": id, "message": msg}) {
		p.mu.Lock()
		p.add(chatID, shown)
		p.mu.Unlock()
	}
}

// media returns the Bot API fields of a photo or document message with its caption.
func media(m Message) map[string]any {
	out := map[string]any{}
	if m.Photo {
		out["photo"] = []map[string]any{{"file_id": "playground-photo", "file_unique_id": "pgp", "width": 800, "height": 600}}
	} else {
		out["document"] = map[string]any{"file_id": "playground-document", "file_unique_id": "pgd", "file_name": m.Document}
	}
	if m.Text != "" {
		out["caption"] = m.Text
		if len(m.Entities) > 0 {
			out["caption_entities"] = m.Entities
		}
	}
	return out
}

// quote returns the reply_to_message of a reply to a message of a chat, with the content
// the playground knows of it: a command replying to a message (/broadcast) reads it.
func (p *Playground) quote(chatID int64, id int, chat map[string]any) map[string]any {
	q := map[string]any{"message_id": id, "date": time.Now().Unix(), "chat": chat}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.chat(chatID).msgs {
		if m.ID != id {
			continue
		}
		switch {
		case m.Photo || m.Document != "":
			maps.Copy(q, media(m))
		case m.Text != "":
			q["text"] = m.Text
			if len(m.Entities) > 0 {
				q["entities"] = m.Entities
			}
		}
		if m.From != nil {
			q["from"] = userFields{User: m.From.ID, Name: m.From.Name}.from()
		} else {
			q["from"] = map[string]any{"id": telegramtest.DefaultBot.ID, "is_bot": true, "first_name": telegramtest.DefaultBot.FirstName}
		}
	}
	return q
}

// kinds counts what the request sends; exactly one is allowed (a photo's or a document's
// text is its caption).
func (r sendRequest) kinds() int {
	n := 0
	media := r.Photo || r.Document != ""
	for _, set := range []bool{r.Text != "" && !media, r.Photo, r.Document != "", r.Contact != nil && r.Contact.Phone != "", r.Location != nil, r.Sticker} {
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
			"message_id": req.MessageID, "date": time.Now().Unix(), "chat": p.tgChat(req.userFields),
			"from": map[string]any{"id": telegramtest.DefaultBot.ID, "is_bot": true, "first_name": telegramtest.DefaultBot.FirstName},
			"text": "",
		},
	}
	chatID := p.chatID(req.userFields)
	p.mu.Lock()
	p.callbacks[cb["id"].(string)] = chatID
	p.mu.Unlock()
	p.queue(c, id, chatID, map[string]any{"update_id": id, "callback_query": cb})
}

// queue appends an update to the intake and answers the request; it reports whether the
// update was queued.
func (p *Playground) queue(c *gin.Context, id, chat int64, update map[string]any) bool {
	raw, err := json.Marshal(update)
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return false
	}
	if _, err := p.intake.Append(c.Request.Context(), queue.Update{UpdateID: id, ChatID: chat, Kind: queue.KindTelegram, Raw: raw}); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "could not queue the update: " + err.Error()})
		return false
	}
	c.JSON(http.StatusOK, gin.H{"update_id": id})
	return true
}
