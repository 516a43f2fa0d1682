package handlers

import (
	"embed"
	"fmt"
	"html"

	"github.com/BurntSushi/toml"
	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/queue"
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
}

// localizer renders in one language. go-i18n would fall back to zh-CN for a missing key;
// the locale test forbids missing keys instead, so a fallback never shows mixed languages.
type localizer struct {
	*i18n.Localizer
}

func loadTexts() (*texts, error) {
	b := i18n.NewBundle(language.MustParse(bot.LangZH))
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, p := range localePaths {
		if _, err := b.LoadMessageFileFS(localeFiles, p); err != nil {
			return nil, fmt.Errorf("load %s: %w", p, err)
		}
	}
	return &texts{byLang: map[string]localizer{
		bot.LangZH: {i18n.NewLocalizer(b, bot.LangZH)},
		bot.LangEN: {i18n.NewLocalizer(b, bot.LangEN)},
	}}, nil
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
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return "", fmt.Errorf("render %q: %w", id, err)
	}
	return s, nil
}

// keyboard renders an inline keyboard; button labels are plain text, not HTML.
func (l localizer) keyboard(rows [][]bot.Button) ([][]queue.Button, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	kb := make([][]queue.Button, 0, len(rows))
	for _, row := range rows {
		r := make([]queue.Button, 0, len(row))
		for _, b := range row {
			label, err := l.render(b.Text, nil)
			if err != nil {
				return nil, err
			}
			r = append(r, queue.Button{Text: label, Data: b.Data})
		}
		kb = append(kb, r)
	}
	return kb, nil
}
