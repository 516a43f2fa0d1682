// Search latency and index memory, measured on the 2-core development machine
// (AMD EPYC, linux/amd64, go1.26.8):
//
//	go test ./search/ -run '^$' -bench . -benchtime 3000x -count 3
//
//	                  p99 latency    mean     index heap  Build
//	demo (29)         0.93-1.10 ms   0.26 ms   1.1 MiB    0.02 s  target p99 <= 5 ms
//	10,000 synthetic  17.3-17.7 ms   4.9 ms   39 MiB      5.9 s   target p99 <= 20 ms
//
// The query mix is the 76 questions of testdata/relevance.yaml (the real ones
// asked by each role in turn, the off-topic ones without), over and over; p99
// is over every search of a run. Index heap is the heap in use after Build less
// before it.
//
// Alternatives measured with the same queries: bleve.NewMemOnly (upsidedown on
// a treap) took 10,000 policies to 119 ms at p99 and 2,329 MiB (Build 87 s),
// hence scorch, in memory too; searching the synonyms in bodies as well took
// the p99 to 21.5 ms (see plan). Not done: leaving out of the bodies the words
// found in more than half of them brought the p99 down to 14.9 ms.

package search

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nanta-district/bangban/content"
)

func BenchmarkSearchDemo(b *testing.B) {
	benchmarkSearch(b, func(b *testing.B) []Doc { return Docs(demoContent(b)) })
}

func BenchmarkSearch10k(b *testing.B) {
	benchmarkSearch(b, func(b *testing.B) []Doc { return synthetic(Docs(demoContent(b)), 10000) })
}

// built caches an index per benchmark across its runs (b.N grows), with the heap
// it took.
var built sync.Map // benchmark name → *builtIndex

type builtIndex struct {
	ix    *Index
	mib   float64
	build time.Duration
}

func benchmarkSearch(b *testing.B, docs func(*testing.B) []Doc) {
	v, ok := built.Load(b.Name())
	if !ok {
		d := docs(b)
		syn := demoContent(b).Synonyms
		before, start := heapInUse(), time.Now()
		ix, err := Build(d, syn)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		v = &builtIndex{ix: ix, mib: float64(heapInUse()-before) / (1 << 20), build: took}
		runtime.KeepAlive(d) // counted in before, so not to be freed before after
		built.Store(b.Name(), v)
	}
	bi := v.(*builtIndex)
	mix := queryMix(b)
	durs := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := mix[i%len(mix)]
		start := time.Now()
		if _, _, err := bi.ix.Search(q); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)*99/100])/float64(time.Millisecond), "p99-ms")
	b.ReportMetric(bi.mib, "index-MiB")
	b.ReportMetric(bi.build.Seconds(), "build-s")
}

// heapInUse returns the heap in use after collecting garbage: twice, because
// what bleve puts back in a sync.Pool survives the first collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// queryMix is every question of the relevance set: the real ones asked by each
// role in turn, the off-topic ones without a role.
func queryMix(b testing.TB) []Query {
	rs := loadRelevance(b)
	var mix []Query
	for i, q := range append(slices.Clone(rs.ZH), rs.EN...) {
		mix = append(mix, Query{Text: q.Q, Role: content.Roles[i%len(content.Roles)], Now: relevanceNow})
	}
	for _, q := range rs.OffTopic {
		mix = append(mix, Query{Text: q, Now: relevanceNow})
	}
	return mix
}

// synthetic makes n policies out of the demo ones, the same for the same input.
// Each takes its title, category and audience from one demo policy, the title
// varied with a place, a year and a keyword of any; half its keywords are that
// policy's, the others any policy's; its summary and body are sentences drawn
// from all the demo bodies, as long as a demo policy's on average. A tenth of
// them expire, between 2024 and 2029.
func synthetic(demo []Doc, n int) []Doc {
	r := rand.New(rand.NewPCG(2026, 5))
	var zhSentences, enSentences, keywords []string
	for _, d := range demo {
		zhSentences = append(zhSentences, sentences(d.BodyZH, "。；\n")...)
		enSentences = append(enSentences, sentences(d.BodyEN, ".;\n")...)
		keywords = append(keywords, d.Keywords...)
	}
	pick := func(from []string, k int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = from[r.IntN(len(from))]
		}
		return out
	}
	places := []string{"沈阳市", "辽宁省", "沈河区", "和平区", "大连市", "鞍山市", "全国"}
	placesEN := []string{"Shenyang", "Liaoning", "Shenhe", "Heping", "Dalian", "Anshan", "national"}
	docs := make([]Doc, n)
	for i := range docs {
		base := demo[i%len(demo)]
		p, year, kw := r.IntN(len(places)), 2015+r.IntN(12), keywords[r.IntN(len(keywords))]
		d := Doc{
			ID:        fmt.Sprintf("syn-%05d", i),
			TitleZH:   fmt.Sprintf("%s%s（%d年，%s）", places[p], base.TitleZH, year, kw),
			TitleEN:   fmt.Sprintf("%s %s (%d, %s)", placesEN[p], base.TitleEN, year, kw),
			SummaryZH: strings.Join(pick(zhSentences, 2), "。"),
			SummaryEN: strings.Join(pick(enSentences, 2), ". "),
			BodyZH:    strings.Join(pick(zhSentences, 14+r.IntN(14)), "。"),
			BodyEN:    strings.Join(pick(enSentences, 14+r.IntN(14)), ". "),
			Keywords:  append(slices.Clone(base.Keywords[:len(base.Keywords)/2]), pick(keywords, 5+r.IntN(6))...),
			Category:  base.Category,
			Audience:  base.Audience,
		}
		if r.IntN(10) == 0 {
			d.Expires = time.Date(2024+r.IntN(6), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		}
		docs[i] = d
	}
	return docs
}

// sentences splits text at any of seps, dropping blank pieces.
func sentences(text, seps string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
