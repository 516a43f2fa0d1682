package handlers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/queue"
)

// errNoReader is returned when a staff command needs the store and the handler has none.
var errNoReader = errors.New("no store reader configured for staff commands")

// statsDays are the periods /stats reports, in days back from today (1 = today).
var statsDays = [3]int{1, 7, 30}

// stats fills the arguments of the statistics reply: members by role, registrations and
// check-ins per point for today, 7 and 30 days, in the district's time zone.
func (h *Handler) stats(ctx context.Context, loc localizer, args map[string]string) error {
	if h.reader == nil {
		return errNoReader
	}
	today := h.now().In(h.loc)
	days := make([]string, statsDays[2])
	names := []string{statMembers}
	for i := range days {
		days[i] = today.AddDate(0, 0, -i).Format(dayLayout)
		names = append(names, statCheckIns+days[i], statRegs+days[i], statQueries+days[i], statNoResults+days[i])
	}
	data, err := h.reader.Stats(ctx, names)
	if err != nil {
		return err
	}
	// sums adds a statistic's field over the periods.
	sums := func(prefix, field string) [3]int64 {
		var s [3]int64
		for i, d := range days {
			for p, n := range statsDays {
				if i < n {
					s[p] += data[prefix+d][field]
				}
			}
		}
		return s
	}
	var members int64
	var lines []string
	for _, role := range bot.Roles {
		n := data[statMembers][role]
		members += n
		line, err := h.items(loc, msgStatsMember, []map[string]string{{"Role": role, "N": strconv.FormatInt(n, 10)}})
		if err != nil {
			return err
		}
		lines = append(lines, line)
	}
	args["Today"] = today.Format(dayLayout)
	args["Members"] = strconv.FormatInt(members, 10)
	args["MemberLines"] = strings.Join(lines, "\n")
	var regs [3]int64
	for _, role := range bot.Roles {
		for p, n := range sums(statRegs, role) {
			regs[p] += n
		}
	}
	args["RegToday"], args["RegWeek"], args["RegMonth"] = fmtInts(regs)

	// Points in content order, then any that were removed from the content since.
	ids := points{h.cnt()}.IDs()
	seen := map[string]bool{}
	for _, d := range days {
		for id := range data[statCheckIns+d] {
			seen[id] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(seen)) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	var total [3]int64
	lines = lines[:0]
	for _, id := range ids {
		s := sums(statCheckIns, id)
		for p := range s {
			total[p] += s[p]
		}
		// Only points visited in the 30 days, and at most maxPointLines of them, so that
		// the message stays within Telegram's limit however many points a district has;
		// the total still counts them all.
		if s[2] == 0 || len(lines) == maxPointLines {
			continue
		}
		a := map[string]string{"Point": id}
		a["Today"], a["Week"], a["Month"] = fmtInts(s)
		line, err := h.items(loc, msgStatsPoint, []map[string]string{a})
		if err != nil {
			return err
		}
		lines = append(lines, line)
	}
	args["PointLines"] = strings.Join(lines, "\n")
	if len(lines) == 0 {
		if args["PointLines"], err = loc.render(msgStatsNone, nil); err != nil {
			return err
		}
	}
	args["CkToday"], args["CkWeek"], args["CkMonth"] = fmtInts(total)
	if err := h.ticketStats(ctx, loc, args); err != nil {
		return err
	}
	for key, prefix := range map[string]string{"TopQueries": statQueries, "NoResults": statNoResults} {
		if args[key], err = h.topQueries(loc, data, prefix, days); err != nil {
			return err
		}
	}
	return nil
}

// topQueries lists the most asked questions of the days, most asked first.
func (h *Handler) topQueries(loc localizer, data map[string]map[string]int64, prefix string, days []string) (string, error) {
	counts := map[string]int64{}
	for _, d := range days {
		for q, n := range data[prefix+d] {
			counts[q] += n
		}
	}
	qs := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b))
	})
	// A question asked once may carry what only its asker wrote (a name, a place): the
	// list shows only questions asked at least twice.
	qs = slices.DeleteFunc(qs, func(q string) bool { return counts[q] < minAsked })
	if len(qs) == 0 {
		return loc.render(msgStatsNone, nil)
	}
	items := make([]map[string]string, 0, topShown)
	for _, q := range qs[:min(len(qs), topShown)] {
		items = append(items, map[string]string{"Q": q, "N": strconv.FormatInt(counts[q], 10)})
	}
	return h.items(loc, msgStatsQuery, items)
}

// topShown is how many questions /stats lists per kind; minAsked how often a question
// must have been asked to be listed.
const (
	topShown = 10
	minAsked = 2
	// maxPointLines bounds the points /stats lists.
	maxPointLines = 50
)

