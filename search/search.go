// Package search is an in-memory, Chinese-first full-text index of the district's policies.
package search

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Doc is one policy as the index sees it.
type Doc struct {
	ID                   string
	TitleZH, TitleEN     string
	SummaryZH, SummaryEN string
	BodyZH, BodyEN       string
	Keywords             []string // zh and en mixed
	Category             string
	Audience             []string  // roles: courier rider ride_hailing truck merchant other
	Expires              time.Time // zero: never
}

// Query is a question to the index.
type Query struct {
	Text           string
	Role           string    // the asker's role, "" if unknown: their policies rank higher
	Now            time.Time // expired policies (Expires before Now's day) are left out…
	IncludeExpired bool      // …unless asked
	Limit          int       // default 5
}

// Hit is one matching policy.
type Hit struct {
	ID    string
	Score float64
	// Coverage is the share of the question's topics the policy's titles and keywords
	// cover (0 to 1); the best hit's decides whether the match is good.
	Coverage float64
}

// Index is a searchable set of policies. It is safe for concurrent use.
type Index struct {
	idx      bleve.Index
	audience map[string][]string // by policy id; every policy has an entry
	// topics are the tokens of each policy's titles and keywords, the words an
	// editor chose to describe it, numbered in vocab: by policy id, sorted.
	topics   map[string][]int32
	vocab    map[string]int32
	synonyms [][]term // groups of two or more
}

// Field names. Each language has its own fields and analyzer: bigrams for Chinese
// (which has no spaces), stemming for English.
const (
	fTitleZH   = "title_zh"
	fTitleEN   = "title_en"
	fKeywordZH = "kw_zh"
	fKeywordEN = "kw_en"
	fSummaryZH = "summary_zh"
	fSummaryEN = "summary_en"
	fBodyZH    = "body_zh"
	fBodyEN    = "body_en"
	fExpires   = "expires" // the expiry day as yyyymmdd; absent when the policy never expires
)

// field is a searchable text field and its weight in the ranking.
type field struct {
	name  string
	boost float64
	body  bool // long: synonyms are not searched in it
}

// Fields by language, with boosts tuned on testdata/relevance.yaml: a word in the
// title says much more about a policy than the same word in its body.
var (
	zhFields = []field{{fTitleZH, 6, false}, {fKeywordZH, 4, false}, {fSummaryZH, 2, false}, {fBodyZH, 1, true}}
	enFields = []field{{fTitleEN, 6, false}, {fKeywordEN, 4, false}, {fSummaryEN, 2, false}, {fBodyEN, 1, true}}
)

const (
	// synonymBoost weighs the other terms of a synonym group the query mentions,
	// relative to the query's own words.
	synonymBoost = 0.3
	// coverageBoost raises the score of a policy by this much times its
	// coverage of the question's topics (see plan): a policy whose title and
	// keywords name what was asked beats one that mentions it in passing
	// (MRR 0.883 without, 0.899 with).
	coverageBoost = 1.0
	// roleBoost multiplies the score of a policy meant for the asker's role.
	roleBoost = 1.5
	// minCandidates is how many hits, at least, the coverage and role boosts
	// reorder (and at least 4 times the limit): policies further down seldom
	// come within their reach (3 times, together) of the top.
	minCandidates = 20
	// goodCoverage is the share of a question's topics (see plan) that the best
	// hit's titles and keywords must cover for a confident match. The bleve
	// score cannot be the test: it is normalised per question, so "what time is
	// it" (left with "time") scores higher than several real, longer questions. On
	// testdata/relevance.yaml no off-topic question has a topic at all (coverage
	// 0), while 64 of the 65 real questions reach 0.5 (the median is 1): the
	// best policy must be about at least half of what was asked, in the words
	// its editor chose to describe it.
	goodCoverage = 0.5
)

// Build indexes docs in memory. synonyms are groups of equivalent terms (in any
// language); a query that contains one term of a group also matches the others. It
// fails on a doc without an id or an id given twice.
func Build(docs []Doc, synonyms [][]string) (*Index, error) {
	// In memory, like bleve.NewMemOnly, but with bleve's scorch index rather
	// than NewMemOnly's upsidedown on a treap, which for 10,000 policies took
	// 2.3 GiB of heap and 119 ms per search at p99 (scorch: 39 MiB, 17.5 ms).
	idx, err := bleve.NewUsing("", indexMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("new index: %w", err)
	}
	ix := &Index{
		idx:      idx,
		audience: make(map[string][]string, len(docs)),
		topics:   make(map[string][]int32, len(docs)),
		vocab:    map[string]int32{},
	}
	if err := ix.add(docs); err != nil {
		idx.Close()
		return nil, fmt.Errorf("build index: %w", err)
	}
	ix.synonyms = ix.synonymTerms(synonyms)
	return ix, nil
}

