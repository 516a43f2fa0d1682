package content

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai must not depend on the test machine's zoneinfo

	"github.com/google/go-cmp/cmp"
)

// A valid desk and canned answers: the line numbers below are those of these files.
const (
	oneDesk = `hours:
  mon-fri: "09:00-17:30"
categories:
  - id: licence
    name: {zh: 证照办理, en: Licences}
    hint: {zh: 说明证照类型, en: Say which licence}
    target: 4h
  - id: other
    name: {zh: 其他, en: Other}
    hint: {zh: 说明需求, en: Say what you need}
    target: 1d
`
	twoAnswers = `answers:
  - id: received
    title: {zh: 已收到, en: Received}
    text: {zh: 已收到，正在核实。, en: Received; checking.}
  - id: docs
    title: {zh: 材料, en: Documents}
    text: {zh: 带身份证。, en: Bring your ID.}
    categories: [licence]
`
)

// deskFiles returns a valid content folder's files with oneDesk and twoAnswers,
// changed by changes as withFiles does.
func deskFiles(changes map[string]string) map[string]string {
	files := map[string]string{deskFile: oneDesk, cannedFile: twoAnswers}
	maps.Copy(files, changes)
	return withFiles(files)
}

// withDesk returns deskFiles with categories.yaml's text old replaced by new.
func withDesk(old, new string) map[string]string {
	return deskFiles(map[string]string{deskFile: strings.Replace(oneDesk, old, new, 1)})
}

// withCanned returns deskFiles with canned.yaml's text old replaced by new.
func withCanned(old, new string) map[string]string {
	return deskFiles(map[string]string{cannedFile: strings.Replace(twoAnswers, old, new, 1)})
}

// generalAnswers returns n answers offered on every ticket, a1 to an, 3 lines each.
func generalAnswers(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - id: a%d\n    title: {zh: 答%d, en: A%d}\n    text: {zh: 好, en: OK}\n", i, i, i)
	}
	return b.String()
}

func TestLoadDemoDesk(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatalf(`Load(""): %v`, err)
	}
	type cat struct {
		ID     string
		Target time.Duration
		Phone  bool
	}
	want := []cat{
		{"licence", 4 * time.Hour, false},
		{"financing", 24 * time.Hour, true},
		{"legal", 4 * time.Hour, true},
		{"rights", 2 * time.Hour, false},
		{"repair", 2 * time.Hour, true},
		{"jobs", 4 * time.Hour, false},
		{"complaint", 4 * time.Hour, false},
		{"other", 4 * time.Hour, false},
	}
	var got []cat
	for _, rc := range c.Desk.Categories {
		got = append(got, cat{rc.ID, rc.Target, rc.Phone})
		if rc.Name.ZH == "" || rc.Name.EN == "" || rc.Hint.ZH == "" || rc.Hint.EN == "" || rc.Group != 0 {
			t.Errorf("demo category %s lacks a name or hint in one of zh, en, or has a group: %+v", rc.ID, rc)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("demo request categories (-want +got):\n%s", diff)
	}
	if licence, _ := c.Desk.Category("licence"); licence.Name != (Text{ZH: "证照办理", EN: "Licences & permits"}) {
		t.Errorf(`Desk.Category("licence").Name = %+v`, licence.Name)
	}
	wantHours := [7][]Span{1: {{540, 1050}}, 2: {{540, 1050}}, 3: {{540, 1050}}, 4: {{540, 1050}}, 5: {{540, 1050}}, 6: {{540, 720}}}
	if diff := cmp.Diff(wantHours, c.Desk.Hours); diff != "" {
		t.Errorf("demo desk hours (-want +got):\n%s", diff)
	}

	if len(c.Canned) < 6 {
		t.Errorf("demo has %d canned answers, want at least 6", len(c.Canned))
	}
	for _, a := range c.Canned {
		if a.Title.EN == "" || a.Text.EN == "" {
			t.Errorf("demo answer %s lacks a title or text in English", a.ID)
		}
	}
	for _, rc := range c.Desk.Categories {
		if len(c.CannedFor(rc.ID)) < 2 {
			t.Errorf("demo category %s is offered %d canned answers, want at least 2", rc.ID, len(c.CannedFor(rc.ID)))
		}
	}
	var legal []string
	for _, a := range c.CannedFor("legal") {
		legal = append(legal, a.ID)
	}
	if want := []string{"received", "more-info", "legal-aid", "resolved"}; !slices.Equal(legal, want) {
		t.Errorf(`demo CannedFor("legal") = %q, want %q`, legal, want)
	}

	if got := DemoFiles(); !slices.Contains(got, deskFile) || !slices.Contains(got, cannedFile) {
		t.Errorf("DemoFiles() = %q, want %s and %s among them", got, deskFile, cannedFile)
	}
}

