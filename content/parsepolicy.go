package content

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// policiesDir is the folder of the policy files, one policies/ID.md per policy.
const policiesDir = "policies"

// policyFileRE matches the names of policy files; others (SOURCES.md, README.md)
// are notes for editors.
var policyFileRE = regexp.MustCompile(`^[a-z0-9-]+\.md$`)

var policyIDRE = regexp.MustCompile(`^[a-z0-9-]{1,48}$`)

// maxSectionRunes is the longest a section may be: with the card's title and
// headings it must fit in one Telegram message of 4096 characters.
const maxSectionRunes = 3000

// The card's head (title, facts, summary) goes into its first message whole, and the
// title and summary into inline results, so they are capped too.
const (
	maxTitleRunes   = 150
	maxSummaryRunes = 400
)

// parsePolicy reads a policy file: YAML front matter between two "---" lines, then
// the body in Markdown. id is the file name without .md. categories are the known
// categories, or nil when they could not be read (then a policy's category is not
// checked, rather than reported in every file).
func parsePolicy(file, id string, data []byte, categories []Category) (Policy, Problems) {
	c := &checker{file: file}
	lines := strings.Split(string(data), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	const form = `a policy starts with front matter: a line "---", the fields (id: ..., title: ...), and another "---"`
	if lines[0] != "---" {
		c.add(1, "%s", form)
		return Policy{}, c.sorted()
	}
	end := slices.Index(lines[1:], "---") + 1 // the closing line's index
	if end == 0 {
		c.add(1, `the front matter has no closing "---" line: %s`, form)
		return Policy{}, c.sorted()
	}
	// The YAML keeps the opening line, blank, so that its line numbers are the file's.
	yamlData := []byte("\n" + strings.Join(lines[1:end], "\n") + "\n")
	p := Policy{ID: id}
	doc, err := decode(yamlData)
	switch {
	case err != nil:
		c.probs = append(c.probs, syntaxProblem(file, yamlData, err))
	case doc.Kind == 0:
		c.add(1, "the front matter is empty: %s", form)
	default:
		c.frontMatter(deref(doc.Content[0]), &p, categories)
	}
	p.Body = c.body(lines[end+1:], end+2, end+1)
	return p, c.sorted()
}

// frontMatter reads the policy's fields into p.
func (c *checker) frontMatter(n *yaml.Node, p *Policy, categories []Category) {
	if n.Kind != yaml.MappingNode {
		c.add(n.Line, "the front matter must be fields (id: ..., title: ...)")
		return
	}
	line := map[string]int{} // field → its line
	keys, vals := c.pairs(n)
	for i, k := range keys {
		v := vals[i]
		line[k.Value] = k.Line
		switch k.Value {
		case "id":
			if !c.scalar(v, "id") {
				continue
			}
			switch {
			case !policyIDRE.MatchString(v.Value):
				c.add(v.Line, "id %q must be 1 to 48 characters of a-z, 0-9 and -", v.Value)
			case v.Value != p.ID:
				c.add(v.Line, "id %q must be the file name without .md, %q", v.Value, p.ID)
			}
		case "title":
			p.Title = c.text(v, "title")
			c.maxLen(v.Line, "title", p.Title, maxTitleRunes)
		case "category":
			p.Category, _ = c.str(v, "category")
			if categories != nil && !slices.ContainsFunc(categories, func(cat Category) bool { return cat.ID == p.Category }) {
				ids := make([]string, len(categories))
				for i, cat := range categories {
					ids[i] = cat.ID
				}
				c.add(v.Line, "category %q is not in %s (want %s)", p.Category, categoriesFile, strings.Join(ids, ", "))
			}
		case "audience":
			p.Audience = c.roles(v, "audience")
			if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
				c.add(v.Line, "audience must name at least one role")
			}
		case "issuer":
			p.Issuer, _ = c.optionalText(v, "issuer")
		case "doc_number":
			p.DocNumber, _ = c.str(v, "doc_number")
		case "issued":
			p.Issued = c.date(v, "issued")
		case "effective":
			p.Effective = c.date(v, "effective")
		case "expires":
			p.Expires = c.date(v, "expires")
		case "source":
			p.Source, _ = c.str(v, "source")
			if u, err := url.Parse(p.Source); p.Source != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
				c.add(v.Line, `source %q must be an absolute http(s) URL, or "" when unknown`, p.Source)
			}
		case "verified":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&p.Verified) != nil {
				c.add(v.Line, "verified must be true or false")
			}
		case "keywords":
			p.Keywords = c.keywords(v)
		case "summary":
			p.Summary = c.text(v, "summary")
			c.maxLen(v.Line, "summary", p.Summary, maxSummaryRunes)
		default:
			c.add(k.Line, "unknown front matter field %q (want id, title, category, audience, issuer, doc_number, issued, effective, expires, source, verified, keywords, summary)", k.Value)
		}
	}
	for _, f := range []string{"id", "title", "category", "audience", "keywords", "summary"} {
		if line[f] == 0 {
			c.add(n.Line, "the front matter has no %s", f)
		}
	}
	if !p.Expires.IsZero() && p.Expires.Before(p.Issued) {
		c.add(line["expires"], "expires %s is before issued %s", p.Expires.Format(time.DateOnly), p.Issued.Format(time.DateOnly))
	}
	if p.Verified {
		var missing []string
		if p.Issuer.ZH == "" {
			missing = append(missing, "issuer.zh")
		}
		if p.Issued.IsZero() {
			missing = append(missing, "issued")
		}
		if p.Source == "" {
			missing = append(missing, "source")
		}
		if len(missing) > 0 {
			c.add(line["verified"], "verified: true needs issuer.zh, issued and source; missing %s", strings.Join(missing, ", "))
		}
	}
}

