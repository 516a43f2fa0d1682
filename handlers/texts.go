package handlers

import (
	"embed"
	"fmt"
	"html"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nanta-district/bangban/bot"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// localeFiles holds every user-facing text, Simplified Chinese first.
//
//go:embed locales/active.zh-CN.toml locales/active.en.toml
var localeFiles embed.FS

var localePaths = []string{"locales/active.zh-CN.toml", "locales/active.en.toml"}

// texts renders message ids from the locale files.
type texts struct {
	byLang map[string]localizer
	// buttons maps the label of every reply-keyboard button, in every language, to its id.
	buttons map[string]string
}

// keyboardButtons are the ids of the reply-keyboard buttons that send text.
var keyboardButtons = []string{bot.MsgButtonBack, bot.MsgButtonPointList, bot.MsgButtonBackToMenu, bot.MsgButtonSubmit, bot.MsgButtonCancelRequest}

// button returns the id of the reply-keyboard button labelled text, or "".
func (t *texts) button(text string) string { return t.buttons[text] }

// localizer renders in one language. go-i18n would fall back to zh-CN for a missing key;
// the locale test forbids missing keys instead, so a fallback never shows mixed languages.
type localizer struct {
	*i18n.Localizer
	lang string
	ids  map[string]bool
}

func loadTexts() (*texts, error) {
	b := i18n.NewBundle(language.MustParse(bot.LangZH))
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	t := &texts{byLang: map[string]localizer{}, buttons: map[string]string{}}
	for i, p := range localePaths {
		f, err := b.LoadMessageFileFS(localeFiles, p)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", p, err)
		}
		lang := []string{bot.LangZH, bot.LangEN}[i]
		ids := make(map[string]bool, len(f.Messages))
		for _, m := range f.Messages {
			ids[m.ID] = true
		}
		l := localizer{Localizer: i18n.NewLocalizer(b, lang), lang: lang, ids: ids}
		t.byLang[lang] = l
		for _, id := range keyboardButtons {
			label, err := l.render(id, nil)
			if err != nil {
				return nil, err
			}
			t.buttons[label] = id
		}
	}
	return t, nil
}

// localizer returns the localizer of lang, zh-CN for a language we do not have.
func (t *texts) localizer(lang string) localizer {
	if l, ok := t.byLang[lang]; ok {
		return l
	}
	return t.byLang[bot.LangZH]
}

// render returns the text of id with args HTML-escaped, since replies use HTML parse mode
// and args come from users.
func (l localizer) render(id string, args map[string]string) (string, error) {
	var data map[string]string
	if len(args) > 0 {
		data = make(map[string]string, len(args))
		for k, v := range args {
			data[k] = html.EscapeString(v)
		}
	}
	return l.renderSafe(id, data)
}

// renderSafe returns the text of id with args as they are: the caller escaped them.
func (l localizer) renderSafe(id string, args map[string]string) (string, error) {
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: args})
	if err != nil {
		return "", fmt.Errorf("render %q: %w", id, err)
	}
	// text/template prints a missing argument as "<no value>": a bug, never for users.
	if strings.Contains(s, noValue) {
		return "", fmt.Errorf("render %q: a template argument is missing", id)
	}
	return s, nil
}

const noValue = "<no value>"

// has reports whether the language has a text for id.
func (l localizer) has(id string) bool { return l.ids[id] }
