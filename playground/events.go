package playground

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Event types of a chat's event stream.
const (
	// EventMessage is a new message, or a message changed in place (same id).
	EventMessage = "message"
	// EventDelete is a message deleted (MessageID).
	EventDelete = "delete"
	// EventKeyboard is the chat's reply keyboard set (Keyboard) or removed (nil).
	EventKeyboard = "keyboard"
	// EventAnswer is the bot's answer to a tapped button: a notification (Text, Alert)
	// or, with no text, just the end of the button's loading state.
	EventAnswer = "answer"
	// EventTyping is a chat action ("typing" in Text).
	EventTyping = "typing"
)

// Event is one change of a simulated chat, as its event stream sends it.
type Event struct {
	Type      string         `json:"type"`
	Message   *Message       `json:"message,omitempty"`
	MessageID int            `json:"message_id,omitempty"`
	Keyboard  *ReplyKeyboard `json:"keyboard,omitempty"`
	Text      string         `json:"text,omitempty"`
	Alert     bool           `json:"alert,omitempty"`
}

// Snapshot is a simulated chat as it stands: the first event of a stream.
type Snapshot struct {
	Messages []Message      `json:"messages"`
	Keyboard *ReplyKeyboard `json:"keyboard"`
}

// streamBuffer is how many events a stream may fall behind before it is ended: the
// browser then reconnects and starts again from a snapshot.
const streamBuffer = 256

// keepAlive is how often an idle stream sends a comment, so that a proxy keeps it open
// and a closed tab is noticed.
const keepAlive = 15 * time.Second

type stream struct {
	events chan Event
}

// Subscribe returns a chat's snapshot and its changes from then on. The channel is
// closed when the subscriber falls streamBuffer events behind or cancel is called.
func (p *Playground) Subscribe(chatID int64) (snap Snapshot, events <-chan Event, cancel func()) {
	s := &stream{events: make(chan Event, streamBuffer)}
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := p.chat(chatID)
	snap = Snapshot{Messages: append([]Message{}, ch.msgs...), Keyboard: ch.reply}
	if p.streams[chatID] == nil {
		p.streams[chatID] = map[*stream]struct{}{}
	}
	p.streams[chatID][s] = struct{}{}
	return snap, s.events, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.drop(chatID, s)
	}
}

// publish sends an event to a chat's streams. p.mu must be held.
func (p *Playground) publish(chatID int64, ev Event) {
	for s := range p.streams[chatID] {
		select {
		case s.events <- ev:
		default:
			p.drop(chatID, s)
		}
	}
}

// drop ends a stream. p.mu must be held.
func (p *Playground) drop(chatID int64, s *stream) {
	if _, ok := p.streams[chatID][s]; ok {
		delete(p.streams[chatID], s)
		close(s.events)
	}
}

// events streams a chat as server-sent events: a "snapshot", then one event per change,
// named by its type.
func (p *Playground) events(c *gin.Context) {
	chatID, ok := p.chatParam(c)
	if !ok {
		return
	}
	p.endOnShutdown(c.Request)
	snap, events, cancel := p.Subscribe(chatID)
	defer cancel()
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.SSEvent("snapshot", snap)
	c.Writer.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-c.Request.Context().Done():
			return
		case <-p.done:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			c.SSEvent(ev.Type, ev)
		case <-tick.C:
			if _, err := c.Writer.WriteString(": keep-alive\n\n"); err != nil {
				return
			}
		}
		c.Writer.Flush()
	}
}

// endOnShutdown has the HTTP server serving r end the event streams when it shuts down:
// it waits for the requests in flight, and a stream never ends by itself.
func (p *Playground) endOnShutdown(r *http.Request) {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.servers[srv] {
		p.servers[srv] = true
		srv.RegisterOnShutdown(p.endStreams)
	}
}

// endStreams ends every event stream.
func (p *Playground) endStreams() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for chatID, streams := range p.streams {
		for s := range streams {
			p.drop(chatID, s)
		}
	}
}

// chatParam reads the chat a request names: user=<positive id>, or chat=staff.
func (p *Playground) chatParam(c *gin.Context) (int64, bool) {
	if c.Query("chat") == "staff" {
		return p.staff, true
	}
	user, err := strconv.ParseInt(c.Query("user"), 10, 64)
	if err != nil || user <= 0 {
		c.JSON(http.StatusBadRequest, gin.H{"error": "user must be a positive integer, or chat=staff"})
		return 0, false
	}
	return user, true
}
