package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nanta-district/bangban/handlers"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

// slaCheckEvery is how often the SLA watcher looks for tickets waiting past their target.
const slaCheckEvery = time.Minute

// slaOpenRead bounds the open tickets read per group and round.
const slaOpenRead = 1000

// watchSLA flags tickets that waited past their category's response-time target: it
// delivers an OpSLA event to the ticket's staff group, whose conversation posts the
// flag once. Every replica runs it; the delivery's id (ticket and waiting-since) makes the
// second replica's delivery a duplicate, and a new wait gets a new flag.
func watchSLA(ctx context.Context, log *slog.Logger, st *store.Store, h *handlers.Handler) {
	t := time.NewTicker(slaCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, g := range h.StaffGroups() {
			if err := flagOverdue(ctx, st, h, g); err != nil && ctx.Err() == nil {
				log.Warn("SLA check", "chat", g, "err", err)
			}
		}
	}
}

func flagOverdue(ctx context.Context, st *store.Store, h *handlers.Handler, group int64) error {
	raws, err := st.OpenTickets(ctx, group, slaOpenRead)
	if err != nil {
		return err
	}
	for _, o := range h.Overdue(raws) {
		m := queue.Message{ID: fmt.Sprintf("sla.%d.%d", o.N, o.Since.UnixMilli()), Method: queue.MethodDeliver, ChatID: group, Body: o.Event}
		if err := st.Deliver(ctx, 0, m); err != nil {
			return err
		}
	}
	return nil
}