func fmtInts(s [3]int64) (string, string, string) {
	return strconv.FormatInt(s[0], 10), strconv.FormatInt(s[1], 10), strconv.FormatInt(s[2], 10)
}

// auditEntry is what the audit log keeps of a staff action.
type auditEntry struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	By     int64     `json:"by"`
	ByName string    `json:"by_name"`
	Chat   int64     `json:"chat"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Rows   int       `json:"rows"`
}

// export builds the CSV of raw "Kind" (check-ins or tickets) from "From" to "To"
// (inclusive days in the district's time zone). It sets args "Rows" and records the
// export in the audit log. A CSV over queue.MaxDocument gives nil.
func (h *Handler) export(ctx context.Context, loc localizer, raw, args map[string]string, in bot.Input, o origin, eff *queue.Effects) ([]byte, error) {
	if h.reader == nil {
		return nil, errNoReader
	}
	from, err1 := time.ParseInLocation(dayLayout, raw["From"], h.loc)
	to, err2 := time.ParseInLocation(dayLayout, raw["To"], h.loc)
	if err := cmp.Or(err1, err2); err != nil {
		return nil, fmt.Errorf("export range: %w", err)
	}
	if raw["Kind"] == bot.ExportTickets {
		return h.exportTickets(ctx, loc, raw, args, in, o, eff, from, to.AddDate(0, 0, 1))
	}
	raws, err := h.reader.CheckIns(ctx, from, to.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	recs := make([]record, 0, len(raws))
	chats := map[int64]bool{}
	for _, b := range raws {
		var r record
		if json.Unmarshal(b, &r) == nil {
			recs = append(recs, r)
			chats[r.Chat] = true
		}
	}
	profiles, err := h.reader.Profiles(ctx, slices.Sorted(maps.Keys(chats)))
	if err != nil {
		return nil, err
	}
	buf, w, err := newCSV(loc, msgExportHeader)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		p := bot.DecodeProfile(profiles[r.Chat])
		m := p.Member
		if m == nil {
			m = &bot.Member{}
		}
		a, err := h.expand(loc, map[string]string{"Point": r.Point, "Role": cmp.Or(m.Role, r.Role),
			"Party": m.Party, "Employer": m.Employer}, func(s string) string { return s })
		if err != nil {
			return nil, err
		}
		meters := ""
		if r.Meters >= 0 {
			meters = strconv.Itoa(r.Meters)
		}
		row := []string{r.At.In(h.loc).Format("2006-01-02 15:04:05"), r.Point, a["PointName"], r.Via, meters,
			plainLabel(a["RoleLabel"]), m.Name, m.Phone, a["PartyLabel"], a["EmployerLabel"], strconv.FormatInt(r.Chat, 10)}
		for i := range row {
			row[i] = cell(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	return h.finishExport(w, buf, "export_checkins", len(recs), raw, args, in, o, eff)
}

// newCSV starts an export's CSV: UTF-8 with a byte order mark, so that Excel reads the
// Chinese correctly, and the header row of the locale text headerID (comma-separated).
func newCSV(loc localizer, headerID string) (*bytes.Buffer, *csv.Writer, error) {
	header, err := loc.render(headerID, nil)
	if err != nil {
		return nil, nil, err
	}
	buf := &bytes.Buffer{}
	buf.WriteString("\ufeff")
	w := csv.NewWriter(buf)
	return buf, w, w.Write(strings.Split(header, ","))
}

// finishExport completes an export's CSV and records it in the audit log; a CSV over
// queue.MaxDocument gives nil.
func (h *Handler) finishExport(w *csv.Writer, buf *bytes.Buffer, action string, rows int, raw, args map[string]string, in bot.Input, o origin, eff *queue.Effects) ([]byte, error) {
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	if buf.Len() > queue.MaxDocument {
		return nil, nil
	}
	args["Rows"] = strconv.Itoa(rows)
	e, err := json.Marshal(auditEntry{At: in.Now, Action: action, By: in.FromID, ByName: in.Name,
		Chat: o.chatID, From: raw["From"], To: raw["To"], Rows: rows})
	if err != nil {
		return nil, err
	}
	eff.Audit = append(eff.Audit, e)
	return buf.Bytes(), nil
}

// cell defuses text a spreadsheet would run as a formula (CSV injection): users type
// their employer, so a cell starting with =, +, -, @ or a control character is
// prefixed with an apostrophe, which Excel and LibreOffice show as plain text. Phone
// numbers (+86…) are text too, so they get it as well and stay readable as numbers.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// plainLabel drops the emoji that starts a button label, for a spreadsheet cell.
func plainLabel(s string) string {
	return strings.TrimLeftFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
}
