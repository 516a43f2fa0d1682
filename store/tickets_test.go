package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

// commitTicket queues an update of the group and commits eff for it.
func commitTicket(t *testing.T, s *store.Store, l store.Lease, group, id int64, eff queue.Effects) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Append(ctx, queue.Update{UpdateID: id, ChatID: group, Raw: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	us, err := s.Read(ctx, l, 10, 10*time.Millisecond, "")
	if err != nil || len(us) != 1 {
		t.Fatalf("Read = %v, %v", us, err)
	}
	if err := s.Commit(ctx, l, us[0], eff); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// TestTicketRecords: a commit stores a staff group's ticket with its indexes and keeps the
// queue of open tickets by waiting time; closing takes it out of the queue, not the list.
func TestTicketRecords(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 4)
	const group = -1001234567890
	l := acquire(t, s, queue.Shard(group, 4), "a")
	base := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	commitTicket(t, s, l, group, 1, queue.Effects{Ticket: &queue.TicketWrite{N: 7, Record: []byte(`{"n":7}`), Open: true,
		Since: base.Add(time.Hour), Opened: base, Index: []string{"t55", "m60"}}})
	commitTicket(t, s, l, group, 2, queue.Effects{Ticket: &queue.TicketWrite{N: 8, Record: []byte(`{"n":8}`), Open: true,
		Since: base, Opened: base.Add(time.Minute)}})

	if b, err := s.Ticket(ctx, group, 7); err != nil || string(b) != `{"n":7}` {
		t.Errorf("Ticket(7) = %s, %v", b, err)
	}
	if b, err := s.Ticket(ctx, group, 9); err != nil || b != nil {
		t.Errorf("Ticket(9) = %s, %v; want none", b, err)
	}
	for key, want := range map[string]int64{"t55": 7, "m60": 7, "m61": 0} {
		if n, err := s.TicketByIndex(ctx, group, key); err != nil || n != want {
			t.Errorf("TicketByIndex(%s) = %d, %v; want %d", key, n, err, want)
		}
	}
	open, err := s.OpenTickets(ctx, group, 10)
	if err != nil || len(open) != 2 || string(open[0]) != `{"n":8}` {
		t.Errorf("OpenTickets = %s, %v; want 8 (waiting longest) then 7", open, err)
	}

	commitTicket(t, s, l, group, 3, queue.Effects{Ticket: &queue.TicketWrite{N: 8, Record: []byte(`{"n":8,"closed":1}`), Opened: base.Add(time.Minute)}})
	if open, err := s.OpenTickets(ctx, group, 10); err != nil || len(open) != 1 || string(open[0]) != `{"n":7}` {
		t.Errorf("OpenTickets after closing 8 = %s, %v", open, err)
	}
	all, err := s.TicketsOpened(ctx, group, base, base.Add(time.Hour))
	if err != nil || len(all) != 2 || string(all[1]) != `{"n":8,"closed":1}` {
		t.Errorf("TicketsOpened = %s, %v; want both, in opening order", all, err)
	}
	if some, err := s.TicketsOpened(ctx, group, base, base.Add(time.Minute)); err != nil || len(some) != 1 {
		t.Errorf("TicketsOpened before 8 opened = %s, %v; want 7 only", some, err)
	}
}
