package playground

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/internal/telegramtest"
)

func TestPageAndAssetsAreServed(t *testing.T) {
	_, _, _, e := setup(t)
	for _, tt := range []struct{ path, ctype, has string }{
		{"/", "text/html", `src="/playground/web/app.js"`},
		{"/playground/web/app.js", "javascript", "new EventSource("},
		{"/playground/web/app.css", "text/css", ".bubble"},
		{"/playground/web/locales.json", "application/json", `"zh"`},
	} {
		w := do(e, http.MethodGet, tt.path, "")
		if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Type"), tt.ctype) || !strings.Contains(w.Body.String(), tt.has) {
			t.Errorf("GET %s = %d %q, want 200 %s containing %q", tt.path, w.Code, w.Header().Get("Content-Type"), tt.ctype, tt.has)
		}
	}
	if w := do(e, http.MethodGet, "/playground/web/missing.js", ""); w.Code != http.StatusNotFound {
		t.Errorf("GET a missing asset = %d, want 404", w.Code)
	}
}

// TestLocalesMatch: every text of the page exists in Chinese and in English.
func TestLocalesMatch(t *testing.T) {
	raw, err := web.ReadFile("web/locales.json")
	if err != nil {
		t.Fatal(err)
	}
	var locales map[string]map[string]string
	if err := json.Unmarshal(raw, &locales); err != nil {
		t.Fatal(err)
	}
	zh, en := slices.Sorted(maps.Keys(locales["zh"])), slices.Sorted(maps.Keys(locales["en"]))
	if len(zh) == 0 || !slices.Equal(zh, en) {
		t.Errorf("locales: zh has %v, en has %v; want the same texts in both", zh, en)
	}
	for lang, texts := range locales {
		for k, v := range texts {
			if v == "" {
				t.Errorf("locales: %s.%s is empty", lang, k)
			}
		}
	}
}

// TestUserSwitching: each simulated user keeps their own chat, name and language, and
// the page learns the users seen so far.
func TestUserSwitching(t *testing.T) {
	p, in, _, e := setup(t)
	sendAll(t, e, in,
		`{"user":1001,"name":"王师傅","lang":"zh-hans","text":"你好"}`,
		`{"user":1002,"name":"Emma","lang":"en","text":"hello"}`,
		`{"user":1001,"text":"还在吗"}`,
	)
	for user, want := range map[int64][]string{1001: {"你好", "还在吗"}, 1002: {"hello"}} {
		var got []string
		for _, m := range p.Chat(user) {
			if m.From == nil || m.From.ID != user {
				t.Errorf("chat %d has %+v from someone else", user, m)
			}
			got = append(got, m.Text)
		}
		if !slices.Equal(got, want) {
			t.Errorf("chat %d = %q, want %q", user, got, want)
		}
	}
	w := do(e, http.MethodGet, "/playground/info", "")
	var info struct {
		Bot   struct{ Username string }
		Users []userFields
	}
	if err := json.Unmarshal(w.Body.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	want := []userFields{{User: 1001, Name: "王师傅", Lang: "zh-hans"}, {User: 1002, Name: "Emma", Lang: "en"}}
	if !slices.Equal(info.Users, want) || info.Bot.Username != telegramtest.DefaultBot.Username {
		t.Errorf("info = %s, want the bot and users %+v", w.Body, want)
	}
}

func TestInfoListsPoints(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	api := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(api.Close)
	p := New(t.Context(), &fakeIntake{}, api, testStaff, WithPoints([]content.Point{
		{ID: "nt-p01", Name: content.Text{ZH: "南塔驿站", EN: "Nanta station"}, Lat: 41.77, Lon: 123.45},
	}))
	e := gin.New()
	p.Mount(e)
	w := do(e, http.MethodGet, "/playground/info", "")
	var info struct{ Points []Point }
	if err := json.Unmarshal(w.Body.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	want := []Point{{ID: "nt-p01", Name: "南塔驿站", NameEN: "Nanta station", Lat: 41.77, Lon: 123.45}}
	if !slices.Equal(info.Points, want) {
		t.Errorf("points = %+v, want %+v", info.Points, want)
	}
}

// TestCommandMenu: the menu is the one the bot set for the chat's scope, in the user's
// language, else without a language.
func TestCommandMenu(t *testing.T) {
	_, _, api, e := setup(t)
	set := func(scope, lang, command string) {
		callAPI(t, api, "setMyCommands", fmt.Sprintf(`{"scope":%s,"language_code":%q,"commands":[{"command":%q,"description":"d"}]}`,
			scope, lang, command))
	}
	set(`{"type":"all_private_chats"}`, "zh", "kaishi")
	set(`{"type":"all_private_chats"}`, "", "start")
	set(fmt.Sprintf(`{"type":"chat","chat_id":%d}`, testStaff), "", "queue")
	for _, tt := range []struct{ query, want string }{
		{"user=1001&lang=zh-hans", "kaishi"},
		{"user=1001&lang=en", "start"},
		{"user=1001", "start"},
		{"chat=staff&lang=zh", "queue"},
	} {
		w := do(e, http.MethodGet, "/playground/commands?"+tt.query, "")
		var got struct {
			Commands []struct{ Command string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got.Commands) != 1 || got.Commands[0].Command != tt.want {
			t.Errorf("commands?%s = %d %s, want /%s", tt.query, w.Code, w.Body, tt.want)
		}
	}
}
