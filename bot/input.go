package bot

import "time"

// Kind is what an input carries.
type Kind string

// The kinds of input.
const (
	// KindCommand is a "/name args" message addressed to this bot.
	KindCommand Kind = "command"
	// KindText is any other text message.
	KindText Kind = "text"
	// KindCallback is a tap on an inline button.
	KindCallback Kind = "callback"
	// KindContact is a shared phone contact.
	KindContact Kind = "contact"
	// KindLocation is a shared location.
	KindLocation Kind = "location"
	// KindOther is any other message (photo, sticker, voice…).
	KindOther Kind = "other"
	// KindInline is an inline query ("@bot 社保" typed in any chat); Text is the query.
	KindInline Kind = "inline"
	// KindResult is the outcome of a message the bot asked to hear about (Data holds its
	// reference, Text the error, empty when it was delivered; Detail, ResultMessage,
	// ResultThread and ResultIDs the rest).
	KindResult Kind = "result"
	// KindEvent is news from another chat's conversation (Event, EventFrom, Seq).
	KindEvent Kind = "event"
)

// ChatType is the kind of chat an input comes from.
type ChatType string

// The chat types Step tells apart.
const (
	ChatPrivate ChatType = "private"
	// ChatGroup covers groups and supergroups.
	ChatGroup   ChatType = "group"
	ChatChannel ChatType = "channel"
	// ChatOther is a chat type this release does not know.
	ChatOther ChatType = "other"
)

// Input is one thing a user did, stripped of Telegram's types.
type Input struct {
	Kind Kind
	Chat ChatType
	// Command is the command name, lower case, without "/" or "@botname" (KindCommand).
	Command string
	// Args is the rest of a command line, trimmed (KindCommand).
	Args string
	// Text is the message text (KindText).
	Text string
	// Button is the message id of the reply-keyboard button whose label Text equals, if any
	// (KindText): handlers know the labels, Step only their ids.
	Button string
	// Data is the callback data of the tapped button (KindCallback).
	Data string
	// LanguageCode is the sender's Telegram language_code, possibly empty.
	LanguageCode string
	// Name is the sender's first name, used to greet them and offered as their name.
	Name string
	// FromID is the sender's Telegram user id.
	FromID int64
	// Contact is the shared contact (KindContact).
	Contact *Contact
	// Location is the shared location (KindLocation).
	Location *Location
	// Staff is set when the input comes from a configured staff chat; Admin when the
	// sender is one of ADMIN_IDS.
	Staff, Admin bool
	// Now is the time the input is handled, in the district's time zone.
	Now time.Time

	// ChatID is the chat the input comes from.
	ChatID int64
	// MessageID is the message's id in its chat (messages); Caption a media message's caption.
	MessageID int
	Caption   string
	// Anonymous is set when a group admin wrote as the group.
	Anonymous bool
	// Reply is the content of the message a message replies to, when it has some a
	// broadcast can carry.
	Reply *Snapshot

	// Event, EventFrom and Seq describe a KindEvent input: the event, the chat that sent
	// it, and the number drawn for it (a new ticket's).
	Event     *Event
	EventFrom int64
	Seq       int64

	// The outcome of a KindResult: the API's description of a failure, the new message
	// or topic, the copies made (or, after a failed copy, the messages it was to copy).
	Detail        string
	ResultMessage int
	ResultThread  int
	ResultIDs     []int
}

// Contact is a phone contact shared in the chat.
type Contact struct {
	// UserID is the Telegram user the contact belongs to, 0 when it is not a Telegram user.
	UserID int64
	Phone  string
}

// Location is a point on the map (WGS-84).
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// ReplyKind says how a reply reaches the user.
type ReplyKind string

// The kinds of reply.
const (
	// SendNew sends a new message.
	SendNew ReplyKind = "send"
	// EditOrigin edits the message whose button was tapped.
	EditOrigin ReplyKind = "edit"
	// AnswerCallback answers the tapped button's callback query; a non-empty Text is shown
	// as a toast.
	AnswerCallback ReplyKind = "answer"
	// SendDocument sends a file built by handlers (see Fetch) with Text as its caption.
	SendDocument ReplyKind = "document"
	// AnswerInline answers an inline query with the policies of Items (their "Policy").
	AnswerInline ReplyKind = "inline"
	// CopyMessage copies message IDs[0] of chat FromChat, with Text as its caption.
	CopyMessage ReplyKind = "copy"
	// CopyMessages copies messages IDs of chat FromChat, as they are.
	CopyMessages ReplyKind = "copies"
	// CreateTopic makes a forum topic named Text; DeleteTopic deletes topic Thread.
	CreateTopic ReplyKind = "topic"
	DeleteTopic ReplyKind = "untopic"
	// SendSnapshot sends Snapshot as a broadcast would (a preview).
	SendSnapshot ReplyKind = "snapshot"
)

