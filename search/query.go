package search

import (
	"slices"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/search/query"
	"golang.org/x/text/width"
)

// fillers are the question words and particles of colloquial Chinese. They are
// cut out of a question (replaced by a space, so that the words on either side do
// not form a bigram) because nearly every policy contains them ("能得到什么",
// "怎么申请"), so they would only let greetings and chatter match. English stop
// words are left to the English analyzer. Longer fillers come first: the replacer
// tries them in order.
var fillers = strings.NewReplacer(
	"可不可以", " ",
	"怎么办", " ", "怎么样", " ", "为什么", " ",
	"怎么", " ", "什么", " ", "咋整", " ", "咋办", " ", "请问", " ", "一下", " ",
	"有没有", " ", "是不是", " ", "能不能", " ", "可以", " ",
	"我们", " ", "你们", " ", "哪里", " ", "哪儿", " ",
	"吗", " ", "呢", " ", "吧", " ", "啊", " ", "呀", " ", "嘛", " ", "啥", " ", "咋", " ",
	"俺", " ", "我", " ", "你", " ", "的", " ", "了", " ", "谁", " ", "哪", " ",
)

// normalise folds full-width letters and digits, which phone keyboards produce,
// and lowers the case.
func normalise(s string) string {
	return strings.ToLower(width.Fold.String(s))
}

// term is a synonym, normalised, with the tokens it is searched by.
type term struct {
	text   string   // normalised, to find in questions
	lang   lang     // the fields it is searched in
	tokens []string // without fillers; none for a term that is all filler
	topics []int32  // the tokens' numbers in vocab; nil unless all are there
}

// synonymTerms normalises and analyses the terms of each group, dropping empty
// terms and groups left with fewer than two. It needs the policies' vocab.
func (ix *Index) synonymTerms(groups [][]string) [][]term {
	var out [][]term
	for _, g := range groups {
		var terms []term
		for _, t := range g {
			if t = strings.TrimSpace(normalise(t)); t != "" {
				l := langOf(t)
				tm := term{text: t, lang: l, tokens: ix.analyze(l, fillers.Replace(t))}
				for _, tok := range tm.tokens {
					id, ok := ix.vocab[tok]
					if !ok {
						tm.topics = nil
						break
					}
					tm.topics = append(tm.topics, id)
				}
				terms = append(terms, tm)
			}
		}
		if len(terms) >= 2 {
			out = append(out, terms)
		}
	}
	return out
}

// lang is a language of the index.
type lang int

const (
	langZH lang = iota
	langEN
)

func (l lang) analyzer() string {
	if l == langEN {
		return en.AnalyzerName
	}
	return cjk.AnalyzerName
}

func (l lang) fields() []field {
	if l == langEN {
		return enFields
	}
	return zhFields
}

// langOf returns the language of a text: Chinese unless it has Latin letters and
// no Chinese characters (numbers such as 12333 occur in the Chinese texts).
func langOf(s string) lang {
	if !hasHan(s) && hasLatin(s) {
		return langEN
	}
	return langZH
}

// plan is how a question is searched and judged.
type plan struct {
	query query.Query // nil when there is nothing to search for
	// topics are what the question asks about: its words that are in some
	// policy's title or keywords, and the synonym groups it mentions. The best
	// hit is good when its own titles and keywords cover enough of them.
	words  []int32 // numbered in vocab
	groups [][]term
}

// plan builds the bleve query for a question. Each word of the question (a bigram
// in Chinese) is a clause of its own, so that bleve's coordination factor (the
// share of clauses a policy matches) favours policies that cover more of the
// question rather than one word many times; the other terms of the synonym groups
// the question mentions are further, lower-weighted clauses.
func (ix *Index) plan(question string) plan {
	s := normalise(question)
	langs := []lang{langOf(s)}
	if hasHan(s) && hasLatin(s) {
		langs = []lang{langZH, langEN}
	}
	var p plan
	var clauses []query.Query
	text := fillers.Replace(s)
	for _, l := range langs {
		for _, tok := range ix.analyze(l, text) {
			if id, ok := ix.vocab[tok]; ok {
				p.words = append(p.words, id)
			}
			per := make([]query.Query, len(l.fields()))
			for i, f := range l.fields() {
				per[i] = termQuery(tok, f.name, f.boost)
			}
			clauses = append(clauses, query.NewDisjunctionQuery(per))
		}
	}
	for _, g := range ix.synonyms {
		if !slices.ContainsFunc(g, func(t term) bool { return contains(s, t.text) }) {
			continue
		}
		p.groups = append(p.groups, g)
		for _, t := range g {
			if len(t.tokens) == 0 || contains(s, t.text) || !slices.Contains(langs, t.lang) {
				continue
			}
			for _, f := range t.lang.fields() {
				if f.body {
					// The question's own words are searched in bodies;
					// its synonyms too took the p99 latency at 10,000
					// policies from 17.5 ms to 21.5, over the 20 ms
					// target, for no gain in the relevance test (MRR
					// 0.891 rather than 0.899).
					continue
				}
				// A synonym must match as a whole, hence AND over its bigrams
				// or words; its weight is shared among them, so that a long
				// synonym counts no more than a short one.
				and := make([]query.Query, len(t.tokens))
				for i, tok := range t.tokens {
					and[i] = termQuery(tok, f.name, f.boost*synonymBoost/float64(len(t.tokens)))
				}
				clauses = append(clauses, query.NewConjunctionQuery(and))
			}
		}
	}
	if len(clauses) > 0 {
		p.query = query.NewDisjunctionQuery(clauses)
	}
	return p
}

// coverage returns the share of the question's topics that the titles and
// keywords of the policy id cover, 0 for a question without topics.
func (ix *Index) coverage(p plan, id string) float64 {
	n := len(p.words) + len(p.groups)
	if n == 0 {
		return 0
	}
	doc := ix.topics[id]
	has := func(t int32) bool {
		_, ok := slices.BinarySearch(doc, t)
		return ok
	}
	covered := 0
	for _, w := range p.words {
		if has(w) {
			covered++
		}
	}
	for _, g := range p.groups {
		if slices.ContainsFunc(g, func(t term) bool {
			return t.topics != nil && !slices.ContainsFunc(t.topics, func(w int32) bool { return !has(w) })
		}) {
			covered++
		}
	}
	return float64(covered) / float64(n)
}

func termQuery(term, field string, boost float64) *query.TermQuery {
	q := query.NewTermQuery(term)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}

// analyze returns the distinct tokens of s in language l.
func (ix *Index) analyze(l lang, s string) []string {
	var out []string
	for _, t := range ix.idx.Mapping().AnalyzerNamed(l.analyzer()).Analyze([]byte(s)) {
		if !slices.Contains(out, string(t.Term)) {
			out = append(out, string(t.Term))
		}
	}
	return out
}

// contains reports whether s contains term: anywhere for Chinese, which has no
// spaces, and as whole words otherwise ("vat" is not in "private").
func contains(s, term string) bool {
	if hasHan(term) {
		return strings.Contains(s, term)
	}
	for i := 0; ; {
		j := strings.Index(s[i:], term)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(term)
		if (start == 0 || !isWordByte(s[start-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		i = start + 1
	}
}

// isWordByte reports whether b is a lower-case ASCII letter or a digit (the
// question is lower-cased).
func isWordByte(b byte) bool {
	return 'a' <= b && b <= 'z' || '0' <= b && b <= '9'
}

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

func hasLatin(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Latin, r) }) >= 0
}
