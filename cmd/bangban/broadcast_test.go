package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/store"
)

const adminToken = "e2e-admin-token"

// TestBroadcastCrash sends a broadcast with the real binary against the fake Bot API,
// which answers 429, 403, "chat not found" and 500 for some chats, kills the process with
// SIGKILL in the middle and starts another: every eligible recipient gets exactly one
// copy (ambiguous ones at most one, never re-sent), the blocked and the unreachable none,
// and no sliding second sees more than rate + 1 messages.
func TestBroadcastCrash(t *testing.T) {
	t.Run("paid 1000/s", func(t *testing.T) { testBroadcastCrash(t, 1000, true, 10000) })
	t.Run("free 25/s", func(t *testing.T) { testBroadcastCrash(t, 25, false, 500) })
}

func testBroadcastCrash(t *testing.T, rate int, paid bool, n int) {
	w := newWorld(t)
	st := store.New(w.rdb, w.rdb, w.prefix, 8)
	ctx := context.Background()
	recipients := make([]int64, n)
	for i := range recipients {
		recipients[i] = 7_000_000_000 + int64(i)
	}
	// Every kind of answer is spread over the audience; every 20th recipient is special.
	kinds := map[int64]string{}
	for i, c := range recipients {
		if i%20 != 7 {
			continue
		}
		switch kind := []string{"blocked", "notfound", "500", "unreachable", "429"}[(i/20)%5]; kind {
		case "blocked":
			w.api.SetBlocked(c, true)
			kinds[c] = kind
		case "notfound":
			w.api.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: c, Code: 400, Description: "Bad Request: chat not found"})
			kinds[c] = kind
		case "500":
			w.api.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: c, Code: 500, Times: 1})
			kinds[c] = kind
		case "unreachable":
			if err := st.MarkUnreachable(ctx, c); err != nil {
				t.Fatal(err)
			}
			kinds[c] = kind
		case "429":
			// A few 429s: each pauses all sending for a second.
			if len(kinds) < 40 {
				w.api.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: c, Code: 429, RetryAfter: 1, Times: 1})
				kinds[c] = kind
			}
		}
	}
	env := []string{"ADMIN_TOKEN=" + adminToken, fmt.Sprintf("BROADCAST_RATE=%d", rate), fmt.Sprintf("BROADCAST_PAID=%v", paid)}
	p := w.start(env...)
	id := createBroadcast(t, p.addr, map[string]any{"text": "政策通知 / policy notice", "recipients": recipients})

	// Kill the sender once about 40% went out, then start another process.
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := w.api.Wait(wctx, "sendMessage", n*2/5); err != nil {
		t.Fatalf("waiting for 40%% of the broadcast: %v", err)
	}
	p.kill()
	killedAt := len(w.api.CallsFor("sendMessage"))
	p = w.start(env...)
	var b map[string]any
	for b = getBroadcast(t, p.addr, id); b["state"] != "done"; b = getBroadcast(t, p.addr, id) {
		if wctx.Err() != nil {
			t.Fatalf("broadcast not done: %v", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("killed after %d of %d calls; final %v", killedAt, n, b)

	chats, sts, _, err := st.RecipientStatuses(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	status := map[int64]store.RecipientStatus{}
	for i, c := range chats {
		status[c] = sts[i]
	}
	calls := w.api.CallsFor("sendMessage")
	type tally struct{ ok, refused, limited int }
	got := map[int64]*tally{}
	var times []time.Time
	for _, c := range calls {
		times = append(times, c.Time)
		if got[c.ChatID] == nil {
			got[c.ChatID] = &tally{}
		}
		switch {
		case c.Status == http.StatusOK:
			got[c.ChatID].ok++
		case c.Status == http.StatusTooManyRequests:
			got[c.ChatID].limited++
		default:
			got[c.ChatID].refused++
		}
	}
	counts := map[store.RecipientStatus]int{}
	lost := 0
	for _, c := range recipients {
		g := got[c]
		if g == nil {
			g = &tally{}
		}
		s := status[c]
		counts[s]++
		if g.ok+g.refused > 1 {
			t.Errorf("chat %d (%s) got %d calls besides 429s; want at most one", c, kinds[c], g.ok+g.refused)
		}
		switch kinds[c] {
		case "blocked", "notfound":
			switch {
			case g.ok != 0:
				t.Errorf("chat %d (%s): %d delivered; want none", c, kinds[c], g.ok)
			case s == store.StatusBlocked:
			case s == store.StatusLost:
				// Being sent when the process was killed: its outcome is unknown, and it is
				// never tried again.
				lost++
			default:
				t.Errorf("chat %d (%s): status %v; want blocked", c, kinds[c], s)
			}
		case "unreachable":
			if s != store.StatusSkipped || g.ok+g.refused+g.limited != 0 {
				t.Errorf("chat %d (unreachable): status %v, %+v calls; want skipped, no call", c, s, *g)
			}
		case "500":
			if s != store.StatusAmbiguous && s != store.StatusLost {
				t.Errorf("chat %d (500): status %v; want ambiguous", c, s)
			}
		default:
			switch {
			case s == store.StatusSent && g.ok == 1:
			case s == store.StatusLost && g.ok <= 1:
				// Being sent when the process was killed: at most one copy, never re-sent.
				lost++
			default:
				t.Errorf("chat %d (%s): status %v, %d delivered; want sent once", c, kinds[c], s, g.ok)
			}
		}
	}
	t.Logf("statuses %v; %d ambiguous at the kill", counts, lost)
	if lost > 32 {
		t.Errorf("%d recipients were lost at the kill; at most one per worker (32) can be", lost)
	}
	if total := b["sent"].(float64) + b["failed"].(float64) + b["blocked"].(float64) + b["ambiguous"].(float64) + b["skipped"].(float64); int(total) != n {
		t.Errorf("counters add up to %v; want %d", total, n)
	}
	if peak := peakPerSecond(times); peak > rate+1 {
		t.Errorf("a sliding second saw %d messages; want at most %d", peak, rate+1)
	} else {
		t.Logf("peak %d messages in a sliding second (rate %d)", peak, rate)
	}
	audit, err := st.BroadcastAudit(ctx, 10)
	if err != nil || !slices.ContainsFunc(audit, func(e json.RawMessage) bool {
		return bytes.Contains(e, []byte(`"event":"finished"`)) && bytes.Contains(e, []byte(`"id":"`+id+`"`))
	}) {
		t.Errorf("audit = %s, %v; want the broadcast's final report", audit, err)
	}
}

// peakPerSecond returns the most calls within any half-open second [t, t+1s).
func peakPerSecond(times []time.Time) int {
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	peak, j := 0, 0
	for i := range times {
		for times[j].Add(time.Second).Compare(times[i]) <= 0 {
			j++
		}
		peak = max(peak, i-j+1)
	}
	return peak
}

func adminCall(t *testing.T, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var r bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&r).Encode(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, url, &r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %v", method, url, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

func createBroadcast(t *testing.T, addr string, body map[string]any) string {
	t.Helper()
	code, b := adminCall(t, http.MethodPost, "http://"+addr+"/api/broadcasts", body)
	if code != http.StatusCreated {
		t.Fatalf("create broadcast: %d %v", code, b)
	}
	return b["id"].(string)
}

func getBroadcast(t *testing.T, addr, id string) map[string]any {
	t.Helper()
	code, b := adminCall(t, http.MethodGet, "http://"+addr+"/api/broadcasts/"+id, nil)
	if code != http.StatusOK {
		t.Fatalf("get broadcast %s: %d %v", id, code, b)
	}
	return b
}
