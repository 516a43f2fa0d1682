package search

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// ids returns the ids of hits, in order.
func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

// rank returns the position of id in hits, or len(hits) when it is not there.
func rank(hits []Hit, id string) int {
	if i := slices.Index(ids(hits), id); i >= 0 {
		return i
	}
	return len(hits)
}

func TestRoleBoost(t *testing.T) {
	ix := demoIndex(t)
	tests := []struct {
		q, id        string
		better, than string // the roles for which id ranks higher, and lower
	}{
		// Earnings too low: the ride-hailing pay rules are a driver's policy.
		{"收入太低了", "transport-new-business-workers", "ride_hailing", "merchant"},
		// Subsidies: the income tax relief is a merchant's.
		{"有啥补贴政策", "individual-business-income-tax", "merchant", "ride_hailing"},
	}
	for _, tt := range tests {
		search := func(role string) []Hit {
			hits, _, err := ix.Search(Query{Text: tt.q, Role: role, Now: relevanceNow, Limit: 10})
			if err != nil {
				t.Fatalf("Search(%q, role %s): %v", tt.q, role, err)
			}
			return hits
		}
		better, than := search(tt.better), search(tt.than)
		if rank(better, tt.id) >= rank(than, tt.id) {
			t.Errorf("Search(%q): %s ranks %d for role %s (%v), want higher than %d for role %s (%v)",
				tt.q, tt.id, rank(better, tt.id), tt.better, ids(better), rank(than, tt.id), tt.than, ids(than))
		}
		// A boost, not a filter.
		if rank(than, tt.id) == len(than) {
			t.Errorf("Search(%q, role %s) = %v, want %s among them too", tt.q, tt.than, ids(than), tt.id)
		}
	}
}

func TestExpired(t *testing.T) {
	ix := demoIndex(t)
	// The individual-business income tax relief expires on 2027-12-31.
	const q, id = "个体户交个税有减免吗", "individual-business-income-tax"
	shenyang := time.FixedZone("CST", 8*3600)
	tests := []struct {
		now            time.Time
		includeExpired bool
		want           bool
	}{
		{time.Date(2027, 12, 31, 23, 59, 0, 0, shenyang), false, true},
		{time.Date(2028, 1, 1, 0, 1, 0, 0, shenyang), false, false},
		{time.Date(2028, 1, 1, 0, 1, 0, 0, shenyang), true, true},
		{time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC), true, true},
	}
	for _, tt := range tests {
		hits, _, err := ix.Search(Query{Text: q, Now: tt.now, IncludeExpired: tt.includeExpired})
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		if got := slices.Contains(ids(hits), id); got != tt.want {
			t.Errorf("Search(%q, now %v, include expired %v) = %v; has %s = %v, want %v", q, tt.now, tt.includeExpired, ids(hits), id, got, tt.want)
		}
	}
	// Policies without an expiry never expire.
	hits, _, err := ix.Search(Query{Text: "网约车证", Now: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(hits) == 0 || hits[0].ID != "ride-hailing-licences" {
		t.Errorf(`Search("网约车证", now 2099) = %v, %v; want ride-hailing-licences first`, ids(hits), err)
	}
}

func TestSearchEdges(t *testing.T) {
	ix := demoIndex(t)
	for _, q := range []string{"", " ", "?", "？！", "吗", "怎么办"} {
		hits, good, err := ix.Search(Query{Text: q})
		if err != nil || len(hits) != 0 || good {
			t.Errorf("Search(%q) = %v, %v, %v; want no hits, not good, no error", q, hits, good, err)
		}
	}
	hits, _, err := ix.Search(Query{Text: "社保", Now: relevanceNow})
	if err != nil || len(hits) != 5 {
		t.Errorf(`Search("社保") = %d hits, %v; want the default limit of 5`, len(hits), err)
	}
	hits, _, err = ix.Search(Query{Text: "社保", Now: relevanceNow, Limit: 2})
	if err != nil || len(hits) != 2 {
		t.Errorf(`Search("社保", limit 2) = %d hits, %v; want 2`, len(hits), err)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Errorf(`Search("社保") = %v, not best first`, hits)
		}
	}
	// Full-width letters, as phone keyboards type them, and upper case.
	folded, _, err := ix.Search(Query{Text: "ＶＡＴ exemption", Now: relevanceNow})
	plain, _, err2 := ix.Search(Query{Text: "vat exemption", Now: relevanceNow})
	if err != nil || err2 != nil || len(plain) == 0 || !slices.Equal(folded, plain) {
		t.Errorf(`Search("ＶＡＴ exemption") = %v, %v; want the hits of "vat exemption", %v, %v`, folded, err, plain, err2)
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		s, term string
		want    bool
	}{
		{"网约车证怎么办", "网约车证", true},
		{"跑滴滴的", "滴滴", true},
		{"vat exemption", "vat", true},
		{"private hire", "vat", false},
		{"a free lawyer?", "free lawyer", true},
		{"12333能打吗", "12333", true},
		{"123334", "12333", false},
	}
	for _, tt := range tests {
		if got := contains(tt.s, tt.term); got != tt.want {
			t.Errorf("contains(%q, %q) = %v, want %v", tt.s, tt.term, got, tt.want)
		}
	}
}

func TestBuild(t *testing.T) {
	syn := [][]string{{"骑手", "外卖小哥"}, {"孤单"}}
	ix, err := Build([]Doc{{ID: "a", TitleZH: "骑手的权益"}, {ID: "b", TitleZH: "个体户贷款"}}, syn)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer ix.Close()
	if ix.Len() != 2 {
		t.Errorf("Len() = %d, want 2", ix.Len())
	}
	hits, good, err := ix.Search(Query{Text: "外卖小哥有啥权益"})
	if err != nil || len(hits) != 1 || hits[0].ID != "a" || !good {
		t.Errorf(`Search("外卖小哥有啥权益") = %v, %v, %v; want a, good, through the synonym`, hits, good, err)
	}

	for _, docs := range [][]Doc{
		{{ID: "a"}, {ID: ""}},
		{{ID: "a"}, {ID: "b"}, {ID: "a"}},
	} {
		if ix, err := Build(docs, nil); err == nil {
			ix.Close()
			t.Errorf("Build(%v) = nil error, want one for a missing or repeated id", docs)
		}
	}
}

func TestDocs(t *testing.T) {
	c := demoContent(t)
	docs := Docs(c)
	if len(docs) != len(c.Policies) || len(docs) == 0 {
		t.Fatalf("Docs(demo) has %d docs, want one per policy (%d)", len(docs), len(c.Policies))
	}
	for i, d := range docs {
		p := c.Policies[i]
		if d.ID != p.ID || d.TitleZH != p.Title.ZH || d.SummaryEN != p.Summary.EN || !d.Expires.Equal(p.Expires) ||
			!slices.Equal(d.Audience, p.Audience) || !slices.Equal(d.Keywords, p.Keywords) || d.Category != p.Category {
			t.Errorf("Docs(demo)[%d] = %+v, does not match policy %s", i, d, p.ID)
		}
		for _, s := range p.Body.ZH {
			if !strings.Contains(d.BodyZH, s.Heading) || !strings.Contains(d.BodyZH, s.Text) {
				t.Errorf("Docs(demo)[%d].BodyZH lacks section %q", i, s.Heading)
			}
		}
		if len(p.Body.EN) > 0 && !strings.Contains(d.BodyEN, p.Body.EN[0].Text) {
			t.Errorf("Docs(demo)[%d].BodyEN lacks its first section", i)
		}
	}
}
