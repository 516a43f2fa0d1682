package content

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// writeFiles writes files (slash-separated name → content) into a fresh folder and
// returns the folder.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Two categories, one policy with the fields it needs: the line numbers below are
// those of these files.
const (
	twoCategories = `categories:
  - id: cat
    name: {zh: 类别, en: Category}
    roles: [rider]
  - id: other-cat
    name: {zh: 其他}
`
	// Lines 1 to 8.
	policyFM = `---
id: p
title: {zh: 标题, en: Title}
category: cat
audience: [rider]
keywords: [社保]
summary: {zh: 摘要}
---
`
	// Lines 9 to 11.
	policyBody = `## zh
### 怎么办
去中心。
`
)

// withFiles returns a valid content folder's files, one policy p.md, changed by
// changes; a change to "" removes the file.
func withFiles(changes map[string]string) map[string]string {
	files := map[string]string{
		"points.yaml":            onePoint,
		"policy_categories.yaml": twoCategories,
		"policies/p.md":          policyFM + policyBody,
	}
	for name, data := range changes {
		files[name] = data
		if data == "" {
			delete(files, name)
		}
	}
	return files
}

// withFM returns p.md with its front matter's line old replaced by new.
func withFM(old, new string) map[string]string {
	return withFiles(map[string]string{"policies/p.md": strings.Replace(policyFM, old, new, 1) + policyBody})
}

// withBody returns p.md with body after the front matter, which ends on line 8.
func withBody(body string) map[string]string {
	return withFiles(map[string]string{"policies/p.md": policyFM + body})
}

func TestLoadDemoPolicies(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatalf(`Load(""): %v`, err)
	}
	if len(c.Policies) != 29 || len(c.Categories) != 10 || len(c.Synonyms) != 37 {
		t.Errorf("demo has %d policies, %d categories, %d synonym groups; want 29, 10, 37", len(c.Policies), len(c.Categories), len(c.Synonyms))
	}
	if !slices.IsSortedFunc(c.Policies, func(a, b Policy) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("demo policies are not sorted by id")
	}
	used := map[string]bool{}
	for _, p := range c.Policies {
		used[p.Category] = true
		if _, ok := c.Category(p.Category); !ok {
			t.Errorf("demo policy %s: category %q does not exist", p.ID, p.Category)
		}
		if got, ok := c.Policy(p.ID); !ok || got.ID != p.ID {
			t.Errorf("Policy(%q) = %q, %v", p.ID, got.ID, ok)
		}
		if p.Title.EN == "" || p.Summary.EN == "" || len(p.Body.ZH) == 0 || len(p.Body.EN) == 0 {
			t.Errorf("demo policy %s lacks a title, summary or body in one of zh, en", p.ID)
		}
	}
	for _, cat := range c.Categories {
		if !used[cat.ID] {
			t.Errorf("demo category %s has no policy", cat.ID)
		}
	}
	if _, ok := c.Policy("sources"); ok {
		t.Error(`Policy("sources") found a policy: SOURCES.md is notes, not a policy`)
	}
	if _, ok := c.Category("nope"); ok {
		t.Error(`Category("nope") found a category that does not exist`)
	}
	legal, _ := c.Policy("legal-aid")
	want := Policy{
		ID:        "legal-aid",
		Category:  "legal-aid",
		Audience:  Roles,
		DocNumber: "中华人民共和国主席令第九十三号",
		Issued:    time.Date(2021, 8, 20, 0, 0, 0, 0, time.UTC),
		Effective: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC),
		Source:    "http://www.faxin.cn/lib/zyfl/zyflcontent.aspx?gid=A304308&libid=010101",
		Verified:  true,
	}
	if diff := cmp.Diff(want, legal, cmpopts.IgnoreFields(Policy{}, "Title", "Issuer", "Keywords", "Summary", "Body")); diff != "" {
		t.Errorf("demo legal-aid (-want +got):\n%s", diff)
	}
	if got := DemoFiles(); !slices.Contains(got, "policies/SOURCES.md") || !slices.Contains(got, "policies/legal-aid.md") || !slices.Contains(got, "synonyms.yaml") {
		t.Errorf("DemoFiles() = %q, want policies/SOURCES.md, policies/legal-aid.md and synonyms.yaml among them", got)
	}
}

