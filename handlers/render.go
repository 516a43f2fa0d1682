package handlers

import (
	"context"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/queue"
)

// Message ids handlers render on their own, beside the bot's.
const (
	msgValueUnset   = "value_unset"
	msgPartyYes     = "party_yes"
	msgPartyNo      = "party_no"
	msgOpenNow      = "open_now"
	msgClosedNow    = "closed_now"
	msgDistanceM    = "distance_m"
	msgDistanceKM   = "distance_km"
	msgHoursToday   = "hours_today"
	msgHoursClosed  = "hours_closed"
	msgHoursAllDay  = "hours_all_day"
	msgListSep      = "list_separator"
	msgStatsMember  = "stats_member_line"
	msgStatsPoint   = "stats_point_line"
	msgExportHeader = "export_columns"
)

// handlerIDs lists them, for the locale test.
var handlerIDs = []string{
	msgValueUnset, msgPartyYes, msgPartyNo, msgOpenNow, msgClosedNow, msgDistanceM, msgDistanceKM,
	msgHoursToday, msgHoursClosed, msgHoursAllDay, msgListSep, msgStatsMember, msgStatsPoint, msgExportHeader,
	msgMetaIssuer, msgMetaNumber, msgMetaIssued, msgMetaEffective, msgMetaExpired, msgUnverified, msgSection,
	msgSource, msgMore, msgInlineCard, msgStatsQuery, msgStatsNone,
	"ticket_status_pending", "ticket_status_open", "ticket_status_taken", "ticket_status_answered",
	"ticket_status_closed", "ticket_turn_staff", "ticket_turn_user",
	msgStatsTickets, msgStatsTicketLine, msgExportTicketCols,
	"broadcast_sel_role", "broadcast_sel_point", "broadcast_sel_category", "broadcast_sel_lang",
	"broadcast_sel_days", "broadcast_sel_all", msgStopNotices,
}

// inlineCacheSeconds is how long Telegram may reuse an inline answer for the same query
// of the same user (answers are personal: they depend on the user's role).
const inlineCacheSeconds = 300

// maxTopicName is the longest forum topic name Telegram accepts, in characters.
const maxTopicName = 128

// truncateRunes cuts s to n characters.
func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// timeLayout shows times to users, in the district's time zone.
const timeLayout = "2006-01-02 15:04"

