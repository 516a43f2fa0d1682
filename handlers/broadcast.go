package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/queue"
)

// AudienceCounter counts a broadcast audience: the chats in at least one segment of every
// group, active in the last activeDays days (0: any).
type AudienceCounter interface {
	AudienceSize(ctx context.Context, groups [][]string, activeDays int) (int, error)
}

// WithAudience lets the staff's broadcast drafts show their audience's size, and the
// time (at rate messages a second) and, when paid, the cost in Stars of sending to it.
func WithAudience(a AudienceCounter, rate float64, paid bool) Option {
	return func(h *Handler) { h.audience, h.bcRate, h.bcPaid = a, rate, paid }
}

// StarsPerMessage is what a paid broadcast message costs.
const StarsPerMessage = 0.1

// BroadcastOrder is the body of a queue.MethodBroadcast entry: a broadcast to create (Op
// bot.OrderCreate: its content, its audience as segment groups, its start), or one to
// pause, resume or stop (Op the action, ID).
type BroadcastOrder struct {
	Op         string       `json:"op"`
	ID         string       `json:"id,omitempty"`
	Content    bot.Snapshot `json:"content"`
	Groups     [][]string   `json:"groups,omitempty"`
	ActiveDays int          `json:"active_days,omitempty"`
	At         time.Time    `json:"at,omitempty"`
	By         int64        `json:"by"`
	ByName     string       `json:"by_name,omitempty"`
}

// AudienceGroups are the segment groups of a selection: those who get notices (or, when
// categories are chosen, subscribe to one of them), and of the chosen roles, points (home
// or visited) and languages.
func AudienceGroups(s bot.Selection) [][]string {
	groups := [][]string{{SegmentNotices}}
	if len(s.Cats) > 0 {
		groups[0] = mapped(s.Cats, SegmentCategory)
	}
	if len(s.Roles) > 0 {
		groups = append(groups, mapped(s.Roles, SegmentRole))
	}
	if len(s.Points) > 0 {
		groups = append(groups, append(mapped(s.Points, SegmentHome), mapped(s.Points, SegmentVisit)...))
	}
	if len(s.Langs) > 0 {
		groups = append(groups, mapped(s.Langs, SegmentLanguage))
	}
	return groups
}

func mapped(vs []string, f func(string) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out
}

// selection reads back the selection of a reply's arguments.
func selection(args map[string]string) bot.Selection {
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	days, _ := strconv.Atoi(args["Days"])
	return bot.Selection{Roles: split(args["Roles"]), Points: split(args["Points"]), Cats: split(args["Cats"]),
		Langs: split(args["Langs"]), Days: days}
}

// errNoAudience is returned when a draft's audience is asked for without a counter.
var errNoAudience = errors.New("no audience counter configured for broadcasts")

