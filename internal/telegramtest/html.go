package telegramtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// entity is a MessageEntity as Telegram returns it in a sent message.
type entity struct {
	Type          string `json:"type"`
	Offset        int    `json:"offset"`
	Length        int    `json:"length"`
	URL           string `json:"url,omitempty"`
	Language      string `json:"language,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
	UnixTime      int64  `json:"unix_time,omitempty"`
	DateTimeFmt   string `json:"date_time_format,omitempty"`
}

// parseText returns the text a user sees and its entities. Only HTML is
// parsed strictly; Markdown texts are counted as sent, which over-counts and
// so errs on the side of rejecting.
func parseText(s, parseMode string) (string, []entity, *apiError) {
	switch strings.ToLower(parseMode) {
	case "":
		return s, nil, nil
	case "html":
		return parseHTML(s)
	case "markdown", "markdownv2":
		return s, nil, nil
	}
	return "", nil, badRequest(fmt.Sprintf("unsupported parse_mode %q", parseMode))
}

// htmlEntityTypes maps Telegram's supported tags to the entity they make.
var htmlEntityTypes = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"span": "spoiler", "tg-spoiler": "spoiler",
	"a":          "text_link",
	"tg-emoji":   "custom_emoji",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-time":    "date_time",
}

type openTag struct {
	name   string
	at     int // byte offset of the start tag, for error messages
	start  int // UTF-16 offset of the tag's text
	entity entity
	inPre  bool // a code tag directly inside pre, which only sets the language
}

func entityError(format string, args ...any) *apiError {
	return badRequest("can't parse entities: " + fmt.Sprintf(format, args...))
}

// parseHTML follows https://core.telegram.org/bots/api#html-style: the
// supported tags, properly nested and closed, and only &lt; &gt; &amp; &quot;
// and numeric character references.
func parseHTML(s string) (string, []entity, *apiError) {
	var (
		out      strings.Builder
		entities []entity
		stack    []openTag
		off      int
	)
	out.Grow(len(s))
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return "", nil, entityError("Can't find end of the tag starting at byte offset %d", i)
			}
			body := s[i+1 : i+j]
			if name, ok := strings.CutPrefix(body, "/"); ok {
				name = strings.ToLower(strings.TrimSpace(name))
				if len(stack) == 0 {
					return "", nil, entityError("Unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if top.name != name {
					return "", nil, entityError("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top.name, name)
				}
				stack = stack[:len(stack)-1]
				if top.entity.Type != "" && off > top.start {
					top.entity.Offset, top.entity.Length = top.start, off-top.start
					entities = append(entities, top.entity)
				}
			} else {
				t, err := startTag(body, i, stack)
				if err != nil {
					return "", nil, err
				}
				if t.inPre {
					stack[len(stack)-1].entity.Language = t.entity.Language
					t.entity = entity{}
				}
				t.start = off
				stack = append(stack, t)
			}
			i += j + 1
		case '&':
			r, n, err := charRef(s[i:], i)
			if err != nil {
				return "", nil, err
			}
			out.WriteRune(r)
			off += utf16Len(string(r))
			i += n
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return "", nil, badRequest("text must be encoded in UTF-8")
			}
			out.WriteString(s[i : i+n])
			if r >= 0x10000 {
				off += 2
			} else {
				off++
			}
			i += n
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return "", nil, entityError("Can't find end tag corresponding to start tag \"%s\" at byte offset %d", top.name, top.at)
	}
	slices.SortStableFunc(entities, func(a, b entity) int { return a.Offset - b.Offset })
	return out.String(), entities, nil
}

// startTag parses a start tag and checks it against the tags open around it.
func startTag(body string, at int, stack []openTag) (openTag, *apiError) {
	name, rest := body, ""
	if sp := strings.IndexAny(body, " \t\r\n"); sp >= 0 {
		name, rest = body[:sp], body[sp:]
	}
	name = strings.ToLower(strings.TrimSuffix(name, "/"))
	typ, ok := htmlEntityTypes[name]
	if !ok {
		return openTag{}, entityError("Unsupported start tag \"%s\" at byte offset %d", name, at)
	}
	attrs, err := parseAttrs(rest, at)
	if err != nil {
		return openTag{}, err
	}
	t := openTag{name: name, at: at, entity: entity{Type: typ}}
	if len(stack) > 0 {
		parent := stack[len(stack)-1]
		switch {
		case parent.name == "pre" && name == "code" && !parent.inPre:
			t.inPre = true
		case parent.name == "code" || parent.name == "pre":
			return openTag{}, entityError("Tag \"%s\" can't be nested in tag \"%s\" at byte offset %d", name, parent.name, at)
		}
	}
	switch name {
	case "span":
		if attrs["class"] != "tg-spoiler" {
			return openTag{}, entityError("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", at)
		}
	case "a":
		href, ok := attrs["href"]
		if !ok || href == "" {
			// Telegram keeps the text of a link without a target, unformatted.
			t.entity = entity{}
		}
		t.entity.URL = href
	case "tg-emoji":
		id := attrs["emoji-id"]
		if id == "" {
			return openTag{}, entityError("Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset %d", at)
		}
		t.entity.CustomEmojiID = id
	case "code":
		if lang, ok := strings.CutPrefix(attrs["class"], "language-"); ok && t.inPre {
			t.entity.Language = lang
		}
	case "blockquote":
		for _, o := range stack {
			if o.name == "blockquote" {
				return openTag{}, entityError("Blockquote can't be nested at byte offset %d", at)
			}
		}
		if _, ok := attrs["expandable"]; ok {
			t.entity.Type = "expandable_blockquote"
		}
	case "tg-time":
		unix, perr := strconv.ParseInt(attrs["unix"], 10, 64)
		if perr != nil {
			return openTag{}, entityError("Tag \"tg-time\" must have a numeric attribute \"unix\" at byte offset %d", at)
		}
		t.entity.UnixTime, t.entity.DateTimeFmt = unix, attrs["format"]
	}
	return t, nil
}

// parseAttrs reads name="value", name='value', name=value and bare names.
func parseAttrs(s string, at int) (map[string]string, *apiError) {
	attrs := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		s = strings.TrimSuffix(s, "/")
		if s == "" {
			return attrs, nil
		}
		end := strings.IndexAny(s, "= \t\r\n")
		if end < 0 {
			attrs[strings.ToLower(s)] = ""
			return attrs, nil
		}
		name := strings.ToLower(s[:end])
		s = strings.TrimLeft(s[end:], " \t\r\n")
		if !strings.HasPrefix(s, "=") {
			attrs[name] = ""
			continue
		}
		s = strings.TrimLeft(s[1:], " \t\r\n")
		var raw string
		if s != "" && (s[0] == '"' || s[0] == '\'') {
			closeAt := strings.IndexByte(s[1:], s[0])
			if closeAt < 0 {
				return nil, entityError("Unclosed start tag at byte offset %d", at)
			}
			raw, s = s[1:1+closeAt], s[2+closeAt:]
		} else {
			stop := strings.IndexAny(s, " \t\r\n")
			if stop < 0 {
				stop = len(s)
			}
			raw, s = s[:stop], s[stop:]
		}
		value, err := unescape(raw, at)
		if err != nil {
			return nil, err
		}
		attrs[name] = value
	}
}

func unescape(s string, at int) (string, *apiError) {
	if !strings.Contains(s, "&") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '&' {
			b.WriteByte(s[i])
			i++
			continue
		}
		r, n, err := charRef(s[i:], at+i)
		if err != nil {
			return "", err
		}
		b.WriteRune(r)
		i += n
	}
	return b.String(), nil
}

// charRef decodes the character reference at the start of s.
func charRef(s string, at int) (rune, int, *apiError) {
	semi := strings.IndexByte(s, ';')
	if semi < 0 || semi > 12 {
		return 0, 0, entityError("Character \"&\" at byte offset %d must be escaped as \"&amp;\"", at)
	}
	name := s[1:semi]
	switch name {
	case "lt":
		return '<', semi + 1, nil
	case "gt":
		return '>', semi + 1, nil
	case "amp":
		return '&', semi + 1, nil
	case "quot":
		return '"', semi + 1, nil
	}
	if num, ok := strings.CutPrefix(name, "#"); ok {
		base := 10
		if hex, ok := strings.CutPrefix(strings.ToLower(num), "x"); ok {
			num, base = hex, 16
		}
		if n, err := strconv.ParseUint(num, base, 32); err == nil && n > 0 && n <= utf8.MaxRune {
			return rune(n), semi + 1, nil
		}
	}
	return 0, 0, entityError("Unsupported character entity \"&%s;\" at byte offset %d", name, at)
}