func TestDeskProblems(t *testing.T) {
	long := strings.Repeat("x", 33)
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		// categories.yaml, the file.
		{"unknown top-level key", withDesk("hours:", "hour:"), []string{
			`categories.yaml:1: unknown top-level key "hour" (want hours, categories)`,
		}},
		{"top-level key given twice", withDesk("categories:", "hours: {}\ncategories:"), []string{
			`categories.yaml:3: "hours" given twice (first at line 1)`,
		}},
		{"empty file", deskFiles(map[string]string{deskFile: "# to do\n"}), []string{
			`categories.yaml: the file is empty; want "hours:" and a "categories:" list`,
		}},
		{"not a mapping", deskFiles(map[string]string{deskFile: "- id: other\n"}), []string{
			`categories.yaml:1: want a mapping with "hours:" and a "categories:" list`,
		}},
		{"no categories list", deskFiles(map[string]string{deskFile: "hours:\n  mon: closed\n"}), []string{
			`categories.yaml:1: missing "categories:" list`,
		}},
		{"categories not a list", deskFiles(map[string]string{deskFile: "categories: {id: other}\n"}), []string{
			`categories.yaml:1: categories must be a list (- id: ...)`,
		}},
		{"no categories", deskFiles(map[string]string{deskFile: "hours: {mon: closed}\ncategories: []\n", cannedFile: ""}), []string{
			`categories.yaml:2: there are no categories; the service desk needs at least one`,
		}},
		{"no other", withDesk("id: other", "id: misc"), []string{
			`categories.yaml: add a category with id other, so every request has a place`,
		}},
		{"syntax", withDesk("target: 4h", "target: [4h"), []string{
			`categories.yaml:7: YAML syntax: did not find expected ',' or ']'`,
		}},
		{"hours", withDesk(`"09:00-17:30"`, `"09:00-25:00"`), []string{
			`categories.yaml:2: hours for mon-fri: bad time "25:00": want HH:MM, 00:00 to 24:00`,
		}},
		{"hours not a mapping", withDesk(`hours:`+"\n"+`  mon-fri: "09:00-17:30"`, `hours: "09:00-17:30"`), []string{
			`categories.yaml:1: hours must map days to spans, e.g. mon-fri: "08:30-17:30"`,
		}},
		// A category.
		{"category not a mapping", deskFiles(map[string]string{deskFile: oneDesk + "  - jobs\n"}), []string{
			`categories.yaml:12: a category must be a mapping (id: ..., name: ..., hint: ..., target: ...)`,
		}},
		{"unknown field", withDesk("target: 4h", "target: 4h\n    sla: 4h"), []string{
			`categories.yaml:8: unknown category field "sla" (want id, name, hint, target, group, phone)`,
		}},
		{"field given twice", withDesk("target: 4h", "target: 4h\n    target: 2h"), []string{
			`categories.yaml:8: "target" given twice (first at line 7)`,
		}},
		{"required fields missing", deskFiles(map[string]string{deskFile: oneDesk + "  - phone: true\n"}), []string{
			`categories.yaml:12: category has no id`,
			`categories.yaml:12: category has no name`,
			`categories.yaml:12: category has no hint`,
			`categories.yaml:12: category has no target`,
		}},
		{"duplicate id", withDesk("id: other", "id: licence"), []string{
			`categories.yaml: add a category with id other, so every request has a place`,
			`categories.yaml:8: duplicate id "licence" (first at line 4)`,
		}},
		{"id in capitals", withDesk("id: licence", "id: Licence"), []string{
			`categories.yaml:4: id "Licence" must be 1 to 32 characters of a-z, 0-9 and -`,
			`canned.yaml:8: category "licence" is not in categories.yaml (want Licence, other)`,
		}},
		{"id too long", withDesk("id: licence", "id: "+long), []string{
			`categories.yaml:4: id "` + long + `" must be 1 to 32 characters of a-z, 0-9 and -`,
			`canned.yaml:8: category "licence" is not in categories.yaml (want ` + long + `, other)`,
		}},
		{"id not a value", withDesk("id: licence", "id: [licence]"), []string{
			`categories.yaml:4: id must be a single value`,
			`canned.yaml:8: category "licence" is not in categories.yaml (want other)`,
		}},
		{"name without en", withDesk("{zh: 证照办理, en: Licences}", "{zh: 证照办理}"), []string{
			`categories.yaml:5: name.en is required`,
		}},
		{"name without zh", withDesk("{zh: 证照办理, en: Licences}", "{en: Licences}"), []string{
			`categories.yaml:5: name.zh is required`,
		}},
		{"name not a text", withDesk("{zh: 证照办理, en: Licences}", "证照办理"), []string{
			`categories.yaml:5: name must be {zh: ..., en: ...}`,
		}},
		{"name too long", withDesk("en: Licences}", "en: "+strings.Repeat("L", 25)+"}"), []string{
			`categories.yaml:5: name.en is 25 characters long; at most 24`,
		}},
		{"hint without en", withDesk("{zh: 说明证照类型, en: Say which licence}", "{zh: 说明证照类型}"), []string{
			`categories.yaml:6: hint.en is required`,
		}},
		{"hint without zh", withDesk("{zh: 说明证照类型, en: Say which licence}", `{zh: "", en: Say which licence}`), []string{
			`categories.yaml:6: hint.zh is required`,
		}},
		{"hint too long", withDesk("{zh: 说明证照类型,", "{zh: "+strings.Repeat("长", 301)+","), []string{
			`categories.yaml:6: hint.zh is 301 characters long; at most 300`,
		}},
		{"target without a unit", withDesk("target: 4h", "target: 4"), []string{
			`categories.yaml:7: target "4" must be a duration such as 30m, 4h, 1h30m or 1d`,
		}},
		{"target in seconds", withDesk("target: 4h", "target: 3600s"), []string{
			`categories.yaml:7: target "3600s" must be a duration such as 30m, 4h, 1h30m or 1d`,
		}},
		{"target in fractions", withDesk("target: 4h", "target: 1.5h"), []string{
			`categories.yaml:7: target "1.5h" must be a duration such as 30m, 4h, 1h30m or 1d`,
		}},
		{"target units out of order", withDesk("target: 4h", "target: 30m4h"), []string{
			`categories.yaml:7: target "30m4h" must be a duration such as 30m, 4h, 1h30m or 1d`,
		}},
		{"target empty", withDesk("target: 4h", `target: ""`), []string{
			`categories.yaml:7: target "" must be a duration such as 30m, 4h, 1h30m or 1d`,
		}},
		{"target negative", withDesk("target: 4h", "target: -4h"), []string{
			`categories.yaml:7: target "-4h" must be a duration such as 30m, 4h, 1h30m or 1d`,
		}},
		{"target zero", withDesk("target: 4h", "target: 0m"), []string{
			`categories.yaml:7: target "0m" must be more than 0`,
		}},
		{"target over 30 days", withDesk("target: 4h", "target: 30d1m"), []string{
			`categories.yaml:7: target "30d1m" is more than 30 days (30d)`,
		}},
		{"target not a value", withDesk("target: 4h", "target: {h: 4}"), []string{
			`categories.yaml:7: target must be a single value`,
		}},
		{"group positive", withDesk("target: 4h", "target: 4h\n    group: 1234567890"), []string{
			`categories.yaml:8: group "1234567890" must be a staff supergroup's chat id, a negative number such as -1001234567890`,
		}},
		{"group zero", withDesk("target: 4h", "target: 4h\n    group: 0"), []string{
			`categories.yaml:8: group "0" must be a staff supergroup's chat id, a negative number such as -1001234567890`,
		}},
		{"group not a number", withDesk("target: 4h", "target: 4h\n    group: staff"), []string{
			`categories.yaml:8: group "staff" must be a staff supergroup's chat id, a negative number such as -1001234567890`,
		}},
		{"group too big", withDesk("target: 4h", "target: 4h\n    group: -99999999999999999999"), []string{
			`categories.yaml:8: group "-99999999999999999999" must be a staff supergroup's chat id, a negative number such as -1001234567890`,
		}},
		{"phone not a bool", withDesk("target: 4h", "target: 4h\n    phone: yes"), []string{
			`categories.yaml:8: phone must be true or false`,
		}},
		// canned.yaml.
		{"canned: unknown top-level key", withCanned("answers:", "answer:"), []string{
			`canned.yaml:1: unknown top-level key "answer" (want answers)`,
			`canned.yaml:1: missing "answers:" list`,
		}},
		{"canned: syntax", withCanned("title: {zh: 材料, en: Documents}", "title: {zh: 材料, en: Documents"), []string{
			`canned.yaml:6: YAML syntax: did not find expected ',' or '}'`,
		}},
		{"answer not a mapping", withCanned("answers:", "answers:\n  - received"), []string{
			`canned.yaml:2: an answer must be a mapping (id: ..., title: ..., text: ...)`,
		}},
		{"unknown answer field", withCanned("categories:", "label: x\n    categories:"), []string{
			`canned.yaml:8: unknown answer field "label" (want id, title, text, categories)`,
		}},
		{"answer fields missing", withCanned("answers:", "answers:\n  - categories: [other]"), []string{
			`canned.yaml:2: answer has no id`,
			`canned.yaml:2: answer has no title`,
			`canned.yaml:2: answer has no text`,
		}},
		{"duplicate answer id", withCanned("id: docs", "id: received"), []string{
			`canned.yaml:5: duplicate id "received" (first at line 2)`,
		}},
		{"answer id with a dot", withCanned("id: docs", "id: docs.1"), []string{
			`canned.yaml:5: id "docs.1" must be 1 to 32 characters of a-z, 0-9 and -`,
		}},
		{"title without en", withCanned("{zh: 材料, en: Documents}", "{zh: 材料}"), []string{
			`canned.yaml:6: title.en is required`,
		}},
		{"title too long", withCanned("{zh: 材料,", "{zh: "+strings.Repeat("材", 25)+","), []string{
			`canned.yaml:6: title.zh is 25 characters long; at most 24`,
		}},
		{"text without zh", withCanned("{zh: 带身份证。, en: Bring your ID.}", "{en: Bring your ID.}"), []string{
			`canned.yaml:7: text.zh is required`,
		}},
		{"text too long", withCanned("en: Bring your ID.}", "en: "+strings.Repeat("a", 1001)+"}"), []string{
			`canned.yaml:7: text.en is 1001 characters long; at most 1000`,
		}},
		{"unknown category", withCanned("[licence]", "[licence, license]"), []string{
			`canned.yaml:8: category "license" is not in categories.yaml (want licence, other)`,
		}},
		{"category given twice", withCanned("[licence]", "[licence, licence]"), []string{
			`canned.yaml:8: category "licence" given twice`,
		}},
		{"no categories", withCanned("[licence]", "[]"), []string{
			`canned.yaml:8: categories is empty: name at least one, or leave it out to offer the answer on every ticket`,
		}},
		{"categories not a list", withCanned("[licence]", "licence"), []string{
			`canned.yaml:8: categories must be a list of category ids, e.g. [licence, other]`,
		}},
		// received, docs, a1 to a4 make 6 on licence tickets; a5 (lines 21 to 23) is
		// the 7th there, a6 the 8th there and the 7th on other tickets.
		{"more than 6 offered", deskFiles(map[string]string{cannedFile: twoAnswers + generalAnswers(6)}), []string{
			`canned.yaml:21: answer "a5" is never offered on tickets of licence: at most 6 answers are offered per ticket, and 6 come before it`,
			`canned.yaml:24: answer "a6" is never offered on tickets of licence, other: at most 6 answers are offered per ticket, and 6 come before it`,
		}},
		// Both files, each in line order.
		{"problems of both files", deskFiles(map[string]string{
			deskFile:   strings.Replace(strings.Replace(oneDesk, "target: 1d", "target: 1w", 1), "id: other", "id: misc", 1),
			cannedFile: strings.Replace(strings.Replace(twoAnswers, "[licence]", "[license]", 1), "id: received", "id: Received", 1),
		}), []string{
			`categories.yaml: add a category with id other, so every request has a place`,
			`categories.yaml:11: target "1w" must be a duration such as 30m, 4h, 1h30m or 1d`,
			`canned.yaml:2: id "Received" must be 1 to 32 characters of a-z, 0-9 and -`,
			`canned.yaml:8: category "license" is not in categories.yaml (want licence, misc)`,
		}},
		// categories.yaml's problem says why the answers' categories are not checked.
		{"answers' categories unchecked without categories", deskFiles(map[string]string{deskFile: "categories: []\n"}), []string{
			`categories.yaml:1: there are no categories; the service desk needs at least one`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblems(t, writeFiles(t, tt.files), tt.want) })
	}
}

