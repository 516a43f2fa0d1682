package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nanta-district/bangban/broadcast"
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
