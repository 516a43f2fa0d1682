package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"
	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/queue"
)

var now = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

const streamID = "1740800000000-0"

func newHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := New(WithUsername("bangban_bot"), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func encode(t *testing.T, v interface{ Encode() ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.Encode()
	if err != nil {
		t.Fatalf("Encode(%+v): %v", v, err)
	}
	return b
}

// Keyboards as users see them.
var (
	menuZH = [][]queue.Button{
		{{Text: "📚 政策查询", Data: "menu:policy"}, {Text: "🔔 订阅通知", Data: "sub:menu"}},
		{{Text: "🙋 找工作人员", Data: "rq:new"}, {Text: "🎫 我的请求", Data: "rq:mine"}},
		{{Text: "📍 签到", Data: "menu:checkin"}, {Text: "👤 我的", Data: "menu:me"}},
		{{Text: "❓ 帮助", Data: "menu:help"}, {Text: "🌐 语言 / Language", Data: "menu:lang"}},
	}
	menuEN = [][]queue.Button{
		{{Text: "📚 Policies", Data: "menu:policy"}, {Text: "🔔 Notices", Data: "sub:menu"}},
		{{Text: "🙋 Ask staff", Data: "rq:new"}, {Text: "🎫 My requests", Data: "rq:mine"}},
		{{Text: "📍 Check in", Data: "menu:checkin"}, {Text: "👤 Me", Data: "menu:me"}},
		{{Text: "❓ Help", Data: "menu:help"}, {Text: "🌐 Language / 语言", Data: "menu:lang"}},
	}
	consentZH = [][]queue.Button{{{Text: "✅ 同意", Data: "consent:yes"}, {Text: "暂不", Data: "consent:no"}}}
	consentEN = [][]queue.Button{{{Text: "✅ Agree", Data: "consent:yes"}, {Text: "Not now", Data: "consent:no"}}}
	langPick  = [][]queue.Button{{{Text: "中文", Data: "lang:zh"}, {Text: "English", Data: "lang:en"}}}
)

func msg(i int, method string, chat int64, text string, kb [][]queue.Button) queue.Message {
	m := queue.Message{
		ID: fmt.Sprintf("%s.%d", streamID, i), Method: method, Lane: queue.LaneReply, ChatID: chat,
		Text: text, Inline: kb,
	}
	if method != queue.MethodAnswerCallbackQuery {
		m.ParseMode = "HTML"
	}
	return m
}

func answer(i int, chat int64, cb, toast string) queue.Message {
	m := msg(i, queue.MethodAnswerCallbackQuery, chat, toast, nil)
	m.CallbackID = cb
	return m
}

func TestHandle(t *testing.T) {
	h := newHandler(t)
	profileZH := encode(t, bot.Profile{Version: bot.ProfileVersion, Lang: bot.LangZH})
	profileEN := encode(t, bot.Profile{Version: bot.ProfileVersion, Lang: bot.LangEN})
	picking := encode(t, bot.Session{Version: bot.SessionVersion, State: bot.StateChoosingLang, UpdatedAt: now.Add(-time.Minute)})
	yes, no := true, false

	tests := []struct {
		file string
		st   queue.State
		// Texts in want.Outbox are substrings of the rendered text; sessions and profiles
		// are compared decoded, by the fields below.
		want        queue.Effects
		wantSession bot.State // "" means no session is written
		wantProfile *bot.Profile
	}{
		{
			file: "start_zh.json",
			want: queue.Effects{Outbox: []queue.Message{
				msg(0, queue.MethodSendMessage, 5550001, "小王&lt;b&gt;，你好！我是<b>帮办</b>", [][]queue.Button{{{Text: "English", Data: "lang:en"}}}),
				msg(1, queue.MethodSendMessage, 5550001, "<b>隐私说明</b>", consentZH),
			}},
			wantSession: bot.StateIdle,
			wantProfile: &bot.Profile{Version: 1, Lang: bot.LangZH},
		},
		{
			file: "start_en.json",
			want: queue.Effects{Outbox: []queue.Message{
				msg(0, queue.MethodSendMessage, 5550002, "Hi Sam! I'm <b>Bangban</b>", [][]queue.Button{{{Text: "中文", Data: "lang:zh"}}}),
				msg(1, queue.MethodSendMessage, 5550002, "<b>Privacy notice</b>", consentEN),
			}},
			wantSession: bot.StateIdle,
			wantProfile: &bot.Profile{Version: 1, Lang: bot.LangEN},
		},
		{
			file: "lang_command.json",
			st:   queue.State{Profile: profileZH},
			want: queue.Effects{Outbox: []queue.Message{
				msg(0, queue.MethodSendMessage, 5550001, "请选择语言 / Choose your language", langPick),
			}},
			wantSession: bot.StateChoosingLang,
		},
		{
			file: "callback_lang_en.json",
			st:   queue.State{Session: picking, Profile: profileZH},
			want: queue.Effects{Outbox: []queue.Message{
				answer(0, 5550001, "4382bfdwdsb323b2d9", ""),
				func() queue.Message {
					m := msg(1, queue.MethodEditMessageText, 5550001, "I'll speak English from now on", menuEN)
					m.MessageID = 14
					return m
				}(),
			}},
			wantSession: bot.StateIdle,
			wantProfile: &bot.Profile{Version: 1, Lang: bot.LangEN, LangChosen: true},
		},
		{
			file: "callback_inaccessible.json",
			st:   queue.State{Profile: profileEN},
			want: queue.Effects{Outbox: []queue.Message{
				answer(0, 5550002, "4382bfdwdsb323b2da", ""),
				msg(1, queue.MethodSendMessage, 5550002, "你好！我是<b>帮办</b>", [][]queue.Button{{{Text: "English", Data: "lang:en"}}}),
				msg(2, queue.MethodSendMessage, 5550002, "<b>隐私说明</b>", consentZH),
			}},
			wantSession: bot.StateIdle,
			wantProfile: &bot.Profile{Version: 1, Lang: bot.LangZH, LangChosen: true},
		},
		{
			file: "callback_stale.json",
			st:   queue.State{Profile: profileEN},
			want: queue.Effects{Outbox: []queue.Message{
				answer(0, 5550002, "4382bfdwdsb323b2db", "This button no longer works"),
			}},
			wantSession: bot.StateIdle,
		},
		{file: "my_chat_member_kicked.json", want: queue.Effects{Reachable: &no}},
		{file: "my_chat_member_member.json", want: queue.Effects{Reachable: &yes}},
		{file: "my_chat_member_unknown_status.json"},
		{file: "channel_post.json"},
		{file: "edited_message.json"},
		{file: "garbage.json"},
		{file: "group_other_bot.json"},
		{
			file: "group_help.json",
			want: queue.Effects{Outbox: []queue.Message{
				func() queue.Message {
					m := msg(0, queue.MethodSendMessage, -1009876543210, "有事请私聊我", nil)
					m.ThreadID = 7
					return m
				}(),
			}},
			wantProfile: &bot.Profile{Version: 1, Lang: bot.LangZH},
		},
		{
			file: "unknown_field.json",
			st:   queue.State{Profile: profileEN},
			want: queue.Effects{Outbox: []queue.Message{
				msg(0, queue.MethodSendMessage, 5550002, "What I can do", menuEN),
			}},
			wantSession: bot.StateIdle,
		},
		{
			file: "unknown_enum.json",
			st:   queue.State{Profile: profileEN},
			want: queue.Effects{Outbox: []queue.Message{
				msg(0, queue.MethodSendMessage, 5550002, "What I can do", menuEN),
			}},
			wantSession: bot.StateIdle,
		},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			u := queue.Update{StreamID: streamID, Kind: queue.KindTelegram, ChatID: 5550001, Raw: raw, Deliveries: 1}
			got, err := h.Handle(context.Background(), u, tt.st)
			if err != nil {
				t.Fatalf("Handle(%s) error: %v", tt.file, err)
			}

			if tt.wantSession == "" {
				if got.Session != nil {
					t.Errorf("Handle(%s) wrote session %s, want none", tt.file, got.Session)
				}
			} else {
				s := bot.DecodeSession(got.Session, time.Time{})
				if s.State != tt.wantSession || !s.UpdatedAt.Equal(now) || got.SessionTTL != 2*bot.SessionTTL {
					t.Errorf("Handle(%s) session = %s TTL %v, want state %q at %v TTL %v",
						tt.file, got.Session, got.SessionTTL, tt.wantSession, now, 2*bot.SessionTTL)
				}
			}
			if tt.wantProfile == nil {
				if got.Profile != nil {
					t.Errorf("Handle(%s) wrote profile %s, want none", tt.file, got.Profile)
				}
			} else if p := bot.DecodeProfile(got.Profile); p.Version != tt.wantProfile.Version ||
				p.Lang != tt.wantProfile.Lang || p.LangChosen != tt.wantProfile.LangChosen {
				t.Errorf("Handle(%s) profile = %+v, want %+v", tt.file, p, *tt.wantProfile)
			}
			got.Session, got.SessionTTL, got.Profile = nil, 0, nil

			for i := range min(len(got.Outbox), len(tt.want.Outbox)) {
				g, w := got.Outbox[i].Text, tt.want.Outbox[i].Text
				if !strings.Contains(g, w) {
					t.Errorf("Handle(%s) outbox[%d] text = %q, want it to contain %q", tt.file, i, g, w)
				}
				got.Outbox[i].Text = w
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Handle(%s) effects mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestHandleIgnoresResults(t *testing.T) {
	h := newHandler(t)
	u := queue.Update{StreamID: streamID, Kind: queue.KindResult, ChatID: 1, Raw: []byte(`{"ref":"x","chat":1,"msg":5}`)}
	got, err := h.Handle(context.Background(), u, queue.State{})
	if err != nil || !cmp.Equal(got, queue.Effects{}) {
		t.Errorf("Handle(result) = %+v, %v; want empty effects, nil", got, err)
	}
}

func TestParseCommand(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		text, name, args string
		ok               bool
	}{
		{"/start", "start", "", true},
		{"/Lang  en ", "lang", "en", true},
		{"/lang\nzh", "lang", "zh", true},
		{"/help@BangBan_Bot", "help", "", true},
		{"/help@weather_bot", "", "", false},
		{"/", "", "", false},
		{"/@bangban_bot", "", "", false},
		{"hello /start", "", "", false},
	}
	for _, tt := range tests {
		name, args, ok := h.parseCommand(tt.text)
		if name != tt.name || args != tt.args || ok != tt.ok {
			t.Errorf("parseCommand(%q) = %q, %q, %v; want %q, %q, %v", tt.text, name, args, ok, tt.name, tt.args, tt.ok)
		}
	}
}

func TestCommands(t *testing.T) {
	h := newHandler(t)
	for lang, want := range map[string]string{bot.LangZH: "主菜单", bot.LangEN: "Main menu", "fr": "主菜单"} {
		cmds, err := h.Commands(lang)
		if err != nil {
			t.Fatalf("Commands(%q): %v", lang, err)
		}
		if len(cmds) != len(bot.Commands()) || cmds[0].Name != "start" || cmds[0].Description != want {
			t.Errorf("Commands(%q) = %+v, want %d commands starting with start %q", lang, cmds, len(bot.Commands()), want)
		}
	}
}

// TestDecodeFallback checks that the testdata really exercises the lenient decoder: the
// library's models reject these updates outright.
func TestDecodeFallback(t *testing.T) {
	for _, file := range []string{"unknown_enum.json", "my_chat_member_unknown_status.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		var u models.Update
		if err := json.Unmarshal(raw, &u); err == nil {
			t.Errorf("models decode %s: no error; the fallback is not exercised", file)
		}
		if _, err := decode(raw); err != nil {
			t.Errorf("decode(%s): %v", file, err)
		}
	}
}
