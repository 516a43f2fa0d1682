package content

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// writePoints writes a points.yaml into a fresh folder and returns the folder.
func writePoints(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "points.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mustLoad loads a points.yaml that must be valid.
func mustLoad(t *testing.T, yaml string) *Content {
	t.Helper()
	c, err := Load(writePoints(t, yaml))
	if err != nil {
		t.Fatalf("Load:\n%s\n= %v", yaml, err)
	}
	return c
}

func TestLoadDemoPoints(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatalf(`Load(""): %v`, err)
	}
	if len(c.Points) != 16 {
		t.Errorf("demo has %d points, want 16 (15 check-in points and the centre)", len(c.Points))
	}
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(c.Hash) {
		t.Errorf("demo hash = %q, want 12 hex digits", c.Hash)
	}
	deepLink := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	seen := map[string]bool{}
	kinds := map[string]int{}
	for _, p := range c.Points {
		if seen[p.ID] {
			t.Errorf("demo id %q is not unique", p.ID)
		}
		seen[p.ID] = true
		kinds[p.Kind]++
		if !deepLink.MatchString("cp_" + p.ID) {
			t.Errorf("demo id %q does not fit a deep link", p.ID)
		}
		if p.Name.ZH == "" || p.Name.EN == "" || p.Address.ZH == "" || len(p.Services) == 0 {
			t.Errorf("demo point %s lacks a name, address or services in both languages: %+v", p.ID, p)
		}
		if p.Lat < 41.76 || p.Lat > 41.78 || p.Lon < 123.44 || p.Lon > 123.47 {
			t.Errorf("demo point %s at %v, %v is not around Nanta", p.ID, p.Lat, p.Lon)
		}
		if got, ok := c.Point(p.ID); !ok || got.ID != p.ID {
			t.Errorf("Point(%q) = %v, %v", p.ID, got.ID, ok)
		}
	}
	if diff := cmp.Diff(map[string]int{KindCentre: 1, KindCheckin: 15}, kinds); diff != "" {
		t.Errorf("demo kinds (-want +got):\n%s", diff)
	}
	if _, ok := c.Point("nt-p99"); ok {
		t.Error(`Point("nt-p99") found a point that does not exist`)
	}
	centre, _ := c.Point("nt-centre")
	wantHours := [7][]Span{
		1: {{510, 1050}}, 2: {{510, 1050}}, 3: {{510, 1050}}, 4: {{510, 1050}}, 5: {{510, 1050}},
		6: {{540, 720}, {810, 960}},
	}
	if diff := cmp.Diff(wantHours, centre.Hours); diff != "" {
		t.Errorf("nt-centre hours (-want +got):\n%s", diff)
	}
	if got := DemoFiles(); !slices.Contains(got, "points.yaml") {
		t.Errorf("DemoFiles() = %q, want points.yaml among them", got)
	}
}

func TestTextIn(t *testing.T) {
	both, zhOnly := Text{ZH: "休息", EN: "Rest"}, Text{ZH: "休息"}
	tests := []struct {
		t    Text
		lang string
		want string
	}{
		{both, "en", "Rest"},
		{both, "zh", "休息"},
		{both, "", "休息"},
		{both, "fr", "休息"},
		{zhOnly, "en", "休息"},
	}
	for _, tt := range tests {
		if got := tt.t.In(tt.lang); got != tt.want {
			t.Errorf("%+v.In(%q) = %q, want %q", tt.t, tt.lang, got, tt.want)
		}
	}
}

// onePoint is a valid points.yaml with one point; cases replace its lines.
const onePoint = `points:
  - id: p1
    name: {zh: 驿站, en: Station}
    location: [41.77, 123.45]
`

func TestPointsProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown top-level key", "point:\n  - id: p1\n", []string{
			`points.yaml:1: unknown top-level key "point" (want points)`,
			`points.yaml:1: missing "points:" list`,
		}},
		{"points not a list", "points: {id: p1}\n", []string{
			`points.yaml:1: points must be a list (- id: ...)`,
		}},
		{"top level not a mapping", "- id: p1\n", []string{
			`points.yaml:1: want a mapping with a "points:" list`,
		}},
		{"empty file", "# nothing yet\n", []string{
			`points.yaml: the file is empty; want a "points:" list`,
		}},
		{"point not a mapping", "points:\n  - p1\n", []string{
			`points.yaml:2: a point must be a mapping (id: ..., name: ...)`,
		}},
		{"unknown point field", onePoint + "    opening: 24h\n", []string{
			`points.yaml:5: unknown point field "opening" (want id, kind, name, address, location, hours, services, phone)`,
		}},
		{"field given twice", onePoint + "    id: p2\n", []string{
			`points.yaml:5: "id" given twice (first at line 2)`,
		}},
		{"missing id, name and location", "points:\n  - kind: checkin\n", []string{
			`points.yaml:2: point has no id`,
			`points.yaml:2: point has no name`,
			`points.yaml:2: point has no location`,
		}},
		{"name without zh", "points:\n  - id: p1\n    name: {en: Station}\n    location: [41.77, 123.45]\n", []string{
			`points.yaml:3: name.zh is required`,
		}},
		{"name not a text", "points:\n  - id: p1\n    name: 驿站\n    location: [41.77, 123.45]\n", []string{
			`points.yaml:3: name must be {zh: ..., en: ...}`,
		}},
		{"unknown language", "points:\n  - id: p1\n    name: {zh: 驿站, fr: Relais}\n    location: [41.77, 123.45]\n", []string{
			`points.yaml:3: unknown language "fr" in name (want zh, en)`,
		}},
		{"address without zh", onePoint + "    address: {en: Nanta Street}\n", []string{
			`points.yaml:5: address.zh is required`,
		}},
		{"duplicate id", onePoint + "  - id: p1\n    name: {zh: 又一个}\n    location: [41.78, 123.46]\n", []string{
			`points.yaml:5: duplicate id "p1" (first at line 2)`,
		}},
		{"id too long", strings.Replace(onePoint, "p1", strings.Repeat("x", 62), 1), []string{
			`points.yaml:2: id "` + strings.Repeat("x", 62) + `" must fit a deep link: "cp_"+id must be at most 64 characters of A-Za-z0-9_-`,
		}},
		{"id with a dot", strings.Replace(onePoint, "p1", "nt.p1", 1), []string{
			`points.yaml:2: id "nt.p1" must fit a deep link: "cp_"+id must be at most 64 characters of A-Za-z0-9_-`,
		}},
		{"bad kind", onePoint + "    kind: center\n", []string{
			`points.yaml:5: kind "center" must be checkin or centre`,
		}},
		{"location of one number", strings.Replace(onePoint, "[41.77, 123.45]", "[41.77]", 1), []string{
			`points.yaml:4: location must be [lat, lon], two numbers`,
		}},
		{"location not a number", strings.Replace(onePoint, "[41.77, 123.45]", "[41.77, east]", 1), []string{
			`points.yaml:4: location must be [lat, lon], two numbers`,
		}},
		{"latitude out of range", strings.Replace(onePoint, "[41.77, 123.45]", "[123.45, 41.77]", 1), []string{
			`points.yaml:4: latitude 123.45 is not in [-90, 90] (location is [lat, lon])`,
		}},
		{"longitude out of range", strings.Replace(onePoint, "[41.77, 123.45]", "[41.77, 223.45]", 1), []string{
			`points.yaml:4: longitude 223.45 is not in [-180, 180]`,
		}},
		{"location 0, 0", strings.Replace(onePoint, "[41.77, 123.45]", "[0, 0]", 1), []string{
			`points.yaml:4: location 0, 0 is not a place: give the point's coordinates`,
		}},
		{"bad phone", onePoint + "    phone: \"024-2300-0000 ext. 5\"\n", []string{
			`points.yaml:5: phone "024-2300-0000 ext. 5" may contain only digits, spaces, +, -, ( and )`,
		}},
		{"service without zh", onePoint + "    services:\n      - {zh: 休息}\n      - {en: Rest}\n", []string{
			`points.yaml:7: service.zh is required`,
		}},
		{"services not a list", onePoint + "    services: 休息\n", []string{
			`points.yaml:5: services must be a list of {zh: ..., en: ...}`,
		}},
		{"hours not a mapping", onePoint + "    hours: 08:00-18:00\n", []string{
			`points.yaml:5: hours must map days to spans, e.g. mon-fri: "08:30-17:30"`,
		}},
		{"day given twice", onePoint + "    hours:\n      mon-fri: \"08:00-18:00\"\n      sat: closed\n      fri-sun: \"09:00-12:00\"\n", []string{
			`points.yaml:8: fri, sat given twice (first at line 6)`,
		}},
		{"unknown day", onePoint + "    hours:\n      monday: \"08:00-18:00\"\n", []string{
			`points.yaml:6: unknown day "monday" (want mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri)`,
		}},
		{"backwards range", onePoint + "    hours:\n      sat-mon: \"08:00-18:00\"\n", []string{
			`points.yaml:6: day range "sat-mon" runs backwards: weeks run from mon to sun`,
		}},
		{"close before open", onePoint + "    hours:\n      sat: \"22:00-02:00\"\n", []string{
			`points.yaml:6: hours for sat: span "22:00-02:00" does not close after it opens (for a night, close at 24:00 and open at 00:00 the next day)`,
		}},
		{"close at open", onePoint + "    hours:\n      sat: \"09:00-09:00\"\n", []string{
			`points.yaml:6: hours for sat: span "09:00-09:00" does not close after it opens (for a night, close at 24:00 and open at 00:00 the next day)`,
		}},
		{"overlapping spans", onePoint + "    hours:\n      mon-fri: \"13:00-18:00, 08:00-13:30\"\n", []string{
			`points.yaml:6: hours for mon-fri: spans 08:00-13:30 and 13:00-18:00 overlap`,
		}},
		{"bad times", onePoint + "    hours:\n      mon: \"8:00-18:00\"\n      tue: \"08:00-24:30\"\n      wed: \"08:00-18:60\"\n      thu: \"08:00 to 18:00\"\n", []string{
			`points.yaml:6: hours for mon: bad time "8:00": want HH:MM, 00:00 to 24:00`,
			`points.yaml:7: hours for tue: bad time "24:30": want HH:MM, 00:00 to 24:00`,
			`points.yaml:8: hours for wed: bad time "18:60": want HH:MM, 00:00 to 24:00`,
			`points.yaml:9: hours for thu: "08:00 to 18:00" is not a span: want HH:MM-HH:MM`,
		}},
		{"empty hours", onePoint + "    hours:\n      sun:\n", []string{
			`points.yaml:6: hours for sun are empty: give "HH:MM-HH:MM" spans separated by commas, or "closed"`,
		}},
		{"hours not text", onePoint + "    hours:\n      sun: [09:00-12:00]\n", []string{
			`points.yaml:6: hours for sun must be "HH:MM-HH:MM" spans separated by commas, or "closed"`,
		}},
		// The yaml library names the start of the broken block (counted from 0) here;
		// the problem is the badly indented line.
		{"syntax: bad indentation", "points:\n  - id: p1\n    name: {zh: 驿站}\n   location: [41.77, 123.45]\n", []string{
			`points.yaml:4: YAML syntax: did not find expected '-' indicator`,
		}},
		{"syntax: bad indentation further down", onePoint + "    hours:\n      mon: closed\n     tue: closed\n", []string{
			`points.yaml:7: YAML syntax: did not find expected key`,
		}},
		// And no line at all on the first line.
		{"syntax: first line", "points: [: x\n", []string{
			`points.yaml:1: YAML syntax: did not find expected node content`,
		}},
		{"syntax: unclosed quote", onePoint + "    phone: \"024\n", []string{
			`points.yaml:5: YAML syntax: found unexpected end of stream`,
		}},
		{"syntax: unclosed brace", "points:\n  - id: p1\n    name: {zh: 驿站\n    location: [41.77, 123.45]\n", []string{
			`points.yaml:3: YAML syntax: did not find expected ',' or '}'`,
		}},
		{"syntax: unknown alias", onePoint + "    hours: *office\n", []string{
			`points.yaml:5: YAML syntax: unknown anchor 'office' referenced`,
		}},
		{"second document", onePoint + "---\n" + onePoint, []string{
			`points.yaml:5: a second YAML document starts here (---): keep all of the file in one document`,
		}},
		{"all problems, in line order", "points:\n  - id: a\n    name: {en: A}\n  - name: {zh: 乙}\n    location: [0, 0]\n  - id: a\n    name: {zh: 甲}\n    location: [41.77, 123.45]\n    kind: hub\n", []string{
			`points.yaml:2: point has no location`,
			`points.yaml:3: name.zh is required`,
			`points.yaml:4: point has no id`,
			`points.yaml:5: location 0, 0 is not a place: give the point's coordinates`,
			`points.yaml:6: duplicate id "a" (first at line 2)`,
			`points.yaml:9: kind "hub" must be checkin or centre`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblems(t, writePoints(t, tt.yaml), tt.want) })
	}
}

