package poster

import (
	"embed"
	"fmt"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

//go:embed locales/poster.zh-CN.toml locales/poster.en.toml
var locales embed.FS

// locale is the poster's texts in one language.
type locale struct {
	Instruction string `toml:"instruction"`
}

type texts struct{ zh, en locale }

// loadTexts reads the embedded locale files once. It fails on a file that does not
// parse, has a key no poster uses or lacks one.
var loadTexts = sync.OnceValues(func() (texts, error) {
	var t texts
	for _, l := range []struct {
		file string
		into *locale
	}{{"locales/poster.zh-CN.toml", &t.zh}, {"locales/poster.en.toml", &t.en}} {
		md, err := toml.DecodeFS(locales, l.file, l.into)
		if err != nil {
			return texts{}, fmt.Errorf("poster: %w", err)
		}
		if extra := md.Undecoded(); len(extra) > 0 {
			return texts{}, fmt.Errorf("poster: %s: unknown keys %v", l.file, extra)
		}
		if strings.TrimSpace(l.into.Instruction) == "" {
			return texts{}, fmt.Errorf("poster: %s: instruction is missing", l.file)
		}
	}
	return t, nil
})