// TestLoadPolicy checks everything a policy file can say, in LF and CRLF files.
func TestLoadPolicy(t *testing.T) {
	const file = `---
id: p
title: {zh: 标题, en: Title}
category: other-cat
audience: [rider, truck]
issuer: {zh: 国务院, en: State Council}
doc_number: "国务院令第586号"
issued: 2010-12-20
effective: "2011-01-01"
expires: 2011-01-01
source: "https://example.gov.cn/a?b=c"
verified: true
keywords: [" 工伤 ", injury]
summary: {zh: 摘要, en: Summary}
---

## zh
### 谁可以申请

第一行；
#### 小标题
- 第二行

### 怎么办
去中心。

## en
### 谁可以申请
Same heading as in zh: headings are unique within a language only.
`
	want := Policy{
		ID:        "p",
		Title:     Text{ZH: "标题", EN: "Title"},
		Category:  "other-cat",
		Audience:  []string{"rider", "truck"},
		Issuer:    Text{ZH: "国务院", EN: "State Council"},
		DocNumber: "国务院令第586号",
		Issued:    time.Date(2010, 12, 20, 0, 0, 0, 0, time.UTC),
		Effective: time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC),
		Expires:   time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC),
		Source:    "https://example.gov.cn/a?b=c",
		Verified:  true,
		Keywords:  []string{"工伤", "injury"},
		Summary:   Text{ZH: "摘要", EN: "Summary"},
		Body: Body{
			ZH: []Section{{"谁可以申请", "第一行；\n#### 小标题\n- 第二行"}, {"怎么办", "去中心。"}},
			EN: []Section{{"谁可以申请", "Same heading as in zh: headings are unique within a language only."}},
		},
	}
	for name, data := range map[string]string{"LF": file, "CRLF": strings.ReplaceAll(file, "\n", "\r\n")} {
		c, err := Load(writeFiles(t, withFiles(map[string]string{"policies/p.md": data})))
		if err != nil {
			t.Fatalf("Load(%s policy): %v", name, err)
		}
		if diff := cmp.Diff([]Policy{want}, c.Policies); diff != "" {
			t.Errorf("Load(%s policy) (-want +got):\n%s", name, diff)
		}
	}
}

