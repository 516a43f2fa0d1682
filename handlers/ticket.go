package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/metrics"
	"github.com/nanta-district/bangban/queue"
)

// TicketReader is the view of the store the staff desk needs: a group's ticket records
// and the index that leads from its topics and messages to them.
type TicketReader interface {
	Ticket(ctx context.Context, group, n int64) ([]byte, error)
	TicketByIndex(ctx context.Context, group int64, key string) (int64, error)
	OpenTickets(ctx context.Context, group int64, limit int64) ([][]byte, error)
	TicketsOpened(ctx context.Context, group int64, from, to time.Time) ([][]byte, error)
}

// queueShown bounds /queue's list.
const queueShown = 30

// DeskConfig configures the service desk.
type DeskConfig struct {
	// StaffChat is the default staff group of request categories without their own.
	StaffChat int64
	// Forums are the staff groups that have forum topics.
	Forums []int64
	// MaxOpen caps a user's open tickets (0: bot.DefaultMaxOpenTickets).
	MaxOpen int
	// StaffNames signs answers with the staff member's first name instead of "Staff".
	StaffNames bool
	// Tickets reads ticket records; without it staff groups have no desk.
	Tickets TicketReader
}

// WithDesk configures the service desk.
func WithDesk(c DeskConfig) Option {
	return func(h *Handler) { h.desk = c }
}

// desk shows the content's service desk to the conversation.
type desk struct {
	c   *content.Content
	def int64
}

func (d desk) Categories() []string {
	ids := make([]string, len(d.c.Desk.Categories))
	for i, c := range d.c.Desk.Categories {
		ids[i] = c.ID
	}
	return ids
}

func (d desk) Category(id string) (bot.DeskCategory, bool) {
	c, ok := d.c.Desk.Category(id)
	if !ok {
		return bot.DeskCategory{}, false
	}
	g := c.Group
	if g == 0 {
		g = d.def
	}
	return bot.DeskCategory{ID: c.ID, Target: c.Target, Group: g, Phone: c.Phone}, true
}

func (d desk) Open(t time.Time) bool          { return d.c.Desk.Open(t) }
func (d desk) NextOpen(t time.Time) time.Time { return d.c.Desk.NextOpen(t) }

func (d desk) Canned(category string) []string {
	var ids []string
	for _, a := range d.c.CannedFor(category) {
		ids = append(ids, a.ID)
	}
	return ids
}

func (d desk) CannedExists(id string) bool {
	return slices.ContainsFunc(d.c.Canned, func(a content.Canned) bool { return a.ID == id })
}

// event turns a delivered event into an input of the chat it was delivered to.
func (h *Handler) event(ctx context.Context, u queue.Update, st queue.State) (queue.Effects, error) {
	var e queue.Event
	var ev bot.Event
	if json.Unmarshal(u.Raw, &e) != nil || json.Unmarshal(e.Body, &ev) != nil {
		return queue.Effects{}, nil
	}
	in := bot.Input{Kind: bot.KindEvent, Chat: bot.ChatPrivate, ChatID: u.ChatID, Event: &ev, EventFrom: e.From, Seq: e.Seq,
		Now: h.now().In(h.loc), Staff: slices.Contains(h.staff, u.ChatID)}
	if u.ChatID < 0 {
		in.Chat = bot.ChatGroup
	}
	return h.step(ctx, u, st, in, origin{chatID: u.ChatID})
}

// deskWorld loads what a staff group's input needs: the ticket it concerns, found by its
// number (events, results, card buttons), its topic or the message it replies to; and
// for /queue the open tickets.
func (h *Handler) deskWorld(ctx context.Context, in bot.Input, m messageRefs, w *bot.World) error {
	r := h.desk.Tickets
	if r == nil || in.Chat != bot.ChatGroup || !in.Staff {
		return nil
	}
	w.Forum = slices.Contains(h.desk.Forums, in.ChatID)
	w.StaffNames = h.desk.StaffNames
	if in.Kind == bot.KindCommand && in.Command == "queue" {
		raws, err := r.OpenTickets(ctx, in.ChatID, queueShown)
		if err != nil {
			return err
		}
		for _, b := range raws {
			var t bot.Ticket
			if json.Unmarshal(b, &t) == nil {
				w.Queue = append(w.Queue, t)
			}
		}
		return nil
	}
	n := bot.DeskTicket(in)
	var err error
	switch {
	case n != 0:
	case m.thread != 0:
		n, err = r.TicketByIndex(ctx, in.ChatID, "t"+strconv.Itoa(m.thread))
	case m.replyTo != 0:
		n, err = r.TicketByIndex(ctx, in.ChatID, "m"+strconv.Itoa(m.replyTo))
	}
	if err != nil || n == 0 {
		return err
	}
	b, err := r.Ticket(ctx, in.ChatID, n)
	if err != nil || b == nil {
		return err
	}
	var t bot.Ticket
	if json.Unmarshal(b, &t) != nil {
		return nil
	}
	w.Ticket = &t
	return nil
}