// TestDeskLimits checks the valid side of the rules' edges, and the targets read.
func TestDeskLimits(t *testing.T) {
	id32 := strings.Repeat("c", 32)
	tests := []struct {
		name   string
		files  map[string]string
		target time.Duration // of the first category
	}{
		{"target in minutes", withDesk("target: 4h", "target: 90m"), 90 * time.Minute},
		{"target in hours and minutes", withDesk("target: 4h", "target: 1h30m"), 90 * time.Minute},
		{"target in days and hours", withDesk("target: 4h", "target: 1d12h"), 36 * time.Hour},
		{"target of 30 days", withDesk("target: 4h", "target: 30d"), 30 * 24 * time.Hour},
		{"target of a minute", withDesk("target: 4h", "target: 1m"), time.Minute},
		{"id of 32 characters", deskFiles(map[string]string{
			deskFile:   strings.Replace(oneDesk, "id: licence", "id: "+id32, 1),
			cannedFile: strings.Replace(twoAnswers, "[licence]", "["+id32+"]", 1),
		}), 4 * time.Hour},
		{"labels of 24 characters, hint of 300", withDesk("{zh: 证照办理, en: Licences}\n    hint: {zh: 说明证照类型,",
			"{zh: "+strings.Repeat("证", 24)+", en: "+strings.Repeat("L", 24)+"}\n    hint: {zh: "+strings.Repeat("长", 300)+","), 4 * time.Hour},
		{"group and phone", withDesk("target: 4h", "target: 4h\n    group: -1001234567890\n    phone: false"), 4 * time.Hour},
		{"no hours", withDesk("hours:\n  mon-fri: \"09:00-17:30\"\n", ""), 4 * time.Hour},
		{"6 answers per ticket, title of 24, text of 1000", deskFiles(map[string]string{
			cannedFile: strings.Replace(twoAnswers, "{zh: 材料,", "{zh: "+strings.Repeat("材", 24)+",", 1) +
				generalAnswers(4) + "  - id: long\n    title: {zh: 长, en: Long}\n    text: {zh: " + strings.Repeat("长", 1000) + ", en: Long}\n    categories: [other]\n",
		}), 4 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeFiles(t, tt.files))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := c.Desk.Categories[0].Target; got != tt.target {
				t.Errorf("target = %v, want %v", got, tt.target)
			}
		})
	}
}

