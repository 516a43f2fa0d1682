package handlers

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode"

	"github.com/go-telegram/bot/models"
	"github.com/nanta-district/bangban/bot"
)

// decode parses an update with the client library's models. The models reject a whole
// update when any nested enum is new to them (a new forward_origin or chat member type,
// say), so when that happens the few fields the bot uses are read again on their own: a new
// Telegram feature must not leave a user's /start unanswered.
func decode(raw []byte) (*models.Update, error) {
	var u models.Update
	err := json.Unmarshal(raw, &u)
	if err == nil {
		return &u, nil
	}
	var l lenientUpdate
	if json.Unmarshal(raw, &l) != nil {
		return nil, err
	}
	return l.update(), nil
}

// lenientUpdate holds the parts of an update the bot uses, built only from model types
// that accept any value.
type lenientUpdate struct {
	Message       *lenientMessage `json:"message"`
	CallbackQuery *struct {
		ID      string          `json:"id"`
		From    models.User     `json:"from"`
		Message *lenientMessage `json:"message"`
		Data    string          `json:"data"`
	} `json:"callback_query"`
	InlineQuery *struct {
		ID    string      `json:"id"`
		From  models.User `json:"from"`
		Query string      `json:"query"`
	} `json:"inline_query"`
	MyChatMember *struct {
		Chat          models.Chat `json:"chat"`
		From          models.User `json:"from"`
		NewChatMember struct {
			Status models.ChatMemberType `json:"status"`
		} `json:"new_chat_member"`
	} `json:"my_chat_member"`
}

type lenientMessage struct {
	ID              int          `json:"message_id"`
	Date            int          `json:"date"`
	MessageThreadID int          `json:"message_thread_id"`
	IsTopicMessage  bool         `json:"is_topic_message"`
	From            *models.User `json:"from"`
	Chat            models.Chat  `json:"chat"`
	Text            string       `json:"text"`
	Caption         string       `json:"caption"`
	SenderChat      *models.Chat `json:"sender_chat"`
	ReplyTo         *struct {
		ID int `json:"message_id"`
	} `json:"reply_to_message"`
	Contact  *models.Contact  `json:"contact"`
	Location *models.Location `json:"location"`
}

func (m *lenientMessage) message() *models.Message {
	return &models.Message{
		ID: m.ID, Date: m.Date, MessageThreadID: m.MessageThreadID, IsTopicMessage: m.IsTopicMessage,
		From: m.From, Chat: m.Chat, Text: m.Text, Caption: m.Caption, SenderChat: m.SenderChat,
		Contact: m.Contact, Location: m.Location, ReplyToMessage: m.replyTo(),
	}
}

func (m *lenientMessage) replyTo() *models.Message {
	if m.ReplyTo == nil {
		return nil
	}
	return &models.Message{ID: m.ReplyTo.ID}
}

func (l *lenientUpdate) update() *models.Update {
	var u models.Update
	if l.Message != nil {
		u.Message = l.Message.message()
	}
	if cq := l.CallbackQuery; cq != nil {
		u.CallbackQuery = &models.CallbackQuery{ID: cq.ID, From: cq.From, Data: cq.Data}
		switch m := cq.Message; {
		case m == nil:
		case m.Date == 0:
			// Telegram marks a message the bot can no longer access with date 0.
			u.CallbackQuery.Message = models.MaybeInaccessibleMessage{
				Type:                models.MaybeInaccessibleMessageTypeInaccessibleMessage,
				InaccessibleMessage: &models.InaccessibleMessage{Chat: m.Chat, MessageID: m.ID},
			}
		default:
			u.CallbackQuery.Message = models.MaybeInaccessibleMessage{
				Type: models.MaybeInaccessibleMessageTypeMessage, Message: m.message(),
			}
		}
	}
	if q := l.InlineQuery; q != nil {
		u.InlineQuery = &models.InlineQuery{ID: q.ID, From: &q.From, Query: q.Query}
	}
	if cm := l.MyChatMember; cm != nil {
		u.MyChatMember = &models.ChatMemberUpdated{
			Chat: cm.Chat, From: cm.From,
			NewChatMember: models.ChatMember{Type: cm.NewChatMember.Status},
		}
	}
	return &u
}