// audienceArgs fills "Count" and "Summary" (the selection in words) of a draft reply.
func (h *Handler) audienceArgs(ctx context.Context, loc localizer, raw, args map[string]string) error {
	if h.audience == nil {
		return errNoAudience
	}
	sel := selection(raw)
	n, err := h.audience.AudienceSize(ctx, AudienceGroups(sel), sel.Days)
	if err != nil {
		return err
	}
	args["Count"] = strconv.Itoa(n)
	args["Minutes"] = strconv.FormatFloat(math.Ceil(float64(n)/max(h.bcRate, 1)/60), 'f', 0, 64)
	args["Stars"] = ""
	if h.bcPaid {
		args["Stars"] = strconv.FormatFloat(float64(n)*StarsPerMessage, 'f', 1, 64)
	}
	sep, err := loc.render(msgListSep, nil)
	if err != nil {
		return err
	}
	var lines []string
	for _, dim := range []struct {
		id, key string
		values  []string
		label   string
	}{
		{"broadcast_sel_role", "Role", sel.Roles, "RoleLabel"},
		{"broadcast_sel_point", "Point", sel.Points, "PointName"},
		{"broadcast_sel_category", "Category", sel.Cats, "CategoryName"},
		{"broadcast_sel_lang", "Lang", sel.Langs, "LangName"},
	} {
		if len(dim.values) == 0 {
			continue
		}
		names := make([]string, len(dim.values))
		for i, v := range dim.values {
			a, err := h.expand(loc, map[string]string{dim.key: v}, func(s string) string { return s })
			if err != nil {
				return err
			}
			names[i] = a[dim.label]
		}
		line, err := loc.render(dim.id, map[string]string{"Values": strings.Join(names, sep)})
		if err != nil {
			return err
		}
		lines = append(lines, line)
	}
	if sel.Days > 0 {
		line, err := loc.render("broadcast_sel_days", map[string]string{"Days": strconv.Itoa(sel.Days)})
		if err != nil {
			return err
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		line, err := loc.render("broadcast_sel_all", nil)
		if err != nil {
			return err
		}
		lines = append(lines, line)
	}
	args["Summary"] = strings.Join(lines, "\n")
	return nil
}

// msgStopNotices labels the "stop these notices" button under a broadcast, in both
// languages: one label goes to every recipient.
const msgStopNotices = "broadcast_stop_label"

// StopNoticesLabel is the label of the "stop these notices" button.
func (h *Handler) StopNoticesLabel() (string, error) {
	return h.texts.localizer(bot.LangZH).render(msgStopNotices, nil)
}

// snapshotMessage is the outbox message that sends a snapshot to chat, as a broadcast does.
func (h *Handler) snapshotMessage(s bot.Snapshot, chat int64) (queue.Message, error) {
	label, err := h.StopNoticesLabel()
	if err != nil {
		return queue.Message{}, err
	}
	m := queue.Message{Method: queue.MethodSendMessage, ChatID: chat, Text: s.Text, Entities: s.Entities,
		Inline: [][]queue.Button{{{Text: label, Data: bot.StopNoticesData}}}}
	switch s.Media {
	case "photo":
		m.Method, m.FileID = queue.MethodSendPhoto, s.FileID
	case "document":
		m.Method, m.FileID = queue.MethodSendDocument, s.FileID
	}
	return m, nil
}

// snapshot is what a broadcast can carry of a message: its text and entities, or its photo
// or document (by file id) with the caption; nil for anything else.
func snapshot(m *models.Message) *bot.Snapshot {
	if m == nil {
		return nil
	}
	ents := func(e []models.MessageEntity) json.RawMessage {
		if len(e) == 0 {
			return nil
		}
		b, err := json.Marshal(e)
		if err != nil {
			return nil
		}
		return b
	}
	switch {
	case m.Text != "":
		return &bot.Snapshot{Text: m.Text, Entities: ents(m.Entities)}
	case len(m.Photo) > 0:
		return &bot.Snapshot{Text: m.Caption, Entities: ents(m.CaptionEntities), Media: "photo", FileID: m.Photo[len(m.Photo)-1].FileID}
	case m.Document != nil:
		return &bot.Snapshot{Text: m.Caption, Entities: ents(m.CaptionEntities), Media: "document", FileID: m.Document.FileID}
	}
	return nil
}

// orders adds a result's broadcast orders to eff as follow-up entries.
func (h *Handler) orders(u queue.Update, res bot.Result, eff *queue.Effects) error {
	for i, o := range res.Orders {
		body, err := json.Marshal(BroadcastOrder{Op: o.Op, ID: o.ID, Content: o.Content, Groups: AudienceGroups(o.Sel),
			ActiveDays: o.Sel.Days, At: o.At, By: o.By, ByName: o.ByName})
		if err != nil {
			return fmt.Errorf("encode broadcast order of update %s: %w", u.StreamID, err)
		}
		eff.Outbox = append(eff.Outbox, queue.Message{ID: fmt.Sprintf("%s.b%d", u.StreamID, i), Method: queue.MethodBroadcast,
			Lane: queue.LaneReply, ChatID: u.ChatID, Body: body})
	}
	return nil
}