func TestLoadDesk(t *testing.T) {
	c, err := Load(writeFiles(t, withDesk("target: 1d", "target: 1d\n    group: -100200\n    phone: true")))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Desk{
		Hours: [7][]Span{1: {{540, 1050}}, 2: {{540, 1050}}, 3: {{540, 1050}}, 4: {{540, 1050}}, 5: {{540, 1050}}},
		Categories: []RequestCategory{
			{ID: "licence", Name: Text{"证照办理", "Licences"}, Hint: Text{"说明证照类型", "Say which licence"}, Target: 4 * time.Hour},
			{ID: "other", Name: Text{"其他", "Other"}, Hint: Text{"说明需求", "Say what you need"}, Target: 24 * time.Hour, Group: -100200, Phone: true},
		},
	}
	if diff := cmp.Diff(want, c.Desk); diff != "" {
		t.Errorf("Desk (-want +got):\n%s", diff)
	}
	if got, ok := c.Desk.Category("other"); !ok || got.ID != "other" {
		t.Errorf(`Desk.Category("other") = %+v, %v`, got, ok)
	}
	if got, ok := c.Desk.Category("jobs"); ok {
		t.Errorf(`Desk.Category("jobs") = %+v, found a category that does not exist`, got)
	}
	wantCanned := []Canned{
		{ID: "received", Title: Text{"已收到", "Received"}, Text: Text{"已收到，正在核实。", "Received; checking."}},
		{ID: "docs", Title: Text{"材料", "Documents"}, Text: Text{"带身份证。", "Bring your ID."}, Categories: []string{"licence"}},
	}
	if diff := cmp.Diff(wantCanned, c.Canned); diff != "" {
		t.Errorf("Canned (-want +got):\n%s", diff)
	}
}