// messageInput maps a message to a bot input. It reports false for messages nobody should
// answer: those sent by bots (in groups they would make two bots talk to each other).
// Edited messages never get here: re-running a command because its text was edited would
// surprise the user.
func (h *Handler) messageInput(m *models.Message) (bot.Input, origin, bool) {
	if m.From != nil && m.From.IsBot {
		return bot.Input{}, origin{}, false
	}
	if chatType(m.Chat.Type) == bot.ChatGroup && !hasContent(m) {
		// A service message (a topic renamed, a member joined, a message pinned): nothing
		// anyone said, so nothing for the staff desk to relay.
		return bot.Input{}, origin{}, false
	}
	in := bot.Input{Chat: chatType(m.Chat.Type), Now: h.now().In(h.loc), Kind: bot.KindOther,
		Staff: slices.Contains(h.staff, m.Chat.ID), ChatID: m.Chat.ID, MessageID: m.ID, Caption: m.Caption,
		Anonymous: m.SenderChat != nil && m.SenderChat.ID == m.Chat.ID}
	if m.From != nil {
		in.LanguageCode, in.Name, in.FromID = m.From.LanguageCode, m.From.FirstName, m.From.ID
		in.Admin = h.isAdmin(m.From.ID, in.Staff)
	}
	switch {
	case m.Text != "":
		if name, args, ok := h.parseCommand(m.Text); ok {
			in.Kind, in.Command, in.Args = bot.KindCommand, name, args
		} else {
			in.Kind, in.Text = bot.KindText, m.Text
			in.Button = h.texts.button(m.Text)
		}
	case m.Contact != nil:
		in.Kind = bot.KindContact
		in.Contact = &bot.Contact{UserID: m.Contact.UserID, Phone: m.Contact.PhoneNumber}
	case m.Location != nil:
		in.Kind = bot.KindLocation
		in.Location = &bot.Location{Lat: m.Location.Latitude, Lon: m.Location.Longitude}
	}
	o := origin{chatID: m.Chat.ID, threadID: threadID(m)}
	if r := m.ReplyToMessage; r != nil && !m.IsTopicMessage {
		o.replyTo = r.ID
	}
	if in.Chat == bot.ChatGroup && in.Kind == bot.KindCommand {
		in.Reply = snapshot(m.ReplyToMessage)
	}
	return in, o, true
}

// parseCommand splits "/name@bot args". It reads the text rather than the bot_command
// entity so that clients which send no entities (the playground) behave the same. A
// command addressed to another bot is not ours.
func (h *Handler) parseCommand(text string) (name, args string, ok bool) {
	rest, ok := strings.CutPrefix(text, "/")
	if !ok {
		return "", "", false
	}
	head := rest
	if i := strings.IndexFunc(rest, unicode.IsSpace); i >= 0 {
		head, args = rest[:i], strings.TrimSpace(rest[i:])
	}
	name, to, addressed := strings.Cut(head, "@")
	if name == "" || addressed && h.username != "" && !strings.EqualFold(to, h.username) {
		return "", "", false
	}
	return strings.ToLower(name), args, true
}

// threadID is the forum topic to answer in; message_thread_id outside a topic names a
// reply thread, which sendMessage would reject.
func threadID(m *models.Message) int {
	if m.IsTopicMessage {
		return m.MessageThreadID
	}
	return 0
}

func chatType(t models.ChatType) bot.ChatType {
	switch t {
	case models.ChatTypePrivate:
		return bot.ChatPrivate
	case models.ChatTypeGroup, models.ChatTypeSupergroup:
		return bot.ChatGroup
	case models.ChatTypeChannel:
		return bot.ChatChannel
	}
	return bot.ChatOther
}

// hasContent reports whether a message carries something a person said or sent, as
// opposed to a service message.
func hasContent(m *models.Message) bool {
	return m.Text != "" || len(m.Photo) > 0 || m.Document != nil || m.Video != nil || m.Voice != nil ||
		m.Audio != nil || m.Sticker != nil || m.Animation != nil || m.VideoNote != nil || m.Location != nil ||
		m.Contact != nil || m.Venue != nil || m.Dice != nil || m.Poll != nil || m.Story != nil ||
		m.PaidMedia != nil || m.Checklist != nil || m.Game != nil || m.Invoice != nil || m.Giveaway != nil
}
