package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/webhook"
)

const (
	secret     = "s3cret_token-A"
	oldSecret  = "old_secret-B"
	adminToken = "admin-token-for-tests"
)

// fakeIntake remembers update ids like the store's dedupe key does.
type fakeIntake struct {
	mu   sync.Mutex
	seen map[int64]bool
	got  []queue.Update
	err  error
}

func (f *fakeIntake) Append(_ context.Context, u queue.Update) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	if f.seen[u.UpdateID] {
		return true, nil
	}
	if f.seen == nil {
		f.seen = map[int64]bool{}
	}
	f.seen[u.UpdateID] = true
	f.got = append(f.got, u)
	return false, nil
}

func newEngine(in webhook.Intake) http.Handler {
	return webhook.New(webhook.Options{Intake: in, Secrets: []string{secret, oldSecret}, AdminToken: adminToken})
}

func post(h http.Handler, secretHeader string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, webhook.WebhookPath, bytes.NewReader(body))
	if secretHeader != "" {
		r.Header.Set(webhook.SecretHeader, secretHeader)
	}
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// metric reads one sample from /metrics, so that tests see what Prometheus sees.
func metric(t *testing.T, h http.Handler, series string) float64 {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	sc := bufio.NewScanner(w.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return f
		}
	}
	return 0
}

func TestWebhookStatus(t *testing.T) {
	msg, err := os.ReadFile("testdata/updates/message_private.json")
	if err != nil {
		t.Fatal(err)
	}
	rejected := func(reason string) string {
		return `bangban_updates_rejected_total{reason="` + reason + `"}`
	}
	tests := []struct {
		name   string
		secret string
		body   []byte
		err    error
		repeat bool
		status int
		series string // counter that must grow by one
	}{
		{name: "accepted", secret: secret, body: msg, status: 200, series: `bangban_updates_received_total{source="webhook"}`},
		{name: "old secret during rotation", secret: oldSecret, body: msg, status: 200, series: `bangban_updates_received_total{source="webhook"}`},
		{name: "duplicate", secret: secret, body: msg, repeat: true, status: 200, series: "bangban_updates_duplicate_total"},
		{name: "no secret", body: msg, status: 401, series: rejected("secret")},
		{name: "wrong secret", secret: "nope", body: msg, status: 401, series: rejected("secret")},
		{name: "secret prefix", secret: secret[:5], body: msg, status: 401, series: rejected("secret")},
		{name: "not JSON", secret: secret, body: []byte("update_id=1"), status: 400, series: rejected("bad_json")},
		{name: "empty", secret: secret, body: nil, status: 400, series: rejected("bad_json")},
		{name: "no update_id", secret: secret, body: []byte(`{"message":{"chat":{"id":1}}}`), status: 400, series: rejected("no_update_id")},
		{name: "string update_id", secret: secret, body: []byte(`{"update_id":"1"}`), status: 400, series: rejected("no_update_id")},
		{name: "queue down", secret: secret, body: msg, err: errors.New("redis: connection refused"), status: 503, series: rejected("unavailable")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &fakeIntake{err: tt.err}
			h := newEngine(in)
			if tt.repeat {
				if w := post(h, tt.secret, tt.body); w.Code != 200 {
					t.Fatalf("first delivery: status %d", w.Code)
				}
			}
			before := metric(t, h, tt.series)
			w := post(h, tt.secret, tt.body)
			if w.Code != tt.status {
				t.Errorf("POST %s: status %d, want %d (body %s)", tt.name, w.Code, tt.status, w.Body)
			}
			if got := metric(t, h, tt.series) - before; got != 1 {
				t.Errorf("POST %s: %s grew by %v, want 1", tt.name, tt.series, got)
			}
			if tt.status != 200 && !json.Valid(w.Body.Bytes()) {
				t.Errorf("POST %s: error body %q is not JSON", tt.name, w.Body)
			}
			wantQueued := 0
			if tt.status == 200 {
				wantQueued = 1
			}
			if len(in.got) != wantQueued {
				t.Errorf("POST %s: %d updates queued, want %d", tt.name, len(in.got), wantQueued)
			}
		})
	}
}

