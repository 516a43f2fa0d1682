package bot

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	now = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	// fresh is a session last touched a minute ago; stale one past SessionTTL.
	fresh = now.Add(-time.Minute)
	stale = now.Add(-SessionTTL - time.Second)
)

func session(st State, at time.Time) Session {
	return Session{Version: SessionVersion, State: st, UpdatedAt: at}
}

func profile(lang string, chosen bool) Profile {
	return Profile{Version: ProfileVersion, Lang: lang, LangChosen: chosen}
}

func private(in Input) Input {
	in.Chat = ChatPrivate
	in.Now = now
	if in.LanguageCode == "" {
		in.LanguageCode = "zh-hans"
	}
	return in
}

func cmd(name, args string) Input {
	return private(Input{Kind: KindCommand, Command: name, Args: args})
}

func text(s string) Input { return private(Input{Kind: KindText, Text: s}) }

func tap(data string) Input { return private(Input{Kind: KindCallback, Data: data}) }

func send(id string, buttons [][]Button) Reply {
	return Reply{Kind: SendNew, Text: id, Buttons: buttons}
}

func TestStep(t *testing.T) {
	zh, en := profile(LangZH, false), profile(LangEN, true)
	idle, picking := session(StateIdle, fresh), session(StateChoosingLang, fresh)
	after := func(st State) Session { return session(st, now) }
	tests := []struct {
		name string
		s    Session
		p    Profile
		in   Input
		want Result
	}{
		{
			name: "start on first contact guesses zh-CN from zh-hans",
			s:    NewSession(now), p: Profile{Version: ProfileVersion},
			in: private(Input{Kind: KindCommand, Command: "start", Name: "小王"}),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh, ProfileChanged: true,
				Replies: welcomeReplies("小王", LangZH)},
		},
		{
			name: "start guesses en from en-US",
			s:    NewSession(now), p: Profile{Version: ProfileVersion},
			in: private(Input{Kind: KindCommand, Command: "start", LanguageCode: "en-US"}),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: profile(LangEN, false), ProfileChanged: true,
				Replies: welcomeReplies("", LangEN)},
		},
		{
			name: "start guesses en from another language",
			s:    NewSession(now), p: Profile{Version: ProfileVersion},
			in: private(Input{Kind: KindCommand, Command: "start", LanguageCode: "ru"}),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: profile(LangEN, false), ProfileChanged: true,
				Replies: welcomeReplies("", LangEN)},
		},
		{
			name: "empty language code on first contact gives zh-CN",
			s:    NewSession(now), p: Profile{Version: ProfileVersion},
			in: Input{Kind: KindCommand, Command: "help", Chat: ChatPrivate, Now: now},
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh, ProfileChanged: true,
				Replies: []Reply{send(MsgHelp, menu())}},
		},
		{
			name: "empty language code keeps the guessed language",
			s:    idle, p: profile(LangEN, false),
			in: Input{Kind: KindCommand, Command: "help", Chat: ChatPrivate, Now: now},
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: profile(LangEN, false),
				Replies: []Reply{send(MsgHelp, menu())}},
		},
		{
			name: "unchosen language follows a new language code",
			s:    idle, p: zh,
			in: private(Input{Kind: KindCommand, Command: "help", LanguageCode: "en"}),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: profile(LangEN, false), ProfileChanged: true,
				Replies: []Reply{send(MsgHelp, menu())}},
		},
		{
			name: "chosen language ignores the language code",
			s:    idle, p: en,
			in: cmd("help", ""),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: en,
				Replies: []Reply{send(MsgHelp, menu())}},
		},
		{
			name: "start leaves a flow",
			s:    picking, p: zh,
			in: cmd("start", ""),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: welcomeReplies("", LangZH)},
		},
		{
			name: "help keeps the flow",
			s:    picking, p: zh, in: cmd("help", ""),
			want: Result{Session: after(StateChoosingLang), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgHelp, menu())}},
		},
		{
			name: "lang opens the picker",
			s:    idle, p: zh, in: cmd("lang", ""),
			want: Result{Session: after(StateChoosingLang), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgLangPick, langPicker())}},
		},
		{
			name: "lang with an unknown argument opens the picker",
			s:    idle, p: zh, in: cmd("lang", "klingon"),
			want: Result{Session: after(StateChoosingLang), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgLangPick, langPicker())}},
		},
		{
			name: "lang en switches directly",
			s:    idle, p: zh, in: cmd("lang", "en"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: en, ProfileChanged: true,
				Replies: []Reply{send(MsgLangSet, menu())}},
		},
		{
			name: "lang zh from the picker state switches and closes it",
			s:    picking, p: en, in: cmd("lang", "ZH"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: profile(LangZH, true), ProfileChanged: true,
				Replies: []Reply{send(MsgLangSet, menu())}},
		},
		{
			name: "typing English in the picker switches",
			s:    picking, p: zh, in: text(" English "),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: en, ProfileChanged: true,
				Replies: []Reply{send(MsgLangSet, menu())}},
		},
		{
			name: "typing 中文 in the picker marks the guess as chosen",
			s:    picking, p: zh, in: text("中文"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: profile(LangZH, true), ProfileChanged: true,
				Replies: []Reply{send(MsgLangSet, menu())}},
		},
		{
			name: "other text in the picker asks again",
			s:    picking, p: zh, in: text("法语"),
			want: Result{Session: after(StateChoosingLang), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgLangRetry, langPicker())}},
		},
		{
			name: "a photo in the picker asks again",
			s:    picking, p: zh, in: private(Input{Kind: KindOther}),
			want: Result{Session: after(StateChoosingLang), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgLangRetry, langPicker())}},
		},
		{
			name: "picker exactly at the TTL has not expired",
			s:    session(StateChoosingLang, now.Add(-SessionTTL)), p: zh, in: text("en"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: en, ProfileChanged: true,
				Replies: []Reply{send(MsgLangSet, menu())}},
		},
		{
			name: "tapping a language in the picker edits it in the new language",
			s:    picking, p: zh, in: tap("lang:en"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: en, ProfileChanged: true,
				Replies: []Reply{{Kind: EditOrigin, Text: MsgLangSet, Buttons: menu()}}},
		},
		{
			name: "a stale language tap while idle is honoured",
			s:    idle, p: consented(en), in: tap("lang:zh"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: consented(profile(LangZH, true)), ProfileChanged: true,
				Replies: []Reply{{Kind: EditOrigin, Text: MsgLangSet, Buttons: menu()}}},
		},
		{
			name: "the welcome's language switch says the welcome and notice again",
			s:    idle, p: zh, in: tap("lang:en"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: en, ProfileChanged: true,
				Replies: []Reply{
					{Kind: EditOrigin, Text: MsgWelcome, Args: map[string]string{"Name": ""}, Buttons: [][]Button{{langSwitch(LangEN)}}},
					privacyReply(),
				}},
		},
		{
			name: "a language tap after the picker expired is honoured",
			s:    session(StateChoosingLang, stale), p: consented(zh), in: tap("lang:en"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: consented(en), ProfileChanged: true,
				Replies: []Reply{{Kind: EditOrigin, Text: MsgLangSet, Buttons: menu()}}},
		},
		{
			name: "tapping the chosen language again changes nothing stored",
			s:    idle, p: consented(en), in: tap("lang:en"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: consented(en),
				Replies: []Reply{{Kind: EditOrigin, Text: MsgLangSet, Buttons: menu()}}},
		},
		{
			name: "an unknown language tap gets a toast",
			s:    idle, p: zh, in: tap("lang:fr"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{{Kind: AnswerCallback, Text: MsgStaleButton}}},
		},
		{
			name: "an unknown tap gets a toast and keeps the flow",
			s:    picking, p: zh, in: tap("ticket:42"),
			want: Result{Session: after(StateChoosingLang), SessionChanged: true, Profile: zh,
				Replies: []Reply{{Kind: AnswerCallback, Text: MsgStaleButton}}},
		},
		{
			name: "menu help",
			s:    idle, p: zh, in: tap("menu:help"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgHelp, menu())}},
		},
		{
			name: "menu language opens the picker",
			s:    idle, p: zh, in: tap("menu:lang"),
			want: Result{Session: after(StateChoosingLang), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgLangPick, langPicker())}},
		},
		{
			name: "cancel leaves the picker",
			s:    picking, p: zh, in: cmd("cancel", ""),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgCancelled, menu())}},
		},
		{
			name: "cancel at the phone step also removes its keyboard",
			s:    session(StateRegPhone, fresh), p: zh, in: cmd("cancel", ""),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{{Kind: SendNew, Text: MsgCancelled, RemoveKeyboard: true}, send(MsgMenu, menu())}},
		},
		{
			name: "cancel with nothing going on",
			s:    idle, p: zh, in: cmd("cancel", ""),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgNothingToCancel, menu())}},
		},
		{
			name: "cancel after expiry says it expired",
			s:    session(StateChoosingLang, stale), p: zh, in: cmd("cancel", ""),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgExpired, menu())}},
		},
		{
			name: "text after expiry says it expired and resets",
			s:    session(StateChoosingLang, stale), p: zh, in: text("English"),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgExpired, menu())}},
		},
		{
			name: "unknown command after expiry says it expired",
			s:    session(StateChoosingLang, stale), p: zh, in: cmd("frobnicate", ""),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgExpired, menu())}},
		},
		{
			name: "an old idle session does not expire",
			s:    session(StateIdle, stale), p: zh, in: private(Input{Kind: KindOther}),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgUnknown, menu())}},
		},
		{
			name: "unknown command",
			s:    idle, p: zh, in: cmd("frobnicate", ""),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgUnknown, menu())}},
		},
		{
			name: "a contact while idle falls back",
			s:    idle, p: zh, in: private(Input{Kind: KindContact}),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgUnknown, menu())}},
		},
		{
			name: "a state this release does not know is reset",
			s:    Session{Version: SessionVersion, State: "registering", UpdatedAt: fresh, Data: map[string]string{"x": "y"}},
			p:    zh, in: private(Input{Kind: KindOther}),
			want: Result{Session: after(StateIdle), SessionChanged: true, Profile: zh,
				Replies: []Reply{send(MsgUnknown, menu())}},
		},
		{
			name: "group text is ignored",
			s:    idle, p: zh, in: Input{Kind: KindText, Text: "hi", Chat: ChatGroup, Now: now, LanguageCode: "en"},
			want: Result{Session: idle, Profile: zh},
		},
		{
			name: "group start is ignored",
			s:    idle, p: zh, in: Input{Kind: KindCommand, Command: "start", Chat: ChatGroup, Now: now},
			want: Result{Session: idle, Profile: zh},
		},
		{
			name: "group help is answered without touching the session",
			s:    idle, p: zh, in: Input{Kind: KindCommand, Command: "help", Chat: ChatGroup, Now: now, LanguageCode: "zh"},
			want: Result{Session: idle, Profile: zh, Replies: []Reply{{Kind: SendNew, Text: MsgHelpGroup}}},
		},
		{
			name: "channel posts are ignored",
			s:    idle, p: zh, in: Input{Kind: KindCommand, Command: "help", Chat: ChatChannel, Now: now},
			want: Result{Session: idle, Profile: zh},
		},
		{
			name: "unknown chat types are ignored",
			s:    idle, p: zh, in: Input{Kind: KindText, Text: "hi", Chat: ChatOther, Now: now},
			want: Result{Session: idle, Profile: zh},
		},
	}
	ids := MessageIDs()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Step(tt.s, tt.p, tt.in, world(nil))
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(Profile{})); diff != "" {
				t.Errorf("Step(%+v, %+v, %+v) mismatch (-want +got):\n%s", tt.s, tt.p, tt.in, diff)
			}
			for _, r := range got.Replies {
				if r.Text != "" && !slices.Contains(ids, r.Text) {
					t.Errorf("reply text %q is not in MessageIDs", r.Text)
				}
				for _, row := range r.Buttons {
					for _, b := range row {
						if !slices.Contains(ids, b.Text) || len(b.Data) == 0 || len(b.Data) > 64 {
							t.Errorf("bad button %+v", b)
						}
					}
				}
			}
		})
	}
}

func TestGuessLang(t *testing.T) {
	for code, want := range map[string]string{
		"": LangZH, "zh": LangZH, "zh-hans": LangZH, "zh-TW": LangZH, "ZH-CN": LangZH,
		"en": LangEN, "en-GB": LangEN, "ru": LangEN, "ug": LangEN,
	} {
		if got := GuessLang(code); got != want {
			t.Errorf("GuessLang(%q) = %q, want %q", code, got, want)
		}
	}
}
