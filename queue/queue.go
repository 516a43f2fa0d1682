// Package queue defines the values that travel through bangban's update pipeline:
// queued updates, the state a handler sees, the effects it commits and the outbox
// messages the sender delivers. It imports only the standard library.
package queue

import (
	"encoding/json"
	"time"
)

// Kind says where a queued update came from.
type Kind string

const (
	// KindTelegram is an update received from Telegram (webhook, poller or playground).
	KindTelegram Kind = "tg"
	// KindResult is the result of an outbox message that asked for it, fed back by the sender.
	KindResult Kind = "result"
	// KindEvent is news from another chat's conversation (a ticket opened, answered,
	// closed…), delivered by the sender from that chat's outbox (MethodDeliver). Raw is a
	// JSON-encoded Event.
	KindEvent Kind = "event"
)

// Update is one entry of a shard stream.
type Update struct {
	// StreamID is the Redis stream entry id; set by the store when the entry is read.
	StreamID string
	// UpdateID is Telegram's update_id; 0 for internal updates.
	UpdateID int64
	Kind     Kind
	// ChatID is the chat the update belongs to (or the sender's id for updates without a chat).
	ChatID int64
	// Raw is the update exactly as received (KindTelegram) or a JSON-encoded Result (KindResult).
	Raw json.RawMessage
	// Deliveries counts how many times the entry has been handed to a worker, this time included.
	Deliveries int
	// Loaded is the chat's state as the read that returned the entry found it, for the
	// first entry of each chat in a read; nil means the state is to be loaded.
	Loaded *State
}

// State is what the store holds for one chat, handed to the handler before an update.
// Nil slices mean "absent".
type State struct {
	Session     []byte
	Profile     []byte
	Unreachable bool
	// History holds the chat's latest check-in records (JSON), newest first, at most
	// HistoryLoaded of them.
	History [][]byte
	// Indexed is set when the chat is in at least one broadcast segment.
	Indexed bool
}

// HistoryLoaded is how many of a chat's check-in records are loaded with its state.
const HistoryLoaded = 10

// Counter adds By to Field of the statistics hash Key. Statistics are kept per shard, in
// the shard's slot, and summed over the shards when read; TTL (when > 0) is refreshed on
// every write so that day buckets expire on their own.
type Counter struct {
	Key   string
	Field string
	By    int64
	TTL   time.Duration
}

// Effects is everything one update changes, committed in one transaction fenced by the
// shard lease epoch.
type Effects struct {
	// Session replaces the chat's session when non-nil; SessionTTL is its expiry.
	Session    []byte
	SessionTTL time.Duration
	// DeleteSession removes the session (e.g. after /forgetme).
	DeleteSession bool
	// Profile replaces the chat's profile when non-nil. Profiles never expire.
	Profile []byte
	// Reachable, when set, records whether the bot can write to the chat
	// (my_chat_member "member" after a block sets it true).
	Reachable *bool
	// Outbox is appended to the chat's outbox queue, in order.
	Outbox []Message
	// CheckIn, when non-nil, is a check-in record (JSON) added to the chat's history and to
	// the shard's check-in log, scored by CheckInAt.
	CheckIn   []byte
	CheckInAt time.Time
	// Counters update the shard's statistics.
	Counters []Counter
	// Forget deletes everything personal the store holds about the chat: session, profile,
	// check-in history and its entries in the check-in log, and the chat's dead letters.
	// It is applied before Session and Profile, so a fresh profile may be written after it.
	Forget bool
	// Audit entries (JSON) are appended to the shard's audit log.
	Audit [][]byte
	// Ticket replaces one ticket record of the chat (a staff group), with its indexes.
	Ticket *TicketWrite
	// Segments and Unsegments add the chat to and remove it from broadcast audience
	// segments ("role:rider", "sub:labour"…); Active records that the chat was active now.
	// Forget removes the chat from every segment it is in.
	Segments   []string
	Unsegments []string
	Active     bool
}

// TicketWrite is a ticket record of a staff group as the commit stores it.
type TicketWrite struct {
	N      int64
	Record []byte
	// Open keeps the ticket in the group's queue, scored by Since; a closed ticket leaves it.
	Open  bool
	Since time.Time
	// Opened scores the ticket in the group's list of all tickets (for exports).
	Opened time.Time
	// Index maps keys ("t<topic>", "m<message>") of the group to the ticket.
	Index []string
}

// Lane is the pacing lane of an outbox message.
type Lane string

const (
	// LaneReply is a reply to a user's own message: paced per chat, priority over bulk.
	LaneReply Lane = "reply"
	// LaneBulk is broadcast traffic: paced by BROADCAST_RATE, never re-sent when ambiguous.
	LaneBulk Lane = "bulk"
)

// Methods the sender knows how to call.
const (
	MethodSendMessage         = "sendMessage"
	MethodEditMessageText     = "editMessageText"
	MethodAnswerCallbackQuery = "answerCallbackQuery"
	MethodDeleteMessage       = "deleteMessage"
	MethodSendChatAction      = "sendChatAction"
	MethodSendDocument        = "sendDocument"
	MethodAnswerInlineQuery   = "answerInlineQuery"
	MethodCopyMessage         = "copyMessage"
	MethodCopyMessages        = "copyMessages"
	MethodCreateForumTopic    = "createForumTopic"
	MethodDeleteForumTopic    = "deleteForumTopic"
	MethodSendPhoto           = "sendPhoto"
	// MethodDeliver is no Bot API call: the sender appends Body to chat ChatID's shard as a
	// KindEvent update, once per entry (deduplicated by the outbox chat and the entry ID),
	// first drawing Event.Seq from the global counter named Counter when it is set. This is
	// the follow-up step of DESIGN §2 for effects that live outside the committing slot.
	MethodDeliver = "deliver"
	// MethodBroadcast is no Bot API call either: the sender hands Body (a broadcast to
	// create, or one to pause, resume or stop) to the broadcast follow-up, which applies it
	// once per entry and delivers the outcome to the chat as an event.
	MethodBroadcast = "broadcast"
)

