package telegramtest

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		in       string
		text     string
		entities []entity
	}{
		{in: "plain", text: "plain"},
		{in: "<b>bold</b> &amp; <i>it</i>", text: "bold & it", entities: []entity{
			{Type: "bold", Offset: 0, Length: 4}, {Type: "italic", Offset: 7, Length: 2},
		}},
		{in: `<a href="https://t.me/x?a=1&amp;b=2">link</a>`, text: "link", entities: []entity{
			{Type: "text_link", Offset: 0, Length: 4, URL: "https://t.me/x?a=1&b=2"},
		}},
		{in: `<pre><code class="language-go">x := 1</code></pre>`, text: "x := 1", entities: []entity{
			{Type: "pre", Offset: 0, Length: 6, Language: "go"},
		}},
		{in: "<blockquote expandable>q</blockquote>", text: "q", entities: []entity{
			{Type: "expandable_blockquote", Offset: 0, Length: 1},
		}},
		{in: `<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>`, text: "st", entities: []entity{
			{Type: "spoiler", Offset: 0, Length: 1}, {Type: "spoiler", Offset: 1, Length: 1},
		}},
		{in: "😀<u>x</u>", text: "😀x", entities: []entity{{Type: "underline", Offset: 2, Length: 1}}},
		{in: "&#60;&#x3E;&quot;&lt;&gt;", text: `<>"<>`},
		{in: "<B>x</B>", text: "x", entities: []entity{{Type: "bold", Offset: 0, Length: 1}}},
		{in: `<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, text: "👍", entities: []entity{
			{Type: "custom_emoji", Offset: 0, Length: 2, CustomEmojiID: "5368324170671202286"},
		}},
	}
	for _, tt := range tests {
		text, entities, err := parseHTML(tt.in)
		if err != nil {
			t.Errorf("parseHTML(%q) error = %s, want nil", tt.in, err.description)
			continue
		}
		if text != tt.text {
			t.Errorf("parseHTML(%q) text = %q, want %q", tt.in, text, tt.text)
		}
		if diff := cmp.Diff(tt.entities, entities); diff != "" {
			t.Errorf("parseHTML(%q) entities (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseHTMLRejects(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"<b>open", `Can't find end tag corresponding to start tag "b"`},
		{"a < b", "Can't find end of the tag"},
		{"1 <2> 3", `Unsupported start tag "2"`},
		{"line<br>", `Unsupported start tag "br"`},
		{"<b><i>x</b></i>", "Unmatched end tag"},
		{"x</b>", "Unexpected end tag"},
		{"fish & chips", `Character "&"`},
		{"&nbsp;", `Unsupported character entity "&nbsp;"`},
		{`<span class="x">s</span>`, `Tag "span" must have class`},
		{"<code><b>x</b></code>", `can't be nested in tag "code"`},
		{"<blockquote><blockquote>x</blockquote></blockquote>", "Blockquote can't be nested"},
		{`<a href="x>y</a>`, "Unclosed start tag"},
	}
	for _, tt := range tests {
		_, _, err := parseHTML(tt.in)
		if err == nil {
			t.Errorf("parseHTML(%q) error = nil, want %q", tt.in, tt.want)
			continue
		}
		if !strings.HasPrefix(err.description, "Bad Request: can't parse entities: ") || !strings.Contains(err.description, tt.want) {
			t.Errorf("parseHTML(%q) error = %q, want it to contain %q", tt.in, err.description, tt.want)
		}
	}
}

// TestRulesDerived checks a few facts that the generated rules must carry,
// so a regeneration that lost them fails here rather than in a bot test.
func TestRulesDerived(t *testing.T) {
	rs := rules()
	send := rs.byLower["sendmessage"]
	if send == nil {
		t.Fatal(`rules().byLower["sendmessage"] = nil, want sendMessage`)
	}
	if got, want := send.required, []string{"chat_id", "text"}; !cmp.Equal(got, want) {
		t.Errorf("sendMessage required = %v, want %v", got, want)
	}
	if f := send.Params["text"]; f.Max != 4096 || !f.Entities {
		t.Errorf("sendMessage text max, entities = %d, %v, want 4096, true", f.Max, f.Entities)
	}
	if f := rs.Objects["InlineKeyboardButton"].Fields["callback_data"]; f.Max != 64 || !f.Bytes {
		t.Errorf("callback_data max, bytes = %d, %v, want 64, true", f.Max, f.Bytes)
	}
	if got := rs.Objects["InlineKeyboardButton"].ExactlyOneOf; !slices.Contains(got, "callback_data") || slices.Contains(got, "style") {
		t.Errorf("InlineKeyboardButton exactly_one_of = %v, want callback_data and not style", got)
	}
	if rs.byLower["logout"] == nil {
		t.Error(`rules().byLower["logout"] = nil, want logOut (the library's spelling)`)
	}
}