// wantProblems loads dir and checks that it has exactly the problems want, in order.
func wantProblems(t *testing.T, dir string, want []string) {
	t.Helper()
	c, err := Load(dir)
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("Load(%s) = %v, %v; want problems", dir, c, err)
	}
	if diff := cmp.Diff(want, strings.Split(probs.Error(), "\n")); diff != "" {
		t.Errorf("Load(%s) problems (-want +got):\n%s", dir, diff)
	}
}

func TestPointsFileNotFound(t *testing.T) {
	_, err := Load(t.TempDir())
	if err == nil || err.Error() != "points.yaml: file not found" {
		t.Errorf("Load(empty folder) = %v, want points.yaml: file not found", err)
	}
}

// TestPointsAliases checks that YAML aliases work, e.g. for shared opening hours.
func TestPointsAliases(t *testing.T) {
	c := mustLoad(t, `points:
  - id: a
    name: {zh: 甲}
    location: [41.77, 123.45]
    hours: &office
      mon-fri: "09:00-17:00"
  - id: b
    name: {zh: 乙}
    location: [41.78, 123.46]
    hours: *office
`)
	if diff := cmp.Diff(c.Points[0].Hours, c.Points[1].Hours); diff != "" || len(c.Points[1].Hours[1]) != 1 {
		t.Errorf("hours through an alias differ (-a +b):\n%s", diff)
	}
}

