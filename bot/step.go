package bot

import "strings"

// Callback data of the buttons Step builds (≤ 64 bytes, as Telegram requires).
const (
	dataHelp   = "menu:help"
	dataLang   = "menu:lang"
	langPrefix = "lang:"
)

// Step handles one input in a chat whose session is s and profile p. It never fails: user
// mistakes become replies. Private chats get the full conversation; in groups only /help is
// answered (staff features come later); channels and unknown chat types are ignored.
//
// Routing follows grammY: entry commands and button taps first (so they work from any
// state, even after expiry), then the session's state, then a fallback.
func Step(s Session, p Profile, in Input) Result {
	r := Result{Session: s, Profile: p}
	switch in.Chat {
	case ChatPrivate:
	case ChatGroup:
		if in.Kind == KindCommand && in.Command == "help" {
			r.followLanguageCode(in.LanguageCode)
			r.send(MsgHelpGroup, nil, nil)
		}
		return r
	default:
		return r
	}

	r.followLanguageCode(in.LanguageCode)
	expired := s.State != StateIdle && in.Now.Sub(s.UpdatedAt) > SessionTTL
	if expired || !s.State.known() {
		r.Session = NewSession(in.Now)
	}
	r.Session.UpdatedAt = in.Now
	r.SessionChanged = true

	switch in.Kind {
	case KindCommand:
		r.command(in, s.State, expired)
		return r
	case KindCallback:
		r.callback(in.Data)
		return r
	}
	if expired {
		r.send(MsgExpired, nil, menu())
		return r
	}
	switch r.Session.State {
	case StateChoosingLang:
		if lang, ok := parseLang(in.Text); ok {
			r.reset()
			r.chooseLang(lang)
			r.send(MsgLangSet, nil, menu())
			return r
		}
		r.send(MsgLangRetry, nil, langPicker())
	default:
		r.send(MsgUnknown, nil, menu())
	}
	return r
}

// command handles a command; prev is the state before any expiry reset.
func (r *Result) command(in Input, prev State, expired bool) {
	switch in.Command {
	case "start":
		r.reset()
		r.send(MsgWelcome, map[string]string{"Name": in.Name}, menu())
	case "help":
		// Help keeps the state, so asking for it never costs the user a flow in progress.
		r.send(MsgHelp, nil, menu())
	case "lang":
		if lang, ok := parseLang(in.Args); ok {
			r.reset()
			r.chooseLang(lang)
			r.send(MsgLangSet, nil, menu())
			return
		}
		r.enter(StateChoosingLang)
		r.send(MsgLangPick, nil, langPicker())
	case "cancel":
		switch {
		case expired:
			r.send(MsgExpired, nil, menu())
		case prev != StateIdle:
			r.reset()
			r.send(MsgCancelled, nil, menu())
		default:
			r.send(MsgNothingToCancel, nil, menu())
		}
	default:
		if expired {
			r.send(MsgExpired, nil, menu())
			return
		}
		r.send(MsgUnknown, nil, menu())
	}
}

// callback handles a button tap. Buttons are honoured whatever the state, so a picker
// tapped after it expired, or after the user typed something else, still works.
func (r *Result) callback(data string) {
	switch {
	case data == dataHelp:
		r.send(MsgHelp, nil, menu())
	case data == dataLang:
		r.enter(StateChoosingLang)
		r.send(MsgLangPick, nil, langPicker())
	case strings.HasPrefix(data, langPrefix):
		lang, ok := parseLang(strings.TrimPrefix(data, langPrefix))
		if !ok {
			r.answer(MsgStaleButton)
			return
		}
		if r.Session.State == StateChoosingLang {
			r.reset()
		}
		r.chooseLang(lang)
		r.Replies = append(r.Replies, Reply{Kind: EditOrigin, Text: MsgLangSet, Buttons: menu()})
	default:
		r.answer(MsgStaleButton)
	}
}

// followLanguageCode makes the profile's language follow the sender's Telegram language
// until the user chooses one, so a user who switches their app language is followed.
func (r *Result) followLanguageCode(code string) {
	if r.Profile.LangChosen || code == "" && r.Profile.Lang != "" {
		return
	}
	if lang := GuessLang(code); lang != r.Profile.Lang {
		r.Profile.Lang = lang
		r.ProfileChanged = true
	}
}

// chooseLang records the user's own choice of language.
func (r *Result) chooseLang(lang string) {
	if r.Profile.Lang != lang || !r.Profile.LangChosen {
		r.Profile.Lang = lang
		r.Profile.LangChosen = true
		r.ProfileChanged = true
	}
}

// enter starts a flow in state st, dropping any other flow's data.
func (r *Result) enter(st State) {
	r.Session.State = st
	r.Session.Data = nil
}

// reset leaves any flow.
func (r *Result) reset() {
	r.enter(StateIdle)
}

func (r *Result) send(id string, args map[string]string, buttons [][]Button) {
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: id, Args: args, Buttons: buttons})
}

func (r *Result) answer(toast string) {
	r.Replies = append(r.Replies, Reply{Kind: AnswerCallback, Text: toast})
}

// known reports whether this release has a route for st; a state it does not know (left by
// a release with the same SessionVersion, which should not happen) is treated as idle.
func (st State) known() bool {
	return st == StateIdle || st == StateChoosingLang
}

// menu is the main menu: only what is built.
func menu() [][]Button {
	return [][]Button{{{Text: MsgButtonHelp, Data: dataHelp}, {Text: MsgButtonLang, Data: dataLang}}}
}

func langPicker() [][]Button {
	return [][]Button{{
		{Text: MsgLangNameZH, Data: langPrefix + "zh"},
		{Text: MsgLangNameEN, Data: langPrefix + "en"},
	}}
}

// parseLang understands what a user may type or tap to name a language.
func parseLang(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "zh", "zh-cn", "cn", "中文", "简体中文", "汉语", "chinese":
		return LangZH, true
	case "en", "english", "英文", "英语":
		return LangEN, true
	}
	return "", false
}
