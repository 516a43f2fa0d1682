package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checker collects the problems of one file.
type checker struct {
	file  string
	probs Problems
}

func (c *checker) add(line int, format string, a ...any) {
	c.probs = append(c.probs, Problem{File: c.file, Line: line, Msg: fmt.Sprintf(format, a...)})
}

// sorted returns the problems in line order; checks that run after a node's fields
// (a missing field, say) report at the node's first line.
func (c *checker) sorted() Problems {
	slices.SortStableFunc(c.probs, func(a, b Problem) int { return a.Line - b.Line })
	return c.probs
}

// deref follows an alias (*name) to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

// pairs returns a mapping's keys and values, reporting keys given twice (the yaml
// library accepts them when decoding into a Node).
func (c *checker) pairs(m *yaml.Node) (keys, vals []*yaml.Node) {
	first := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if line, ok := first[k.Value]; ok {
			c.add(k.Line, "%q given twice (first at line %d)", k.Value, line)
			continue
		}
		first[k.Value] = k.Line
		keys, vals = append(keys, k), append(vals, deref(v))
	}
	return keys, vals
}

// decode parses a one-document YAML file.
func decode(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return &doc, nil // empty: Kind 0
	case err != nil:
		return nil, err
	}
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return &doc, nil
	case err != nil:
		return nil, err
	}
	return nil, &extraDocError{line: next.Line}
}

// extraDocError is a second document in a file, which would otherwise be ignored.
type extraDocError struct{ line int }

func (e *extraDocError) Error() string {
	return "a second YAML document starts here (---): keep all of the file in one document"
}

var yamlErrorPrefix = regexp.MustCompile(`^yaml: (line (\d+): )?`)

// syntaxProblem turns a YAML syntax error into a problem with the line where it is.
// The yaml library's error may name the line where the broken construct starts,
// sometimes counted from 0, or no line at all (on line 1, or for an unknown
// alias). The first prefix of the file that fails with the very same error ends at
// the line of the problem; it is searched from the line the error names, which is
// never after it.
func syntaxProblem(file string, data []byte, err error) Problem {
	var extra *extraDocError
	if errors.As(err, &extra) {
		return Problem{File: file, Line: extra.line, Msg: extra.Error()}
	}
	m := yamlErrorPrefix.FindStringSubmatch(err.Error())
	if m == nil {
		return Problem{File: file, Msg: err.Error()}
	}
	msg := "YAML syntax: " + strings.TrimPrefix(err.Error(), m[0])
	from, _ := strconv.Atoi(m[2])
	lines := bytes.SplitAfter(data, []byte("\n"))
	for n := max(from, 1); n <= len(lines); n++ {
		if _, perr := decode(bytes.Join(lines[:n], nil)); perr != nil && perr.Error() == err.Error() {
			return Problem{File: file, Line: n, Msg: msg}
		}
	}
	return Problem{File: file, Line: from, Msg: msg}
}

// topList reads a file that holds one list under key, as in "points: [...]", and
// returns its items. ok is false, with the problem reported, when there is no such
// list; hint shows what an item looks like.
func (c *checker) topList(data []byte, key, hint string) (items []*yaml.Node, ok bool) {
	doc, err := decode(data)
	if err != nil {
		c.probs = append(c.probs, syntaxProblem(c.file, data, err))
		return nil, false
	}
	if doc.Kind == 0 {
		c.add(0, "the file is empty; want a %q list", key+":")
		return nil, false
	}
	top := deref(doc.Content[0])
	if top.Kind != yaml.MappingNode {
		c.add(top.Line, "want a mapping with a %q list", key+":")
		return nil, false
	}
	var list *yaml.Node
	keys, vals := c.pairs(top)
	for i, k := range keys {
		if k.Value == key {
			list = vals[i]
			continue
		}
		c.add(k.Line, "unknown top-level key %q (want %s)", k.Value, key)
	}
	switch {
	case list == nil:
		c.add(top.Line, "missing %q list", key+":")
		return nil, false
	case list.Kind != yaml.SequenceNode:
		c.add(list.Line, "%s must be a list (%s)", key, hint)
		return nil, false
	}
	for _, item := range list.Content {
		items = append(items, deref(item))
	}
	return items, true
}

// parsePoints reads points.yaml.
func parsePoints(file string, data []byte) ([]Point, Problems) {
	c := &checker{file: file}
	items, _ := c.topList(data, "points", "- id: ...")
	points := readUnique(c, items, c.point, func(p Point) string { return p.ID })
	return points, c.sorted()
}

// readUnique reads each item with read, keeping those read with an id (ok) and
// reporting an id given twice at its second line.
func readUnique[T any](c *checker, items []*yaml.Node, read func(*yaml.Node) (T, bool), id func(T) string) []T {
	var out []T
	firstLine := map[string]int{}
	for _, item := range items {
		v, ok := read(item)
		if !ok {
			continue
		}
		if line, dup := firstLine[id(v)]; dup {
			c.add(item.Line, "duplicate id %q (first at line %d)", id(v), line)
			continue
		}
		firstLine[id(v)] = item.Line
		out = append(out, v)
	}
	return out
}

