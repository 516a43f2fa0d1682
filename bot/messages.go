package bot

import "strings"

// Message ids: the keys of the locale files that Step may return in a Reply or a Button.
const (
	MsgWelcome         = "welcome"
	MsgHelp            = "help"
	MsgHelpGroup       = "help_group"
	MsgCancelled       = "cancelled"
	MsgNothingToCancel = "nothing_to_cancel"
	MsgExpired         = "expired"
	MsgUnknown         = "unknown"
	MsgStaleButton     = "stale_button"
	MsgLangPick        = "lang_pick"
	MsgLangRetry       = "lang_retry"
	MsgLangSet         = "lang_set"
	MsgButtonHelp      = "button_help"
	MsgButtonLang      = "button_lang"
	MsgLangNameZH      = "lang_name_zh"
	MsgLangNameEN      = "lang_name_en"
)

// MessageIDs lists every message id Step can return, so that a test can check that each
// locale file has them all.
func MessageIDs() []string {
	return []string{
		MsgWelcome, MsgHelp, MsgHelpGroup, MsgCancelled, MsgNothingToCancel, MsgExpired,
		MsgUnknown, MsgStaleButton, MsgLangPick, MsgLangRetry, MsgLangSet,
		MsgButtonHelp, MsgButtonLang, MsgLangNameZH, MsgLangNameEN,
	}
}

// Commands lists the commands Step understands, in the order a command menu shows them.
// Their descriptions are the message ids "command_" + name.
func Commands() []string {
	return []string{"start", "help", "lang", "cancel"}
}

// Supported languages, as BCP 47 tags.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// GuessLang picks the first language from Telegram's language_code. Chinese codes (zh,
// zh-hans, zh-TW…) and an empty code give zh-CN: the district serves a Chinese city, and
// Telegram omits the code for some clients. Any other code gives English, which a
// non-Chinese speaker is more likely to read.
func GuessLang(code string) string {
	if code == "" || strings.HasPrefix(strings.ToLower(code), "zh") {
		return LangZH
	}
	return LangEN
}
