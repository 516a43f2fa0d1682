package handlers

import (
	"fmt"
	"html"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/search"
)

// Search finds the policies that answer a question, best first, and says whether the
// best is a good match.
func (p policies) Search(text, role string, now time.Time) ([]string, bool) {
	// A long message costs the worker a long search (70 ms for 4,000 characters) and asks
	// nothing a shorter start does not.
	text = clip(text, maxSearched)
	q := search.Query{Text: text, Role: role, Now: now, Limit: 5, IncludeExpired: asksForExpired(text)}
	hits, good, err := p.ix.Search(q)
	if err != nil {
		return nil, false
	}
	ids := make([]string, 0, len(hits))
	for _, h := range hits {
		// Without a good match, only policies about some of what was asked are worth a
		// "maybe": for off-topic messages there are none.
		if good || h.Coverage > 0 {
			ids = append(ids, h.ID)
		}
	}
	return ids, good
}

// expiredWords are what a question says when it wants expired policies too.
var expiredWords = []string{"失效", "过期", "废止", "旧政策", "以前的政策", "expired", "old polic"}

// asksForExpired reports whether a question asks about policies no longer in force,
// which searches otherwise leave out.
func asksForExpired(text string) bool {
	t := strings.ToLower(text)
	for _, w := range expiredWords {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

// maxSearched is how much of a question is searched, in characters.
const maxSearched = 200

// library is the content and its search index, swapped together on a reload.
type library struct {
	c  *content.Content
	ix *search.Index
}

// retireAfter is how long a replaced index stays open for the searches still using it.
const retireAfter = time.Minute

// newLibrary indexes c's policies.
func newLibrary(c *content.Content) (*library, error) {
	ix, err := search.Build(search.Docs(c), c.Synonyms)
	if err != nil {
		return nil, fmt.Errorf("index the policies: %w", err)
	}
	return &library{c: c, ix: ix}, nil
}

// Message ids of the policy card's parts.
const (
	msgMetaIssuer    = "policy_meta_issuer"
	msgMetaNumber    = "policy_meta_number"
	msgMetaIssued    = "policy_meta_issued"
	msgMetaEffective = "policy_meta_effective"
	msgMetaExpired   = "policy_meta_expired"
	msgUnverified    = "policy_unverified"
	msgSection       = "policy_section"
	msgSource        = "policy_source"
	msgMore          = "policy_more"
	msgInlineCard    = "inline_card"
	msgStatsQuery    = "stats_query_line"
	msgStatsNone     = "stats_none"
)

// Lengths of the short forms of a policy: a button's title, a list's summary.
const (
	shortTitle = 24
	briefLen   = 60
)

// maxMessage is how long a card message may be. Telegram counts 4,096 characters after
// the HTML tags are parsed; counting the tags too keeps a margin.
const maxMessage = 4000

// policies shows the content's policies, and their search index, to the conversation.
type policies struct {
	c  *content.Content
	ix *search.Index
}

func (p policies) Exists(id string) bool {
	_, ok := p.c.Policy(id)
	return ok
}

func (p policies) Categories() []string {
	ids := make([]string, len(p.c.Categories))
	for i, c := range p.c.Categories {
		ids[i] = c.ID
	}
	return ids
}

func (p policies) InCategory(cat string, now time.Time) []string {
	return p.filter(now, func(x content.Policy) bool { return x.Category == cat })
}

func (p policies) ForRole(role string, now time.Time) []string {
	return p.filter(now, func(x content.Policy) bool { return slices.Contains(x.Audience, role) })
}

func (p policies) RoleCategories(role string) []string {
	var ids []string
	for _, c := range p.c.Categories {
		if slices.Contains(c.Roles, role) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

func (p policies) filter(now time.Time, keep func(content.Policy) bool) []string {
	var ids []string
	for _, x := range p.c.Policies {
		if !x.Expired(now) && keep(x) {
			ids = append(ids, x.ID)
		}
	}
	return ids
}

// expandPolicy adds a policy's short forms in the user's language.
func (h *Handler) expandPolicy(loc localizer, id string, args map[string]string, esc func(string) string) error {
	p, ok := h.cnt().Policy(id)
	if !ok {
		args["PolicyTitle"], args["PolicyShort"], args["PolicyBrief"], args["PolicySummary"] = esc(id), esc(id), "", ""
		return nil
	}
	title, summary := p.Title.In(loc.lang), p.Summary.In(loc.lang)
	args["PolicyTitle"] = esc(title)
	args["PolicyShort"] = esc(clip(title, shortTitle))
	args["PolicyBrief"] = esc(clip(summary, briefLen))
	args["PolicySummary"] = esc(summary)
	meta, err := h.policyMeta(loc, p)
	args["PolicyMeta"] = meta
	return err
}

// policyMeta is the card's line of facts (issuer, number, dates), or the warning that
// they are still to be confirmed.
func (h *Handler) policyMeta(loc localizer, p content.Policy) (string, error) {
	var parts []string
	add := func(id, v string) error {
		if v == "" {
			return nil
		}
		s, err := loc.render(id, map[string]string{"V": v})
		parts = append(parts, s)
		return err
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(dayLayout)
	}
	errs := []error{
		add(msgMetaIssuer, p.Issuer.In(loc.lang)),
		add(msgMetaNumber, p.DocNumber),
		add(msgMetaIssued, date(p.Issued)),
		add(msgMetaEffective, date(p.Effective)),
	}
	if p.Expired(h.now().In(h.loc)) {
		errs = append(errs, add(msgMetaExpired, date(p.Expires)))
	}
	if !p.Verified {
		s, err := loc.render(msgUnverified, nil)
		parts = append(parts, s)
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err != nil {
			return "", err
		}
	}
	return strings.Join(parts, "\n"), nil
}

// card renders a policy's card as one or more messages of at most maxMessage, cut between
// sections; every message after the first says it continues.
func (h *Handler) card(loc localizer, id string, args map[string]string) ([]string, error) {
	p, ok := h.cnt().Policy(id)
	if !ok {
		return nil, nil
	}
	sections := p.Body.ZH
	if loc.lang == bot.LangEN && len(p.Body.EN) > 0 {
		sections = p.Body.EN
	}
	var blocks []string
	for _, s := range sections {
		b, err := loc.render(msgSection, map[string]string{"Heading": s.Heading, "Text": s.Text})
		if err != nil {
			return nil, err
		}
		// The section's own Markdown becomes Telegram HTML after the escaping above.
		blocks = append(blocks, markdownHTML(b))
	}
	source := ""
	if p.Source != "" {
		var err error
		if source, err = loc.render(msgSource, map[string]string{"URL": p.Source}); err != nil {
			return nil, err
		}
	}
	a := maps.Clone(args)
	a["PolicyBody"], a["PolicySource"] = strings.Join(blocks, "\n\n")+"\n\n", source
	whole, err := loc.renderSafe(bot.MsgPolicyCard, a)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(whole) <= maxMessage {
		return []string{whole}, nil
	}
	// Too long for one message: the head with as many sections as fit, then the rest.
	a["PolicyBody"], a["PolicySource"] = "", ""
	head, err := loc.renderSafe(bot.MsgPolicyCard, a)
	if err != nil {
		return nil, err
	}
	more, err := loc.render(msgMore, nil)
	if err != nil {
		return nil, err
	}
	msgs := []string{strings.TrimRight(head, "\n")}
	for _, b := range append(blocks, source) {
		if b == "" {
			continue
		}
		last := &msgs[len(msgs)-1]
		if utf8.RuneCountInString(*last)+2+utf8.RuneCountInString(b) <= maxMessage {
			*last += "\n\n" + b
			continue
		}
		msgs = append(msgs, more+"\n"+b)
	}
	return msgs, nil
}

// inlineResults renders the policies of an inline answer as articles to share.
func (h *Handler) inlineResults(loc localizer, items []map[string]string) ([]queue.InlineResult, error) {
	out := make([]queue.InlineResult, 0, len(items))
	for _, it := range items {
		id := it["Policy"]
		p, ok := h.cnt().Policy(id)
		if !ok {
			continue
		}
		args, err := h.expand(loc, it, html.EscapeString)
		if err != nil {
			return nil, err
		}
		args["Link"] = "https://t.me/" + h.username + "?start=" + bot.PolicyPayload + id
		text, err := loc.renderSafe(msgInlineCard, args)
		if err != nil {
			return nil, err
		}
		out = append(out, queue.InlineResult{ID: id, Title: p.Title.In(loc.lang), Description: clip(p.Summary.In(loc.lang), briefLen), Text: text})
	}
	return out, nil
}

var (
	mdBold   = regexp.MustCompile(`\*\*([^*\n]+)\*\*`)
	mdBullet = regexp.MustCompile(`(?m)^[ \t]*[-*] `)
)

// markdownHTML turns the little Markdown policy sections use (bold, bullets) into
// Telegram HTML; the text is already escaped.
func markdownHTML(s string) string {
	s = mdBold.ReplaceAllString(s, "<b>$1</b>")
	return mdBullet.ReplaceAllString(s, "• ")
}

// clip shortens s to n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
