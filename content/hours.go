package content

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// dayNames are the days of the hours: keys, Monday first, so that mon-fri and
// sat-sun are ranges.
var dayNames = [...]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// hours reads the hours: mapping, days (or ranges of days) to spans.
func (c *checker) hours(n *yaml.Node) (week [7][]Span) {
	if n.Kind != yaml.MappingNode {
		c.add(n.Line, `hours must map days to spans, e.g. mon-fri: "08:30-17:30"`)
		return week
	}
	var firstLine [7]int // of the key that gave each day, Monday first
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		days, ok := c.days(k)
		if !ok {
			continue
		}
		spans, ok := c.spans(v, k.Value)
		var again []string
		againLine := 0
		for _, d := range days {
			if firstLine[d] != 0 {
				again = append(again, dayNames[d])
				againLine = cmp.Or(againLine, firstLine[d])
				continue
			}
			firstLine[d] = k.Line
			if ok {
				week[(d+1)%7] = spans // time.Weekday counts from Sunday
			}
		}
		if len(again) > 0 {
			c.add(k.Line, "%s given twice (first at line %d)", strings.Join(again, ", "), againLine)
		}
	}
	return week
}

// days reads a key of hours: a day or a range of days, as indexes in dayNames.
func (c *checker) days(k *yaml.Node) ([]int, bool) {
	from, to, isRange := strings.Cut(k.Value, "-")
	a := slices.Index(dayNames[:], from)
	b := a
	if isRange {
		b = slices.Index(dayNames[:], to)
	}
	switch {
	case a < 0 || b < 0:
		c.add(k.Line, "unknown day %q (want mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri)", k.Value)
		return nil, false
	case b < a:
		c.add(k.Line, "day range %q runs backwards: weeks run from mon to sun", k.Value)
		return nil, false
	}
	days := make([]int, 0, b-a+1)
	for d := a; d <= b; d++ {
		days = append(days, d)
	}
	return days, true
}

// spans reads the hours of the days key: "closed" or HH:MM-HH:MM spans separated
// by commas, in any order but not overlapping.
func (c *checker) spans(v *yaml.Node, key string) ([]Span, bool) {
	const want = `"HH:MM-HH:MM" spans separated by commas, or "closed"`
	s := strings.TrimSpace(v.Value)
	switch {
	case v.Kind != yaml.ScalarNode:
		c.add(v.Line, "hours for %s must be %s", key, want)
		return nil, false
	case s == "":
		c.add(v.Line, "hours for %s are empty: give %s", key, want)
		return nil, false
	case s == "closed":
		return nil, true
	}
	var spans []Span
	ok := true
	for part := range strings.SplitSeq(s, ",") {
		sp, err := parseSpan(strings.TrimSpace(part))
		if err != nil {
			c.add(v.Line, "hours for %s: %v", key, err)
			ok = false
			continue
		}
		spans = append(spans, sp)
	}
	slices.SortFunc(spans, func(a, b Span) int { return a.Open - b.Open })
	for i := 1; i < len(spans); i++ {
		if spans[i].Open < spans[i-1].Close {
			c.add(v.Line, "hours for %s: spans %s and %s overlap", key, spans[i-1], spans[i])
			ok = false
		}
	}
	return spans, ok
}

// String formats s as HH:MM-HH:MM.
func (s Span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.Open/60, s.Open%60, s.Close/60, s.Close%60)
}

// parseSpan reads HH:MM-HH:MM.
func parseSpan(s string) (Span, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Span{}, fmt.Errorf("%q is not a span: want HH:MM-HH:MM", s)
	}
	o, err := parseClock(from)
	if err != nil {
		return Span{}, err
	}
	cl, err := parseClock(to)
	if err != nil {
		return Span{}, err
	}
	if cl <= o {
		return Span{}, fmt.Errorf("span %q does not close after it opens (for a night, close at 24:00 and open at 00:00 the next day)", s)
	}
	return Span{Open: o, Close: cl}, nil
}

// parseClock reads HH:MM, 00:00 to 24:00, as minutes since midnight.
func parseClock(s string) (int, error) {
	bad := fmt.Errorf("bad time %q: want HH:MM, 00:00 to 24:00", s)
	if len(s) != 5 || s[2] != ':' {
		return 0, bad
	}
	var hm [2]int
	for i, digits := range []string{s[:2], s[3:]} {
		for _, r := range digits {
			if r < '0' || r > '9' {
				return 0, bad
			}
			hm[i] = hm[i]*10 + int(r-'0')
		}
	}
	h, m := hm[0], hm[1]
	if m > 59 || h > 24 || (h == 24 && m > 0) {
		return 0, bad
	}
	return h*60 + m, nil
}
