package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runContent runs "bangban content ..." in process, as main does.
func runContent(t *testing.T, environ map[string]string, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"content"}, args...), env(environ), &out, &errOut)
	return out.String(), err
}

func TestContentCheckEmbedded(t *testing.T) {
	out, err := runContent(t, nil, "check")
	if err != nil || !regexp.MustCompile(`^content ok: 16 points, 29 policies in 10 categories, 37 synonym groups \(hash [0-9a-f]{12}\)\n$`).MatchString(out) {
		t.Errorf("content check (embedded) = %q, %v; want content ok: 16 points, 29 policies in 10 categories, 37 synonym groups (hash …)", out, err)
	}
}

func TestContentExportThenCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "content")
	out, err := runContent(t, nil, "export", dir)
	if err != nil || !strings.Contains(out, "wrote "+filepath.Join(dir, "points.yaml")+"\n") {
		t.Fatalf("content export %s = %q, %v; want it to name the file it wrote", dir, out, err)
	}
	embedded, _ := runContent(t, nil, "check")
	for name, environ := range map[string]map[string]string{
		"CONTENT_DIR":   {"CONTENT_DIR": dir},
		"--content-dir": nil,
	} {
		args := []string{"check"}
		if environ == nil {
			args = []string{"--content-dir", dir, "check"}
		}
		if out, err := runContent(t, environ, args...); err != nil || out != embedded {
			t.Errorf("content check of the exported folder by %s = %q, %v; want %q", name, out, err, embedded)
		}
	}
	if out, err := runContent(t, nil, "export", dir); err == nil || !strings.Contains(err.Error(), "already exists; not overwriting it") || out != "" {
		t.Errorf("second content export %s = %q, %v; want a refusal", dir, out, err)
	}
}

func TestContentCheckProblems(t *testing.T) {
	dir := t.TempDir()
	bad := "points:\n  - id: a\n    name: {zh: 甲}\n    location: [0, 0]\n  - id: a\n    name: {zh: 乙}\n    location: [41.77, 123.45]\n    phone: call me\n"
	if err := os.WriteFile(filepath.Join(dir, "points.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runContent(t, map[string]string{"CONTENT_DIR": dir}, "check")
	want := "content in " + dir + " has 3 problems:\n" +
		"points.yaml:4: location 0, 0 is not a place: give the point's coordinates\n" +
		"points.yaml:5: duplicate id \"a\" (first at line 2)\n" +
		"points.yaml:8: phone \"call me\" may contain only digits, spaces, +, -, ( and )"
	if err == nil || err.Error() != want || out != "" {
		t.Errorf("content check of bad content = %q, %v\nwant error:\n%s", out, err, want)
	}

	policy := "---\nid: p\ntitle: {zh: 标题}\ncategory: cat\naudience: [rider]\nkeywords: [社保]\nsummary: {zh: 摘要}\nverified: true\n---\n## zh\n### 怎么办\n去中心。\n"
	if err := os.Mkdir(filepath.Join(dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policies", "p.md"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runContent(t, map[string]string{"CONTENT_DIR": dir}, "check")
	if err == nil || !strings.HasSuffix(err.Error(), " has 5 problems:\n"+
		"points.yaml:4: location 0, 0 is not a place: give the point's coordinates\n"+
		"points.yaml:5: duplicate id \"a\" (first at line 2)\n"+
		"points.yaml:8: phone \"call me\" may contain only digits, spaces, +, -, ( and )\n"+
		"policy_categories.yaml: file not found; the policies need their categories\n"+
		"policies/p.md:8: verified: true needs issuer.zh, issued and source; missing issuer.zh, issued, source") {
		t.Errorf("content check of a bad policy = %v, want the points' problems, then the missing categories, then the policy's", err)
	}

	if _, err := runContent(t, map[string]string{"CONTENT_DIR": t.TempDir()}, "check"); err == nil || !strings.HasSuffix(err.Error(), "has 1 problem:\npoints.yaml: file not found") {
		t.Errorf("content check of an empty folder = %v, want points.yaml: file not found", err)
	}
}

func TestContentUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "usage: bangban content"},
		{[]string{"export"}, "content export needs one folder to write to"},
		{[]string{"export", "a", "b"}, "content export needs one folder to write to"},
		{[]string{"check", "somewhere"}, "content check takes no arguments; give the folder as CONTENT_DIR or --content-dir"},
		{[]string{"check", "--content-dir", "x"}, "flags go before the verb (bangban content --content-dir DIR check), not after: --content-dir"},
		{[]string{"validate"}, `unknown content command "validate"`},
	}
	for _, tt := range tests {
		out, err := runContent(t, nil, tt.args...)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !strings.Contains(err.Error(), contentUsage) || out != "" {
			t.Errorf("content %q = %q, %v; want an error starting %q, with the usage", tt.args, out, err, tt.want)
		}
	}
}