func TestWebhookQueuesRawUpdate(t *testing.T) {
	raw, err := os.ReadFile("testdata/updates/callback_query.json")
	if err != nil {
		t.Fatal(err)
	}
	in := &fakeIntake{}
	if w := post(newEngine(in), secret, raw); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	want := []queue.Update{{UpdateID: 815533002, Kind: queue.KindTelegram, ChatID: 5103928174, Raw: raw}}
	if diff := cmp.Diff(want, in.got); diff != "" {
		t.Errorf("queued update (-want +got):\n%s", diff)
	}
}

func TestWebhookNoSecretsConfigured(t *testing.T) {
	h := webhook.New(webhook.Options{Intake: &fakeIntake{}})
	for _, s := range []string{"", "anything"} {
		if w := post(h, s, []byte(`{"update_id":1}`)); w.Code != 401 {
			t.Errorf("POST with secret %q and none configured: status %d, want 401", s, w.Code)
		}
	}
}

func TestWebhookBodySize(t *testing.T) {
	// A valid update padded with spaces to an exact size.
	body := func(n int) []byte {
		b := []byte(`{"update_id":5}`)
		return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
	}
	tests := []struct {
		size    int
		chunked bool
		status  int
	}{
		{size: webhook.MaxBody, status: 200},
		{size: webhook.MaxBody + 1, status: 413},
		{size: webhook.MaxBody, chunked: true, status: 200},
		{size: webhook.MaxBody + 1, chunked: true, status: 413},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, webhook.WebhookPath, bytes.NewReader(body(tt.size)))
		r.Header.Set(webhook.SecretHeader, secret)
		if tt.chunked {
			r.ContentLength = -1
		}
		w := httptest.NewRecorder()
		newEngine(&fakeIntake{}).ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("POST %d bytes (chunked %v): status %d, want %d", tt.size, tt.chunked, w.Code, tt.status)
		}
	}
}