var (
	idRE    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	phoneRE = regexp.MustCompile(`^[0-9 +()-]*$`)
)

// deepLinkPrefix starts the /start parameter of a point's check-in link; Telegram
// allows 64 characters of A-Za-z0-9_- there.
const deepLinkPrefix = "cp_"

// point reads one point. It reports ok only when the point has an id, whatever else
// is wrong, so that duplicate ids are found in invalid points too.
func (c *checker) point(n *yaml.Node) (p Point, ok bool) {
	if n.Kind != yaml.MappingNode {
		c.add(n.Line, "a point must be a mapping (id: ..., name: ...)")
		return Point{}, false
	}
	p.Kind = KindCheckin
	var hasID, hasName, hasLocation bool
	keys, vals := c.pairs(n)
	for i, k := range keys {
		v := vals[i]
		switch k.Value {
		case "id":
			hasID = true
			if !c.scalar(v, "id") {
				continue
			}
			p.ID = v.Value
			if !idRE.MatchString(p.ID) || len(deepLinkPrefix+p.ID) > 64 {
				c.add(v.Line, "id %q must fit a deep link: %q+id must be at most 64 characters of A-Za-z0-9_-", p.ID, deepLinkPrefix)
			}
		case "kind":
			if !c.scalar(v, "kind") {
				continue
			}
			switch v.Value {
			case KindCheckin, KindCentre:
				p.Kind = v.Value
			default:
				c.add(v.Line, "kind %q must be %s or %s", v.Value, KindCheckin, KindCentre)
			}
		case "name":
			p.Name, hasName = c.text(v, "name"), true
		case "address":
			p.Address = c.text(v, "address")
		case "location":
			p.Lat, p.Lon = c.location(v)
			hasLocation = true
		case "hours":
			p.Hours = c.hours(v)
		case "services":
			if v.Kind != yaml.SequenceNode {
				c.add(v.Line, "services must be a list of {zh: ..., en: ...}")
				continue
			}
			for _, s := range v.Content {
				p.Services = append(p.Services, c.text(deref(s), "service"))
			}
		case "phone":
			if !c.scalar(v, "phone") {
				continue
			}
			p.Phone = v.Value
			if !phoneRE.MatchString(p.Phone) {
				c.add(v.Line, "phone %q may contain only digits, spaces, +, -, ( and )", p.Phone)
			}
		default:
			c.add(k.Line, "unknown point field %q (want id, kind, name, address, location, hours, services, phone)", k.Value)
		}
	}
	if !hasID {
		c.add(n.Line, "point has no id")
	}
	if !hasName {
		c.add(n.Line, "point has no name")
	}
	if !hasLocation {
		c.add(n.Line, "point has no location")
	}
	return p, p.ID != ""
}

// scalar reports whether n is a single value, reporting it when it is not.
func (c *checker) scalar(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode {
		c.add(n.Line, "%s must be a single value", what)
		return false
	}
	return true
}

// text reads {zh: ..., en: ...}, where zh is required.
func (c *checker) text(n *yaml.Node, what string) Text {
	t, ok := c.optionalText(n, what)
	if ok && t.ZH == "" {
		c.add(n.Line, "%s.zh is required", what)
	}
	return t
}

// optionalText reads {zh: ..., en: ...}, where both may be missing. ok is false when
// a problem already reported leaves zh unknown.
func (c *checker) optionalText(n *yaml.Node, what string) (t Text, ok bool) {
	if n.Kind != yaml.MappingNode {
		c.add(n.Line, "%s must be {zh: ..., en: ...}", what)
		return t, false
	}
	ok = true
	keys, vals := c.pairs(n)
	for i, k := range keys {
		v := vals[i]
		var dst *string
		switch k.Value {
		case "zh":
			dst = &t.ZH
		case "en":
			dst = &t.EN
		default:
			c.add(k.Line, "unknown language %q in %s (want zh, en)", k.Value, what)
			continue
		}
		if c.scalar(v, what+"."+k.Value) {
			*dst = strings.TrimSpace(v.Value)
		} else if dst == &t.ZH {
			ok = false
		}
	}
	return t, ok
}

// location reads [lat, lon].
func (c *checker) location(n *yaml.Node) (lat, lon float64) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		c.add(n.Line, "location must be [lat, lon], two numbers")
		return 0, 0
	}
	var vals [2]float64
	for i, e := range n.Content {
		e = deref(e)
		f, err := strconv.ParseFloat(e.Value, 64)
		if e.Kind != yaml.ScalarNode || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			c.add(e.Line, "location must be [lat, lon], two numbers")
			return 0, 0
		}
		vals[i] = f
	}
	lat, lon = vals[0], vals[1]
	switch {
	case lat < -90 || lat > 90:
		c.add(n.Line, "latitude %v is not in [-90, 90] (location is [lat, lon])", lat)
	case lon < -180 || lon > 180:
		c.add(n.Line, "longitude %v is not in [-180, 180]", lon)
	case lat == 0 && lon == 0:
		c.add(n.Line, "location 0, 0 is not a place: give the point's coordinates")
	}
	return lat, lon
}
