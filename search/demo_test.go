package search

import (
	"testing"

	"github.com/nanta-district/bangban/content"
)

// demoContent loads the embedded demo content.
func demoContent(t testing.TB) *content.Content {
	t.Helper()
	c, err := content.Load("")
	if err != nil {
		t.Fatalf(`content.Load(""): %v`, err)
	}
	return c
}

// demoIndex builds the index of the demo content's policies.
func demoIndex(t testing.TB) *Index {
	t.Helper()
	c := demoContent(t)
	ix, err := Build(Docs(c), c.Synonyms)
	if err != nil {
		t.Fatalf("Build(demo): %v", err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}