// TestWebhookSecretBeforeBody checks that a wrong secret is refused without reading
// the body, however large it claims to be.
func TestWebhookSecretBeforeBody(t *testing.T) {
	body := &countingReader{r: bytes.NewReader(make([]byte, 2*webhook.MaxBody))}
	r := httptest.NewRequest(http.MethodPost, webhook.WebhookPath, body)
	r.Header.Set(webhook.SecretHeader, "wrong")
	w := httptest.NewRecorder()
	newEngine(&fakeIntake{}).ServeHTTP(w, r)
	if w.Code != 401 || body.n != 0 {
		t.Errorf("wrong secret: status %d after reading %d bytes, want 401 after 0", w.Code, body.n)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestHealthAndReady(t *testing.T) {
	t.Run("healthz", func(t *testing.T) {
		w := httptest.NewRecorder()
		webhook.New(webhook.Options{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if w.Code != 200 || w.Body.String() != "ok" {
			t.Errorf("GET /healthz = %d %q, want 200 ok", w.Code, w.Body)
		}
	})
	tests := []struct {
		name   string
		ready  webhook.ReadyFunc
		status int
		want   map[string]any
	}{
		{name: "no check", status: 200, want: map[string]any{"ready": true}},
		{
			name: "ready",
			ready: func(context.Context) (bool, map[string]any) {
				return true, map[string]any{"redis": "ok", "content": "sha256:ab12"}
			},
			status: 200,
			want:   map[string]any{"ready": true, "redis": "ok", "content": "sha256:ab12"},
		},
		{
			name: "shutting down",
			ready: func(context.Context) (bool, map[string]any) {
				return false, map[string]any{"redis": "ok", "shutting_down": true}
			},
			status: 503,
			want:   map[string]any{"ready": false, "redis": "ok", "shutting_down": true},
		},
		{
			name: "deadline given",
			ready: func(ctx context.Context) (bool, map[string]any) {
				_, ok := ctx.Deadline()
				return ok, nil
			},
			status: 200,
			want:   map[string]any{"ready": true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			webhook.New(webhook.Options{Ready: tt.ready}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			var got map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("GET /readyz body %q: %v", w.Body, err)
			}
			if w.Code != tt.status {
				t.Errorf("GET /readyz status %d, want %d", w.Code, tt.status)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GET /readyz body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	h := newEngine(&fakeIntake{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `bangban_updates_rejected_total{reason="unavailable"}`) {
		t.Errorf("GET /metrics = %d, without the rejection series:\n%.500s", w.Code, w.Body)
	}
}

func TestRecovery(t *testing.T) {
	h := webhook.New(webhook.Options{Extra: func(e *gin.Engine) {
		e.GET("/boom", func(*gin.Context) { panic("boom") })
	}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if w.Code != 500 {
		t.Errorf("GET /boom status %d, want 500", w.Code)
	}
}

// fakeDeadLetters holds dead letters in a map.
type fakeDeadLetters struct {
	letters  map[string]webhook.DeadLetter
	replayed []string
	err      error
}

func (f *fakeDeadLetters) List(_ context.Context, limit int) ([]webhook.DeadLetter, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []webhook.DeadLetter
	for _, id := range []string{"3.1700000000000-0", "7.1700000000001-0"} {
		if d, ok := f.letters[id]; ok && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeDeadLetters) Get(_ context.Context, id string) (webhook.DeadLetter, error) {
	d, ok := f.letters[id]
	if !ok {
		return d, fmt.Errorf("dead letter %s: %w", id, webhook.ErrNotFound)
	}
	return d, nil
}

func (f *fakeDeadLetters) Replay(_ context.Context, id string) error {
	if _, ok := f.letters[id]; !ok {
		return fmt.Errorf("dead letter %s: %w", id, webhook.ErrNotFound)
	}
	delete(f.letters, id)
	f.replayed = append(f.replayed, id)
	return nil
}

func (f *fakeDeadLetters) Drop(_ context.Context, id string) error {
	if _, ok := f.letters[id]; !ok {
		return fmt.Errorf("dead letter %s: %w", id, webhook.ErrNotFound)
	}
	delete(f.letters, id)
	return nil
}

func newDeadLetters() *fakeDeadLetters {
	at := time.Date(2024, 6, 10, 8, 0, 0, 0, time.UTC)
	return &fakeDeadLetters{letters: map[string]webhook.DeadLetter{
		"3.1700000000000-0": {ID: "3.1700000000000-0", UpdateID: 10, ChatID: 42, Kind: queue.KindTelegram, Error: "decode: boom", Failures: 5, FailedAt: at, Raw: json.RawMessage(`{"update_id":10}`)},
		"7.1700000000001-0": {ID: "7.1700000000001-0", UpdateID: 11, ChatID: 43, Kind: queue.KindTelegram, Error: "handler: boom", Failures: 5, FailedAt: at, Raw: json.RawMessage(`{"update_id":11}`)},
	}}
}

func admin(h http.Handler, method, path, auth string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestAdminAuth(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		auth   string
		status int
	}{
		{name: "right token", token: adminToken, auth: "Bearer " + adminToken, status: 200},
		{name: "scheme case", token: adminToken, auth: "bearer " + adminToken, status: 200},
		{name: "no header", token: adminToken, status: 401},
		{name: "wrong token", token: adminToken, auth: "Bearer nope", status: 401},
		{name: "basic scheme", token: adminToken, auth: "Basic " + adminToken, status: 401},
		{name: "empty bearer", token: adminToken, auth: "Bearer ", status: 401},
		{name: "no token configured", token: "", auth: "Bearer ", status: 401},
		{name: "no token configured, any bearer", token: "", auth: "Bearer x", status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := webhook.New(webhook.Options{AdminToken: tt.token, DeadLetters: newDeadLetters()})
			w := admin(h, http.MethodGet, "/api/deadletters", tt.auth)
			if w.Code != tt.status {
				t.Errorf("GET /api/deadletters with %q: status %d, want %d", tt.auth, w.Code, tt.status)
			}
			if w.Code == 401 && (w.Body.String() != `{"error":"unauthorized"}` || w.Header().Get("WWW-Authenticate") == "") {
				t.Errorf("401 body %q, WWW-Authenticate %q", w.Body, w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestAdminExtraRoutesNeedToken(t *testing.T) {
	h := webhook.New(webhook.Options{AdminToken: adminToken, API: func(api *gin.RouterGroup) {
		api.GET("/ping", func(c *gin.Context) { c.JSON(200, gin.H{"pong": true}) })
	}})
	if w := admin(h, http.MethodGet, "/api/ping", ""); w.Code != 401 {
		t.Errorf("GET /api/ping without token: status %d, want 401", w.Code)
	}
	if w := admin(h, http.MethodGet, "/api/ping", "Bearer "+adminToken); w.Code != 200 {
		t.Errorf("GET /api/ping with token: status %d, want 200", w.Code)
	}
}

func TestDeadLetterAPI(t *testing.T) {
	auth := "Bearer " + adminToken
	tests := []struct {
		method, path string
		status       int
		body         string // compared as JSON when set
	}{
		{method: "GET", path: "/api/deadletters?limit=1", status: 200, body: `{"deadletters":[
			{"id":"3.1700000000000-0","update_id":10,"chat_id":42,"kind":"tg","error":"decode: boom","failures":5,
			 "failed_at":"2024-06-10T08:00:00Z","raw":{"update_id":10}}]}`},
		{method: "GET", path: "/api/deadletters?limit=0", status: 400},
		{method: "GET", path: "/api/deadletters?limit=x", status: 400},
		{method: "GET", path: "/api/deadletters?limit=1001", status: 400},
		{method: "GET", path: "/api/deadletters/7.1700000000001-0", status: 200, body: `
			{"id":"7.1700000000001-0","update_id":11,"chat_id":43,"kind":"tg","error":"handler: boom","failures":5,
			 "failed_at":"2024-06-10T08:00:00Z","raw":{"update_id":11}}`},
		{method: "GET", path: "/api/deadletters/9.1-0", status: 404, body: `{"error":"no dead letter 9.1-0"}`},
		{method: "POST", path: "/api/deadletters/9.1-0/replay", status: 404},
		{method: "DELETE", path: "/api/deadletters/9.1-0", status: 404},
		{method: "POST", path: "/api/deadletters/3.1700000000000-0/replay", status: 200, body: `{"replayed":"3.1700000000000-0"}`},
		{method: "DELETE", path: "/api/deadletters/7.1700000000001-0", status: 200, body: `{"dropped":"7.1700000000001-0"}`},
	}
	for _, tt := range tests {
		h := webhook.New(webhook.Options{AdminToken: adminToken, DeadLetters: newDeadLetters()})
		w := admin(h, tt.method, tt.path, auth)
		if w.Code != tt.status {
			t.Errorf("%s %s: status %d, want %d (body %s)", tt.method, tt.path, w.Code, tt.status, w.Body)
			continue
		}
		if tt.body != "" {
			var got, want any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("%s %s: body %q: %v", tt.method, tt.path, w.Body, err)
			}
			if err := json.Unmarshal([]byte(tt.body), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %s body (-want +got):\n%s", tt.method, tt.path, diff)
			}
		}
	}
}

func TestDeadLetterAPIEffects(t *testing.T) {
	dl := newDeadLetters()
	h := webhook.New(webhook.Options{AdminToken: adminToken, DeadLetters: dl})
	admin(h, "POST", "/api/deadletters/3.1700000000000-0/replay", "Bearer "+adminToken)
	admin(h, "DELETE", "/api/deadletters/7.1700000000001-0", "Bearer "+adminToken)
	if len(dl.letters) != 0 || !cmp.Equal(dl.replayed, []string{"3.1700000000000-0"}) {
		t.Errorf("after replay and drop: letters %v, replayed %v", dl.letters, dl.replayed)
	}
	w := admin(h, "GET", "/api/deadletters", "Bearer "+adminToken)
	if w.Body.String() != `{"deadletters":[]}` {
		t.Errorf("empty list body %q, want an empty array", w.Body)
	}
	dl.err = errors.New("redis: connection refused")
	if w := admin(h, "GET", "/api/deadletters", "Bearer "+adminToken); w.Code != 500 || !json.Valid(w.Body.Bytes()) {
		t.Errorf("list with store down: %d %q, want 500 with a JSON error", w.Code, w.Body)
	}
}
