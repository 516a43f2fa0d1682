package handlers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/queue"
)

// Statistics hashes (summed over shards by the store): per day in the district's time
// zone, check-ins by point and registrations by role; and current members by role.
const (
	statCheckIns = "ck:"
	statRegs     = "reg:"
	statMembers  = "members"
	// Questions asked of the knowledge base (normalised), those without a good match, and
	// "was this helpful?" answers ("<policy>:y" or ":n"), per day.
	statQueries   = "q:"
	statNoResults = "q0:"
	statFeedback  = "fb:"
	// Tickets opened and closed by request category, and ratings ("sum", "n"), per day.
	statTicketsOpened = "tko:"
	statTicketsClosed = "tkc:"
	statTicketRatings = "tkr:"
	// statDays is how long day buckets live: /stats looks back 30 days.
	statDays = 40
)

// dayLayout names day buckets and export dates.
const dayLayout = "2006-01-02"

// record is a check-in as stored in the chat's history and the shard's check-in log.
type record struct {
	bot.CheckIn
	Chat int64  `json:"c"`
	Role string `json:"r"`
	// Update is the stream id of the update that made it, so that two check-ins of one
	// chat at the same instant stay distinct members of the log.
	Update string `json:"u"`
}

// history decodes the chat's latest check-in records, skipping any it cannot read.
func history(raws [][]byte) []bot.CheckIn {
	out := make([]bot.CheckIn, 0, len(raws))
	for _, b := range raws {
		var r record
		if json.Unmarshal(b, &r) == nil && r.Point != "" {
			out = append(out, r.CheckIn)
		}
	}
	return out
}

// records adds the check-in record and the anonymous counters of a result to eff.
func (h *Handler) records(u queue.Update, res bot.Result, eff *queue.Effects) error {
	ttl := statDays * 24 * time.Hour
	if c := res.CheckIn; c != nil {
		role := ""
		if m := res.Profile.Member; m != nil {
			role = m.Role
		}
		b, err := json.Marshal(record{CheckIn: *c, Chat: u.ChatID, Role: role, Update: u.StreamID})
		if err != nil {
			return fmt.Errorf("encode check-in of update %d: %w", u.UpdateID, err)
		}
		eff.CheckIn, eff.CheckInAt = b, c.At
		eff.Counters = append(eff.Counters, queue.Counter{Key: statCheckIns + h.day(c.At), Field: c.Point, By: 1, TTL: ttl})
	}
	if role := res.Registered; role != "" && res.Profile.Member != nil {
		eff.Counters = append(eff.Counters,
			queue.Counter{Key: statRegs + h.day(res.Profile.Member.RegisteredAt), Field: role, By: 1, TTL: ttl},
			queue.Counter{Key: statMembers, Field: role, By: 1})
	}
	if ch := res.RoleChanged; ch[0] != "" {
		eff.Counters = append(eff.Counters,
			queue.Counter{Key: statMembers, Field: ch[0], By: -1},
			queue.Counter{Key: statMembers, Field: ch[1], By: 1})
	}
	if q := res.Query; q != nil {
		eff.Counters = append(eff.Counters, queue.Counter{Key: statQueries + h.day(h.now()), Field: q.Text, By: 1, TTL: ttl})
		if !q.Found {
			eff.Counters = append(eff.Counters, queue.Counter{Key: statNoResults + h.day(h.now()), Field: q.Text, By: 1, TTL: ttl})
		}
	}
	if f := res.Feedback; f != nil {
		verdict := "n"
		if f.Helpful {
			verdict = "y"
		}
		eff.Counters = append(eff.Counters, queue.Counter{Key: statFeedback + h.day(h.now()), Field: f.Policy + ":" + verdict, By: 1, TTL: ttl})
	}
	if res.Forget && res.Forgotten != "" {
		eff.Counters = append(eff.Counters, queue.Counter{Key: statMembers, Field: res.Forgotten, By: -1})
	}
	return nil
}

// day is the district's calendar day of t.
func (h *Handler) day(t time.Time) string { return t.In(h.loc).Format(dayLayout) }

// points shows the content's service points to the conversation.
type points struct{ c *content.Content }

func (p points) Exists(id string) bool {
	_, ok := p.c.Point(id)
	return ok
}

func (p points) IDs() []string {
	ids := make([]string, len(p.c.Points))
	for i, pt := range p.c.Points {
		ids[i] = pt.ID
	}
	return ids
}

func (p points) Nearest(lat, lon float64, n int, at time.Time) []bot.Near {
	near := p.c.Nearest(lat, lon, n, at)
	out := make([]bot.Near, len(near))
	for i, x := range near {
		out[i] = bot.Near{ID: x.Point.ID, Meters: x.Meters, Open: x.Open}
	}
	return out
}
