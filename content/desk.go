package content

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The service desk's files. Both are optional, as synonyms.yaml is: without
// categories.yaml the desk has no hours and no request categories; without
// canned.yaml staff have no canned answers.
const (
	deskFile   = "categories.yaml"
	cannedFile = "canned.yaml"
)

// Limits of the desk's texts, in characters. A category's name and a canned answer's
// title are button labels.
const (
	maxLabelRunes  = 24
	maxHintRunes   = 300
	maxCannedRunes = 1000
)

// maxTarget is the longest response-time target.
const maxTarget = 30 * 24 * time.Hour

// MaxCannedPerTicket is how many canned answers CannedFor offers at most.
const MaxCannedPerTicket = 6

// otherCategory is the id of the category that takes every request no other fits.
const otherCategory = "other"

// RequestCategory is a kind of service request users send the service desk. Its id
// (categoryIDRE, as a policy category's) is at most 32 characters so that button data
// such as "tk:a:<ticket number of up to 10 digits>:<id>" fits Telegram's 64 bytes.
type RequestCategory struct {
	ID string
	// Name labels the category's button; Hint tells the user what to include in a
	// request. Both have both languages.
	Name, Hint Text
	Target     time.Duration // the response-time target, more than 0, at most 30 days
	Group      int64         // the staff supergroup of its requests (negative); 0: the default
	Phone      bool          // staff see the user's phone number
}

// Desk is the service desk: when staff work and the categories of requests they take.
type Desk struct {
	// Hours are the staff's working spans of each day, indexed by time.Weekday, in
	// the district's time zone; no spans means closed all day.
	Hours      [7][]Span
	Categories []RequestCategory // in file order, the order users see
}

// Category returns the category with the given id.
func (d Desk) Category(id string) (RequestCategory, bool) {
	i := slices.IndexFunc(d.Categories, func(cat RequestCategory) bool { return cat.ID == id })
	if i < 0 {
		return RequestCategory{}, false
	}
	return d.Categories[i], true
}

// Open reports whether staff work at t, which is already in the district's time zone.
func (d Desk) Open(t time.Time) bool {
	return Point{Hours: d.Hours}.OpenAt(t) // the hours read as a point's do
}

// nextOpenDays is how far ahead NextOpen looks: more than a week, whatever the
// clocks do.
const nextOpenDays = 14

// NextOpen returns when staff next start work at or after t (in t's time zone): t
// itself when the desk is open, else the start of the next span within 14 days. It is
// the zero time when the desk has no hours at all.
func (d Desk) NextOpen(t time.Time) time.Time {
	if d.Open(t) {
		return t
	}
	y, m, day := t.Date()
	for i := range nextOpenDays + 1 {
		date := time.Date(y, m, day+i, 0, 0, 0, 0, t.Location())
		var next time.Time
		for _, s := range d.Hours[date.Weekday()] {
			start := time.Date(y, m, day+i, s.Open/60, s.Open%60, 0, 0, t.Location())
			if !start.Before(t) && (next.IsZero() || start.Before(next)) {
				next = start
			}
		}
		if !next.IsZero() {
			return next
		}
	}
	return time.Time{}
}

// Groups returns the staff groups the categories use, def (the default staff chat)
// first, then the others in category order, each once.
func (d Desk) Groups(def int64) []int64 {
	groups := []int64{def}
	for _, cat := range d.Categories {
		if cat.Group != 0 && !slices.Contains(groups, cat.Group) {
			groups = append(groups, cat.Group)
		}
	}
	return groups
}

// Canned is a canned answer staff can send on a ticket with one tap. Its id follows
// the same rule as a request category's.
type Canned struct {
	ID         string
	Title      Text     // the button's label, both languages
	Text       Text     // the answer, plain text, both languages
	Categories []string // the request categories it is offered on; none: all
}

// offeredOn reports whether a is offered on tickets of the category.
func (a Canned) offeredOn(category string) bool {
	return len(a.Categories) == 0 || slices.Contains(a.Categories, category)
}

// CannedFor returns the canned answers offered on tickets of the category, in file
// order, at most MaxCannedPerTicket.
func (c *Content) CannedFor(category string) []Canned {
	var out []Canned
	for _, a := range c.Canned {
		if len(out) < MaxCannedPerTicket && a.offeredOn(category) {
			out = append(out, a)
		}
	}
	return out
}

