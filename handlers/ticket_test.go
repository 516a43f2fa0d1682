package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nanta-district/bangban/queue"

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
	var ev bot.Event
	if err := json.Unmarshal(got[0].Event, &ev); err != nil || ev.Op != bot.OpSLA || ev.N != 1 {
		t.Errorf("event = %s (%v), want an SLA event for ticket 1", got[0].Event, err)
	}
}

// fakeTickets is a staff group's tickets as the desk reads them.
type fakeTickets struct {
	records [][]byte
	index   map[string]int64
}

func (f *fakeTickets) Ticket(_ context.Context, _ int64, n int64) ([]byte, error) {
	for _, b := range f.records {
		var t bot.Ticket
		if json.Unmarshal(b, &t) == nil && t.N == n {
			return b, nil
		}
	}
	return nil, nil
}

func (f *fakeTickets) TicketByIndex(_ context.Context, _ int64, key string) (int64, error) {
	return f.index[key], nil
}

func (f *fakeTickets) OpenTickets(context.Context, int64, int64) ([][]byte, error) {
	return f.records, nil
}
func (f *fakeTickets) TicketsOpened(_ context.Context, _ int64, from, to time.Time) ([][]byte, error) {
	var out [][]byte
	for _, b := range f.records {
		var t bot.Ticket
		if json.Unmarshal(b, &t) == nil && !t.Opened.Before(from) && t.Opened.Before(to) {
			out = append(out, b)
		}
	}
	return out, nil
}

// TestTicketStatsAndExport: /stats reports the desk's figures; /export tickets gives the
// table without names or phones.
func TestTicketStatsAndExport(t *testing.T) {
	ticket := func(n int64, cat string, opened, first, closed time.Duration, rating int) []byte {
		tk := bot.Ticket{N: n, Cat: cat, Status: bot.TicketOpen, Opened: now.Add(-opened), Name: "王芳", Phone: "+8613800000000", Role: "rider"}
		if first > 0 {
			at := tk.Opened.Add(first)
			tk.FirstResponse = &at
		}
		if closed > 0 {
			at := tk.Opened.Add(closed)
			tk.Closed, tk.Status = &at, bot.TicketClosed
		}
		tk.Rating = rating
		b, _ := json.Marshal(tk)
		return b
	}
	tickets := &fakeTickets{records: [][]byte{
		ticket(1, "licence", 48*time.Hour, time.Hour, 10*time.Hour, 4),
		ticket(2, "licence", 24*time.Hour, 3*time.Hour, 0, 0),
		ticket(3, "repair", 5*time.Hour, 0, 2*time.Hour, 2),
		ticket(4, "repair", 40*24*time.Hour, time.Hour, 2*time.Hour, 5), // outside 30 days
	}}
	h, err := New(WithUsername("bangban_bot"), WithClock(func() time.Time { return now }),
		WithStaff([]int64{staffGrp}, []int64{adminID}), WithReader(&fakeReader{}), WithDesk(DeskConfig{StaffChat: staffGrp, Tickets: tickets}))
	if err != nil {
		t.Fatal(err)
	}
	eff := handle(t, h, staffGrp, update(t, "message", message(staffGrp, 1, map[string]any{"text": "/stats"})), queue.State{})
	text := eff.Outbox[0].Text
	for _, s := range []string{"共 3 个", "证照办理：新 2 · 已关闭 1", "便民维修：新 1 · 已关闭 1", "首次回复：中位 1.0 小时 · 90% 在 3.0 小时内",
		"解决用时：中位 2.0 小时 · 90% 在 10.0 小时内", "平均 3.0 星（2 个评价）"} {
		if !strings.Contains(text, s) {
			t.Errorf("stats lack %q:\n%s", s, text)
		}
	}
	eff = handle(t, h, staffGrp, update(t, "message", message(staffGrp, adminID, map[string]any{"text": "/export tickets"})), queue.State{})
	doc := eff.Outbox[0]
	if doc.Method != queue.MethodSendDocument || doc.ChatID != adminID || doc.FileName != "tickets_2025-01-31_2025-03-01.csv" {
		t.Fatalf("document = %+v", doc)
	}
	rows, err := csv.NewReader(bytes.NewReader(doc.Document[3:])).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("rows = %v, %v; want a header and 3 tickets", rows, err)
	}
	if got := rows[1]; got[0] != "1" || got[1] != "证照办理" || got[2] != "已关闭" || got[5] != "1.00" || got[7] != "10.00" || got[8] != "4" {
		t.Errorf("first row = %q", got)
	}
	if strings.Contains(string(doc.Document), "王芳") || strings.Contains(string(doc.Document), "13800000000") {
		t.Errorf("the ticket export holds names or phone numbers")
	}
	var audit auditEntry
	if len(eff.Audit) != 1 || json.Unmarshal(eff.Audit[0], &audit) != nil || audit.Action != "export_tickets" || audit.Rows != 3 {
		t.Errorf("audit = %s", eff.Audit)
	}
}

// TestServiceMessagesIgnoredInGroups: a topic renamed in the staff group is not something
// anyone said, so nothing is relayed or answered.
func TestServiceMessagesIgnoredInGroups(t *testing.T) {
	rec, _ := json.Marshal(bot.Ticket{N: 7, Chat: user, Cat: "repair", Status: bot.TicketOpen, Thread: 55, Opened: now})
	tickets := &fakeTickets{records: [][]byte{rec}, index: map[string]int64{"t55": 7}}
	h, err := New(WithClock(func() time.Time { return now }), WithStaff([]int64{staffGrp}, nil),
		WithDesk(DeskConfig{StaffChat: staffGrp, Forums: []int64{staffGrp}, Tickets: tickets}))
	if err != nil {
		t.Fatal(err)
	}
	topic := func(extra map[string]any) []byte {
		m := message(staffGrp, 1, map[string]any{"message_thread_id": 55, "is_topic_message": true})
		for k, v := range extra {
			m[k] = v
		}
		return update(t, "message", m)
	}
	eff := handle(t, h, staffGrp, topic(map[string]any{"forum_topic_edited": map[string]any{"name": "#7 维修 ✅"}}), queue.State{})
	if len(eff.Outbox) != 0 || eff.Ticket != nil {
		t.Errorf("a service message had effects: %+v", eff)
	}
	eff = handle(t, h, staffGrp, topic(map[string]any{"text": "明天上午到"}), queue.State{})
	if len(eff.Outbox) != 1 || eff.Outbox[0].Method != queue.MethodDeliver || eff.Outbox[0].ChatID != user || eff.Ticket == nil {
		t.Errorf("a staff answer in the topic: %+v, want it delivered to the user", eff)
	}
}
