package content

import (
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// categoriesFile is the file of the policy categories.
const categoriesFile = "policy_categories.yaml"

var categoryIDRE = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// parseCategories reads policy_categories.yaml. Like parsePoints, it returns every
// category with an id, even with problems, so that policies are checked against them.
func parseCategories(file string, data []byte) ([]Category, Problems) {
	c := &checker{file: file}
	items, ok := c.topList(data, "categories", "- id: ...")
	if ok && len(items) == 0 {
		c.add(0, "there are no categories; policies need at least one")
	}
	cats := readUnique(c, items, c.category, func(cat Category) string { return cat.ID })
	return cats, c.sorted()
}

// category reads one category, reporting ok when it has an id.
func (c *checker) category(n *yaml.Node) (cat Category, ok bool) {
	if n.Kind != yaml.MappingNode {
		c.add(n.Line, "a category must be a mapping (id: ..., name: ..., roles: ...)")
		return Category{}, false
	}
	var hasID, hasName bool
	keys, vals := c.pairs(n)
	for i, k := range keys {
		v := vals[i]
		switch k.Value {
		case "id":
			hasID = true
			if !c.scalar(v, "id") {
				continue
			}
			cat.ID = v.Value
			if !categoryIDRE.MatchString(cat.ID) {
				c.add(v.Line, "id %q must be 1 to 32 characters of a-z, 0-9 and -", cat.ID)
			}
		case "name":
			cat.Name, hasName = c.text(v, "name"), true
		case "roles":
			cat.Roles = c.roles(v, "roles")
		default:
			c.add(k.Line, "unknown category field %q (want id, name, roles)", k.Value)
		}
	}
	if !hasID {
		c.add(n.Line, "category has no id")
	}
	if !hasName {
		c.add(n.Line, "category has no name")
	}
	return cat, cat.ID != ""
}

// roles reads a list of Roles.
func (c *checker) roles(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode {
		c.add(n.Line, "%s must be a list of roles, e.g. [courier, rider]", what)
		return nil
	}
	var roles []string
	for _, r := range n.Content {
		r = deref(r)
		if !c.scalar(r, "a role") {
			continue
		}
		if !slices.Contains(Roles, r.Value) {
			c.add(r.Line, "unknown role %q in %s (want %s)", r.Value, what, strings.Join(Roles, ", "))
			continue
		}
		roles = append(roles, r.Value)
	}
	return roles
}
