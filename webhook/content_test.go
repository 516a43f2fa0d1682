package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/webhook"
)

// fakeReloader answers Reload with info and err, counting the calls.
type fakeReloader struct {
	info  webhook.ContentInfo
	err   error
	calls int
}

func (f *fakeReloader) Reload(context.Context) (webhook.ContentInfo, error) {
	f.calls++
	return f.info, f.err
}

func TestContentReload(t *testing.T) {
	info := webhook.ContentInfo{Hash: "0123456789ab", Version: 3, Points: 15, Policies: 27}
	tests := []struct {
		name   string
		auth   string
		err    error
		status int
		body   string
		calls  int
	}{
		{name: "reloaded", auth: "Bearer " + adminToken, status: 200, calls: 1,
			body: `{"hash":"0123456789ab","version":3,"points":15,"policies":27}`},
		{name: "problems", auth: "Bearer " + adminToken, status: 422, calls: 1,
			err:  fmt.Errorf("reload: %w", webhook.ContentProblems{"points.yaml:12: duplicate id \"a\"", "policies/x.md:3: no title"}),
			body: `{"error":"content has problems","problems":["points.yaml:12: duplicate id \"a\"","policies/x.md:3: no title"]}`},
		{name: "publish failed", auth: "Bearer " + adminToken, status: 500, calls: 1,
			err:  errors.New("publish content: redis: connection refused"),
			body: `{"error":"publish content: redis: connection refused"}`},
		{name: "no token", status: 401, body: `{"error":"unauthorized"}`},
		{name: "wrong token", auth: "Bearer nope", status: 401, body: `{"error":"unauthorized"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := &fakeReloader{info: info, err: tt.err}
			h := webhook.New(webhook.Options{AdminToken: adminToken, Content: cr})
			w := admin(h, http.MethodPost, "/api/content/reload", tt.auth)
			if w.Code != tt.status {
				t.Errorf("POST /api/content/reload: status %d, want %d (body %s)", w.Code, tt.status, w.Body)
			}
			var got, want any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("POST /api/content/reload: body %q: %v", w.Body, err)
			}
			if err := json.Unmarshal([]byte(tt.body), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("POST /api/content/reload body (-want +got):\n%s", diff)
			}
			if cr.calls != tt.calls {
				t.Errorf("POST /api/content/reload called Reload %d times, want %d", cr.calls, tt.calls)
			}
		})
	}
}

// TestReadyShowsContent: the content info renders in /readyz as the reload answers it.
func TestReadyShowsContent(t *testing.T) {
	info := webhook.ContentInfo{Hash: "0123456789ab", Version: 0, Points: 15, Policies: 27}
	h := webhook.New(webhook.Options{Ready: func(context.Context) (bool, map[string]any) {
		return true, map[string]any{"content": info}
	}})
	w := admin(h, http.MethodGet, "/readyz", "")
	want := `{"content":{"hash":"0123456789ab","version":0,"points":15,"policies":27},"ready":true}`
	if w.Code != 200 || w.Body.String() != want {
		t.Errorf("GET /readyz = %d %s, want 200 %s", w.Code, w.Body, want)
	}
}
