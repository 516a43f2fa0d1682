package handlers

import (
	"html"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
	"github.com/nanta-district/bangban/bot"
)

// TestLocaleKeys checks that every locale file has exactly the same keys, and that every
// id the bot can return and every command description exists.
func TestLocaleKeys(t *testing.T) {
	var ref []string
	for _, p := range localePaths {
		var m map[string]any
		if _, err := toml.DecodeFS(localeFiles, p, &m); err != nil {
			t.Fatalf("decode %s: %v", p, err)
		}
		keys := slices.Sorted(maps.Keys(m))
		if ref == nil {
			ref = keys
		} else if diff := cmp.Diff(ref, keys); diff != "" {
			t.Errorf("keys of %s differ from %s (-first +this):\n%s", p, localePaths[0], diff)
		}
	}
	need := append(bot.MessageIDs(), handlerIDs...)
	need = append(need, keyboardButtons...)
	for _, c := range bot.Commands() {
		need = append(need, "command_"+c)
	}
	for _, c := range bot.StaffCommands() {
		need = append(need, "staff_command_"+c)
	}
	for _, id := range need {
		if !slices.Contains(ref, id) {
			t.Errorf("message id %q is missing from the locale files", id)
		}
	}
}

// TestRenderEveryText renders every text in every language with a hostile value for every
// argument its template names: no template error, and the arguments arrive escaped.
func TestRenderEveryText(t *testing.T) {
	tx, err := loadTexts()
	if err != nil {
		t.Fatalf("loadTexts: %v", err)
	}
	hostile := `<script>&"`
	args := map[string]string{}
	for _, p := range localePaths {
		b, err := localeFiles.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateArg.FindAllStringSubmatch(string(b), -1) {
			args[m[1]] = hostile
		}
	}
	for _, lang := range []string{bot.LangZH, bot.LangEN} {
		for _, id := range append(bot.MessageIDs(), handlerIDs...) {
			s, err := tx.localizer(lang).render(id, args)
			if err != nil || s == "" {
				t.Errorf("render(%s, %q) = %q, %v; want text", lang, id, s, err)
			}
			if strings.Contains(s, hostile) || id == bot.MsgWelcome && !strings.Contains(s, html.EscapeString(hostile)) {
				t.Errorf("render(%s, %q) = %q: argument not escaped", lang, id, s)
			}
		}
	}
}

// templateArg finds the arguments a template names.
var templateArg = regexp.MustCompile(`\.([A-Z][A-Za-z]*)`)

// TestMissingArgumentIsAnError checks that a text rendered without an argument its template
// needs is an error (a bug to catch in tests), never "<no value>" shown to a user.
func TestMissingArgumentIsAnError(t *testing.T) {
	tx, err := loadTexts()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := tx.localizer(bot.LangEN).render(bot.MsgRegisterFirst, nil); err == nil {
		t.Errorf("render without PointName = %q, nil; want an error", s)
	}
}
