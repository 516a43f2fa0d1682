package handlers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nanta-district/bangban/bot"
)

// TestOverdue: the SLA watcher's choice follows the demo content's targets (licence 4 h).
func TestOverdue(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	h, err := New(WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	rec := func(n int64, cat string, waited time.Duration, flagged bool) []byte {
		since := now.Add(-waited)
		b, _ := json.Marshal(bot.Ticket{N: n, Cat: cat, Status: bot.TicketOpen, Opened: since, Waiting: &since, SLAFlagged: flagged})
		return b
	}
	got := h.Overdue([][]byte{
		rec(1, "licence", 5*time.Hour, false),
		rec(2, "licence", 3*time.Hour, false),
		rec(3, "licence", 5*time.Hour, true),
		rec(4, "gone", 50*time.Hour, false),
		[]byte("not json"),
	})
	if len(got) != 1 || got[0].N != 1 || !got[0].Since.Equal(now.Add(-5*time.Hour)) {
		t.Fatalf("Overdue = %+v, want ticket 1 only", got)
	}
	var ev bot.TicketEvent
	if err := json.Unmarshal(got[0].Event, &ev); err != nil || ev.Op != bot.OpSLA || ev.N != 1 {
		t.Errorf("event = %s (%v), want an SLA event for ticket 1", got[0].Event, err)
	}
}
