// Package poller feeds updates from getUpdates into the same intake as the webhook. Only
// the replica holding the poller lease polls, so two replicas never compete for updates.
package poller

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/nanta-district/bangban/metrics"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

// API is the Bot API call the poller makes.
type API interface {
	// GetUpdates long-polls for updates from offset, returning each update's raw JSON.
	GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]json.RawMessage, error)
}

// Store is the part of the store the poller uses.
type Store interface {
	Acquire(ctx context.Context, shard int, owner string, ttl time.Duration) (store.Lease, bool, error)
	Renew(ctx context.Context, leases []store.Lease, ttl time.Duration) ([]bool, error)
	Release(ctx context.Context, l store.Lease) error
	PollOffset(ctx context.Context) (int64, error)
	SetPollOffset(ctx context.Context, l store.Lease, offset int64) error
	Append(ctx context.Context, u queue.Update) (bool, error)
}

// Parse extracts update_id and chat id from a raw update (webhook.ParseUpdate).
type Parse func(raw []byte) (queue.Update, error)

// Poller runs getUpdates on the replica holding the poller lease.
type Poller struct {
	API      API
	Store    Store
	Parse    Parse
	Logger   *slog.Logger
	Replica  string
	LeaseTTL time.Duration
	// Timeout is getUpdates' long-poll timeout.
	Timeout time.Duration
}

// Run polls while it holds the poller lease and waits for it otherwise, until ctx is done.
func (p *Poller) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		l, ok, err := p.Store.Acquire(ctx, store.PollerShard, p.Replica, p.LeaseTTL)
		if err != nil {
			p.Logger.Warn("acquire poller lease", "err", err)
		}
		if ok {
			p.Logger.Info("polling for updates", "replica", p.Replica)
			p.poll(ctx, l)
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := p.Store.Release(release, l); err != nil {
				p.Logger.Warn("release poller lease", "err", err)
			}
			cancel()
		}
		sleep(ctx, p.LeaseTTL/3)
	}
	return nil
}

// poll runs getUpdates until ctx is done or the lease is lost.
func (p *Poller) poll(ctx context.Context, l store.Lease) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			sleep(ctx, p.LeaseTTL/3)
			held, err := p.Store.Renew(ctx, []store.Lease{l}, p.LeaseTTL)
			if err == nil && !held[0] {
				p.Logger.Warn("poller lease lost")
				return
			}
		}
	}()
	for ctx.Err() == nil {
		offset, err := p.Store.PollOffset(ctx)
		if err != nil {
			p.Logger.Warn("read poll offset", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		raws, err := p.API.GetUpdates(ctx, offset, p.Timeout)
		if err != nil {
			if ctx.Err() == nil {
				p.Logger.Warn("getUpdates", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		next := offset
		for _, raw := range raws {
			u, err := p.Parse(raw)
			if err != nil {
				// Telegram never sends one without an update_id; skipping is all we can do.
				p.Logger.Error("unparsable update from getUpdates", "err", err)
				continue
			}
			if !p.append(ctx, u) {
				return
			}
			next = max(next, u.UpdateID+1)
		}
		if next == offset {
			continue
		}
		if err := p.Store.SetPollOffset(ctx, l, next); err != nil {
			if errors.Is(err, store.ErrLeaseLost) {
				return
			}
			// Not fatal: the next getUpdates returns the same updates and intake dedupes them.
			p.Logger.Warn("store poll offset", "err", err)
		}
	}
}

// append queues one update, retrying while Redis is unavailable: getUpdates is not
// confirmed (the offset does not move) until every update before it is queued.
func (p *Poller) append(ctx context.Context, u queue.Update) bool {
	for ctx.Err() == nil {
		dup, err := p.Store.Append(ctx, u)
		if err == nil {
			if dup {
				metrics.UpdatesDuplicate.Inc()
			} else {
				metrics.UpdatesReceived.WithLabelValues("poller").Inc()
			}
			return true
		}
		p.Logger.Warn("queue polled update", "update_id", u.UpdateID, "err", err)
		sleep(ctx, time.Second)
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
