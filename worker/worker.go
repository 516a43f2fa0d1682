// Package worker runs the shards this replica holds: it keeps their leases, shares the
// shards evenly with the other live replicas, reads each shard's stream in order, hands
// every update to the handler and commits its effects fenced by the lease epoch.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nanta-district/bangban/metrics"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

// Store is the part of the store the workers use.
type Store interface {
	Shards() int
	Acquire(ctx context.Context, shard int, owner string, ttl time.Duration) (store.Lease, bool, error)
	Renew(ctx context.Context, leases []store.Lease, ttl time.Duration) ([]bool, error)
	Release(ctx context.Context, l store.Lease) error
	Heartbeat(ctx context.Context, replica string, ttl time.Duration) ([]string, error)
	Leave(ctx context.Context, replica string) error
	EnsureGroup(ctx context.Context, shard int) error
	Pending(ctx context.Context, l store.Lease, count int64) ([]queue.Update, error)
	Read(ctx context.Context, l store.Lease, count int64, block time.Duration, after string) ([]queue.Update, error)
	Load(ctx context.Context, shard int, chatID int64) (queue.State, error)
	CommitAndClaim(ctx context.Context, l store.Lease, u queue.Update, eff queue.Effects, token, reservedID string) (store.HeadClaim, error)
	Fail(ctx context.Context, l store.Lease, u queue.Update, cause error, max int) (bool, error)
	Depth(ctx context.Context, shard int) (int64, time.Time, error)
}

// Handler decides the effects of one update. An error (or a panic) counts as a failed
// attempt; after MaxFailures the update becomes a dead letter.
type Handler interface {
	Handle(ctx context.Context, u queue.Update, st queue.State) (queue.Effects, error)
}

// Sender delivers the outbox of the shards this replica holds.
type Sender interface {
	AddShard(l store.Lease)
	// RemoveShard stops sending for a shard; the channel is closed when the calls in
	// flight have been recorded.
	RemoveShard(shard int) <-chan struct{}
	// Notify says that a commit of the shard queued messages in chat's outbox.
	Notify(shard int, chat int64)
	// Reserve takes chat's drain before a commit under l that queues messages for it, so
	// that the commit claims the chat's head (CommitAndClaim with token and reservedID);
	// when it declines (ok false), Notify follows the commit instead.
	Reserve(l store.Lease, chat int64) (token, reservedID string, ok bool)
	// Start begins the drain Reserve took, with what the commit claimed.
	Start(chat int64, hc store.HeadClaim)
}

var _ Store = (*store.Store)(nil)

// Options configure a Pool. Zero durations take the defaults.
type Options struct {
	Store   Store
	Handler Handler
	Sender  Sender
	Logger  *slog.Logger
	// Replica names this process in leases and consumer groups; unique per process.
	Replica string
	// LeaseTTL is how long a lease outlives its last renewal (default 5 s). A stalled
	// replica loses its shards after it; renewals happen every LeaseTTL/3.
	LeaseTTL time.Duration
	// MaxFailures is how many failed attempts make a dead letter (default 5).
	MaxFailures int
	// Block is how long one stream read waits for new entries (default 2 s).
	Block time.Duration
	// Batch is how many entries one read returns at most (default 64).
	Batch int64
}

// Pool runs the shard workers of one replica.
type Pool struct {
	o       Options
	running atomic.Bool
	held    atomic.Int64

	mu      sync.Mutex
	runners map[int]*runner
	// stopping tracks workers that were told to stop and have not finished yet.
	stopping sync.WaitGroup
}

type runner struct {
	lease store.Lease
	// validUntil is when the lease may expire in Redis by the local clock: the start of
	// the last successful acquisition or renewal plus 90% of the TTL.
	validUntil time.Time
	// releasing is set while the worker and the sender finish before the lease is freed;
	// the lease is still renewed meanwhile.
	releasing bool
	stop      context.CancelFunc // stops reading; the current update still finishes
	done      chan struct{}
}