// MaxCopy is how many messages one copyMessages call copies (the Bot API's limit).
const MaxCopy = 100

// MaxDocument caps the bytes of a document stored in an outbox entry (a CSV export):
// larger files are refused when the entry is built, not when it is sent. The claim script
// decodes the head entry on every claim, so the cap is kept small.
const MaxDocument = 2 << 20

// Message is one outbox entry: a Bot API call the bot decided to make. It is our own
// compact type, kept apart from the client library's models so that it can be stored.
type Message struct {
	// ID is unique within the chat's outbox; derived from the update that produced it.
	ID     string `json:"id"`
	Method string `json:"m"`
	Lane   Lane   `json:"lane,omitempty"`
	ChatID int64  `json:"chat"`

	ThreadID  int    `json:"thread,omitempty"`
	MessageID int    `json:"msg,omitempty"` // edits, deletes, reply-to
	Text      string `json:"text,omitempty"`
	ParseMode string `json:"pm,omitempty"`
	// Inline is an inline keyboard; Reply a reply keyboard; RemoveKeyboard removes it.
	Inline         [][]Button `json:"ik,omitempty"`
	Reply          [][]Button `json:"rk,omitempty"`
	RemoveKeyboard bool       `json:"rmk,omitempty"`

	// Document is the file sendDocument uploads, named FileName; Text is its caption.
	Document []byte `json:"doc,omitempty"`
	FileName string `json:"fn,omitempty"`
	// FileID sends a file Telegram already has (sendPhoto, sendDocument) instead.
	FileID string `json:"fid,omitempty"`
	// Entities format Text (or a caption) instead of ParseMode: a JSON array of
	// MessageEntity, as Telegram gave them.
	Entities json.RawMessage `json:"ent,omitempty"`

	// InlineQueryID, Results and CacheTime answer an inline query (answerInlineQuery).
	InlineQueryID string         `json:"iq,omitempty"`
	Results       []InlineResult `json:"res,omitempty"`
	CacheTime     int            `json:"ct,omitempty"`

	// FromChatID and MessageIDs name the messages copyMessage (one id) and copyMessages
	// (ascending ids) copy; copyMessage replaces the caption of a copied media message with
	// Text when it is set.
	FromChatID int64 `json:"fc,omitempty"`
	MessageIDs []int `json:"ids,omitempty"`
	// Name is the title of the topic createForumTopic creates.
	Name string `json:"name,omitempty"`
	// Body and Counter describe a MethodDeliver entry.
	Body    json.RawMessage `json:"body,omitempty"`
	Counter string          `json:"ctr,omitempty"`

	CallbackID string `json:"cb,omitempty"` // answerCallbackQuery
	ShowAlert  bool   `json:"alert,omitempty"`
	Action     string `json:"action,omitempty"` // sendChatAction

	// WantResult asks the sender to feed the call's Result back as an internal update.
	WantResult bool `json:"want,omitempty"`
	// Ref is opaque to the sender and returned in Result (what the result is for).
	Ref string `json:"ref,omitempty"`
}

// Button is one keyboard button. Inline buttons carry Data (≤ 64 bytes) or URL;
// reply buttons may request the user's contact or location.
type Button struct {
	Text            string `json:"t"`
	Data            string `json:"d,omitempty"`
	URL             string `json:"u,omitempty"`
	RequestContact  bool   `json:"rc,omitempty"`
	RequestLocation bool   `json:"rl,omitempty"`
}

// InlineResult is one article of an inline query's answer: choosing it sends Text (HTML)
// into the chat the user is typing in.
type InlineResult struct {
	ID          string     `json:"id"`
	Title       string     `json:"t"`
	Description string     `json:"d,omitempty"`
	Text        string     `json:"x"`
	URL         string     `json:"u,omitempty"`
	Inline      [][]Button `json:"ik,omitempty"`
}

// Result is what the sender feeds back for a message with WantResult.
type Result struct {
	MessageRef string `json:"ref"`
	ChatID     int64  `json:"chat"`
	MessageID  int    `json:"msg,omitempty"`
	ThreadID   int    `json:"thread,omitempty"`
	// MessageIDs are the new messages of copyMessages, in the order of the copied ones.
	MessageIDs []int `json:"ids,omitempty"`
	// Error is set when the call failed for good (e.g. "forbidden"); Detail is then the
	// Bot API's description, when it gave one (e.g. "Bad Request: message thread not found").
	Error  string `json:"err,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Failed are the messages a failed copyMessage or copyMessages was to copy.
	Failed []int `json:"failed,omitempty"`
}

// Event is the payload of a KindEvent update.
type Event struct {
	// From is the chat whose outbox delivered the event.
	From int64 `json:"from"`
	// Seq is the number drawn from the delivering entry's Counter, 0 without one.
	Seq int64 `json:"seq,omitempty"`
	// Body is the event itself, opaque to the pipeline.
	Body json.RawMessage `json:"body"`
}