// str reads a single value, trimmed; null is "". ok is false, with the problem
// reported, when n is not a single value.
func (c *checker) str(n *yaml.Node, what string) (s string, ok bool) {
	if !c.scalar(n, what) {
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	return strings.TrimSpace(n.Value), true
}

// date reads a YYYY-MM-DD date, or "" for none.
func (c *checker) date(n *yaml.Node, what string) time.Time {
	s, _ := c.str(n, what)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		c.add(n.Line, `%s %q is not a date: want YYYY-MM-DD, or "" when unknown`, what, s)
	}
	return t
}

// keywords reads the search words: at least one, none empty.
func (c *checker) keywords(n *yaml.Node) []string {
	if n.Kind != yaml.SequenceNode {
		c.add(n.Line, "keywords must be a list, e.g. [社保, social insurance]")
		return nil
	}
	if len(n.Content) == 0 {
		c.add(n.Line, "keywords must list at least one search word")
	}
	var kws []string
	for i, k := range n.Content {
		k = deref(k)
		kw, ok := c.str(k, "a keyword")
		if !ok {
			continue
		}
		if kw == "" {
			c.add(k.Line, "keyword %d is empty", i+1)
			continue
		}
		kws = append(kws, kw)
	}
	return kws
}

// heading returns the level and text of a Markdown ATX heading ("## zh"), or 0 for
// any other line.
func heading(line string) (level int, text string) {
	level = len(line) - len(strings.TrimLeft(line, "#"))
	rest := line[level:]
	if level == 0 || level > 6 || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return 0, ""
	}
	return level, strings.TrimSpace(rest)
}

// body reads the Markdown after the front matter: "## zh" and optionally "## en",
// each with "###" sections. lines start at line number first; fmEnd is the line of
// the front matter's closing "---".
func (c *checker) body(lines []string, first, fmEnd int) Body {
	const other = "-" // lang under a "##" heading other than zh and en
	var (
		b        Body
		langLine = map[string]int{}  // "zh" and "en" → the line of their "##" heading
		lang     string              // "zh", "en", other, or "" before the first "##"
		sections *[]Section          // the current language's
		headLine map[string]int      // the current language's section headings → their lines
		sec      *Section            // the current section, nil outside one
		secLine  int                 // its heading's line
		text     []string            // its lines
		stray    = map[string]bool{} // the langs where text outside a section was reported
		badUTF8  bool
	)
	endSection := func() {
		if sec == nil {
			return
		}
		sec.Text = strings.TrimSpace(strings.Join(text, "\n"))
		switch n := utf8.RuneCountInString(sec.Text); {
		case n == 0:
			c.add(secLine, "section %q is empty", sec.Heading)
		case n > maxSectionRunes:
			c.add(secLine, "section %q is %d characters long; at most %d fit in a Telegram message with the card", sec.Heading, n, maxSectionRunes)
		}
		*sections = append(*sections, *sec)
		sec, text = nil, nil
	}
	for i, l := range lines {
		n := first + i
		if !badUTF8 && !utf8.ValidString(l) {
			c.add(n, "the line is not valid UTF-8: save the file as UTF-8")
			badUTF8 = true
		}
		level, h := heading(l)
		switch {
		case level == 2:
			endSection()
			if h != "zh" && h != "en" {
				c.add(n, `unknown heading "## %s": the body has "## zh" and optionally "## en", each with "###" sections`, h)
				lang = other
				continue
			}
			if at, dup := langLine[h]; dup {
				c.add(n, "## %s given twice (first at line %d)", h, at)
			} else {
				langLine[h] = n
			}
			lang, sections, headLine = h, &b.ZH, map[string]int{}
			if h == "en" {
				sections = &b.EN
			}
		case level == 3 && (lang == "zh" || lang == "en"):
			endSection()
			if at, dup := headLine[h]; dup {
				c.add(n, "section %q given twice in ## %s (first at line %d)", h, lang, at)
			} else {
				headLine[h] = n
			}
			if h == "" {
				c.add(n, "section heading is empty")
			}
			sec, secLine = &Section{Heading: h}, n
		case sec != nil:
			text = append(text, l)
		case strings.TrimSpace(l) == "" || lang == other || stray[lang]:
		case lang == "":
			c.add(n, `text before the first "##" heading: the body starts with "## zh"`)
			stray[lang] = true
		default:
			c.add(n, `text in ## %s before its first "###" section`, lang)
			stray[lang] = true
		}
	}
	endSection()
	switch at, ok := langLine["zh"]; {
	case !ok:
		c.add(fmEnd, `the body has no "## zh": after the front matter, write "## zh" and its "###" sections`)
	case len(b.ZH) == 0:
		c.add(at, `## zh has no "###" sections`)
	}
	if at, ok := langLine["en"]; ok && len(b.EN) == 0 {
		c.add(at, `## en has no "###" sections`)
	}
	return b
}

// maxLen reports a text of either language longer than max characters.
func (c *checker) maxLen(line int, field string, t Text, max int) {
	for _, v := range []struct{ lang, s string }{{"zh", t.ZH}, {"en", t.EN}} {
		if n := utf8.RuneCountInString(v.s); n > max {
			c.add(line, "%s.%s is %d characters long; at most %d", field, v.lang, n, max)
		}
	}
}