// New returns a Pool; Run starts it.
func New(o Options) *Pool {
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 5 * time.Second
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.Block <= 0 {
		o.Block = 2 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Pool{o: o, runners: make(map[int]*runner)}
}

// Running reports whether the pool is running and has renewed its leases recently.
func (p *Pool) Running() bool { return p.running.Load() }

// Held returns the number of shards this replica holds.
func (p *Pool) Held() int { return int(p.held.Load()) }

// Run keeps leases and runs shard workers until ctx is done. It then lets every worker
// finish the update in hand, releases the leases and leaves the replica set, so the
// other replicas take the shards over at once.
func (p *Pool) Run(ctx context.Context) error {
	tick := time.NewTicker(p.o.LeaseTTL / 3)
	defer tick.Stop()
	p.running.Store(true)
	defer p.running.Store(false)
	go p.sampleDepth(ctx)
	for {
		if err := p.balance(ctx); err != nil && ctx.Err() == nil {
			p.running.Store(false)
			p.o.Logger.Warn("lease upkeep failed", "err", err)
		} else {
			p.running.Store(true)
		}
		select {
		case <-ctx.Done():
			p.shutdown()
			return nil
		case <-tick.C:
		}
	}
}

// balance renews the held leases, drops the lost ones and moves towards an even share.
func (p *Pool) balance(ctx context.Context) error {
	live, err := p.o.Store.Heartbeat(ctx, p.o.Replica, p.o.LeaseTTL)
	if err != nil {
		return err
	}
	held := p.leases()
	if len(held) > 0 {
		sent := time.Now()
		ok, err := p.o.Store.Renew(ctx, held, p.o.LeaseTTL)
		if err != nil {
			return err
		}
		for i, l := range held {
			if ok[i] {
				p.renewed(l, sent)
			} else {
				p.o.Logger.Warn("shard lease lost", "shard", l.Shard, "epoch", l.Epoch)
				metrics.LeaseMoves.WithLabelValues("lost").Inc()
				p.stopRunner(l.Shard, false)
			}
		}
	}
	shards := p.o.Store.Shards()
	n := max(len(live), 1)
	target := (shards + n - 1) / n
	held = p.active()
	for i := 0; len(held) > target && i < len(held)-target; i++ {
		p.stopRunner(held[len(held)-1-i].Shard, true)
	}
	if len(held) >= target {
		return nil
	}
	// Start at a replica-specific offset so replicas don't all race for the same shards.
	start := rand.IntN(shards)
	for i := 0; i < shards && p.Held() < target; i++ {
		shard := (start + i) % shards
		if p.has(shard) {
			continue
		}
		sent := time.Now()
		l, ok, err := p.o.Store.Acquire(ctx, shard, p.o.Replica, p.o.LeaseTTL)
		if err != nil {
			return err
		}
		if ok {
			metrics.LeaseMoves.WithLabelValues("acquired").Inc()
			p.startRunner(l, sent)
		}
	}
	return nil
}

func (p *Pool) leases() []store.Lease {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]store.Lease, 0, len(p.runners))
	for _, r := range p.runners {
		out = append(out, r.lease)
	}
	return out
}

// active returns the leases whose shards are being worked on, not being released.
func (p *Pool) active() []store.Lease {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]store.Lease, 0, len(p.runners))
	for _, r := range p.runners {
		if !r.releasing {
			out = append(out, r.lease)
		}
	}
	return out
}

func (p *Pool) has(shard int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.runners[shard]
	return ok
}

// renewed records that lease l was renewed by a request sent at sent.
func (p *Pool) renewed(l store.Lease, sent time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.runners[l.Shard]; ok && r.lease.Epoch == l.Epoch {
		r.validUntil = sent.Add(p.o.LeaseTTL * 9 / 10)
	}
}

// Valid reports whether lease l is still held by the local clock. The sender asks it
// right before each Bot API call: after a stall (SIGSTOP, a long GC pause, a frozen VM)
// the renewals have stopped, so a replica that wakes up sends nothing on a lease its
// successor may hold. Redis fences every write; this fences the one effect Redis cannot.
func (p *Pool) Valid(l store.Lease) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.runners[l.Shard]
	return ok && r.lease.Epoch == l.Epoch && time.Now().Before(r.validUntil)
}

func (p *Pool) startRunner(l store.Lease, acquired time.Time) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{lease: l, validUntil: acquired.Add(p.o.LeaseTTL * 9 / 10), stop: cancel, done: make(chan struct{})}
	p.mu.Lock()
	p.runners[l.Shard] = r
	p.mu.Unlock()
	p.held.Add(1)
	metrics.ShardsHeld.Inc()
	if p.o.Sender != nil {
		p.o.Sender.AddShard(l)
	}
	go func() {
		defer close(r.done)
		p.runShard(ctx, l)
	}()
}

