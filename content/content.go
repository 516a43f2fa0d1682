// Package content loads the district's editable content (service points, policies,
// their categories, search synonyms, and the service desk's request categories and
// canned answers) from CONTENT_DIR or the embedded demo set, and validates it.
package content

import (
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

//go:embed demo
var embedded embed.FS

// demo is the embedded demo content, laid out as a CONTENT_DIR.
var demo = func() fs.FS {
	sub, err := fs.Sub(embedded, "demo")
	if err != nil {
		panic(err) // "demo" is a valid path: fs.Sub cannot fail
	}
	return sub
}()

// pointsFile is the file of the service points.
const pointsFile = "points.yaml"

// Content is the district's content, validated.
type Content struct {
	Points     []Point    // in file order, the order lists show
	Policies   []Policy   // sorted by id
	Categories []Category // in file order
	// Synonyms are groups of search terms that mean the same, in file order, each
	// term trimmed and lower-cased.
	Synonyms [][]string
	Desk     Desk     // from categories.yaml
	Canned   []Canned // in file order
	// Hash identifies the loaded files' contents: the first 12 hex digits of a SHA-256.
	Hash string

	byID map[string]int // index in Points
}

// Load reads and validates the content in dir, or the embedded demo content when dir
// is "". points.yaml is required; policies/*.md (only names of a-z, 0-9 and -) are
// optional, but need policy_categories.yaml; synonyms.yaml, categories.yaml (the
// service desk) and canned.yaml are optional, and none of them is taken from the demo
// when missing. Invalid content returns a Problems error listing everything wrong,
// each with its file and line: points.yaml's, policy_categories.yaml's,
// synonyms.yaml's, categories.yaml's, canned.yaml's, then each policy's in file name
// order. Other errors are failures to read.
func Load(dir string) (*Content, error) {
	fsys := demo
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	l := &loader{fsys: fsys, hash: sha256.New()}
	c := &Content{}

	data, err := l.read(pointsFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.probs = append(l.probs, Problem{File: pointsFile, Msg: "file not found"})
	case err != nil:
		return nil, err
	default:
		var probs Problems
		c.Points, probs = parsePoints(pointsFile, data)
		l.probs = append(l.probs, probs...)
	}

	names, err := policyFiles(fsys)
	if err != nil {
		return nil, err
	}
	data, err = l.read(categoriesFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if len(names) > 0 {
			l.probs = append(l.probs, Problem{File: categoriesFile, Msg: "file not found; the policies need their categories"})
		}
	case err != nil:
		return nil, err
	default:
		var probs Problems
		c.Categories, probs = parseCategories(categoriesFile, data)
		l.probs = append(l.probs, probs...)
	}

	for _, f := range []struct {
		name  string
		parse func([]byte) Problems
	}{
		{synonymsFile, func(b []byte) (p Problems) { c.Synonyms, p = parseSynonyms(synonymsFile, b); return p }},
		{deskFile, func(b []byte) (p Problems) { c.Desk, p = parseDesk(deskFile, b); return p }},
		{cannedFile, func(b []byte) (p Problems) { c.Canned, p = parseCanned(cannedFile, b, c.Desk.Categories); return p }},
	} {
		if err := l.optional(f.name, f.parse); err != nil {
			return nil, err
		}
	}

	// Without categories a policy's category is not checked: the file's problems say why.
	var cats []Category
	if len(c.Categories) > 0 {
		cats = c.Categories
	}
	for _, name := range names {
		file := policiesDir + "/" + name
		data, err := l.read(file)
		if err != nil {
			return nil, err
		}
		p, probs := parsePolicy(file, strings.TrimSuffix(name, ".md"), data, cats)
		l.probs = append(l.probs, probs...)
		c.Policies = append(c.Policies, p)
	}
	slices.SortFunc(c.Policies, func(a, b Policy) int { return strings.Compare(a.ID, b.ID) })

	if len(l.probs) > 0 {
		return nil, l.probs
	}
	c.byID = make(map[string]int, len(c.Points))
	for i, p := range c.Points {
		c.byID[p.ID] = i
	}
	c.Hash = hex.EncodeToString(l.hash.Sum(nil))[:12]
	return c, nil
}

// loader reads content files, hashing them and collecting their problems.
type loader struct {
	fsys  fs.FS
	hash  hash.Hash
	probs Problems
}

// read reads a file, adding it to the hash. A missing file is an fs.ErrNotExist.
// optional reads an optional file and parses it, collecting its problems; a missing
// file is no problem.
func (l *loader) optional(name string, parse func([]byte) Problems) error {
	data, err := l.read(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	}
	l.probs = append(l.probs, parse(data)...)
	return nil
}

func (l *loader) read(name string) ([]byte, error) {
	data, err := fs.ReadFile(l.fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read content: %w", err)
	}
	fmt.Fprintf(l.hash, "%s\x00%d\x00", name, len(data))
	l.hash.Write(data)
	return data, nil
}

// policyFiles returns the names of the policy files in policies/, in lexical order;
// none when there is no such folder.
func policyFiles(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, policiesDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read content: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && policyFileRE.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Point returns the point with the given id.
func (c *Content) Point(id string) (Point, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Point{}, false
	}
	return c.Points[i], true
}

// Policy returns the policy with the given id.
func (c *Content) Policy(id string) (Policy, bool) {
	i, ok := slices.BinarySearchFunc(c.Policies, id, func(p Policy, id string) int { return strings.Compare(p.ID, id) })
	if !ok {
		return Policy{}, false
	}
	return c.Policies[i], true
}

// Category returns the category with the given id.
func (c *Content) Category(id string) (Category, bool) {
	i := slices.IndexFunc(c.Categories, func(cat Category) bool { return cat.ID == id })
	if i < 0 {
		return Category{}, false
	}
	return c.Categories[i], true
}

// Nearest returns the n nearest points open at at, closest first, with their
// distances from lat, lon (haversine, rounded to the metre). When fewer than n are
// open it fills up with the nearest closed ones, after the open ones. Points at the
// same distance keep file order.
func (c *Content) Nearest(lat, lon float64, n int, at time.Time) []Nearby {
	all := make([]Nearby, len(c.Points))
	for i, p := range c.Points {
		all[i] = Nearby{Point: p, Meters: int(math.Round(distance(lat, lon, p.Lat, p.Lon))), Open: p.OpenAt(at)}
	}
	slices.SortStableFunc(all, func(a, b Nearby) int {
		if a.Open != b.Open {
			if a.Open {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Meters, b.Meters)
	})
	return all[:min(max(n, 0), len(all))]
}
