package playground

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/nanta-district/bangban/internal/telegramtest"
)

// Message is one message in a simulated chat, with edits applied: the bot's, or a
// simulated user's when From is set.
type Message struct {
	ID int `json:"message_id"`
	// From is the simulated user who wrote the message; nil for the bot.
	From *Sender `json:"from,omitempty"`
	// Text is the text or the caption.
	Text string `json:"text,omitempty"`
	// Entities are the Bot API entities of Text (offsets in UTF-16 code units).
	Entities json.RawMessage `json:"entities,omitempty"`
	// Keyboard is the inline keyboard under the message.
	Keyboard [][]map[string]any `json:"keyboard,omitempty"`
	Edited   bool               `json:"edited,omitempty"`
	Photo    bool               `json:"photo,omitempty"`
	// Document is the name of a file the message carries.
	Document string    `json:"document,omitempty"`
	Sticker  bool      `json:"sticker,omitempty"`
	Contact  string    `json:"contact,omitempty"`
	Location *Location `json:"location,omitempty"`
	// Thread is the forum topic of a message in the staff group.
	Thread int `json:"thread,omitempty"`
	// Topic is the name of the topic a message opens (createForumTopic).
	Topic   string `json:"topic,omitempty"`
	ReplyTo int    `json:"reply_to,omitempty"`
	// Copy says which message this one copies ("<chat>/<message id>"); its content is
	// copied too when the playground knows that message.
	Copy string `json:"copy,omitempty"`
}

// Sender is a simulated user who wrote a message.
type Sender struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Location is a shared position.
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// ReplyKeyboard is the keyboard a chat shows in place of the phone's keyboard, as the
// last message that set or removed it left it.
type ReplyKeyboard struct {
	Rows [][]map[string]any `json:"rows"`
	// OneTime hides the keyboard once a button is used (it can be opened again).
	OneTime bool `json:"one_time,omitempty"`
}

// chat is what the playground remembers of a simulated chat.
type chat struct {
	msgs  []Message
	reply *ReplyKeyboard
}

type markup struct {
	Inline  [][]map[string]any `json:"inline_keyboard"`
	Reply   [][]map[string]any `json:"keyboard"`
	OneTime bool               `json:"one_time_keyboard"`
	Remove  bool               `json:"remove_keyboard"`
}