// stopRunner stops a shard's worker and sender. It does not wait: lease upkeep of the
// other shards must never wait on one shard (a blocking read may take up to Block to
// return). With release, the lease is kept and renewed until the worker has finished the
// update in hand and the sender has recorded its calls in flight, then freed; without
// (the lease is lost), the shard is dropped at once.
func (p *Pool) stopRunner(shard int, release bool) {
	p.mu.Lock()
	r, ok := p.runners[shard]
	if !ok || (release && r.releasing) {
		p.mu.Unlock()
		return
	}
	wasReleasing := r.releasing
	if release {
		r.releasing = true
	} else {
		delete(p.runners, shard)
	}
	p.mu.Unlock()
	if wasReleasing {
		return
	}
	r.stop()
	var drained <-chan struct{} = closedChan
	if p.o.Sender != nil {
		drained = p.o.Sender.RemoveShard(shard)
	}
	p.held.Add(-1)
	metrics.ShardsHeld.Dec()
	if !release {
		return
	}
	p.stopping.Go(func() {
		<-r.done
		<-drained
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := p.o.Store.Release(ctx, r.lease)
		p.mu.Lock()
		if p.runners[shard] == r {
			delete(p.runners, shard)
		}
		p.mu.Unlock()
		if err != nil {
			p.o.Logger.Warn("release lease", "shard", shard, "err", err)
			return
		}
		metrics.LeaseMoves.WithLabelValues("released").Inc()
	})
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// renewAll renews every lease still held, during shutdown.
func (p *Pool) renewAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	held := p.leases()
	if len(held) == 0 {
		return
	}
	sent := time.Now()
	ok, err := p.o.Store.Renew(ctx, held, p.o.LeaseTTL)
	if err != nil {
		return
	}
	for i, l := range held {
		if ok[i] {
			p.renewed(l, sent)
		}
	}
}

func (p *Pool) shutdown() {
	for _, l := range p.leases() {
		p.stopRunner(l.Shard, true)
	}
	// Keep renewing while the workers and senders finish, so no lease lapses meanwhile.
	done := make(chan struct{})
	go func() { p.stopping.Wait(); close(done) }()
	tick := time.NewTicker(p.o.LeaseTTL / 3)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			p.renewAll()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.o.Store.Leave(ctx, p.o.Replica); err != nil {
		p.o.Logger.Warn("leave replica set", "err", err)
	}
}

// runShard finishes the shard's pending entries, then reads new ones, until ctx is done
// or the lease is lost. After a failed read it finishes the pending entries again first:
// a read whose answer was lost (a dropped connection, a retried call) may have delivered
// entries that nobody else will read, and newer entries of their chats must wait for them.
func (p *Pool) runShard(ctx context.Context, l store.Lease) {
	log := p.o.Logger.With("shard", l.Shard)
	b := backoff{}
	catchUp := true
	// after is the last entry of a read that was not full: the next read waits for a newer
	// one first (store.Read).
	after := ""
	for ctx.Err() == nil {
		if catchUp {
			ok, err := p.finishPending(ctx, l)
			if !ok {
				return
			}
			if err != nil {
				log.Warn("prepare shard", "err", err)
				b.wait(ctx)
				continue
			}
			catchUp, after = false, ""
		}
		us, err := p.o.Store.Read(ctx, l, p.o.Batch, p.o.Block, after)
		if errors.Is(err, store.ErrLeaseLost) {
			return
		}
		if err != nil {
			catchUp = true
			if ctx.Err() == nil {
				log.Warn("read shard", "err", err)
				b.wait(ctx)
			}
			continue
		}
		b = backoff{}
		switch {
		case int64(len(us)) >= p.o.Batch:
			after = ""
		case len(us) > 0:
			after = us[len(us)-1].StreamID
		}
		if !p.processAll(ctx, l, us) {
			return
		}
	}
}

// finishPending handles, in stream order, every entry of the shard that was delivered but
// not committed. ok is false when the lease is lost.
func (p *Pool) finishPending(ctx context.Context, l store.Lease) (ok bool, err error) {
	if err := p.o.Store.EnsureGroup(ctx, l.Shard); err != nil {
		return true, err
	}
	pending, err := p.o.Store.Pending(ctx, l, p.o.Batch)
	if errors.Is(err, store.ErrLeaseLost) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return p.processAll(ctx, l, pending), nil
}

// processAll handles updates in order; it returns false when the lease is lost.
func (p *Pool) processAll(ctx context.Context, l store.Lease, us []queue.Update) bool {
	for _, u := range us {
		if ctx.Err() != nil {
			// Not started yet: it stays pending and the next holder handles it in order.
			return true
		}
		if !p.process(ctx, l, u) {
			return false
		}
	}
	return true
}

