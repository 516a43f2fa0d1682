package bot

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Callback data of the buttons Step builds (≤ 64 bytes, as Telegram requires; a point id
// is at most 61 bytes, so point buttons use prefixes of at most 3).
const (
	dataHelp    = "menu:help"
	dataLang    = "menu:lang"
	dataCheckIn = "menu:checkin"
	dataMe      = "menu:me"
	dataMenu    = "menu:main"
	langPrefix  = "lang:"
)

// World is what Step may know beyond the chat's session and profile.
type World struct {
	Points   Points
	Policies Policies
	// History is the chat's latest check-ins, newest first.
	History []CheckIn
	// CheckInWindow is how long a second check-in at the same point counts as the same visit.
	CheckInWindow time.Duration
	// Desk is the service desk; MaxOpenTickets caps a user's open tickets (0: the default).
	Desk           Desk
	MaxOpenTickets int
	// In a staff group: the ticket the input concerns (nil: none), the open tickets for
	// /queue, whether the group has forum topics, whether answers are signed with names.
	Ticket     *Ticket
	Queue      []Ticket
	Forum      bool
	StaffNames bool
}

// Points is the directory of service points.
type Points interface {
	Exists(id string) bool
	// IDs lists every point in display order.
	IDs() []string
	// Nearest returns the n nearest points, open ones (at `at`) first.
	Nearest(lat, lon float64, n int, at time.Time) []Near
}

// Near is a point and its distance from the user.
type Near struct {
	ID     string
	Meters int
	Open   bool
}

// Step handles one input in a chat whose session is s and profile p. It never fails: user
// mistakes become replies. Private chats get the full conversation; in groups only /help
// and the staff commands are answered; channels and unknown chat types are ignored.
//
// Routing follows grammY: entry commands and button taps first (so they work from any
// state, even after expiry), then the session's state, then a fallback.
func Step(s Session, p Profile, in Input, w World) Result {
	if p.Member != nil {
		// Steps edit the member in place: work on a copy, so the caller's stays as it was.
		m := *p.Member
		p.Member = &m
	}
	s.Data = maps.Clone(s.Data)
	r := Result{Session: s, Profile: p}
	switch in.Chat {
	case ChatPrivate:
		switch in.Kind {
		case KindResult:
			// The only private messages the bot asks to hear about are staff answers.
			if strings.HasPrefix(in.Data, answerRef) {
				r.answerFailed(in)
			}
			return r
		case KindEvent:
			if in.Event != nil {
				r.ticketEvent(in, w)
			}
			return r
		}
	case ChatGroup:
		if in.Staff && r.broadcasting(in, w) {
			return r
		}
		if !in.Staff || !r.desk(in, w) {
			r.group(in)
		}
		return r
	default:
		if in.Kind == KindInline {
			r.inline(in, w)
		}
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
		r.command(in, w, s.State, expired)
		return r
	case KindCallback:
		r.callback(in, w)
		return r
	}
	if expired {
		r.send(MsgExpired, nil, menu())
		return r
	}
	if r.registering() {
		r.registration(in, w)
		return r
	}
	switch r.Session.State {
	case StateReqDescribe:
		r.describe(in, w)
		return r
	case StateReqCategory:
		r.requestStart(w)
		return r
	case StateTicketComment:
		r.comment(in)
		return r
	}
	if t := r.activeTicket(); t != nil && in.Button == "" && in.Kind != KindCommand {
		r.addToTicket(in, t)
		return r
	}
	if in.Kind == KindLocation && in.Location != nil {
		r.nearest(in, w)
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
	case StateOptParty, StateOptBranch, StateOptEmployer, StateOptHome:
		r.optional(in, w)
	case StateCheckIn:
		r.checkInKeyboard(in, w)
	default:
		// A reply-keyboard button still on screen after its step ended.
		switch in.Button {
		case MsgButtonPointList:
			r.list(w, 0, false)
			return r
		case MsgButtonBack, MsgButtonBackToMenu:
			r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgMenu, RemoveKeyboard: true})
			r.send(MsgMenu, nil, menu())
			return r
		}
		// Text outside any flow is a question for the knowledge base.
		if in.Kind == KindText && strings.TrimSpace(in.Text) != "" {
			r.search(in, w, in.Text)
			return r
		}
		r.send(MsgUnknown, nil, menu())
	}
	return r
}