// parseDesk reads categories.yaml: the staff's hours and the request categories.
func parseDesk(file string, data []byte) (Desk, Problems) {
	c := &checker{file: file}
	var d Desk
	doc, err := decode(data)
	switch {
	case err != nil:
		c.probs = append(c.probs, syntaxProblem(file, data, err))
		return d, c.sorted()
	case doc.Kind == 0:
		c.add(0, `the file is empty; want "hours:" and a "categories:" list`)
		return d, c.sorted()
	}
	top := deref(doc.Content[0])
	if top.Kind != yaml.MappingNode {
		c.add(top.Line, `want a mapping with "hours:" and a "categories:" list`)
		return d, c.sorted()
	}
	var list *yaml.Node
	keys, vals := c.pairs(top)
	for i, k := range keys {
		switch k.Value {
		case "hours":
			d.Hours = c.hours(vals[i])
		case "categories":
			list = vals[i]
		default:
			c.add(k.Line, "unknown top-level key %q (want hours, categories)", k.Value)
		}
	}
	switch {
	case list == nil:
		c.add(top.Line, `missing "categories:" list`)
	case list.Kind != yaml.SequenceNode:
		c.add(list.Line, "categories must be a list (- id: ...)")
	case len(list.Content) == 0:
		c.add(list.Line, "there are no categories; the service desk needs at least one")
	default:
		items := make([]*yaml.Node, len(list.Content))
		for i, item := range list.Content {
			items[i] = deref(item)
		}
		d.Categories = readUnique(c, items, c.requestCategory, func(cat RequestCategory) string { return cat.ID })
		if _, ok := d.Category(otherCategory); !ok {
			c.add(0, "add a category with id %s, so every request has a place", otherCategory)
		}
	}
	return d, c.sorted()
}

// requestCategory reads one request category, reporting ok when it has an id.
func (c *checker) requestCategory(n *yaml.Node) (cat RequestCategory, ok bool) {
	if n.Kind != yaml.MappingNode {
		c.add(n.Line, "a category must be a mapping (id: ..., name: ..., hint: ..., target: ...)")
		return RequestCategory{}, false
	}
	seen := map[string]bool{}
	keys, vals := c.pairs(n)
	for i, k := range keys {
		v := vals[i]
		seen[k.Value] = true
		switch k.Value {
		case "id":
			cat.ID = c.deskID(v)
		case "name":
			cat.Name = c.bilingual(v, "name", maxLabelRunes)
		case "hint":
			cat.Hint = c.bilingual(v, "hint", maxHintRunes)
		case "target":
			cat.Target = c.target(v)
		case "group":
			if !c.scalar(v, "group") {
				continue
			}
			g, err := strconv.ParseInt(v.Value, 10, 64)
			if err != nil || g >= 0 {
				c.add(v.Line, "group %q must be a staff supergroup's chat id, a negative number such as -1001234567890", v.Value)
				continue
			}
			cat.Group = g
		case "phone":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&cat.Phone) != nil {
				c.add(v.Line, "phone must be true or false")
			}
		default:
			c.add(k.Line, "unknown category field %q (want id, name, hint, target, group, phone)", k.Value)
		}
	}
	c.required(n, seen, "category", "id", "name", "hint", "target")
	return cat, cat.ID != ""
}

// deskID reads the id of a request category or canned answer.
func (c *checker) deskID(v *yaml.Node) string {
	if !c.scalar(v, "id") {
		return ""
	}
	if !categoryIDRE.MatchString(v.Value) {
		c.add(v.Line, "id %q must be 1 to 32 characters of a-z, 0-9 and -", v.Value)
	}
	return v.Value
}

// bilingual reads {zh: ..., en: ...} where both languages are required, each at most
// max characters.
func (c *checker) bilingual(n *yaml.Node, what string, max int) Text {
	t, ok := c.optionalText(n, what)
	if !ok {
		return t
	}
	if t.ZH == "" {
		c.add(n.Line, "%s.zh is required", what)
	}
	if t.EN == "" {
		c.add(n.Line, "%s.en is required", what)
	}
	c.maxLen(n.Line, what, t, max)
	return t
}

var targetRE = regexp.MustCompile(`^(?:(\d{1,4})d)?(?:(\d{1,4})h)?(?:(\d{1,4})m)?$`)

