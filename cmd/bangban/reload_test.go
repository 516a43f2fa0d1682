package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/handlers"
	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/webhook"
)

const reloadToken = "reload-admin-token-0123456789"

// TestReload edits a CONTENT_DIR that two replicas share and reloads it through the admin
// API and SIGHUP: the other replica follows, a third with a folder of its own follows only
// once its folder matches, and invalid content changes nothing anywhere.
func TestReload(t *testing.T) {
	w := newWorld(t)
	shared, own := t.TempDir(), t.TempDir()
	for _, dir := range []string{shared, own} {
		if err := content.Export(dir); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"ADMIN_TOKEN=" + reloadToken}
	a, b := w.start(append(env, "CONTENT_DIR="+shared)...), w.start(append(env, "CONTENT_DIR="+shared)...)
	c := w.start(append(env, "CONTENT_DIR="+own)...)

	// Nothing is published yet: version 0.
	start := loadInfo(t, shared)
	for _, p := range []*proc{a, b, c} {
		if got := readyContent(t, p); got != start {
			t.Fatalf("/readyz content at start = %+v, want %+v", got, start)
		}
	}

	if status, body := postReload(t, a, ""); status != http.StatusUnauthorized {
		t.Errorf("POST /api/content/reload without the token = %d %s, want 401", status, body)
	}

	// A point renamed: a reloads through the API, b follows, and so does c once the
	// file reaches its folder too.
	points := filepath.Join(shared, "points.yaml")
	const oldName, newName = "南塔党群服务中心", "南塔帮办服务总站"
	edit(t, points, func(s string) string { return strings.Replace(s, "zh: "+oldName+",", "zh: "+newName+",", 1) })
	want := loadInfo(t, shared)
	want.Version = 1
	status, body := postReload(t, a, reloadToken)
	var got webhook.ContentInfo
	if err := json.Unmarshal(body, &got); status != http.StatusOK || err != nil {
		t.Fatalf("POST /api/content/reload = %d %s, want 200 with the content", status, body)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("POST /api/content/reload body (-want +got):\n%s", diff)
	}
	waitContent(t, a, want)
	waitContent(t, b, want)
	waitLog(t, c, "CONTENT_DIR here differs from the published content")
	if got := readyContent(t, c); got != start {
		t.Errorf("/readyz content of the replica whose folder differs = %+v, want the content it started with, %+v", got, start)
	}
	copyFile(t, points, filepath.Join(own, "points.yaml"))
	waitContent(t, c, want)
	// Any replica may hold the chat's shard: all three use the new name now.
	u := newUser(t, w, b, 7_500_000_001, "芳", zh.code)
	u.say(textFields("/start cp_nt-centre"), fmt.Sprintf(zh.privacyPoint, newName))

	// A duplicate id: 422 with the problem's line, and every replica keeps the content.
	data, err := os.ReadFile(points)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	first := slices.Index(lines, "  - id: nt-centre") + 1
	dup := len(lines) + 1
	edit(t, points, func(s string) string {
		return s + "  - id: nt-centre\n    name: {zh: 重复的站点}\n    location: [41.77, 123.45]\n"
	})
	status, body = postReload(t, a, reloadToken)
	var refused struct {
		Error    string   `json:"error"`
		Problems []string `json:"problems"`
	}
	wantProblem := fmt.Sprintf(`points.yaml:%d: duplicate id "nt-centre" (first at line %d)`, dup, first)
	if err := json.Unmarshal(body, &refused); status != http.StatusUnprocessableEntity || err != nil ||
		refused.Error != "content has problems" || !slices.Contains(refused.Problems, wantProblem) {
		t.Errorf("POST /api/content/reload of a duplicate id = %d %s, want 422 listing %q", status, body, wantProblem)
	}
	if v, h := published(t, w); v != want.Version || h != want.Hash {
		t.Errorf("published content after refused content = version %d, hash %s; want %d, %s", v, h, want.Version, want.Hash)
	}
	for _, p := range []*proc{a, b} {
		if got := readyContent(t, p); got != want {
			t.Errorf("/readyz content after refused content = %+v, want %+v", got, want)
		}
	}

	// SIGHUP after a good change.
	edit(t, points, func(string) string { return strings.Replace(string(data), "zh: "+newName+",", "zh: "+oldName+",", 1) })
	a.signal(syscall.SIGHUP)
	want = start
	want.Version = 2
	waitContent(t, a, want)
	waitContent(t, b, want)
	if !strings.Contains(a.log(), `"trigger":"SIGHUP"`) {
		t.Errorf("the SIGHUP reload is not in the log:\n%s", a.log())
	}
}

// loadInfo returns the content in dir as /readyz would show it before any reload.
func loadInfo(t *testing.T, dir string) webhook.ContentInfo {
	t.Helper()
	c, err := content.Load(dir)
	if err != nil {
		t.Fatalf("load content of %s: %v", dir, err)
	}
	return webhook.ContentInfo{Hash: c.Hash, Points: len(c.Points), Policies: len(c.Policies)}
}

func edit(t *testing.T, path string, change func(string) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := change(string(data))
	if s == string(data) {
		t.Fatalf("edit of %s changed nothing", path)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// postReload calls POST /api/content/reload with the bearer token, none when "".
func postReload(t *testing.T, p *proc, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+"/api/content/reload", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST /api/content/reload: %v", err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body.Bytes()
}

// readyContent returns the content /readyz shows.
func readyContent(t *testing.T, p *proc) webhook.ContentInfo {
	t.Helper()
	resp, err := client.Get("http://" + p.addr + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	var ready struct {
		Content webhook.ContentInfo `json:"content"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ready); err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	return ready.Content
}

// waitContent waits until /readyz shows want, for a few poll intervals.
func waitContent(t *testing.T, p *proc, want webhook.ContentInfo) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := readyContent(t, p)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz content = %+v, want %+v within 5 s\nlog:\n%s", got, want, p.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitLog(t *testing.T, p *proc, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.log(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log has no %q within 5 s:\n%s", want, p.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// published returns the content version and hash in Redis.
func published(t *testing.T, w *world) (int64, string) {
	t.Helper()
	v, h, err := store.New(w.rdb, w.rdb, w.prefix, ciShards).ContentVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v, h
}

// TestReloadEmbedded: without CONTENT_DIR a reload changes and publishes nothing, and
// a replica whose content differs from the published one says so once, not every poll.
func TestReloadEmbedded(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Single(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	st := store.New(rdb, rdb, redistest.Prefix(t), 2)
	c, err := content.Load("")
	if err != nil {
		t.Fatal(err)
	}
	h, err := handlers.New(handlers.WithContent(c))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r, err := newReloader(ctx, "", c, h, st, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	want := webhook.ContentInfo{Hash: c.Hash, Points: len(c.Points), Policies: len(c.Policies)}
	if got, err := r.Reload(ctx); err != nil || got != want {
		t.Errorf("Reload of the embedded content = %+v, %v; want %+v, nil", got, err, want)
	}
	if v, _, err := st.ContentVersion(ctx); err != nil || v != 0 {
		t.Errorf("content version after reloading the embedded content = %d, %v; want 0 (nothing published)", v, err)
	}

	if _, err := st.PublishContent(ctx, "0123456789ab"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r.follow(ctx)
	}
	if n := strings.Count(logs.String(), "differs from the published content"); n != 1 {
		t.Errorf("three polls of a published content this replica cannot load logged %d warnings, want 1:\n%s", n, logs.String())
	}
	if got := r.Info(); got != want {
		t.Errorf("Info after following content it cannot load = %+v, want %+v", got, want)
	}
}