// outbox renders the replies in the profile's language. A button tap is answered first,
// whatever the bot decided, so the user's button stops spinning even when nothing else is
// said; the bot's AnswerCallback reply only adds a toast to that answer.
func (h *Handler) outbox(ctx context.Context, u queue.Update, res bot.Result, o origin, in bot.Input, eff *queue.Effects) ([]queue.Message, error) {
	loc := h.texts.localizer(res.Profile.Lang)
	var out []queue.Message
	add := func(m queue.Message) {
		m.ID = fmt.Sprintf("%s.%d", u.StreamID, len(out))
		m.Lane = queue.LaneReply
		if m.ChatID == 0 {
			m.ChatID = o.chatID
		}
		out = append(out, m)
	}
	if o.callbackID != "" {
		answer := queue.Message{Method: queue.MethodAnswerCallbackQuery, CallbackID: o.callbackID}
		for _, r := range res.Replies {
			if r.Kind == bot.AnswerCallback && r.Text != "" {
				toast, err := loc.render(r.Text, nil)
				if err != nil {
					return nil, err
				}
				answer.Text = toast
				break
			}
		}
		add(answer)
	}
	for _, r := range res.Replies {
		switch r.Kind {
		case bot.AnswerCallback:
			continue
		case bot.AnswerInline:
			results, err := h.inlineResults(loc, r.Items)
			if err != nil {
				return nil, err
			}
			add(queue.Message{Method: queue.MethodAnswerInlineQuery, InlineQueryID: o.inlineID, Results: results,
				CacheTime: inlineCacheSeconds, ParseMode: string(models.ParseModeHTML)})
			continue
		}
		args, err := h.expand(loc, r.Args, html.EscapeString)
		if err != nil {
			return nil, err
		}
		if r.Item != "" {
			if args["Items"], err = h.items(loc, r.Item, r.Items); err != nil {
				return nil, err
			}
		}
		var doc []byte
		switch r.Fetch {
		case bot.FetchStats:
			if err := h.stats(ctx, loc, args); err != nil {
				return nil, err
			}
		case bot.FetchAudience:
			if err := h.audienceArgs(ctx, loc, r.Args, args); err != nil {
				return nil, err
			}
		case bot.FetchExport:
			if doc, err = h.export(ctx, loc, r.Args, args, in, o, eff); err != nil {
				return nil, err
			}
			if doc == nil {
				r = bot.Reply{Kind: bot.SendNew, Text: bot.MsgExportTooBig}
				args = map[string]string{"Max": strconv.Itoa(queue.MaxDocument >> 20)}
			}
		}
		switch r.Kind {
		case bot.CopyMessages:
			add(queue.Message{Method: queue.MethodCopyMessages, ChatID: r.To, ThreadID: r.Thread, FromChatID: r.FromChat,
				MessageIDs: r.IDs, WantResult: r.Ref != "", Ref: r.Ref})
			continue
		case bot.DeleteTopic:
			add(queue.Message{Method: queue.MethodDeleteForumTopic, ChatID: r.To, ThreadID: r.Thread})
			continue
		case bot.SendSnapshot:
			m, err := h.snapshotMessage(*r.Snapshot, r.To)
			if err != nil {
				return nil, err
			}
			add(m)
			continue
		case bot.CreateTopic:
			plain, err := h.expand(loc, r.Args, func(s string) string { return s })
			if err != nil {
				return nil, err
			}
			name, err := loc.renderSafe(r.Text, plain)
			if err != nil {
				return nil, err
			}
			add(queue.Message{Method: queue.MethodCreateForumTopic, ChatID: r.To, Name: truncateRunes(name, maxTopicName),
				WantResult: r.Ref != "", Ref: r.Ref})
			continue
		}
		texts := []string{}
		if r.Text == bot.MsgPolicyCard {
			// A long card goes out as several messages; the buttons come with the last.
			if texts, err = h.card(loc, r.Args["Policy"], args); err != nil {
				return nil, err
			}
			for _, t := range texts[:max(len(texts)-1, 0)] {
				add(queue.Message{Method: queue.MethodSendMessage, ThreadID: o.threadID, Text: t, ParseMode: string(models.ParseModeHTML)})
			}
			texts = texts[max(len(texts)-1, 0):]
		} else {
			t, err := loc.renderSafe(r.Text, args)
			if err != nil {
				return nil, err
			}
			texts = append(texts, t)
		}
		if len(texts) == 0 {
			continue
		}
		text := texts[0]
		m := queue.Message{Method: queue.MethodSendMessage, ChatID: r.To, ThreadID: o.threadID, Text: text,
			ParseMode: string(models.ParseModeHTML), RemoveKeyboard: r.RemoveKeyboard, WantResult: r.Ref != "", Ref: r.Ref}
		if m.Inline, err = h.keyboard(loc, r.Buttons); err != nil {
			return nil, err
		}
		if m.Reply, err = h.keyboard(loc, r.Keyboard); err != nil {
			return nil, err
		}
		if r.Thread != 0 {
			m.ThreadID = r.Thread
		}
		m.MessageID = r.ReplyTo
		switch {
		case r.Kind == bot.EditOrigin && r.Edit != 0:
			m.Method, m.MessageID, m.ThreadID = queue.MethodEditMessageText, r.Edit, 0
		case r.Kind == bot.CopyMessage:
			m.Method, m.FromChatID, m.MessageIDs = queue.MethodCopyMessage, r.FromChat, r.IDs
		case r.Kind == bot.EditOrigin && o.messageID != 0:
			m.Method, m.MessageID, m.ThreadID = queue.MethodEditMessageText, o.messageID, 0
		case r.Kind == bot.SendDocument:
			m.Method, m.Document, m.FileName, m.ThreadID = queue.MethodSendDocument, doc,
				fmt.Sprintf("%s_%s_%s.csv", r.Args["Kind"], r.Args["From"], r.Args["To"]), 0
		}
		if m.ChatID != 0 && m.ChatID != o.chatID {
			m.ThreadID = 0
		}
		add(m)
	}
	return out, nil
}

// keyboard renders buttons; labels are plain text, so their arguments are not escaped.
func (h *Handler) keyboard(loc localizer, rows [][]bot.Button) ([][]queue.Button, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	kb := make([][]queue.Button, 0, len(rows))
	for _, row := range rows {
		r := make([]queue.Button, 0, len(row))
		for _, b := range row {
			args, err := h.expand(loc, b.Args, func(s string) string { return s })
			if err != nil {
				return nil, err
			}
			label, err := loc.renderSafe(b.Text, args)
			if err != nil {
				return nil, err
			}
			r = append(r, queue.Button{Text: label, Data: b.Data, RequestContact: b.RequestContact, RequestLocation: b.RequestLocation})
		}
		kb = append(kb, r)
	}
	return kb, nil
}