func TestOpenAt(t *testing.T) {
	c := mustLoad(t, `points:
  - id: office
    name: {zh: 办公室}
    location: [41.77, 123.45]
    hours:
      mon-fri: "08:30-17:30"
      sat: "09:00-12:00,13:30-16:00"
      sun: closed
  - id: allday
    name: {zh: 驿站}
    location: [41.77, 123.45]
    hours:
      mon-sun: "00:00-24:00"
  - id: nohours
    name: {zh: 无}
    location: [41.77, 123.45]
`)
	// A fixed zone, as the caller's TZ would give: OpenAt reads the wall clock of t.
	cst := time.FixedZone("CST", 8*3600)
	at := func(day, hour, min int) time.Time { return time.Date(2026, 3, day, hour, min, 0, 0, cst) } // 2 March 2026 is a Monday
	tests := []struct {
		id   string
		t    time.Time
		want bool
	}{
		{"office", at(2, 8, 29), false},
		{"office", at(2, 8, 30), true},
		{"office", at(2, 17, 29), true},
		{"office", at(2, 17, 30), false},
		{"office", at(6, 12, 0), true}, // Friday
		{"office", at(7, 11, 59), true},
		{"office", at(7, 12, 0), false}, // Saturday lunch
		{"office", at(7, 13, 30), true},
		{"office", at(7, 16, 0), false},
		{"office", at(8, 10, 0), false}, // Sunday
		{"allday", at(8, 0, 0), true},
		{"allday", at(8, 23, 59), true},
		{"allday", at(2, 12, 0), true},
		{"nohours", at(2, 12, 0), false},
	}
	for _, tt := range tests {
		p, _ := c.Point(tt.id)
		if got := p.OpenAt(tt.t); got != tt.want {
			t.Errorf("%s.OpenAt(%s) = %v, want %v", tt.id, tt.t.Format("Mon 15:04"), got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	// From "here": b and c due north, d due east. b and c close on Sundays.
	c := mustLoad(t, `points:
  - id: c
    name: {zh: 丙}
    location: [41.788, 123.456]
    hours: {mon-sat: "00:00-24:00"}
  - id: b
    name: {zh: 乙}
    location: [41.779, 123.456]
    hours: {mon-sat: "00:00-24:00"}
  - id: d
    name: {zh: 丁}
    location: [41.770, 123.468]
    hours: {mon-sun: "00:00-24:00"}
  - id: here
    name: {zh: 甲}
    location: [41.770, 123.456]
    hours: {mon-sun: "00:00-24:00"}
`)
	const lat, lon = 41.770, 123.456
	// Independent estimates: along a meridian a degree of latitude is R·π/180; along
	// a parallel a degree of longitude is that times cos(lat).
	const r = 6371000.0
	deg := r * math.Pi / 180
	north1, north2 := 0.009*deg, 0.018*deg
	east := 0.012 * deg * math.Cos(lat*math.Pi/180)
	type near struct {
		ID     string
		Meters float64
		Open   bool
	}
	sunday := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	monday := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		at   time.Time
		n    int
		want []near
	}{
		{"all open", monday, 4, []near{{"here", 0, true}, {"d", east, true}, {"b", north1, true}, {"c", north2, true}}},
		{"nearest two", monday, 2, []near{{"here", 0, true}, {"d", east, true}}},
		{"closed ones after the open ones", sunday, 3, []near{{"here", 0, true}, {"d", east, true}, {"b", north1, false}}},
		{"more than there are", sunday, 10, []near{{"here", 0, true}, {"d", east, true}, {"b", north1, false}, {"c", north2, false}}},
		{"none", sunday, 0, []near{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []near
			for _, nb := range c.Nearest(lat, lon, tt.n, tt.at) {
				got = append(got, near{nb.Point.ID, float64(nb.Meters), nb.Open})
			}
			// Within 3 m: the estimates are flat-earth over 1-2 km, Nearest rounds.
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 3), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Nearest(%v, %v, %d, %s) (-want +got):\n%s", lat, lon, tt.n, tt.at.Weekday(), diff)
			}
		})
	}
}

func TestExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "district", "content")
	if err := Export(dir); err != nil {
		t.Fatalf("Export(%s): %v", dir, err)
	}
	exported, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(exported): %v", err)
	}
	demo, _ := Load("")
	if diff := cmp.Diff(demo, exported, cmpopts.IgnoreUnexported(Content{})); diff != "" {
		t.Errorf("exported content differs from the embedded (-embedded +exported):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "policies", "SOURCES.md")); err != nil {
		t.Errorf("Export did not write the notes next to the policies: %v", err)
	}

	// An edited file is never overwritten, and the refusal names it.
	dir = t.TempDir()
	path := filepath.Join(dir, "points.yaml")
	if err := os.WriteFile(path, []byte("points: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = Export(dir)
	if err == nil || !strings.Contains(err.Error(), path+" already exists; not overwriting it") {
		t.Errorf("Export over an existing file = %v, want an already-exists error naming %s", err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "points: []\n" {
		t.Errorf("Export overwrote the edited file: %q", b)
	}
}
