// Package content loads the district's editable content (service points; later policies and categories) from CONTENT_DIR or the embedded demo set, and validates it.
package content

import (
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
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
	Points []Point // in file order, the order lists show
	// Hash identifies the loaded files' contents: the first 12 hex digits of a SHA-256.
	Hash string

	byID map[string]int // index in Points
}

// Load reads and validates the content in dir, or the embedded demo content when dir
// is "". Invalid content returns a Problems error listing everything wrong, each with
// its file and line; other errors are failures to read.
func Load(dir string) (*Content, error) {
	fsys := demo
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	data, err := fs.ReadFile(fsys, pointsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Problems{{File: pointsFile, Msg: "file not found"}}
	}
	if err != nil {
		return nil, fmt.Errorf("read content: %w", err)
	}
	points, probs := parsePoints(pointsFile, data)
	if len(probs) > 0 {
		return nil, probs
	}
	c := &Content{Points: points, byID: make(map[string]int, len(points))}
	for i, p := range points {
		c.byID[p.ID] = i
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", pointsFile, len(data))
	h.Write(data)
	c.Hash = hex.EncodeToString(h.Sum(nil))[:12]
	return c, nil
}

// Point returns the point with the given id.
func (c *Content) Point(id string) (Point, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Point{}, false
	}
	return c.Points[i], true
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
