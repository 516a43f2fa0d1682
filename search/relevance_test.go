package search

import (
	"os"
	"slices"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// relevanceNow is the day the relevance set is asked on: fixed, so that the
// policies expiring at the end of 2027 stay in it.
var relevanceNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// question is a question of testdata/relevance.yaml and the ids that must be in
// its top 3.
type question struct {
	Q    string   `yaml:"q"`
	Want []string `yaml:"want"`
}

// relevanceSet is testdata/relevance.yaml.
type relevanceSet struct {
	ZH       []question `yaml:"zh"`
	EN       []question `yaml:"en"`
	OffTopic []string   `yaml:"off_topic"`
}

func loadRelevance(t testing.TB) relevanceSet {
	t.Helper()
	data, err := os.ReadFile("testdata/relevance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rs relevanceSet
	if err := yaml.Unmarshal(data, &rs); err != nil {
		t.Fatalf("testdata/relevance.yaml: %v", err)
	}
	return rs
}

func TestRelevance(t *testing.T) {
	rs := loadRelevance(t)
	if len(rs.ZH) < 40 || len(rs.EN) < 10 || len(rs.OffTopic) < 8 {
		t.Fatalf("relevance set has %d zh, %d en, %d off-topic questions; want at least 40, 10, 8", len(rs.ZH), len(rs.EN), len(rs.OffTopic))
	}
	ix := demoIndex(t)

	var found, wanted, goods int
	var rr float64
	questions := append(slices.Clone(rs.ZH), rs.EN...)
	for _, q := range questions {
		hits, good, err := ix.Search(Query{Text: q.Q, Now: relevanceNow, Limit: 10})
		if err != nil {
			t.Fatalf("Search(%q): %v", q.Q, err)
		}
		if good {
			goods++
		} else {
			t.Logf("not good: %q", q.Q)
		}
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		if len(q.Want) == 0 {
			t.Errorf("question %q wants no policy", q.Q)
		}
		var missed []string
		for _, w := range q.Want {
			wanted++
			if i := slices.Index(ids, w); i >= 0 && i < 3 {
				found++
			} else {
				missed = append(missed, w)
			}
		}
		for i, id := range ids {
			if slices.Contains(q.Want, id) {
				rr += 1 / float64(i+1)
				break
			}
		}
		if len(missed) > 0 {
			t.Logf("miss: %q wants %v; got %v", q.Q, missed, ids[:min(5, len(ids))])
		}
	}
	recall, mrr, goodShare := float64(found)/float64(wanted), rr/float64(len(questions)), float64(goods)/float64(len(questions))
	t.Logf("%d questions: recall@3 = %.3f, MRR = %.3f, good matches %.3f", len(questions), recall, mrr, goodShare)
	if recall < 0.9 {
		t.Errorf("recall@3 = %.3f, want at least 0.9", recall)
	}
	// The bot answers "no good match" to a question it is not good for: that
	// must stay rare for real questions.
	if goodShare < 0.9 {
		t.Errorf("%.3f of the questions have a good match, want at least 0.9", goodShare)
	}

	for _, q := range rs.OffTopic {
		hits, good, err := ix.Search(Query{Text: q, Now: relevanceNow})
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		if good {
			t.Errorf("Search(%q) = %v, good; want no good match", q, hits)
		}
	}
}