// process handles one update to completion: committed, dead-lettered, or lease lost
// (false). Redis errors are retried without counting as failures; the update in hand
// finishes even when ctx is cancelled for a shutdown.
func (p *Pool) process(stop context.Context, l store.Lease, u queue.Update) bool {
	ctx := context.WithoutCancel(stop)
	log := p.o.Logger.With("shard", l.Shard, "entry", u.StreamID, "update_id", u.UpdateID)
	start := time.Now()
	b := backoff{}
	for {
		// The read loaded the state of its first update of each chat; after a failure, or
		// for the chat's later updates, it is loaded afresh.
		var st queue.State
		var err error
		if u.Loaded != nil {
			st, u.Loaded = *u.Loaded, nil
		} else {
			st, err = p.o.Store.Load(ctx, l.Shard, u.ChatID)
		}
		if err != nil {
			log.Warn("load state", "err", err)
			if !b.waitUnlessStopped(stop) {
				return true
			}
			continue
		}
		eff, herr := p.handle(ctx, u, st)
		if herr != nil {
			metrics.HandlerFailures.Inc()
			dead, err := p.o.Store.Fail(ctx, l, u, herr, p.o.MaxFailures)
			switch {
			case errors.Is(err, store.ErrLeaseLost):
				return false
			case err != nil:
				log.Warn("record failure", "err", err)
			case dead:
				metrics.DeadLetters.Inc()
				log.Error("update moved to dead letters", "err", herr, "attempts", u.Deliveries)
				return true
			default:
				log.Warn("handle update", "err", herr, "attempt", u.Deliveries)
				u.Deliveries++
			}
			if !b.waitUnlessStopped(stop) {
				return true
			}
			continue
		}
		committed, ok := p.commit(ctx, stop, l, u, eff, log, &b)
		if committed {
			metrics.ProcessingSeconds.Observe(time.Since(start).Seconds())
		}
		return ok
	}
}

// commit commits the update's effects, retrying Redis errors until it is stopped, and
// starts sending the replies it queued: a chat the sender can take at once has its first
// reply claimed by the commit itself. ok is process's answer: false when the lease was lost.
func (p *Pool) commit(ctx, stop context.Context, l store.Lease, u queue.Update, eff queue.Effects, log *slog.Logger, b *backoff) (committed, ok bool) {
	var token, reservedID string
	reserved := false
	if len(eff.Outbox) > 0 && p.o.Sender != nil {
		token, reservedID, reserved = p.o.Sender.Reserve(l, u.ChatID)
	}
	var hc store.HeadClaim
	if reserved {
		// Whatever happens to the commit, the reserved drain starts: it claims on its own
		// when the commit did not, and ends at once when the lease is lost.
		defer func() { p.o.Sender.Start(u.ChatID, hc) }()
	}
	for {
		var err error
		hc, err = p.o.Store.CommitAndClaim(ctx, l, u, eff, token, reservedID)
		if err == nil {
			break
		}
		if errors.Is(err, store.ErrLeaseLost) {
			log.Warn("lease lost before commit; the new holder will handle the update")
			return false, false
		}
		log.Warn("commit", "err", err)
		if !b.waitUnlessStopped(stop) {
			return false, true
		}
	}
	if len(eff.Outbox) > 0 && p.o.Sender != nil && !reserved {
		p.o.Sender.Notify(l.Shard, u.ChatID)
	}
	return true, true
}

// handle calls the handler, turning a panic into an error so that bad input never
// crashes the process (invariant 6).
func (p *Pool) handle(ctx context.Context, u queue.Update, st queue.State) (eff queue.Effects, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return p.o.Handler.Handle(ctx, u, st)
}

// sampleDepth publishes queue depth and oldest age of the held shards.
func (p *Pool) sampleDepth(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, l := range p.leases() {
			n, oldest, err := p.o.Store.Depth(ctx, l.Shard)
			if err != nil {
				continue
			}
			label := strconv.Itoa(l.Shard)
			metrics.QueueDepth.WithLabelValues(label).Set(float64(n))
			age := 0.0
			if !oldest.IsZero() {
				age = time.Since(oldest).Seconds()
			}
			metrics.QueueOldestAge.WithLabelValues(label).Set(age)
		}
	}
}

// backoff waits 50 ms, doubling up to 2 s.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	if b.d == 0 {
		b.d = 50 * time.Millisecond
	} else {
		b.d = min(2*b.d, 2*time.Second)
	}
	return b.d
}

// wait sleeps for the next delay or until ctx is done.
func (b *backoff) wait(ctx context.Context) {
	t := time.NewTimer(b.next())
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// waitUnlessStopped sleeps for the next delay and reports false when the shard is being
// stopped: an update not yet committed is then left pending for the next holder.
func (b *backoff) waitUnlessStopped(stop context.Context) bool {
	b.wait(stop)
	return stop.Err() == nil
}
