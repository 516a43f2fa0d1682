package handlers

import (
	"html"
	"maps"
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
	need := bot.MessageIDs()
	for _, c := range bot.Commands() {
		need = append(need, commandKey(c))
	}
	for _, id := range need {
		if !slices.Contains(ref, id) {
			t.Errorf("message id %q is missing from the locale files", id)
		}
	}
}

// TestRenderEveryText renders every text in every language with a hostile argument: no
// template error, and the argument arrives escaped.
func TestRenderEveryText(t *testing.T) {
	tx, err := loadTexts()
	if err != nil {
		t.Fatalf("loadTexts: %v", err)
	}
	name := `<script>&"`
	for _, lang := range []string{bot.LangZH, bot.LangEN} {
		for _, id := range bot.MessageIDs() {
			s, err := tx.localizer(lang).render(id, map[string]string{"Name": name})
			if err != nil || s == "" {
				t.Errorf("render(%s, %q) = %q, %v; want text", lang, id, s, err)
			}
			if strings.Contains(s, name) || id == bot.MsgWelcome && !strings.Contains(s, html.EscapeString(name)) {
				t.Errorf("render(%s, %q) = %q: argument not escaped", lang, id, s)
			}
		}
	}
}