// TestDeskFilesOptional: categories.yaml and canned.yaml may be missing, as
// synonyms.yaml may, and the demo's are not used instead.
func TestDeskFilesOptional(t *testing.T) {
	c, err := Load(writeFiles(t, deskFiles(map[string]string{deskFile: "", cannedFile: ""})))
	if err != nil {
		t.Fatalf("Load without the desk's files: %v", err)
	}
	if diff := cmp.Diff(Desk{}, c.Desk); diff != "" || c.Canned != nil {
		t.Errorf("Load without the desk's files = desk %+v, canned %+v; want none (-want +got):\n%s", c.Desk, c.Canned, diff)
	}
	if !c.Desk.NextOpen(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)).IsZero() {
		t.Error("a desk without hours has a next opening")
	}

	// Without categories, the answers' categories are not checked.
	c, err = Load(writeFiles(t, withFiles(map[string]string{cannedFile: strings.Replace(twoAnswers, "[licence]", "[anything]", 1)})))
	if err != nil {
		t.Fatalf("Load with canned.yaml only: %v", err)
	}
	if len(c.Canned) != 2 || len(c.Desk.Categories) != 0 {
		t.Errorf("Load with canned.yaml only = %d answers, %d categories; want 2, 0", len(c.Canned), len(c.Desk.Categories))
	}
}

