package content

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// synonymsFile is the file of the search synonyms.
const synonymsFile = "synonyms.yaml"

// parseSynonyms reads synonyms.yaml: groups of terms that mean the same, trimmed and
// lower-cased. A term may be in one group only, or a search for it would match two
// unrelated groups.
func parseSynonyms(file string, data []byte) ([][]string, Problems) {
	c := &checker{file: file}
	items, _ := c.topList(data, "synonyms", "- [term, term, ...]")
	var groups [][]string
	termLine := map[string]int{} // over all groups
	for _, g := range items {
		if g.Kind != yaml.SequenceNode {
			c.add(g.Line, "a synonym group must be a list of terms, e.g. [骑手, 外卖小哥, rider]")
			continue
		}
		var group []string
		inGroup := map[string]bool{}
		for _, t := range g.Content {
			t = deref(t)
			term, ok := c.str(t, "a term")
			if !ok {
				continue
			}
			term = strings.ToLower(term)
			if term == "" {
				c.add(t.Line, "empty term in synonym group")
				continue
			}
			if inGroup[term] {
				c.add(t.Line, "term %q given twice in this group", term)
				continue
			}
			inGroup[term] = true
			if line, elsewhere := termLine[term]; elsewhere {
				c.add(t.Line, "term %q is also in the group at line %d: a term may be in one group only", term, line)
				continue
			}
			termLine[term] = t.Line
			group = append(group, term)
		}
		if len(inGroup) < 2 {
			c.add(g.Line, "a synonym group needs at least two different terms")
		}
		groups = append(groups, group)
	}
	return groups, c.sorted()
}
