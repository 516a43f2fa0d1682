// Package handlers turns queued Telegram updates into bot inputs, and bot results into the
// session, profile and outbox effects that the worker commits.
package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/queue"
)

// SessionTTL is the storage expiry of a session. It is twice bot.SessionTTL so that a user
// coming back after a conversation expired still has the stale session and is told it
// expired, instead of being silently dropped into a fresh one; after that Redis reclaims it.
const SessionTTL = 2 * bot.SessionTTL

// DefaultCheckInWindow is how long a second check-in at the same point is the same visit.
const DefaultCheckInWindow = 2 * time.Hour

// Reader is the read-only view of the store that staff commands need: statistics summed
// over every shard, the check-in logs and the profiles of the users in them.
type Reader interface {
	Stats(ctx context.Context, names []string) (map[string]map[string]int64, error)
	CheckIns(ctx context.Context, from, to time.Time) ([][]byte, error)
	Profiles(ctx context.Context, chats []int64) (map[int64][]byte, error)
}

// Handler maps updates to effects. It is safe for concurrent use.
type Handler struct {
	texts    *texts
	username string
	now      func() time.Time
	loc      *time.Location
	lib      atomic.Pointer[library]
	window   time.Duration
	staff    []int64
	admins   []int64
	reader   Reader
	// initial is the content New starts with (WithContent), else the embedded demo.
	initial  *content.Content
	desk     DeskConfig
	audience AudienceCounter
	bcRate   float64
	bcPaid   bool
	// staffAdmins makes every staff member an admin (WithStaffAdmins).
	staffAdmins bool
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

// WithLocation sets the district's time zone (opening hours, "today", dates); default
// Asia/Shanghai.
func WithLocation(loc *time.Location) Option {
	return func(h *Handler) { h.loc = loc }
}

// WithContent sets the service points; default the embedded demo content.
func WithContent(c *content.Content) Option {
	return func(h *Handler) { h.initial = c }
}

// WithCheckInWindow sets how long a repeated check-in at one point is the same visit.
func WithCheckInWindow(d time.Duration) Option {
	return func(h *Handler) { h.window = d }
}

// WithStaff sets the staff chats (commands from them are staff commands) and the admins
// (Telegram user ids allowed to export).
func WithStaff(chats, admins []int64) Option {
	return func(h *Handler) { h.staff, h.admins = chats, admins }
}

// WithStaffAdmins makes everyone who writes in a staff group an admin, for the
// playground, where the simulated staff must be able to try exports and broadcasts.
func WithStaffAdmins() Option {
	return func(h *Handler) { h.staffAdmins = true }
}

// isAdmin reports whether user may export and broadcast; staff says the input comes from
// a staff group.
func (h *Handler) isAdmin(user int64, staff bool) bool {
	return slices.Contains(h.admins, user) || h.staffAdmins && staff
}

// WithReader gives staff commands their view of the store. Without it /stats and /export
// answer that the data is unavailable.
func WithReader(r Reader) Option {
	return func(h *Handler) { h.reader = r }
}

// New returns a Handler with the embedded locale files loaded. It fails only if they are
// broken, which the package tests rule out, or if the embedded content is.
func New(opts ...Option) (*Handler, error) {
	t, err := loadTexts()
	if err != nil {
		return nil, err
	}
	h := &Handler{texts: t, now: time.Now, window: DefaultCheckInWindow}
	for _, o := range opts {
		o(h)
	}
	if h.loc == nil {
		if h.loc, err = time.LoadLocation("Asia/Shanghai"); err != nil {
			return nil, fmt.Errorf("load time zone: %w", err)
		}
	}
	if h.initial == nil {
		if h.initial, err = content.Load(""); err != nil {
			return nil, fmt.Errorf("load embedded content: %w", err)
		}
	}
	if err := h.SetContent(h.initial); err != nil {
		return nil, err
	}
	h.initial = nil
	return h, nil
}

// SetContent indexes c and makes it the content (at start and after a reload); updates in
// hand finish with either.
func (h *Handler) SetContent(c *content.Content) error {
	lib, err := newLibrary(c)
	if err != nil {
		return err
	}
	// The old index holds memory and a goroutine: close it once the updates that took
	// it have long finished.
	if old := h.lib.Swap(lib); old != nil {
		time.AfterFunc(retireAfter, func() { old.ix.Close() })
	}
	return nil
}

// cnt is the current content.
func (h *Handler) cnt() *content.Content { return h.lib.Load().c }

// Handle returns the effects of one queued update in a chat whose stored state is st.
// Updates that cannot be decoded or that the bot does not handle (inline queries, polls,
// channel posts, kinds newer than the client library…) give empty effects and no error:
// they stay in the stream as raw JSON and never block the chat. An error means a bug on
// our side (a locale text that does not render) or a store read that failed, and is worth
// retrying and dead-lettering.
func (h *Handler) Handle(ctx context.Context, u queue.Update, st queue.State) (queue.Effects, error) {
	switch u.Kind {
	case queue.KindResult:
		return h.result(ctx, u, st)
	case queue.KindEvent:
		return h.event(ctx, u, st)
	}
	if u.Kind != queue.KindTelegram {
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
		return h.step(ctx, u, st, in, o)
	case upd.CallbackQuery != nil:
		return h.callback(ctx, u, st, upd.CallbackQuery)
	case upd.MyChatMember != nil:
		return reachability(upd.MyChatMember), nil
	case upd.InlineQuery != nil:
		q := upd.InlineQuery
		in := bot.Input{Kind: bot.KindInline, Chat: bot.ChatOther, Text: q.Query, Now: h.now().In(h.loc)}
		if q.From != nil {
			in.LanguageCode, in.Name, in.FromID = q.From.LanguageCode, q.From.FirstName, q.From.ID
		}
		return h.step(ctx, u, st, in, origin{chatID: u.ChatID, inlineID: q.ID})
	}
	return queue.Effects{}, nil
}

// result hands the outcome of a message the bot asked to hear about back to the
// conversation of the chat whose outbox sent it.
func (h *Handler) result(ctx context.Context, u queue.Update, st queue.State) (queue.Effects, error) {
	var res queue.Result
	if json.Unmarshal(u.Raw, &res) != nil {
		return queue.Effects{}, nil
	}
	in := bot.Input{Kind: bot.KindResult, Chat: bot.ChatPrivate, ChatID: u.ChatID, Data: res.MessageRef, Text: res.Error,
		Now: h.now().In(h.loc), Staff: slices.Contains(h.staff, u.ChatID), Detail: res.Detail,
		ResultMessage: res.MessageID, ResultThread: res.ThreadID, ResultIDs: res.MessageIDs}
	if res.Error != "" {
		in.ResultIDs = res.Failed
	}
	if u.ChatID < 0 {
		in.Chat = bot.ChatGroup
	}
	return h.step(ctx, u, st, in, origin{chatID: u.ChatID})
}

// origin is where an input came from and so where its replies go.
type origin struct {
	chatID   int64
	threadID int
	// callbackID is set for a button tap; it is always answered.
	callbackID string
	// messageID is the tapped message, 0 when Telegram no longer gives access to it.
	messageID int
	// inlineID is set for an inline query; it is answered with articles.
	inlineID string
	// replyTo is the message a message replies to (outside forum topics).
	replyTo int
}

func (h *Handler) callback(ctx context.Context, u queue.Update, st queue.State, cq *models.CallbackQuery) (queue.Effects, error) {
	o := origin{chatID: u.ChatID, callbackID: cq.ID}
	in := bot.Input{
		Kind:         bot.KindCallback,
		Chat:         bot.ChatOther,
		Data:         cq.Data,
		LanguageCode: cq.From.LanguageCode,
		Name:         cq.From.FirstName,
		FromID:       cq.From.ID,

		Now: h.now().In(h.loc),
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
	in.Staff = slices.Contains(h.staff, o.chatID)
	in.ChatID = o.chatID
	in.Admin = h.isAdmin(cq.From.ID, in.Staff)
	// A tap on a message sent through inline mode has no chat: bot.ChatOther makes Step
	// ignore it, and the query is still answered so the button stops spinning.
	return h.step(ctx, u, st, in, o)
}

// step runs the conversation and turns its result into effects.
func (h *Handler) step(ctx context.Context, u queue.Update, st queue.State, in bot.Input, o origin) (queue.Effects, error) {
	lib := h.lib.Load()
	w := bot.World{Points: points{lib.c}, Policies: policies{lib.c, lib.ix}, History: history(st.History), CheckInWindow: h.window,
		Desk: desk{lib.c, h.desk.StaffChat}, MaxOpenTickets: h.desk.MaxOpen}
	if err := h.deskWorld(ctx, in, messageRefs{thread: o.threadID, replyTo: o.replyTo}, &w); err != nil {
		return queue.Effects{}, fmt.Errorf("load ticket for update %s: %w", u.StreamID, err)
	}
	prof := bot.DecodeProfile(st.Profile)
	res := bot.Step(bot.DecodeSession(st.Session, in.Now), prof, in, w)
	var eff queue.Effects
	switch {
	case res.Forget:
		eff.Forget, eff.DeleteSession = true, true
	case res.SessionChanged:
		b, err := res.Session.Encode()
		if err != nil {
			return queue.Effects{}, fmt.Errorf("encode session of update %d: %w", u.UpdateID, err)
		}
		eff.Session, eff.SessionTTL = b, SessionTTL
	}
	if res.ProfileChanged && !res.Forget {
		b, err := res.Profile.Encode()
		if err != nil {
			return queue.Effects{}, fmt.Errorf("encode profile of update %d: %w", u.UpdateID, err)
		}
		eff.Profile = b
	}
	h.segments(in, prof, st.Indexed, res, lib, &eff)
	if err := h.records(u, res, &eff); err != nil {
		return queue.Effects{}, err
	}
	out, err := h.outbox(ctx, u, res, o, in, &eff)
	if err != nil {
		return queue.Effects{}, fmt.Errorf("render replies to update %d: %w", u.UpdateID, err)
	}
	eff.Outbox = out
	if err := h.tickets(u, res, &eff); err != nil {
		return queue.Effects{}, err
	}
	if err := h.orders(u, res, &eff); err != nil {
		return queue.Effects{}, err
	}
	return eff, nil
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

// Commands returns the command menu of private chats in lang ("zh-CN" or "en"; anything
// else gives zh-CN), for setMyCommands at start.
func (h *Handler) Commands(lang string) ([]Command, error) {
	return h.commands(lang, bot.Commands(), "command_")
}

// StaffCommands returns the command menu of the staff chat in lang.
func (h *Handler) StaffCommands(lang string) ([]Command, error) {
	return h.commands(lang, bot.StaffCommands(), "staff_command_")
}

func (h *Handler) commands(lang string, names []string, prefix string) ([]Command, error) {
	loc := h.texts.localizer(lang)
	var cmds []Command
	for _, name := range names {
		d, err := loc.render(prefix+name, nil)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, Command{Name: name, Description: d})
	}
	return cmds, nil
}
