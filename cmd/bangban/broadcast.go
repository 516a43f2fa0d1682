package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/broadcast"
	"github.com/nanta-district/bangban/handlers"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/webhook"
)

// broadcasts adapts the store to the admin API's /api/broadcasts; rate is BROADCAST_RATE,
// for the estimates.
type broadcasts struct {
	st   *store.Store
	rate float64
}

func (b broadcasts) List(ctx context.Context, limit int) ([]webhook.Broadcast, error) {
	list, err := b.st.Broadcasts(ctx, int64(limit))
	if err != nil {
		return nil, err
	}
	out := make([]webhook.Broadcast, len(list))
	for i, x := range list {
		out[i] = b.toAPI(x)
	}
	return out, nil
}

func (b broadcasts) Create(ctx context.Context, nb webhook.NewBroadcast) (webhook.Broadcast, error) {
	x, err := b.st.CreateBroadcast(ctx, store.NewBroadcast{CreatedBy: nb.CreatedBy, Recipients: nb.Recipients,
		ScheduleAt: nb.ScheduleAt, Content: store.BroadcastContent(nb.Content)})
	return b.toAPI(x), err
}

func (b broadcasts) Get(ctx context.Context, id string) (webhook.Broadcast, error) {
	x, err := b.st.Progress(ctx, id)
	return b.toAPI(x), notFound(err)
}

func (b broadcasts) Control(ctx context.Context, id, action, by string) (webhook.Broadcast, error) {
	x, err := b.st.ControlBroadcast(ctx, id, action, by)
	if errors.Is(err, store.ErrBadState) {
		return webhook.Broadcast{}, fmt.Errorf("%w: %w", webhook.ErrConflict, err)
	}
	return b.toAPI(x), notFound(err)
}

