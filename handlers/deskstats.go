package handlers

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/queue"
)

// Message ids of the desk's statistics and export.
const (
	msgStatsTickets     = "stats_tickets"
	msgStatsTicketLine  = "stats_ticket_line"
	msgExportTicketCols = "export_ticket_columns"
)

// deskTickets returns the records of the tickets opened in [from, to) in every staff group.
func (h *Handler) deskTickets(ctx context.Context, from, to time.Time) ([]bot.Ticket, error) {
	var out []bot.Ticket
	if h.desk.Tickets == nil {
		return nil, nil
	}
	for _, g := range h.staff {
		raws, err := h.desk.Tickets.TicketsOpened(ctx, g, from, to)
		if err != nil {
			return nil, err
		}
		for _, b := range raws {
			var t bot.Ticket
			if json.Unmarshal(b, &t) == nil {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b bot.Ticket) int { return a.Opened.Compare(b.Opened) })
	return out, nil
}

// ticketStats fills args "Tickets" of /stats: per category the tickets opened and closed in
// the 30 days, and over all of them the median and 90th percentile of the first response
// and of the resolution, and the average rating.
func (h *Handler) ticketStats(ctx context.Context, loc localizer, args map[string]string) error {
	now := h.now().In(h.loc)
	tickets, err := h.deskTickets(ctx, now.AddDate(0, 0, -statsDays[2]), now.Add(time.Second))
	if err != nil {
		return err
	}
	if len(tickets) == 0 {
		args["Tickets"], err = loc.render(msgStatsNone, nil)
		return err
	}
	var first, resolved []time.Duration
	opened, closed := map[string]int{}, map[string]int{}
	var stars, rated int
	for _, t := range tickets {
		opened[t.Cat]++
		if t.FirstResponse != nil {
			first = append(first, t.FirstResponse.Sub(t.Opened))
		}
		if t.Closed != nil {
			closed[t.Cat]++
			resolved = append(resolved, t.Closed.Sub(t.Opened))
		}
		if t.Rating > 0 {
			stars += t.Rating
			rated++
		}
	}
	cats := h.cnt().Desk.Categories
	var lines []string
	for _, c := range cats {
		if opened[c.ID] == 0 {
			continue
		}
		line, err := h.items(loc, msgStatsTicketLine, []map[string]string{{"ReqCategory": c.ID,
			"Opened": strconv.Itoa(opened[c.ID]), "Closed": strconv.Itoa(closed[c.ID])}})
		if err != nil {
			return err
		}
		lines = append(lines, line)
	}
	a := map[string]string{"Lines": strings.Join(lines, "\n"), "Count": strconv.Itoa(len(tickets)),
		"FirstMedian": hours(percentile(first, 50)), "FirstNinetieth": hours(percentile(first, 90)),
		"ResolvedMedian": hours(percentile(resolved, 50)), "ResolvedNinetieth": hours(percentile(resolved, 90)),
		"Rating": "", "Rated": strconv.Itoa(rated)}
	if rated > 0 {
		a["Rating"] = strconv.FormatFloat(float64(stars)/float64(rated), 'f', 1, 64)
	}
	args["Tickets"], err = loc.renderSafe(msgStatsTickets, a)
	return err
}

// percentile returns the p-th percentile of ds (nearest rank), -1 when there are none.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	s := slices.Sorted(slices.Values(ds))
	i := (p*len(s)+99)/100 - 1
	return s[max(i, 0)]
}

// hours writes a duration in hours with one decimal, "–" for none.
func hours(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	return strconv.FormatFloat(d.Hours(), 'f', 1, 64)
}

// exportTickets builds the ticket CSV of tickets opened in [from, to): no names or phone
// numbers, which the desk's figures do not need.
func (h *Handler) exportTickets(ctx context.Context, loc localizer, raw, args map[string]string, in bot.Input, o origin, eff *queue.Effects, from, to time.Time) ([]byte, error) {
	tickets, err := h.deskTickets(ctx, from, to)
	if err != nil {
		return nil, err
	}
	buf, w, err := newCSV(loc, msgExportTicketCols)
	if err != nil {
		return nil, err
	}
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(h.loc).Format("2006-01-02 15:04:05")
	}
	since := func(t *time.Time, from time.Time) string {
		if t == nil {
			return ""
		}
		return strconv.FormatFloat(t.Sub(from).Hours(), 'f', 2, 64)
	}
	for _, t := range tickets {
		a, err := h.expand(loc, map[string]string{"ReqCategory": t.Cat, "Status": t.Status, "Role": t.Role, "Point": t.Point},
			func(s string) string { return s })
		if err != nil {
			return nil, err
		}
		rating := ""
		if t.Rating > 0 {
			rating = strconv.Itoa(t.Rating)
		}
		row := []string{strconv.FormatInt(t.N, 10), a["ReqCategoryName"], a["StatusLabel"], at(&t.Opened), at(t.FirstResponse),
			since(t.FirstResponse, t.Opened), at(t.Closed), since(t.Closed, t.Opened), rating, t.Comment,
			plainLabel(a["RoleLabel"]), a["PointName"], t.TakenName, strconv.Itoa(t.Msgs)}
		for i := range row {
			row[i] = cell(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	return h.finishExport(w, buf, "export_tickets", len(tickets), raw, args, in, o, eff)
}