// Fetch names data that handlers read from the store to complete a reply; Step only
// decides that it is shown and to whom.
type Fetch string

// The fetches.
const (
	// FetchStats fills a MsgStats reply with registration and check-in statistics.
	FetchStats Fetch = "stats"
	// FetchExport builds the check-in CSV of Args "From" to "To" (dates, inclusive).
	FetchExport Fetch = "export"
	// FetchAudience counts the audience of the selection in Args and describes it
	// ("Count", "Summary").
	FetchAudience Fetch = "audience"
)

// Reply is one message the bot wants to show, as a message id for the locale files plus
// its arguments; handlers render it in the profile's language.
type Reply struct {
	Kind ReplyKind
	// Text is a message id (one of MessageIDs), or empty for a silent AnswerCallback.
	Text string
	// Args are the template arguments of Text. They are user-provided: renderers escape them.
	Args map[string]string
	// Buttons is an inline keyboard, row by row.
	Buttons [][]Button
	// Keyboard is a reply keyboard (shown once, then hidden); RemoveKeyboard removes one.
	// A message carries at most one of Buttons, Keyboard and RemoveKeyboard.
	Keyboard       [][]Button
	RemoveKeyboard bool
	// Items are rendered one per line with the message id Item and placed in Args "Items".
	Item  string
	Items []map[string]string
	// To sends the reply to another chat (an admin's private chat); 0 is the input's chat.
	To int64
	// Fetch asks handlers to complete the reply with data from the store.
	Fetch Fetch
	// Ref, when set, asks to hear back how the message fared, as a KindResult input.
	Ref string
	// Thread is the forum topic the reply goes to (0: the input's); ReplyTo a message it
	// answers; Edit the message an EditOrigin reply edits instead of the tapped one.
	Thread  int
	ReplyTo int
	Edit    int
	// FromChat and IDs are the messages a CopyMessage(s) reply copies.
	FromChat int64
	IDs      []int
	// Snapshot is what a SendSnapshot reply sends.
	Snapshot *Snapshot
}

// Button is one keyboard button.
type Button struct {
	// Text is a message id; Args its template arguments.
	Text string
	Args map[string]string
	// Data is the callback data of an inline button, at most 64 bytes.
	Data string
	// RequestContact and RequestLocation make a reply-keyboard button share them.
	RequestContact, RequestLocation bool
}

// Result is the outcome of Step.
type Result struct {
	Session Session
	// SessionChanged is false when the input was ignored and nothing needs storing.
	SessionChanged bool
	Profile        Profile
	ProfileChanged bool
	Replies        []Reply
	// CheckIn is a check-in to record.
	CheckIn *CheckIn
	// Registered is the role of a member who just registered; RoleChanged the old and new
	// role of one who changed it; Forgotten the role (possibly empty) of a user whose data
	// is to be deleted. They keep anonymous counts.
	Registered  string
	RoleChanged [2]string
	// Forget deletes everything stored about the chat after the replies are rendered.
	Forget    bool
	Forgotten string
	// Query and Feedback are counted, anonymously, for the staff's statistics.
	Query    *Query
	Feedback *Feedback
	// Deliver are events for other conversations (tickets' news), sent after the commit.
	Deliver []Delivery
	// TicketWrite replaces a ticket record of a staff group, with new index entries
	// ("t<topic>", "m<message>") that lead to it; TicketChange is for the desk's figures.
	TicketWrite  *Ticket
	TicketIndex  []string
	TicketChange *TicketChange
	// Orders create and control broadcasts, through the follow-up step.
	Orders []Order
}

// CheckIn is one visit to a service point.
type CheckIn struct {
	Point string    `json:"p"`
	At    time.Time `json:"at"`
	// Via is how the user checked in: "qr", "location" or "list".
	Via string `json:"via"`
	// Meters is the distance to the point when checking in by location, else -1.
	Meters int `json:"m"`
	// Where is the shared location, kept only when the user agreed to that.
	Where *Location `json:"where,omitempty"`
}