// target reads a response-time target: days, hours and minutes, as in 30m, 4h, 1d or
// 1d12h.
func (c *checker) target(v *yaml.Node) time.Duration {
	s, ok := c.str(v, "target")
	if !ok {
		return 0
	}
	m := targetRE.FindStringSubmatch(s)
	if s == "" || m == nil {
		c.add(v.Line, "target %q must be a duration such as 30m, 4h, 1h30m or 1d", s)
		return 0
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		n, _ := strconv.Atoi(m[i+1]) // "" (unit not given) is 0
		d += time.Duration(n) * unit
	}
	switch {
	case d <= 0:
		c.add(v.Line, "target %q must be more than 0", s)
	case d > maxTarget:
		c.add(v.Line, "target %q is more than 30 days (30d)", s)
	}
	return d
}

// parseCanned reads canned.yaml. The answers' categories are checked against
// categories, unless there are none (categories.yaml is missing, or its problems say
// why it gave none).
func parseCanned(file string, data []byte, categories []RequestCategory) ([]Canned, Problems) {
	c := &checker{file: file}
	items, _ := c.topList(data, "answers", "- id: ...")
	offered := map[string]int{} // category → answers offered on it so far
	read := func(n *yaml.Node) (Canned, bool) {
		a, ok := c.canned(n, categories)
		if !ok {
			return a, false
		}
		var over []string
		for _, cat := range categories {
			if a.offeredOn(cat.ID) {
				offered[cat.ID]++
				if offered[cat.ID] > MaxCannedPerTicket {
					over = append(over, cat.ID)
				}
			}
		}
		if len(over) > 0 {
			c.add(n.Line, "answer %q is never offered on tickets of %s: at most %d answers are offered per ticket, and %d come before it",
				a.ID, strings.Join(over, ", "), MaxCannedPerTicket, MaxCannedPerTicket)
		}
		return a, true
	}
	answers := readUnique(c, items, read, func(a Canned) string { return a.ID })
	return answers, c.sorted()
}

// canned reads one canned answer, reporting ok when it has an id.
func (c *checker) canned(n *yaml.Node, categories []RequestCategory) (a Canned, ok bool) {
	if n.Kind != yaml.MappingNode {
		c.add(n.Line, "an answer must be a mapping (id: ..., title: ..., text: ...)")
		return Canned{}, false
	}
	seen := map[string]bool{}
	keys, vals := c.pairs(n)
	for i, k := range keys {
		v := vals[i]
		seen[k.Value] = true
		switch k.Value {
		case "id":
			a.ID = c.deskID(v)
		case "title":
			a.Title = c.bilingual(v, "title", maxLabelRunes)
		case "text":
			a.Text = c.bilingual(v, "text", maxCannedRunes)
		case "categories":
			a.Categories = c.cannedCategories(v, categories)
		default:
			c.add(k.Line, "unknown answer field %q (want id, title, text, categories)", k.Value)
		}
	}
	c.required(n, seen, "answer", "id", "title", "text")
	return a, a.ID != ""
}

// required reports each of fields the mapping n (a what) lacks; seen are its keys.
func (c *checker) required(n *yaml.Node, seen map[string]bool, what string, fields ...string) {
	for _, f := range fields {
		if !seen[f] {
			c.add(n.Line, "%s has no %s", what, f)
		}
	}
}

// cannedCategories reads the request categories an answer is offered on.
func (c *checker) cannedCategories(n *yaml.Node, categories []RequestCategory) []string {
	if n.Kind != yaml.SequenceNode {
		c.add(n.Line, "categories must be a list of category ids, e.g. [licence, other]")
		return nil
	}
	if len(n.Content) == 0 {
		c.add(n.Line, "categories is empty: name at least one, or leave it out to offer the answer on every ticket")
	}
	var ids []string
	for _, e := range n.Content {
		e = deref(e)
		id, ok := c.str(e, "a category")
		switch {
		case !ok:
		case slices.Contains(ids, id):
			c.add(e.Line, "category %q given twice", id)
		case len(categories) > 0 && !slices.ContainsFunc(categories, func(cat RequestCategory) bool { return cat.ID == id }):
			known := make([]string, len(categories))
			for i, cat := range categories {
				known[i] = cat.ID
			}
			c.add(e.Line, "category %q is not in %s (want %s)", id, deskFile, strings.Join(known, ", "))
		default:
			ids = append(ids, id)
		}
	}
	return ids
}