// record applies a call of the fake Bot API to the simulated chats and tells the chat's
// event streams.
func (p *Playground) record(c telegramtest.Call) {
	if c.Status != http.StatusOK {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.Method == "answerInlineQuery" {
		p.recordInline(c.Params)
		return
	}
	if c.Method == "answerCallbackQuery" {
		id := c.Params["callback_query_id"]
		if chat, ok := p.callbacks[id]; ok {
			delete(p.callbacks, id)
			alert, _ := strconv.ParseBool(c.Params["show_alert"])
			p.publish(chat, Event{Type: EventAnswer, Text: c.Params["text"], Alert: alert})
		}
		return
	}
	if c.ChatID == 0 {
		return
	}
	var res struct {
		MessageID       int             `json:"message_id"`
		Text            string          `json:"text"`
		Entities        json.RawMessage `json:"entities"`
		Caption         string          `json:"caption"`
		CaptionEntities json.RawMessage `json:"caption_entities"`
	}
	_ = json.Unmarshal(c.Result, &res)
	var mk markup
	_ = json.Unmarshal([]byte(c.Params["reply_markup"]), &mk)
	thread, _ := strconv.Atoi(c.Params["message_thread_id"])
	var reply struct {
		MessageID int `json:"message_id"`
	}
	_ = json.Unmarshal([]byte(c.Params["reply_parameters"]), &reply)
	sent := Message{ID: res.MessageID, Text: res.Text, Entities: res.Entities, Keyboard: mk.Inline, Thread: thread, ReplyTo: reply.MessageID}
	switch c.Method {
	case "sendMessage":
		p.add(c.ChatID, sent)
	case "sendPhoto", "sendDocument":
		sent.Text, sent.Entities = res.Caption, res.CaptionEntities
		if c.Method == "sendPhoto" {
			sent.Photo = true
		} else if sent.Document = c.Files["document"].Name; sent.Document == "" {
			sent.Document = "document"
		}
		p.add(c.ChatID, sent)
	case "copyMessage":
		id, _ := strconv.Atoi(c.Params["message_id"])
		m := p.copyOf(c.Params["from_chat_id"], id)
		m.ID, m.Keyboard, m.Thread, m.ReplyTo = res.MessageID, mk.Inline, thread, reply.MessageID
		if caption, ok := c.Params["caption"]; ok {
			m.Text, m.Entities = caption, nil
		}
		p.add(c.ChatID, m)
	case "copyMessages":
		var ids []int
		var made []struct {
			ID int `json:"message_id"`
		}
		_ = json.Unmarshal([]byte(c.Params["message_ids"]), &ids)
		_ = json.Unmarshal(c.Result, &made)
		for i, m := range made {
			if i < len(ids) {
				copied := p.copyOf(c.Params["from_chat_id"], ids[i])
				copied.ID, copied.Thread = m.ID, thread
				p.add(c.ChatID, copied)
			}
		}
	case "createForumTopic":
		var topic struct {
			ID int `json:"message_thread_id"`
		}
		_ = json.Unmarshal(c.Result, &topic)
		p.add(c.ChatID, Message{ID: topic.ID, Text: c.Params["name"], Topic: c.Params["name"], Thread: topic.ID})
	case "deleteForumTopic":
		thread, _ := strconv.Atoi(c.Params["message_thread_id"])
		ch := p.chat(c.ChatID)
		kept := ch.msgs[:0]
		for _, m := range ch.msgs {
			if m.Thread == thread && thread != 0 {
				p.publish(c.ChatID, Event{Type: EventDelete, MessageID: m.ID})
				continue
			}
			kept = append(kept, m)
		}
		ch.msgs = kept
	case "editMessageText":
		ch := p.chat(c.ChatID)
		for i := range ch.msgs {
			if m := &ch.msgs[i]; m.ID == res.MessageID {
				m.Text, m.Entities, m.Keyboard, m.Edited = res.Text, res.Entities, mk.Inline, true
				edited := *m
				p.publish(c.ChatID, Event{Type: EventMessage, Message: &edited})
			}
		}
	case "deleteMessage":
		id, _ := strconv.Atoi(c.Params["message_id"])
		ch := p.chat(c.ChatID)
		for i := range ch.msgs {
			if ch.msgs[i].ID == id {
				ch.msgs = append(ch.msgs[:i:i], ch.msgs[i+1:]...)
				p.publish(c.ChatID, Event{Type: EventDelete, MessageID: id})
				break
			}
		}
	case "sendChatAction":
		p.publish(c.ChatID, Event{Type: EventTyping, Text: c.Params["action"]})
	}
	if !strings.HasPrefix(c.Method, "send") && !strings.HasPrefix(c.Method, "copy") {
		return
	}
	switch {
	case mk.Reply != nil:
		p.setKeyboard(c.ChatID, &ReplyKeyboard{Rows: mk.Reply, OneTime: mk.OneTime})
	case mk.Remove:
		p.setKeyboard(c.ChatID, nil)
	}
}

// copyOf returns the content of a message the playground knows, for a copy of it; a
// message it does not know gives an empty one.
func (p *Playground) copyOf(fromChat string, id int) Message {
	m := Message{Copy: fromChat + "/" + strconv.Itoa(id)}
	from, err := strconv.ParseInt(fromChat, 10, 64)
	if err != nil {
		return m
	}
	for _, orig := range p.chat(from).msgs {
		if orig.ID == id {
			m.Text, m.Entities, m.Photo, m.Document = orig.Text, orig.Entities, orig.Photo, orig.Document
			m.Sticker, m.Contact, m.Location = orig.Sticker, orig.Contact, orig.Location
		}
	}
	return m
}

// chat returns a simulated chat, made on first use. p.mu must be held.
func (p *Playground) chat(id int64) *chat {
	ch := p.chats[id]
	if ch == nil {
		ch = &chat{}
		p.chats[id] = ch
	}
	return ch
}

// add puts a message in a chat, in id order: a user's message is added once queued, when
// the bot may already have answered it. p.mu must be held.
func (p *Playground) add(chatID int64, m Message) {
	ch := p.chat(chatID)
	i := len(ch.msgs)
	for i > 0 && ch.msgs[i-1].ID > m.ID {
		i--
	}
	ch.msgs = slices.Insert(ch.msgs, i, m)
	p.publish(chatID, Event{Type: EventMessage, Message: &m})
}

// setKeyboard sets or removes (nil) a chat's reply keyboard. p.mu must be held.
func (p *Playground) setKeyboard(chatID int64, kb *ReplyKeyboard) {
	p.chat(chatID).reply = kb
	p.publish(chatID, Event{Type: EventKeyboard, Keyboard: kb})
}
