// Package handlers turns queued Telegram updates into bot inputs, and bot results into the
// session, profile and outbox effects that the worker commits.
package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/queue"
)

// SessionTTL is the storage expiry of a session. It is twice bot.SessionTTL so that a user
// coming back after a conversation expired still has the stale session and is told it
// expired, instead of being silently dropped into a fresh one; after that Redis reclaims it.
const SessionTTL = 2 * bot.SessionTTL

// Handler maps updates to effects. It is safe for concurrent use.
type Handler struct {
	texts    *texts
	username string
	now      func() time.Time
}

// Option configures a Handler.
type Option func(*Handler)

// WithUsername sets the bot's username (without "@"), so that "/help@other_bot" in a group
// is left to the other bot. Without it every "/cmd@name" is taken as ours.
func WithUsername(name string) Option {
	return func(h *Handler) { h.username = name }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(h *Handler) { h.now = now }
}

// New returns a Handler with the embedded locale files loaded. It fails only if they are
// broken, which the package tests rule out.
func New(opts ...Option) (*Handler, error) {
	t, err := loadTexts()
	if err != nil {
		return nil, err
	}
	h := &Handler{texts: t, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	return h, nil
}

// Handle returns the effects of one queued update in a chat whose stored state is st.
// Updates that cannot be decoded or that the bot does not handle (inline queries, polls,
// channel posts, kinds newer than the client library…) give empty effects and no error:
// they stay in the stream as raw JSON and never block the chat. An error means a bug on
// our side (a locale text that does not render) and is worth retrying and dead-lettering.
func (h *Handler) Handle(ctx context.Context, u queue.Update, st queue.State) (queue.Effects, error) {
	if u.Kind != queue.KindTelegram {
		// Results of outbox messages: no feature asks for one yet.
		return queue.Effects{}, nil
	}
	upd, err := decode(u.Raw)
	if err != nil {
		return queue.Effects{}, nil
	}
	switch {
	case upd.Message != nil:
		in, o, ok := h.messageInput(upd.Message)
		if !ok {
			return queue.Effects{}, nil
		}
		return h.step(u, st, in, o)
	case upd.CallbackQuery != nil:
		return h.callback(u, st, upd.CallbackQuery)
	case upd.MyChatMember != nil:
		return reachability(upd.MyChatMember), nil
	}
	return queue.Effects{}, nil
}

// origin is where an input came from and so where its replies go.
type origin struct {
	chatID   int64
	threadID int
	// callbackID is set for a button tap; it is always answered.
	callbackID string
	// messageID is the tapped message, 0 when Telegram no longer gives access to it.
	messageID int
}

func (h *Handler) callback(u queue.Update, st queue.State, cq *models.CallbackQuery) (queue.Effects, error) {
	o := origin{chatID: u.ChatID, callbackID: cq.ID}
	in := bot.Input{
		Kind:         bot.KindCallback,
		Chat:         bot.ChatOther,
		Data:         cq.Data,
		LanguageCode: cq.From.LanguageCode,
		Name:         cq.From.FirstName,
		Now:          h.now(),
	}
	switch m := cq.Message; {
	case m.Message != nil:
		o.chatID, o.messageID = m.Message.Chat.ID, m.Message.ID
		o.threadID = threadID(m.Message)
		in.Chat = chatType(m.Message.Chat.Type)
	case m.InaccessibleMessage != nil:
		o.chatID = m.InaccessibleMessage.Chat.ID
		in.Chat = chatType(m.InaccessibleMessage.Chat.Type)
	}
	// A tap on a message sent through inline mode has no chat: bot.ChatOther makes Step
	// ignore it, and the query is still answered so the button stops spinning.
	return h.step(u, st, in, o)
}

// step runs the conversation and turns its result into effects.
func (h *Handler) step(u queue.Update, st queue.State, in bot.Input, o origin) (queue.Effects, error) {
	res := bot.Step(bot.DecodeSession(st.Session, in.Now), bot.DecodeProfile(st.Profile), in)
	var eff queue.Effects
	if res.SessionChanged {
		b, err := res.Session.Encode()
		if err != nil {
			return queue.Effects{}, fmt.Errorf("encode session of update %d: %w", u.UpdateID, err)
		}
		eff.Session, eff.SessionTTL = b, SessionTTL
	}
	if res.ProfileChanged {
		b, err := res.Profile.Encode()
		if err != nil {
			return queue.Effects{}, fmt.Errorf("encode profile of update %d: %w", u.UpdateID, err)
		}
		eff.Profile = b
	}
	out, err := h.outbox(u, res, o)
	if err != nil {
		return queue.Effects{}, fmt.Errorf("render replies to update %d: %w", u.UpdateID, err)
	}
	eff.Outbox = out
	return eff, nil
}

// outbox renders the replies in the profile's language. A button tap is answered first,
// whatever the bot decided, so the user's button stops spinning even when nothing else is
// said; the bot's AnswerCallback reply only adds a toast to that answer.
func (h *Handler) outbox(u queue.Update, res bot.Result, o origin) ([]queue.Message, error) {
	loc := h.texts.localizer(res.Profile.Lang)
	var out []queue.Message
	add := func(m queue.Message) {
		m.ID = fmt.Sprintf("%s.%d", u.StreamID, len(out))
		m.Lane = queue.LaneReply
		m.ChatID = o.chatID
		out = append(out, m)
	}
	if o.callbackID != "" {
		answer := queue.Message{Method: queue.MethodAnswerCallbackQuery, CallbackID: o.callbackID}
		for _, r := range res.Replies {
			if r.Kind == bot.AnswerCallback && r.Text != "" {
				toast, err := loc.render(r.Text, nil)
				if err != nil {
					return nil, err
				}
				answer.Text = toast
				break
			}
		}
		add(answer)
	}
	for _, r := range res.Replies {
		if r.Kind == bot.AnswerCallback {
			continue
		}
		text, err := loc.render(r.Text, r.Args)
		if err != nil {
			return nil, err
		}
		kb, err := loc.keyboard(r.Buttons)
		if err != nil {
			return nil, err
		}
		m := queue.Message{Method: queue.MethodSendMessage, ThreadID: o.threadID, Text: text, ParseMode: string(models.ParseModeHTML), Inline: kb}
		if r.Kind == bot.EditOrigin && o.messageID != 0 {
			m.Method, m.MessageID, m.ThreadID = queue.MethodEditMessageText, o.messageID, 0
		}
		add(m)
	}
	return out, nil
}

// reachability records whether the user blocked the bot (private chats) or removed it
// (groups). Other status changes are not ours to track yet.
func reachability(cm *models.ChatMemberUpdated) queue.Effects {
	var reachable bool
	switch cm.NewChatMember.Type {
	case models.ChatMemberTypeBanned:
		reachable = false
	case models.ChatMemberTypeMember:
		reachable = true
	default:
		return queue.Effects{}
	}
	return queue.Effects{Reachable: &reachable}
}

// Command is one entry of the bot's command menu.
type Command struct {
	Name        string
	Description string
}

// Commands returns the command menu in lang ("zh-CN" or "en"; anything else gives
// zh-CN), for setMyCommands at start.
func (h *Handler) Commands(lang string) ([]Command, error) {
	loc := h.texts.localizer(lang)
	var cmds []Command
	for _, name := range bot.Commands() {
		d, err := loc.render(commandKey(name), nil)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, Command{Name: name, Description: d})
	}
	return cmds, nil
}

func commandKey(name string) string { return "command_" + name }
