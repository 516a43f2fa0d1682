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
	// Data is the callback data of the tapped button (KindCallback).
	Data string
	// LanguageCode is the sender's Telegram language_code, possibly empty.
	LanguageCode string
	// Name is the sender's first name, used only to greet them.
	Name string
	// Now is the time the input is handled.
	Now time.Time
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
}

// Button is one inline button.
type Button struct {
	// Text is a message id.
	Text string
	// Data is the callback data, at most 64 bytes.
	Data string
}

// Result is the outcome of Step.
type Result struct {
	Session Session
	// SessionChanged is false when the input was ignored and nothing needs storing.
	SessionChanged bool
	Profile        Profile
	ProfileChanged bool
	Replies        []Reply
}