// TestDeskHash checks that an edit of either desk file changes the content hash, so
// that a reload publishes it.
func TestDeskHash(t *testing.T) {
	base := deskFiles(nil)
	load := func(files map[string]string) string {
		c, err := Load(writeFiles(t, files))
		if err != nil {
			t.Fatalf("Load(%v): %v", files, err)
		}
		return c.Hash
	}
	before := load(base)
	for _, name := range []string{deskFile, cannedFile} {
		changed := maps.Clone(base)
		changed[name] = strings.TrimSuffix(base[name], "\n") + " " // the same length
		if got := load(changed); got == before {
			t.Errorf("editing %s left the hash %s", name, got)
		}
	}
}

func TestDeskOpen(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour, min, sec int) time.Time { return time.Date(2026, 3, day, hour, min, sec, 0, sh) } // 2 March 2026 is a Monday
	office := Desk{Hours: [7][]Span{
		1: {{540, 1050}}, 2: {{540, 1050}}, 3: {{540, 1050}}, 4: {{540, 1050}}, 5: {{540, 1050}},
		6: {{810, 960}, {540, 720}}, // Saturday, with a lunch break; not in order
	}}
	sundays := Desk{Hours: [7][]Span{0: {{540, 1020}}}}
	tests := []struct {
		name string
		d    Desk
		t    time.Time
		open bool
		next time.Time
	}{
		{"Monday morning", office, at(2, 10, 0, 30), true, at(2, 10, 0, 30)},
		{"opening minute", office, at(2, 9, 0, 0), true, at(2, 9, 0, 0)},
		{"before opening", office, at(2, 8, 59, 59), false, at(2, 9, 0, 0)},
		{"midnight", office, at(2, 0, 0, 0), false, at(2, 9, 0, 0)},
		{"last minute", office, at(2, 17, 29, 59), true, at(2, 17, 29, 59)},
		{"closing time", office, at(2, 17, 30, 0), false, at(3, 9, 0, 0)},
		{"Thursday late evening", office, at(5, 23, 45, 0), false, at(6, 9, 0, 0)},
		{"Friday late evening", office, at(6, 22, 0, 0), false, at(7, 9, 0, 0)},
		{"Saturday early", office, at(7, 8, 0, 0), false, at(7, 9, 0, 0)},
		{"Saturday lunch", office, at(7, 12, 0, 0), false, at(7, 13, 30, 0)},
		{"Saturday afternoon", office, at(7, 14, 0, 0), true, at(7, 14, 0, 0)},
		{"Saturday evening", office, at(7, 16, 0, 0), false, at(9, 9, 0, 0)},
		{"Sunday", office, at(8, 12, 0, 0), false, at(9, 9, 0, 0)},
		{"Sunday before midnight", office, at(8, 23, 59, 59), false, at(9, 9, 0, 0)},
		{"Sundays only, on Monday", sundays, at(2, 10, 0, 0), false, at(8, 9, 0, 0)},
		{"Sundays only, after closing on Sunday", sundays, at(8, 17, 0, 0), false, at(15, 9, 0, 0)},
		{"no hours", Desk{}, at(2, 10, 0, 0), false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.Open(tt.t); got != tt.open {
				t.Errorf("Open(%s) = %v, want %v", tt.t.Format("Mon 15:04:05"), got, tt.open)
			}
			got := tt.d.NextOpen(tt.t)
			if !got.Equal(tt.next) || (!got.IsZero() && got.Location() != sh) {
				t.Errorf("NextOpen(%s) = %s, want %s", tt.t.Format("Mon 15:04:05"), got, tt.next)
			}
		})
	}
}