// items renders one line per item and joins them.
func (h *Handler) items(loc localizer, id string, items []map[string]string) (string, error) {
	lines := make([]string, 0, len(items))
	for _, it := range items {
		args, err := h.expand(loc, it, html.EscapeString)
		if err != nil {
			return "", err
		}
		line, err := loc.renderSafe(id, args)
		if err != nil {
			return "", err
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), nil
}

// expand escapes a reply's arguments with esc and adds what they name, in the user's
// language: a "Point" id gives its name, address, services, phone and today's hours; "At"
// a time; "Role", "Party" and "Employer" their labels; "Meters" a distance; "Open" a label.
func (h *Handler) expand(loc localizer, raw map[string]string, esc func(string) string) (map[string]string, error) {
	args := make(map[string]string, len(raw)+8)
	if len(raw) == 0 {
		return args, nil
	}
	for k, v := range raw {
		args[k] = esc(v)
	}
	unset, err := loc.render(msgValueUnset, nil)
	if err != nil {
		return nil, err
	}
	label := func(key, id string) error {
		s, err := loc.render(id, nil)
		args[key] = s
		return err
	}
	for k, v := range raw {
		switch k {
		case "Point":
			err = h.expandPoint(loc, v, args, esc, unset)
		case "Policy":
			err = h.expandPolicy(loc, v, args, esc)
		case "Category":
			args["CategoryName"] = unset
			if c, ok := h.cnt().Category(v); ok {
				args["CategoryName"] = esc(c.Name.In(loc.lang))
			}
		case "ReqCategory":
			args["ReqCategoryName"] = esc(v)
			if c, ok := h.cnt().Desk.Category(v); ok {
				args["ReqCategoryName"] = esc(c.Name.In(loc.lang))
				args["ReqCategoryHint"] = esc(c.Hint.In(loc.lang))
			}
		case "Canned":
			args["CannedTitle"], args["CannedText"] = esc(v), ""
			for _, a := range h.cnt().Canned {
				if a.ID == v {
					args["CannedTitle"], args["CannedText"] = esc(a.Title.In(loc.lang)), esc(a.Text.In(loc.lang))
				}
			}
		case "Status":
			if v != "" {
				err = label("StatusLabel", "ticket_status_"+v)
			}
		case "Turn":
			err = label("TurnLabel", "ticket_turn_"+v)
		case "At":
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				args["Time"] = t.In(h.loc).Format(timeLayout)
			}
		case "Role":
			args["RoleLabel"] = unset
			if v != "" {
				if err := label("RoleLabel", "role_"+v); err != nil {
					return nil, err
				}
			}
		case "Party":
			args["PartyLabel"] = unset
			switch v {
			case "yes":
				err = label("PartyLabel", msgPartyYes)
			case "no":
				err = label("PartyLabel", msgPartyNo)
			}
		case "Employer":
			args["EmployerLabel"] = unset
			switch {
			case v == "":
			case loc.has("employer_" + v):
				err = label("EmployerLabel", "employer_"+v)
			default:
				args["EmployerLabel"] = esc(v)
			}
		case "Meters":
			n, _ := strconv.Atoi(v)
			if n < 1000 {
				args["Distance"], err = loc.render(msgDistanceM, map[string]string{"N": strconv.Itoa(n)})
			} else {
				args["Distance"], err = loc.render(msgDistanceKM, map[string]string{"N": strconv.FormatFloat(float64(n)/1000, 'f', 1, 64)})
			}
		case "Lang":
			args["LangName"] = esc(v)
			switch v {
			case bot.LangZH:
				err = label("LangName", bot.MsgLangNameZH)
			case bot.LangEN:
				err = label("LangName", bot.MsgLangNameEN)
			}
		case "Open":
			if v == "yes" {
				err = label("OpenLabel", msgOpenNow)
			} else {
				err = label("OpenLabel", msgClosedNow)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return args, nil
}

// expandPoint adds a point's details in the user's language.
func (h *Handler) expandPoint(loc localizer, id string, args map[string]string, esc func(string) string, unset string) error {
	p, ok := h.cnt().Point(id)
	switch {
	case id == "":
		args["PointName"] = unset
		return nil
	case !ok:
		// A point removed from the content since (a reload): its id is all that is left.
		args["PointName"] = esc(id)
		for _, k := range []string{"PointAddress", "PointPhone", "PointServices", "PointHours"} {
			args[k] = ""
		}
		return nil
	}
	lang := loc.lang
	args["PointName"] = esc(p.Name.In(lang))
	args["PointAddress"] = esc(p.Address.In(lang))
	args["PointPhone"] = esc(p.Phone)
	sep, err := loc.render(msgListSep, nil)
	if err != nil {
		return err
	}
	services := make([]string, len(p.Services))
	for i, s := range p.Services {
		services[i] = esc(s.In(lang))
	}
	args["PointServices"] = strings.Join(services, sep)
	spans, err := h.hoursToday(loc, p)
	if err != nil {
		return err
	}
	args["PointHours"], err = loc.render(msgHoursToday, map[string]string{"Spans": spans})
	return err
}

// hoursToday describes a point's opening hours of today.
func (h *Handler) hoursToday(loc localizer, p content.Point) (string, error) {
	today := p.Hours[h.now().In(h.loc).Weekday()]
	switch {
	case len(today) == 0:
		return loc.render(msgHoursClosed, nil)
	case len(today) == 1 && today[0].Open == 0 && today[0].Close == 24*60:
		return loc.render(msgHoursAllDay, nil)
	}
	parts := make([]string, len(today))
	for i, s := range today {
		parts[i] = fmt.Sprintf("%02d:%02d–%02d:%02d", s.Open/60, s.Open%60, s.Close/60, s.Close%60)
	}
	return strings.Join(parts, ", "), nil
}
