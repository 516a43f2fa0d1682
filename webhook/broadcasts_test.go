package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/webhook"
)

// fakeBroadcasts records what the API asked for; id "1" exists and is sending.
type fakeBroadcasts struct {
	created []webhook.NewBroadcast
	actions []string
}

func (f *fakeBroadcasts) List(_ context.Context, limit int) ([]webhook.Broadcast, error) {
	return []webhook.Broadcast{{ID: "1", State: "sending", Total: int64(limit)}}, nil
}

func (f *fakeBroadcasts) Create(_ context.Context, nb webhook.NewBroadcast) (webhook.Broadcast, error) {
	f.created = append(f.created, nb)
	return webhook.Broadcast{ID: "2", State: "sending", Total: int64(len(nb.Recipients))}, nil
}

func (f *fakeBroadcasts) Get(_ context.Context, id string) (webhook.Broadcast, error) {
	if id != "1" {
		return webhook.Broadcast{}, fmt.Errorf("broadcast %s: %w", id, webhook.ErrNotFound)
	}
	return webhook.Broadcast{ID: "1", State: "sending", Total: 10, Sent: 4, Remaining: 6}, nil
}

func (f *fakeBroadcasts) Control(ctx context.Context, id, action, by string) (webhook.Broadcast, error) {
	f.actions = append(f.actions, action+" "+id+" by "+by)
	if action == "resume" {
		return webhook.Broadcast{}, fmt.Errorf("%w: cannot resume broadcast 1, which is sending", webhook.ErrConflict)
	}
	return f.Get(ctx, id)
}