// messageRefs are the parts of a staff message that lead to a ticket.
type messageRefs struct {
	thread, replyTo int
}

// tickets adds a result's ticket record and deliveries to eff, and counts its figures.
func (h *Handler) tickets(u queue.Update, res bot.Result, eff *queue.Effects) error {
	if t := res.TicketWrite; t != nil {
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode ticket %d: %w", t.N, err)
		}
		w := &queue.TicketWrite{N: t.N, Record: b, Open: t.Status != bot.TicketClosed, Since: t.Opened, Opened: t.Opened, Index: res.TicketIndex}
		if t.Waiting != nil {
			w.Since = *t.Waiting
		}
		eff.Ticket = w
	}
	if c := res.TicketChange; c != nil {
		ttl := statDays * 24 * time.Hour
		day := h.day(h.now())
		switch {
		case c.Opened:
			metrics.TicketsOpened.WithLabelValues(c.Cat).Inc()
			eff.Counters = append(eff.Counters, queue.Counter{Key: statTicketsOpened + day, Field: c.Cat, By: 1, TTL: ttl})
		case c.Closed:
			metrics.TicketsClosed.WithLabelValues(c.Cat).Inc()
			metrics.TicketResolution.Observe(c.Resolution.Seconds())
			eff.Counters = append(eff.Counters, queue.Counter{Key: statTicketsClosed + day, Field: c.Cat, By: 1, TTL: ttl})
		case c.FirstResponse > 0:
			metrics.TicketFirstResponse.Observe(c.FirstResponse.Seconds())
		case c.Rating > 0:
			metrics.TicketRatings.Observe(float64(c.Rating))
			eff.Counters = append(eff.Counters,
				queue.Counter{Key: statTicketRatings + day, Field: "sum", By: int64(c.Rating), TTL: ttl},
				queue.Counter{Key: statTicketRatings + day, Field: "n", By: 1, TTL: ttl})
		}
	}
	for i, d := range res.Deliver {
		body, err := json.Marshal(d.Event)
		if err != nil {
			return fmt.Errorf("encode event of update %s: %w", u.StreamID, err)
		}
		to := d.To
		if to == 0 {
			to = u.ChatID
		}
		eff.Outbox = append(eff.Outbox, queue.Message{ID: fmt.Sprintf("%s.d%d", u.StreamID, i), Method: queue.MethodDeliver,
			Lane: queue.LaneReply, ChatID: to, Body: body, Counter: d.Counter})
	}
	return nil
}

// Overdue is a ticket that waited past its target, and since when.
type Overdue struct {
	N     int64
	Since time.Time
	// Event is the OpSLA event to deliver to the ticket's group.
	Event []byte
}

// Overdue picks, among a staff group's open ticket records, those that waited past their
// category's target and were not flagged yet.
func (h *Handler) Overdue(records [][]byte) []Overdue {
	d := desk{h.cnt(), h.desk.StaffChat}
	now := h.now().In(h.loc)
	var out []Overdue
	for _, b := range records {
		var t bot.Ticket
		if json.Unmarshal(b, &t) != nil || !bot.Overdue(t, d, now) {
			continue
		}
		ev, err := json.Marshal(bot.Event{Op: bot.OpSLA, N: t.N})
		if err != nil {
			continue
		}
		out = append(out, Overdue{N: t.N, Since: *t.Waiting, Event: ev})
	}
	return out
}

// StaffGroups are the staff groups the handler serves.
func (h *Handler) StaffGroups() []int64 { return slices.Clone(h.staff) }