func TestCannedFor(t *testing.T) {
	answer := func(id string, cats ...string) Canned { return Canned{ID: id, Categories: cats} }
	c := &Content{Canned: []Canned{
		answer("all1"),
		answer("legal", "legal", "rights"),
		answer("repair", "repair"),
		answer("all2"),
		answer("rights", "rights"),
		answer("all3"),
		answer("all4"),
		answer("all5"),
		answer("all6"),
	}}
	tests := []struct {
		category string
		want     []string
	}{
		{"repair", []string{"all1", "repair", "all2", "all3", "all4", "all5"}},
		{"rights", []string{"all1", "legal", "all2", "rights", "all3", "all4"}},
		{"jobs", []string{"all1", "all2", "all3", "all4", "all5", "all6"}},
	}
	for _, tt := range tests {
		var got []string
		for _, a := range c.CannedFor(tt.category) {
			got = append(got, a.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("CannedFor(%q) = %q, want %q", tt.category, got, tt.want)
		}
	}
	few := &Content{Canned: []Canned{answer("legal", "legal"), answer("all")}}
	if got := few.CannedFor("repair"); len(got) != 1 || got[0].ID != "all" {
		t.Errorf(`CannedFor("repair") of two = %+v, want only "all"`, got)
	}
}

func TestGroups(t *testing.T) {
	cats := func(groups ...int64) Desk {
		var d Desk
		for i, g := range groups {
			d.Categories = append(d.Categories, RequestCategory{ID: fmt.Sprint(i), Group: g})
		}
		return d
	}
	tests := []struct {
		name string
		d    Desk
		def  int64
		want []int64
	}{
		{"no categories", Desk{}, -100, []int64{-100}},
		{"all default", cats(0, 0), -100, []int64{-100}},
		{"others in category order, each once", cats(0, -300, -200, -300, 0, -200), -100, []int64{-100, -300, -200}},
		{"the default named too", cats(-200, -100, -200), -100, []int64{-100, -200}},
	}
	for _, tt := range tests {
		if got := tt.d.Groups(tt.def); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Groups(%d) = %v, want %v", tt.name, tt.def, got, tt.want)
		}
	}
}