func (b broadcasts) toAPI(x store.Broadcast) webhook.Broadcast {
	s := broadcast.StatsOf(x, b.rate, time.Now())
	out := webhook.Broadcast{ID: x.ID, CreatedBy: x.CreatedBy, CreatedAt: x.CreatedAt, State: x.State,
		Content: webhook.BroadcastContent(x.Content), Total: x.Total, Sent: x.Sent, Failed: x.Failed,
		Blocked: x.Blocked, Ambiguous: x.Ambiguous, Skipped: x.Skipped, Remaining: s.Remaining,
		FailedReasons: x.Reasons, Rate: s.Rate, ETASeconds: s.ETA.Seconds(),
		ScheduleAt: timeOrNil(x.ScheduledAt), StartedAt: timeOrNil(x.StartedAt), FinishedAt: timeOrNil(x.FinishedAt)}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// staffBroadcasts carries out the broadcasts decided in a staff group: the follow-up step
// of their MethodBroadcast entries, the progress the engine reports back to the group,
// and the audiences of drafts.
type staffBroadcasts struct {
	st       *store.Store
	rate     float64
	stopText string
	log      *slog.Logger
	// stars, in paid mode, returns the bot's Star balance, which must cover a broadcast
	// (0.1 Star a message) before it is created.
	stars func(ctx context.Context) (float64, error)
}

// AudienceSize counts an audience for a draft.
func (b staffBroadcasts) AudienceSize(ctx context.Context, groups [][]string, activeDays int) (int, error) {
	chats, err := b.st.Audience(ctx, audience(groups, activeDays))
	return len(chats), err
}

func audience(groups [][]string, activeDays int) store.Audience {
	a := store.Audience{Groups: groups}
	if activeDays > 0 {
		a.ActiveSince = time.Now().AddDate(0, 0, -activeDays)
	}
	return a
}

// apply is the sender's follow-up for a MethodBroadcast entry of chat from: create the
// broadcast (idempotent by the entry, so a retry after a crash creates it once) or control
// it, then tell the group with an event delivered once per entry.
func (b staffBroadcasts) apply(ctx context.Context, from int64, m queue.Message) error {
	var o handlers.BroadcastOrder
	if err := json.Unmarshal(m.Body, &o); err != nil {
		return fmt.Errorf("%w: broadcast order: %v", store.ErrBadMessage, err)
	}
	ev := bot.Event{Op: bot.OpBroadcastProgress}
	by := fmt.Sprintf("admin:%d %s", o.By, o.ByName)
	switch o.Op {
	case bot.OrderCreate:
		chats, err := b.st.Audience(ctx, audience(o.Groups, o.ActiveDays))
		if err != nil {
			return err
		}
		if len(chats) == 0 {
			ev = bot.Event{Op: bot.OpBroadcastFailed, BC: &bot.BroadcastNews{Error: "no recipients"}}
			break
		}
		if b.stars != nil {
			balance, err := b.stars(ctx)
			if err != nil {
				return err
			}
			if cost := float64(len(chats)) * handlers.StarsPerMessage; balance < cost {
				ev = bot.Event{Op: bot.OpBroadcastFailed, BC: &bot.BroadcastNews{
					Error: fmt.Sprintf("paid broadcast costs %.1f Stars, balance %.1f", cost, balance)}}
				break
			}
		}
		c := o.Content
		x, err := b.st.CreateBroadcast(ctx, store.NewBroadcast{CreatedBy: by, Recipients: chats, ScheduleAt: o.At,
			ReportTo: from, Key: fmt.Sprintf("%d:%s", from, m.ID),
			Content: store.BroadcastContent{Text: c.Text, Entities: c.Entities, Media: c.Media, FileID: c.FileID,
				StopText: b.stopText, StopData: bot.StopNoticesData}})
		if err != nil {
			return err
		}
		ev = bot.Event{Op: bot.OpBroadcastCreated, BC: b.news(x)}
	default:
		x, err := b.st.ControlBroadcast(ctx, o.ID, o.Op, by)
		switch {
		case errors.Is(err, store.ErrNotFound):
			ev = bot.Event{Op: bot.OpBroadcastFailed, BC: &bot.BroadcastNews{ID: o.ID, Error: "not found"}}
		case errors.Is(err, store.ErrBadState):
			if x, err = b.st.Progress(ctx, o.ID); err != nil {
				return err
			}
			ev.BC = b.news(x)
		case err != nil:
			return err
		default:
			ev.BC = b.news(x)
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrBadMessage, err)
	}
	return b.st.Deliver(ctx, from, queue.Message{ID: m.ID, Method: queue.MethodDeliver, ChatID: from, Body: body})
}

// news is what the group is told of a broadcast.
func (b staffBroadcasts) news(x store.Broadcast) *bot.BroadcastNews {
	s := broadcast.StatsOf(x, b.rate, time.Now())
	n := &bot.BroadcastNews{ID: x.ID, State: x.State, Total: x.Total, Sent: x.Sent, Failed: x.Failed, Blocked: x.Blocked,
		Ambiguous: x.Ambiguous, Skipped: x.Skipped, Rate: s.Rate, ETA: int64(s.ETA.Seconds()), At: x.ScheduledAt, Reasons: x.Reasons}
	if !x.FinishedAt.IsZero() && !x.StartedAt.IsZero() {
		n.Duration = int64(x.FinishedAt.Sub(x.StartedAt).Seconds())
	}
	return n
}

// progress reports a broadcast's progress to the staff chat that follows it; the engine
// calls it at most every 10 s, so the group's progress message is edited no more often.
func (b staffBroadcasts) progress(ctx context.Context, x store.Broadcast) {
	if x.ReportTo == 0 {
		return
	}
	body, err := json.Marshal(bot.Event{Op: bot.OpBroadcastProgress, BC: b.news(x)})
	if err == nil {
		id := fmt.Sprintf("bcp.%s.%s.%d.%d", x.ID, x.State, x.Sent+x.Failed+x.Blocked+x.Ambiguous+x.Skipped, time.Now().UnixMilli()/1000)
		err = b.st.Deliver(ctx, 0, queue.Message{ID: id, Method: queue.MethodDeliver, ChatID: x.ReportTo, Body: body})
	}
	if err != nil {
		b.log.Warn("report broadcast progress", "id", x.ID, "err", err)
	}
}

// eligible is asked right before each batch: a chat that turned notices off gets none,
// so a user who opts out during a broadcast gets nothing more.
func (b staffBroadcasts) eligible(ctx context.Context, chats []int64) (map[int64]bool, error) {
	out, err := b.st.InSegment(ctx, handlers.SegmentOptOut, chats)
	for c, optedOut := range out {
		out[c] = !optedOut
	}
	return out, err
}