func TestBroadcastAPI(t *testing.T) {
	bearer := "Bearer " + adminToken
	tests := []struct {
		name, method, path, auth, body string
		status                         int
		want                           string // the answer's "error", or a fragment of the body
	}{
		{"no token", "GET", "/api/broadcasts", "", "", 401, "unauthorized"},
		{"wrong token", "POST", "/api/broadcasts", "Bearer nope", `{"text":"x","recipients":[1]}`, 401, "unauthorized"},
		{"list", "GET", "/api/broadcasts?limit=5", bearer, "", 200, `"total":5`},
		{"list bad limit", "GET", "/api/broadcasts?limit=0", bearer, "", 400, "limit must be an integer between 1 and 1000"},
		{"get", "GET", "/api/broadcasts/1", bearer, "", 200, `"remaining":6`},
		{"get unknown", "GET", "/api/broadcasts/9", bearer, "", 404, "no broadcast 9"},
		{"pause", "POST", "/api/broadcasts/1/pause", bearer, "", 200, `"id":"1"`},
		{"resume refused", "POST", "/api/broadcasts/1/resume", bearer, "", 409, "conflict: cannot resume broadcast 1, which is sending"},
		{"stop unknown", "POST", "/api/broadcasts/9/stop", bearer, "", 404, "no broadcast 9"},
		{"unknown action", "POST", "/api/broadcasts/1/restart", bearer, "", 404, "no action restart; use pause, resume or stop"},
		{"create text", "POST", "/api/broadcasts", bearer, `{"text":"<b>notice</b>","parse_mode":"HTML","recipients":[5,6],"schedule_at":"2030-01-02T09:00:00+08:00","stop_text":"Stop","stop_data":"unsub:policy"}`, 201, `"total":2`},
		{"create copy", "POST", "/api/broadcasts", bearer, `{"from_chat_id":-1001,"message_id":7,"recipients":[5]}`, 201, `"id":"2"`},
		{"not json", "POST", "/api/broadcasts", bearer, `text=x`, 400, "body must be a JSON object: invalid character 'e' in literal true (expecting 'r')"},
		{"unknown field", "POST", "/api/broadcasts", bearer, `{"text":"x","recipients":[1],"segment":"all"}`, 400, `unknown field "segment"`},
		{"no content", "POST", "/api/broadcasts", bearer, `{"recipients":[1]}`, 400, "text, or from_chat_id and message_id, is required"},
		{"both contents", "POST", "/api/broadcasts", bearer, `{"text":"x","from_chat_id":1,"message_id":2,"recipients":[1]}`, 400, "give either text or from_chat_id and message_id, not both"},
		{"half a copy", "POST", "/api/broadcasts", bearer, `{"from_chat_id":-1001,"recipients":[1]}`, 400, "a copied message needs both from_chat_id (non-zero) and message_id (positive)"},
		{"copy with parse mode", "POST", "/api/broadcasts", bearer, `{"from_chat_id":-1001,"message_id":3,"parse_mode":"HTML","recipients":[1]}`, 400, "parse_mode applies to text only"},
		{"empty text", "POST", "/api/broadcasts", bearer, `{"text":"  ","recipients":[1]}`, 400, "text must not be empty"},
		{"long text", "POST", "/api/broadcasts", bearer, `{"text":"` + strings.Repeat("政", 4097) + `","recipients":[1]}`, 400, "text must be at most 4096 characters"},
		{"bad parse mode", "POST", "/api/broadcasts", bearer, `{"text":"x","parse_mode":"html","recipients":[1]}`, 400, `parse_mode must be HTML, MarkdownV2 or Markdown, not "html"`},
		{"stop data alone", "POST", "/api/broadcasts", bearer, `{"text":"x","stop_data":"u","recipients":[1]}`, 400, "stop_text and stop_data go together: give both or neither"},
		{"long stop data", "POST", "/api/broadcasts", bearer, `{"text":"x","stop_text":"Stop","stop_data":"` + strings.Repeat("u", 65) + `","recipients":[1]}`, 400, "stop_data must be at most 64 bytes"},
		{"no recipients", "POST", "/api/broadcasts", bearer, `{"text":"x"}`, 400, "recipients must be a non-empty list of chat ids"},
		{"empty recipients", "POST", "/api/broadcasts", bearer, `{"text":"x","recipients":[]}`, 400, "recipients must be a non-empty list of chat ids"},
		{"recipient not a number", "POST", "/api/broadcasts", bearer, `{"text":"x","recipients":[1,"2"]}`, 400, "recipients must be a list of integer chat ids"},
		{"recipient zero", "POST", "/api/broadcasts", bearer, `{"text":"x","recipients":[1,0]}`, 400, "recipients[1] is 0, which is no chat id"},
		{"bad schedule", "POST", "/api/broadcasts", bearer, `{"text":"x","recipients":[1],"schedule_at":"tomorrow 9:00"}`, 400, `schedule_at must be an RFC 3339 time such as 2026-12-01T09:00:00+08:00, not "tomorrow 9:00"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBroadcasts{}
			h := webhook.New(webhook.Options{AdminToken: adminToken, Broadcasts: f})
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.status {
				t.Fatalf("%s %s: status %d, want %d (body %s)", tt.method, tt.path, w.Code, tt.status, w.Body)
			}
			if tt.status >= 400 {
				var e struct{ Error string }
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error != tt.want {
					t.Errorf("error = %q (%v); want %q", e.Error, err, tt.want)
				}
			} else if !strings.Contains(w.Body.String(), tt.want) {
				t.Errorf("body %s; want it to contain %s", w.Body, tt.want)
			}
			if tt.status == http.StatusCreated || tt.status == http.StatusUnauthorized {
				wantCreated := 0
				if tt.status == http.StatusCreated {
					wantCreated = 1
				}
				if len(f.created) != wantCreated {
					t.Errorf("Create called %d times; want %d", len(f.created), wantCreated)
				}
			}
		})
	}
}

// The request's fields reach Create as given, with "api" as the author.
func TestBroadcastAPICreate(t *testing.T) {
	f := &fakeBroadcasts{}
	h := webhook.New(webhook.Options{AdminToken: adminToken, Broadcasts: f})
	req := httptest.NewRequest("POST", "/api/broadcasts", strings.NewReader(
		`{"text":"<b>notice</b>","parse_mode":"HTML","recipients":[5,6,5],"schedule_at":"2030-01-02T09:00:00+08:00","stop_text":"Stop","stop_data":"unsub:policy"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	h.ServeHTTP(httptest.NewRecorder(), req)
	at := time.Date(2030, 1, 2, 1, 0, 0, 0, time.UTC)
	want := []webhook.NewBroadcast{{CreatedBy: "api", Recipients: []int64{5, 6, 5}, ScheduleAt: at,
		Content: webhook.BroadcastContent{Text: "<b>notice</b>", ParseMode: "HTML", StopText: "Stop", StopData: "unsub:policy"}}}
	if diff := cmp.Diff(want, f.created, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("Create got (-want +got):\n%s", diff)
	}
	ctl := httptest.NewRequest("POST", "/api/broadcasts/1/stop", nil)
	ctl.Header.Set("Authorization", "Bearer "+adminToken)
	h.ServeHTTP(httptest.NewRecorder(), ctl)
	if len(f.actions) != 1 || f.actions[0] != "stop 1 by api" {
		t.Errorf("actions = %v; want stop 1 by api", f.actions)
	}
}