// add indexes docs in one batch and records what Search needs besides bleve.
func (ix *Index) add(docs []Doc) error {
	b := ix.idx.NewBatch()
	for i, d := range docs {
		if d.ID == "" {
			return fmt.Errorf("policy %d has no id", i)
		}
		if _, dup := ix.audience[d.ID]; dup {
			return fmt.Errorf("policy id %q given twice", d.ID)
		}
		ix.audience[d.ID] = d.Audience
		kwZH, kwEN := splitKeywords(d.Keywords)
		var topics []int32
		for _, t := range []struct {
			l    lang
			text string
		}{{langZH, d.TitleZH + "\n" + kwZH}, {langEN, d.TitleEN + "\n" + kwEN}} {
			for _, tok := range ix.analyze(t.l, t.text) {
				id, ok := ix.vocab[tok]
				if !ok {
					id = int32(len(ix.vocab))
					ix.vocab[tok] = id
				}
				topics = append(topics, id)
			}
		}
		slices.Sort(topics)
		ix.topics[d.ID] = slices.Clip(slices.Compact(topics))
		if err := b.Index(d.ID, fieldsOf(d)); err != nil {
			return fmt.Errorf("policy %s: %w", d.ID, err)
		}
	}
	return ix.idx.Batch(b)
}

// indexMapping maps the fields of fieldsOf: text indexed for search only (nothing
// stored, no term vectors: hits carry ids, and nothing is highlighted).
func indexMapping() *mapping.IndexMappingImpl {
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, f := range zhFields {
		doc.AddFieldMappingsAt(f.name, text(cjk.AnalyzerName))
	}
	for _, f := range enFields {
		doc.AddFieldMappingsAt(f.name, text(en.AnalyzerName))
	}
	exp := bleve.NewNumericFieldMapping()
	exp.Store = false
	exp.IncludeInAll = false
	exp.DocValues = false
	doc.AddFieldMappingsAt(fExpires, exp)

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = cjk.AnalyzerName
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m
}

// fieldsOf returns the document bleve indexes for d.
func fieldsOf(d Doc) map[string]any {
	kwZH, kwEN := splitKeywords(d.Keywords)
	f := map[string]any{
		fTitleZH:   d.TitleZH,
		fTitleEN:   d.TitleEN,
		fKeywordZH: kwZH,
		fKeywordEN: kwEN,
		fSummaryZH: d.SummaryZH,
		fSummaryEN: d.SummaryEN,
		fBodyZH:    d.BodyZH,
		fBodyEN:    d.BodyEN,
	}
	if !d.Expires.IsZero() {
		f[fExpires] = float64(dayKey(d.Expires))
	}
	return f
}

// splitKeywords joins the Chinese keywords and the others, apart so that no
// bigram spans two of them.
func splitKeywords(keywords []string) (zh, en string) {
	var z, e []string
	for _, k := range keywords {
		if langOf(k) == langZH {
			z = append(z, k)
		} else {
			e = append(e, k)
		}
	}
	return strings.Join(z, " "), strings.Join(e, ", ")
}

// dayKey is t's calendar day in its own location as yyyymmdd.
func dayKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// Search returns the best matches, best first; good reports whether the best is a
// confident match (the bot says "no good match" honestly otherwise). A zero Now
// means the current time. A question with nothing to search for (punctuation
// only, say) has no hits and no error; errors are failures of the index.
func (ix *Index) Search(q Query) (hits []Hit, good bool, err error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 5
	}
	p := ix.plan(q.Text)
	if p.query == nil {
		return nil, false, nil
	}
	must := p.query
	if !q.IncludeExpired {
		now := q.Now
		if now.IsZero() {
			now = time.Now()
		}
		// Policies that never expire have no expiry field, so excluding the
		// expired ones (rather than keeping the valid ones) keeps them.
		today := float64(dayKey(now))
		expired := query.NewNumericRangeQuery(nil, &today)
		expired.SetField(fExpires)
		must = query.NewBooleanQuery([]query.Query{p.query}, nil, []query.Query{expired})
	}
	req := bleve.NewSearchRequestOptions(must, max(4*limit, minCandidates), 0, false)
	res, err := ix.idx.Search(req)
	if err != nil {
		return nil, false, fmt.Errorf("search %q: %w", q.Text, err)
	}
	rs := make([]Hit, len(res.Hits))
	for i, h := range res.Hits {
		c := ix.coverage(p, h.ID)
		rs[i] = Hit{h.ID, h.Score * (1 + coverageBoost*c), c}
		if q.Role != "" && slices.Contains(ix.audience[h.ID], q.Role) {
			rs[i].Score *= roleBoost
		}
	}
	slices.SortFunc(rs, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	rs = rs[:min(limit, len(rs))]
	return rs, len(rs) > 0 && rs[0].Coverage >= goodCoverage, nil
}

// Len returns the number of policies in the index.
func (ix *Index) Len() int { return len(ix.audience) }

// Close releases the index.
func (ix *Index) Close() error { return ix.idx.Close() }