func TestPolicyProblems(t *testing.T) {
	const roles = "courier, rider, ride_hailing, truck, merchant, other"
	long := strings.Repeat("a", 49)
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		// Front matter.
		{"no front matter", withFiles(map[string]string{"policies/p.md": policyBody}), []string{
			`policies/p.md:1: a policy starts with front matter: a line "---", the fields (id: ..., title: ...), and another "---"`,
		}},
		{"front matter not closed", withFiles(map[string]string{"policies/p.md": strings.TrimSuffix(policyFM, "---\n") + policyBody}), []string{
			`policies/p.md:1: the front matter has no closing "---" line: a policy starts with front matter: a line "---", the fields (id: ..., title: ...), and another "---"`,
		}},
		{"empty front matter", withFiles(map[string]string{"policies/p.md": "---\n---\n" + policyBody}), []string{
			`policies/p.md:1: the front matter is empty: a policy starts with front matter: a line "---", the fields (id: ..., title: ...), and another "---"`,
		}},
		{"front matter not fields", withFiles(map[string]string{"policies/p.md": "---\n- id: p\n---\n" + policyBody}), []string{
			`policies/p.md:2: the front matter must be fields (id: ..., title: ...)`,
		}},
		{"front matter syntax", withFM("title: {zh: 标题, en: Title}", "title: {zh: 标题, en: Title"), []string{
			`policies/p.md:3: YAML syntax: did not find expected ',' or '}'`,
		}},
		{"unknown field", withFM("keywords:", "tags: [x]\nkeywords:"), []string{
			`policies/p.md:6: unknown front matter field "tags" (want id, title, category, audience, issuer, doc_number, issued, effective, expires, source, verified, keywords, summary)`,
		}},
		{"field given twice", withFM("category: cat", "category: cat\ncategory: cat"), []string{
			`policies/p.md:5: "category" given twice (first at line 4)`,
		}},
		{"required fields missing", withFiles(map[string]string{"policies/p.md": "---\nissuer: {zh: 国务院}\n---\n" + policyBody}), []string{
			`policies/p.md:2: the front matter has no id`,
			`policies/p.md:2: the front matter has no title`,
			`policies/p.md:2: the front matter has no category`,
			`policies/p.md:2: the front matter has no audience`,
			`policies/p.md:2: the front matter has no keywords`,
			`policies/p.md:2: the front matter has no summary`,
		}},
		{"id not the file name", withFM("id: p", "id: q"), []string{
			`policies/p.md:2: id "q" must be the file name without .md, "p"`,
		}},
		{"id not lower case", withFM("id: p", "id: P"), []string{
			`policies/p.md:2: id "P" must be 1 to 48 characters of a-z, 0-9 and -`,
		}},
		{"id too long", withFiles(map[string]string{"policies/p.md": "", "policies/" + long + ".md": strings.Replace(policyFM, "id: p", "id: "+long, 1) + policyBody}), []string{
			`policies/` + long + `.md:2: id "` + long + `" must be 1 to 48 characters of a-z, 0-9 and -`,
		}},
		{"title without zh", withFM("title: {zh: 标题, en: Title}", "title: {en: Title}"), []string{
			`policies/p.md:3: title.zh is required`,
		}},
		{"unknown category", withFM("category: cat", "category: cats"), []string{
			`policies/p.md:4: category "cats" is not in policy_categories.yaml (want cat, other-cat)`,
		}},
		{"unknown role", withFM("audience: [rider]", "audience: [rider, driver]"), []string{
			`policies/p.md:5: unknown role "driver" in audience (want ` + roles + `)`,
		}},
		{"no audience", withFM("audience: [rider]", "audience: []"), []string{
			`policies/p.md:5: audience must name at least one role`,
		}},
		{"audience not a list", withFM("audience: [rider]", "audience: rider"), []string{
			`policies/p.md:5: audience must be a list of roles, e.g. [courier, rider]`,
		}},
		{"bad dates", withFM("keywords:", "issued: 2024-02-30\neffective: 2024-1-5\nexpires: soon\nkeywords:"), []string{
			`policies/p.md:6: issued "2024-02-30" is not a date: want YYYY-MM-DD, or "" when unknown`,
			`policies/p.md:7: effective "2024-1-5" is not a date: want YYYY-MM-DD, or "" when unknown`,
			`policies/p.md:8: expires "soon" is not a date: want YYYY-MM-DD, or "" when unknown`,
		}},
		{"expires before issued", withFM("keywords:", "issued: 2024-05-01\nexpires: 2024-04-30\nkeywords:"), []string{
			`policies/p.md:7: expires 2024-04-30 is before issued 2024-05-01`,
		}},
		{"source not a URL", withFM("keywords:", "source: www.gov.cn/zhengce\nkeywords:"), []string{
			`policies/p.md:6: source "www.gov.cn/zhengce" must be an absolute http(s) URL, or "" when unknown`,
		}},
		{"source not http", withFM("keywords:", "source: ftp://gov.cn/a\nkeywords:"), []string{
			`policies/p.md:6: source "ftp://gov.cn/a" must be an absolute http(s) URL, or "" when unknown`,
		}},
		{"source without host", withFM("keywords:", "source: \"https:///a\"\nkeywords:"), []string{
			`policies/p.md:6: source "https:///a" must be an absolute http(s) URL, or "" when unknown`,
		}},
		{"verified not a bool", withFM("keywords:", "verified: yes\nkeywords:"), []string{
			`policies/p.md:6: verified must be true or false`,
		}},
		{"verified without facts", withFM("keywords:", "verified: true\nissuer: {zh: \"\", en: State Council}\nissued: \"\"\nkeywords:"), []string{
			`policies/p.md:6: verified: true needs issuer.zh, issued and source; missing issuer.zh, issued, source`,
		}},
		{"verified without a source", withFM("keywords:", "verified: true\nissuer: {zh: 国务院}\nissued: 2024-05-01\nkeywords:"), []string{
			`policies/p.md:6: verified: true needs issuer.zh, issued and source; missing source`,
		}},
		{"no keywords", withFM("keywords: [社保]", "keywords: []"), []string{
			`policies/p.md:6: keywords must list at least one search word`,
		}},
		{"empty keywords", withFM("keywords: [社保]", `keywords: [社保, "", " "]`), []string{
			`policies/p.md:6: keyword 2 is empty`,
			`policies/p.md:6: keyword 3 is empty`,
		}},
		{"keywords not a list", withFM("keywords: [社保]", "keywords: 社保"), []string{
			`policies/p.md:6: keywords must be a list, e.g. [社保, social insurance]`,
		}},
		{"summary without zh", withFM("summary: {zh: 摘要}", "summary: {en: Summary}"), []string{
			`policies/p.md:7: summary.zh is required`,
		}},

		// Body.
		{"no body", withBody(""), []string{
			`policies/p.md:8: the body has no "## zh": after the front matter, write "## zh" and its "###" sections`,
		}},
		{"only en", withBody("## en\n### How\nGo to the centre.\n"), []string{
			`policies/p.md:8: the body has no "## zh": after the front matter, write "## zh" and its "###" sections`,
		}},
		{"text before the first ##", withBody("# 标题\n简介\n" + policyBody), []string{
			`policies/p.md:9: text before the first "##" heading: the body starts with "## zh"`,
		}},
		{"### before the first ##", withBody("### 怎么办\n" + policyBody), []string{
			`policies/p.md:9: text before the first "##" heading: the body starts with "## zh"`,
		}},
		{"unknown ## heading", withBody(policyBody + "## 附件\n### 表格\n见附件。\n"), []string{
			`policies/p.md:12: unknown heading "## 附件": the body has "## zh" and optionally "## en", each with "###" sections`,
		}},
		{"## zh without sections", withBody("## zh\n\n## en\n### How\nGo.\n"), []string{
			`policies/p.md:9: ## zh has no "###" sections`,
		}},
		{"## en without sections", withBody(policyBody + "## en\n"), []string{
			`policies/p.md:12: ## en has no "###" sections`,
		}},
		{"text before the first ###", withBody("## zh\n说明\n### 怎么办\n去中心。\n"), []string{
			`policies/p.md:10: text in ## zh before its first "###" section`,
		}},
		{"## zh given twice", withBody(policyBody + "## zh\n### 去哪里\n中心。\n"), []string{
			`policies/p.md:12: ## zh given twice (first at line 9)`,
		}},
		{"empty section", withBody("## zh\n### 怎么办\n\n### 去哪里\n中心。\n"), []string{
			`policies/p.md:10: section "怎么办" is empty`,
		}},
		{"empty last section", withBody(policyBody + "### 去哪里\n  \n"), []string{
			`policies/p.md:12: section "去哪里" is empty`,
		}},
		{"empty heading", withBody(policyBody + "###\n中心。\n"), []string{
			`policies/p.md:12: section heading is empty`,
		}},
		{"section heading given twice", withBody(policyBody + "### 怎么办\n再说一遍。\n"), []string{
			`policies/p.md:12: section "怎么办" given twice in ## zh (first at line 10)`,
		}},
		{"section too long", withBody("## zh\n### 怎么办\n" + strings.Repeat("字", 3001) + "\n"), []string{
			`policies/p.md:10: section "怎么办" is 3001 characters long; at most 3000 fit in a Telegram message with the card`,
		}},
		{"not UTF-8", withBody(policyBody + "\xff\xfe\n"), []string{
			`policies/p.md:12: the line is not valid UTF-8: save the file as UTF-8`,
		}},

		// Categories.
		{"categories missing", withFiles(map[string]string{"policy_categories.yaml": ""}), []string{
			`policy_categories.yaml: file not found; the policies need their categories`,
		}},
		{"no categories", withFiles(map[string]string{"policy_categories.yaml": "categories: []\n"}), []string{
			`policy_categories.yaml: there are no categories; policies need at least one`,
		}},
		{"categories not a list", withFiles(map[string]string{"policy_categories.yaml": "categories: cat\n"}), []string{
			`policy_categories.yaml:1: categories must be a list (- id: ...)`,
		}},
		{"category problems", withFiles(map[string]string{"policy_categories.yaml": twoCategories + `  - id: cat
    name: {zh: 又一个}
  - id: Cat_2
    name: {en: Two}
    roles: [rider, driver]
  - name: {zh: 无}
    roles: rider
    order: 3
  - cat-3
`}), []string{
			`policy_categories.yaml:7: duplicate id "cat" (first at line 2)`,
			`policy_categories.yaml:9: id "Cat_2" must be 1 to 32 characters of a-z, 0-9 and -`,
			`policy_categories.yaml:10: name.zh is required`,
			`policy_categories.yaml:11: unknown role "driver" in roles (want ` + roles + `)`,
			`policy_categories.yaml:12: category has no id`,
			`policy_categories.yaml:13: roles must be a list of roles, e.g. [courier, rider]`,
			`policy_categories.yaml:14: unknown category field "order" (want id, name, roles)`,
			`policy_categories.yaml:15: a category must be a mapping (id: ..., name: ..., roles: ...)`,
		}},
		{"category without name, id too long", withFiles(map[string]string{"policy_categories.yaml": twoCategories + "  - id: " + strings.Repeat("c", 33) + "\n"}), []string{
			`policy_categories.yaml:7: id "` + strings.Repeat("c", 33) + `" must be 1 to 32 characters of a-z, 0-9 and -`,
			`policy_categories.yaml:7: category has no name`,
		}},
		// A category file that cannot be read is reported once, not in every policy.
		{"categories unreadable", withFiles(map[string]string{"policy_categories.yaml": "categories:\n  - id: cat\n   name: {zh: 类别}\n"}), []string{
			`policy_categories.yaml:3: YAML syntax: did not find expected '-' indicator`,
		}},

		// Synonyms.
		{"synonym problems", withFiles(map[string]string{"synonyms.yaml": `synonyms:
  - [骑手, Rider, 外卖小哥]
  - [配送员, rider]
  - [网约车]
  - [Truck, truck]
  - [社保, "", ~]
  - 个体户
  - [[专车], 快车]
  - - 货车
    - 骑手
`}), []string{
			`synonyms.yaml:3: term "rider" is also in the group at line 2: a term may be in one group only`,
			`synonyms.yaml:4: a synonym group needs at least two different terms`,
			`synonyms.yaml:5: term "truck" given twice in this group`,
			`synonyms.yaml:5: a synonym group needs at least two different terms`,
			`synonyms.yaml:6: empty term in synonym group`,
			`synonyms.yaml:6: empty term in synonym group`,
			`synonyms.yaml:6: a synonym group needs at least two different terms`,
			`synonyms.yaml:7: a synonym group must be a list of terms, e.g. [骑手, 外卖小哥, rider]`,
			`synonyms.yaml:8: a term must be a single value`,
			`synonyms.yaml:8: a synonym group needs at least two different terms`,
			`synonyms.yaml:10: term "骑手" is also in the group at line 2: a term may be in one group only`,
		}},
		{"synonyms not a list", withFiles(map[string]string{"synonyms.yaml": "synonym:\n  - [骑手, rider]\n"}), []string{
			`synonyms.yaml:1: unknown top-level key "synonym" (want synonyms)`,
			`synonyms.yaml:1: missing "synonyms:" list`,
		}},

		// Every file's problems, file by file.
		{"all files", withFiles(map[string]string{
			"points.yaml":            strings.Replace(onePoint, "[41.77, 123.45]", "[0, 0]", 1),
			"policy_categories.yaml": twoCategories + "  - id: cat\n    name: {zh: 重复}\n",
			"synonyms.yaml":          "synonyms:\n  - [骑手]\n",
			"policies/a.md":          strings.Replace(policyFM, "id: p", "id: a", 1) + "## zh\n",
			"policies/p.md":          withFM("category: cat", "category: nope")["policies/p.md"],
		}), []string{
			`points.yaml:4: location 0, 0 is not a place: give the point's coordinates`,
			`policy_categories.yaml:7: duplicate id "cat" (first at line 2)`,
			`synonyms.yaml:2: a synonym group needs at least two different terms`,
			`policies/a.md:9: ## zh has no "###" sections`,
			`policies/p.md:4: category "nope" is not in policy_categories.yaml (want cat, other-cat)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblems(t, writeFiles(t, tt.files), tt.want) })
	}
}

// TestPolicyLimits checks the valid side of the rules' edges.
func TestPolicyLimits(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"section of 3000 characters", withBody("## zh\n### 怎么办\n" + strings.Repeat("字", 3000) + "\n")},
		{"expires the day it is issued", withFM("keywords:", "issued: 2024-05-01\nexpires: 2024-05-01\nkeywords:")},
		{"unknown facts empty or null", withFM("keywords:", "issuer: {zh: \"\"}\ndoc_number:\nissued: \"\"\neffective: ~\nexpires: \"\"\nsource: \"\"\nverified: false\nkeywords:")},
		{"verified without a doc number", withFM("keywords:", "verified: true\nissuer: {zh: 国务院}\nissued: 2024-05-01\nsource: http://gov.cn/a\ndoc_number: \"\"\nkeywords:")},
		{"id of 48 characters", withFiles(map[string]string{"policies/p.md": "", "policies/" + strings.Repeat("a", 48) + ".md": strings.Replace(policyFM, "id: p", "id: "+strings.Repeat("a", 48), 1) + policyBody})},
		{"category id of 32 characters", withFiles(map[string]string{
			"policy_categories.yaml": "categories:\n  - id: " + strings.Repeat("c", 32) + "\n    name: {zh: 类别}\n",
			"policies/p.md":          withFM("category: cat", "category: "+strings.Repeat("c", 32))["policies/p.md"],
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(writeFiles(t, tt.files)); err != nil {
				t.Errorf("Load(%v) = %v, want no problems", tt.files, err)
			}
		})
	}
}

// TestPolicyFilesOptional checks which files a CONTENT_DIR needs, and that only
// policies/[a-z0-9-]+.md are policies.
func TestPolicyFilesOptional(t *testing.T) {
	tests := []struct {
		name         string
		files        map[string]string
		policies     []string
		categories   int
		synonymCount int
	}{
		{"points only", map[string]string{"points.yaml": onePoint}, nil, 0, 0},
		{"empty policies folder", map[string]string{"points.yaml": onePoint, "policies/.keep": ""}, nil, 0, 0},
		{"categories without policies", withFiles(map[string]string{"policies/p.md": ""}), nil, 2, 0},
		{"notes are not policies", withFiles(map[string]string{
			"policies/SOURCES.md":     "# Sources\nnot a policy\n",
			"policies/README.md":      "not a policy\n",
			"policies/Upper.md":       "not a policy\n",
			"policies/under_score.md": "not a policy\n",
			"policies/p.md.orig":      "not a policy\n",
			"policies/q.txt":          "not a policy\n",
			"policies/dir.md/x.md":    "not a policy\n",
			"policies/2-b.md":         strings.Replace(policyFM, "id: p", "id: 2-b", 1) + policyBody,
			"policies/2.md":           strings.Replace(policyFM, "id: p", "id: 2", 1) + policyBody,
		}), []string{"2", "2-b", "p"}, 2, 0},
		{"synonyms", withFiles(map[string]string{"synonyms.yaml": "synonyms:\n  - [骑手, rider]\n"}), []string{"p"}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeFiles(t, tt.files))
			if err != nil {
				t.Fatalf("Load(%v): %v", tt.files, err)
			}
			var ids []string
			for _, p := range c.Policies {
				ids = append(ids, p.ID)
			}
			if !slices.Equal(ids, tt.policies) || len(c.Categories) != tt.categories || len(c.Synonyms) != tt.synonymCount {
				t.Errorf("Load(%v) = policies %q, %d categories, %d synonym groups; want %q, %d, %d",
					tt.files, ids, len(c.Categories), len(c.Synonyms), tt.policies, tt.categories, tt.synonymCount)
			}
		})
	}
}

func TestSynonyms(t *testing.T) {
	c, err := Load(writeFiles(t, withFiles(map[string]string{"synonyms.yaml": `synonyms:
  - [" 骑手 ", Delivery Rider, RIDER]
  - - 个体户
    - Sole  Proprietor
    - "12348"
`})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := [][]string{{"骑手", "delivery rider", "rider"}, {"个体户", "sole  proprietor", "12348"}}
	if diff := cmp.Diff(want, c.Synonyms); diff != "" {
		t.Errorf("Synonyms (-want +got):\n%s", diff)
	}
}

func TestCategories(t *testing.T) {
	c, err := Load(writeFiles(t, withFiles(nil)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []Category{
		{ID: "cat", Name: Text{ZH: "类别", EN: "Category"}, Roles: []string{"rider"}},
		{ID: "other-cat", Name: Text{ZH: "其他"}},
	}
	if diff := cmp.Diff(want, c.Categories); diff != "" {
		t.Errorf("Categories (-want +got):\n%s", diff)
	}
	if got, ok := c.Category("other-cat"); !ok || got.ID != "other-cat" {
		t.Errorf(`Category("other-cat") = %+v, %v`, got, ok)
	}
}

func TestExpired(t *testing.T) {
	p := Policy{Expires: time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)}
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		p    Policy
		at   time.Time
		want bool
	}{
		{p, time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{p, time.Date(2027, 12, 31, 23, 59, 59, 999999999, time.UTC), false},
		{p, time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), true},
		// The day ends in the caller's time zone: midnight in Shenyang is 16:00 UTC.
		{p, time.Date(2027, 12, 31, 23, 59, 0, 0, cst), false},
		{p, time.Date(2028, 1, 1, 0, 0, 0, 0, cst), true},
		{p, time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{Policy{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		if got := tt.p.Expired(tt.at); got != tt.want {
			t.Errorf("Policy{Expires: %s}.Expired(%s) = %v, want %v", tt.p.Expires.Format(time.DateOnly), tt.at.Format(time.RFC3339Nano), got, tt.want)
		}
	}
}

// TestHashCoversEveryFile checks that a change to any loaded file changes the hash,
// and a change to notes does not.
func TestHashCoversEveryFile(t *testing.T) {
	base := withFiles(map[string]string{
		"synonyms.yaml":       "synonyms:\n  - [骑手, rider]\n",
		"policies/SOURCES.md": "notes\n",
	})
	load := func(files map[string]string) string {
		c, err := Load(writeFiles(t, files))
		if err != nil {
			t.Fatalf("Load(%v): %v", files, err)
		}
		return c.Hash
	}
	want := load(base)
	for name, data := range base {
		changed := maps.Clone(base)
		changed[name] = strings.TrimSuffix(data, "\n") + " " // the same length, so that only the bytes differ
		if got := load(changed); (got != want) != (name != "policies/SOURCES.md") {
			t.Errorf("editing %s: hash %s, before %s", name, got, want)
		}
	}
}

// TestHeadIsCapped: a title or summary too long for the card's first message or an
// inline result is reported with its line.
func TestHeadIsCapped(t *testing.T) {
	dir := t.TempDir()
	if err := Export(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "policies", "legal-aid.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	summary := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "summary:") {
			summary = i
		}
	}
	lines[summary] = "summary: {zh: " + strings.Repeat("长", 401) + "}"
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	want := fmt.Sprintf("policies/legal-aid.md:%d: summary.zh is 401 characters long; at most 400", summary+1)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load = %v, want %q", err, want)
	}
}