// command handles a command; prev is the state before any expiry reset.
func (r *Result) command(in Input, w World, prev State, expired bool) {
	switch in.Command {
	case "start":
		r.start(in, w)
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
	case "checkin":
		r.checkInMenu()
	case "policy":
		r.reset()
		if strings.TrimSpace(in.Args) == "" {
			r.policyMenu(w, false)
			return
		}
		r.search(in, w, in.Args)
	case "subscribe":
		r.reset()
		r.subscribe(w, false)
	case "me":
		r.me()
	case "forgetme":
		r.forgetConfirm()
	case "request":
		r.requestStart(w)
	case "mytickets":
		r.myTickets(in)
	case "cancel":
		switch {
		case expired:
			r.send(MsgExpired, nil, menu())
		case prev == StateRegPhone || prev == StateCheckIn:
			// These steps show a reply keyboard, which only a message of its own removes.
			r.reset()
			r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgCancelled, RemoveKeyboard: true})
			r.send(MsgMenu, nil, menu())
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

// start handles /start, with a deep-link payload "cp_<point>" from a point's QR code.
func (r *Result) start(in Input, w World) {
	if id, ok := strings.CutPrefix(in.Args, PolicyPayload); ok && w.Policies.Exists(id) {
		r.reset()
		r.card(id)
		return
	}
	if id, ok := strings.CutPrefix(in.Args, CheckInPayload); ok {
		if !w.Points.Exists(id) {
			r.reset()
			r.send(MsgPointUnknown, nil, menu())
			return
		}
		r.checkInAt(in, w, visit{point: id, via: ViaQR, meters: -1})
		return
	}
	r.reset()
	if !r.Profile.Consented() {
		r.welcome(in)
		return
	}
	r.send(MsgWelcomeBack, map[string]string{"Name": r.displayName(in)}, menu())
}

// welcome greets a user who has not agreed to the privacy notice yet: a short welcome
// with a one-tap language switch, then the notice.
func (r *Result) welcome(in Input) {
	r.send(MsgWelcome, map[string]string{"Name": in.Name}, [][]Button{{langSwitch(r.Profile.Lang)}})
	r.privacy()
}

// privacy shows the privacy notice; after a point's QR code was scanned, the version that
// names the point.
func (r *Result) privacy() {
	buttons := [][]Button{{
		{Text: MsgButtonAgree, Data: dataConsentYes}, {Text: MsgButtonNotNow, Data: dataConsentNo},
	}}
	if v, ok := r.kept(); ok && v.via == ViaQR {
		r.send(MsgPrivacyCheckIn, map[string]string{"Point": v.point}, buttons)
		return
	}
	r.send(MsgPrivacy, nil, buttons)
}

// callback handles a button tap. Buttons are honoured whatever the state, so a picker
// tapped after it expired, or after the user typed something else, still works.
func (r *Result) callback(in Input, w World) {
	data := in.Data
	switch {
	case data == dataHelp:
		r.send(MsgHelp, nil, menu())
	case data == dataMenu:
		r.send(MsgMenu, nil, menu())
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
			r.chooseLang(lang)
			r.edit(MsgLangSet, nil, menu())
			return
		}
		// The welcome's one-tap switch: say the welcome, and the notice below it, again
		// in the new language.
		r.chooseLang(lang)
		if r.Profile.Consented() {
			r.edit(MsgLangSet, nil, menu())
			return
		}
		r.edit(MsgWelcome, map[string]string{"Name": in.Name}, [][]Button{{langSwitch(lang)}})
		r.privacy()
	case data == dataCheckIn:
		r.checkInMenu()
	case data == dataMe:
		r.me()
	default:
		// Each flow handles its own buttons and reports whether data was one of them.
		for _, tap := range []func(Input, World, string) bool{r.consentTap, r.checkInTap, r.registrationTap, r.optionalTap, r.meTap, r.policyTap, r.requestTap, r.noticesTap} {
			if tap(in, w, data) {
				return
			}
		}
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

// set stores a flow's field in the session.
func (r *Result) set(k, v string) {
	if r.Session.Data == nil {
		r.Session.Data = map[string]string{}
	}
	r.Session.Data[k] = v
}

func (r *Result) send(id string, args map[string]string, buttons [][]Button) {
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: id, Args: args, Buttons: buttons})
}

// edit replaces the tapped message (handlers send a new one when it cannot be edited).
func (r *Result) edit(id string, args map[string]string, buttons [][]Button) {
	r.Replies = append(r.Replies, Reply{Kind: EditOrigin, Text: id, Args: args, Buttons: buttons})
}

// ask sends a question with a reply keyboard.
func (r *Result) ask(id string, args map[string]string, keyboard [][]Button) {
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: id, Args: args, Keyboard: keyboard})
}

func (r *Result) answer(toast string) {
	r.Replies = append(r.Replies, Reply{Kind: AnswerCallback, Text: toast})
}

// known reports whether this release has a route for st; a state it does not know (left by
// a release with the same SessionVersion, which should not happen) is treated as idle.
func (st State) known() bool { return slices.Contains(states, st) }

// menu is the main menu: only what is built.
func menu() [][]Button {
	return [][]Button{
		{{Text: MsgButtonPolicies, Data: dataPolicies}, {Text: MsgButtonSubscribe, Data: dataSubscribe}},
		{{Text: MsgButtonRequest, Data: dataRequest}, {Text: MsgButtonMyTickets, Data: dataMyTickets}},
		{{Text: MsgButtonCheckIn, Data: dataCheckIn}, {Text: MsgButtonMe, Data: dataMe}},
		{{Text: MsgButtonHelp, Data: dataHelp}, {Text: MsgButtonLang, Data: dataLang}},
	}
}

func langPicker() [][]Button {
	return [][]Button{{
		{Text: MsgLangNameZH, Data: langPrefix + "zh"},
		{Text: MsgLangNameEN, Data: langPrefix + "en"},
	}}
}

// langSwitch is the one-tap switch to the language the user is not reading.
func langSwitch(lang string) Button {
	if lang == LangEN {
		return Button{Text: MsgLangNameZH, Data: langPrefix + "zh"}
	}
	return Button{Text: MsgLangNameEN, Data: langPrefix + "en"}
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

// displayName is the member's name, else the Telegram first name.
func (r *Result) displayName(in Input) string {
	if m := r.Profile.Member; m != nil {
		return m.Name
	}
	return in.Name
}
