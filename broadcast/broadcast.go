// Package broadcast is the delivery engine of policy-notice broadcasts: every replica runs
// it, claims recipients of the sending broadcasts in leased batches, paces every message
// through one bucket in Redis shared by all replicas, and sends each recipient at most once.
//
// At most once: a recipient is marked sending (fenced by its claim and the broadcast's
// state) right before its call and gets its outcome right after. A recipient left sending
// by a crash becomes ambiguous when its claim's lease expires and is never sent again; one
// only claimed goes back to be claimed by anyone. A call that certainly did not leave (a
// dial error, a 429) gives the recipient back to its claim.
//
// Rate: every message takes the next slot of a GCRA with burst 1 whose slots are
// (1 s + Slack) / rate apart, and a message whose slot has passed by more than Late when
// it is about to leave takes a new one. So any sliding second holds at most
// ⌈rate·(1 s + Late + network jitter)/(1 s + Slack)⌉ ≤ rate messages as long as the network
// jitter stays within Slack − Late, and rate + 1 up to twice that; the cost is Slack of
// every second (2%).
//
// Priority of replies: the reply sender never waits for broadcast slots, and broadcasts
// use only BROADCAST_RATE (≤ 30 unless paid, leaving the rest of the bot's limit to
// replies). A 429 to a broadcast pauses all sending, replies included, for retry_after
// (Telegram's limit is the bot's); broadcasts also wait out the bulk lane's and the global
// pause that the reply sender sets on 429s, so a reply 429 storm stops broadcasts first.
package broadcast

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nanta-district/bangban/metrics"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/tgapi"
)

// Store is the part of *store.Store the engine uses.
type Store interface {
	ActiveBroadcasts(ctx context.Context) ([]string, error)
	Progress(ctx context.Context, id string) (store.Broadcast, error)
	StartDue(ctx context.Context, id string) (string, error)
	FinishBroadcast(ctx context.Context, id string) (bool, error)
	ProgressDue(ctx context.Context, id string, every time.Duration) (bool, error)
	ClaimRecipients(ctx context.Context, id, token string, n int, ttl time.Duration) (string, []store.Recipient, error)
	MarkSending(ctx context.Context, id, token string, idx int64, ttl time.Duration) (string, error)
	Record(ctx context.Context, id, token string, outcome store.RecipientStatus, reason string, idxs ...int64) error
	Unsend(ctx context.Context, id, token string, idx int64) (bool, error)
	ReleaseClaims(ctx context.Context, id, token string) error
	TakeBroadcastSlot(ctx context.Context, interval time.Duration) (time.Duration, bool, error)
	BroadcastRateLimited(ctx context.Context, retryAfter time.Duration, park bool) error
	UnreachableAmong(ctx context.Context, chats []int64) (map[int64]bool, error)
	MarkUnreachable(ctx context.Context, chat int64) error
}

// API is the part of *tgapi.Client the engine uses.
type API interface {
	Send(ctx context.Context, m queue.Message) (tgapi.Sent, error)
}

var (
	_ Store = (*store.Store)(nil)
	_ API   = (*tgapi.Client)(nil)
)

// Tuning.
const (
	// Slack is added to each second's worth of slots, so that network jitter up to
	// Slack − Late cannot crowd more than the rate into a sliding second.
	Slack = 20 * time.Millisecond
	// Late is how far past its slot a message may still leave; later, it takes a new slot.
	Late = 10 * time.Millisecond

	defaultBatch    = 50
	defaultClaimTTL = 5 * time.Second
	// tick is how often a replica looks for broadcasts to start, send, finish and report.
	tick = time.Second
	// progressEvery is how often OnProgress is called per broadcast, across replicas.
	progressEvery = 10 * time.Second
	// parkAfter is the retry_after beyond which a 429 is a ban, not a burst.
	parkAfter  = 60 * time.Second
	minBackoff = 500 * time.Millisecond
	maxBackoff = 30 * time.Second
	// recordTries bounds the attempts at recording an outcome; after them the recipient
	// stays marked sending and ends ambiguous.
	recordTries = 5
)

// Options configure an Engine.
type Options struct {
	Store  Store
	API    API
	Logger *slog.Logger
	// Rate is BROADCAST_RATE, messages per second over all replicas; it must be positive.
	Rate float64
	// Workers is how many recipients this replica sends concurrently; 0 picks one per
	// 40 messages a second, 2 to 32.
	Workers int
	// Batch is how many recipients a worker claims at once; 0 means 50.
	Batch int
	// ClaimTTL is how long a claim lives without a message sent: a dead replica's claimed
	// recipients go to others after it. 0 means 5 s.
	ClaimTTL time.Duration
	// Eligible, when set, is asked right before each batch is sent which of its chats may
	// get the notice (opt-outs); the others are skipped. Chats marked unreachable are
	// always skipped. An error holds the batch back and is retried.
	Eligible func(ctx context.Context, chats []int64) (map[int64]bool, error)
	// OnProgress, when set, is called with a sending broadcast's progress at most every
	// 10 s across all replicas, and once more when it is done or stopped (Finished()).
	OnProgress func(ctx context.Context, b store.Broadcast)
}

// Engine delivers broadcasts. Run it on every replica.
type Engine struct {
	st         Store
	api        API
	log        *slog.Logger
	interval   time.Duration
	workers    int
	batch      int
	ttl        time.Duration
	eligible   func(ctx context.Context, chats []int64) (map[int64]bool, error)
	onProgress func(ctx context.Context, b store.Broadcast)

	mu      sync.Mutex
	sending []string                          // ids of the sending broadcasts, oldest first
	content map[string]store.BroadcastContent // of the sending broadcasts
	turn    int
	wake    chan struct{} // closed when sending changes
}

// New returns an Engine; it does nothing until Run.
func New(o Options) *Engine {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Workers <= 0 {
		o.Workers = min(max(int(o.Rate/40)+1, 2), 32)
	}
	if o.Batch <= 0 {
		o.Batch = defaultBatch
	}
	if o.ClaimTTL <= 0 {
		o.ClaimTTL = defaultClaimTTL
	}
	return &Engine{st: o.Store, api: o.API, log: o.Logger, interval: Interval(o.Rate), workers: o.Workers,
		batch: o.Batch, ttl: o.ClaimTTL, eligible: o.Eligible, onProgress: o.OnProgress,
		content: map[string]store.BroadcastContent{}, wake: make(chan struct{})}
}

// Interval is the spacing of broadcast slots at rate messages per second.
func Interval(rate float64) time.Duration {
	return time.Duration(float64(time.Second+Slack) / rate)
}

// Run sends broadcasts until ctx is done, then returns once the calls in flight have been
// recorded and the claims given back. It always returns nil.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range e.workers {
		wg.Go(func() { e.worker(ctx) })
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		e.discover(ctx)
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

// discover starts the scheduled broadcasts that are due, finishes those done or stopped,
// reports progress and publishes the list of sending broadcasts to the workers.
func (e *Engine) discover(ctx context.Context) {
	ids, err := e.st.ActiveBroadcasts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("list active broadcasts", "err", err)
		}
		return
	}
	slices.SortFunc(ids, func(a, b string) int { return cmpID(a, b) })
	var sending []string
	content := map[string]store.BroadcastContent{}
	for _, id := range ids {
		b, err := e.st.Progress(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			e.finish(ctx, id)
			continue
		}
		if err != nil {
			e.log.Warn("read broadcast", "id", id, "err", err)
			continue
		}
		if b.State == store.BroadcastScheduled {
			if b.State, err = e.st.StartDue(ctx, id); err != nil {
				e.log.Warn("start scheduled broadcast", "id", id, "err", err)
				continue
			}
			if b.State == store.BroadcastSending {
				e.log.Info("scheduled broadcast started", "id", id, "recipients", b.Total)
			}
		}
		switch {
		case b.Finished():
			e.finish(ctx, id)
			continue
		case b.State == store.BroadcastSending:
			sending = append(sending, id)
			content[id] = b.Content
		}
		if e.onProgress != nil && b.State != store.BroadcastScheduled {
			if due, err := e.st.ProgressDue(ctx, id, progressEvery); err == nil && due {
				e.onProgress(ctx, b)
			}
		}
	}
	e.mu.Lock()
	if !slices.Equal(sending, e.sending) {
		close(e.wake)
		e.wake = make(chan struct{})
	}
	e.sending, e.content = sending, content
	e.mu.Unlock()
}

// cmpID orders broadcast ids numerically.
func cmpID(a, b string) int {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// finish audits a finished broadcast and, when this replica did, reports it; shutdown
// does not cut it between the two.
func (e *Engine) finish(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	wrote, err := e.st.FinishBroadcast(ctx, id)
	if err != nil {
		e.log.Warn("finish broadcast", "id", id, "err", err)
		return
	}
	if !wrote {
		return
	}
	b, err := e.st.Progress(ctx, id)
	if err != nil {
		e.log.Warn("read finished broadcast", "id", id, "err", err)
		return
	}
	e.log.Info("broadcast finished", "id", id, "state", b.State, "recipients", b.Total, "sent", b.Sent,
		"failed", b.Failed, "blocked", b.Blocked, "ambiguous", b.Ambiguous, "skipped", b.Skipped)
	if e.onProgress != nil {
		e.onProgress(ctx, b)
	}
}

// pick returns the next sending broadcast in turn, or "" and a channel closed when the
// list changes.
func (e *Engine) pick() (string, store.BroadcastContent, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.sending) == 0 {
		return "", store.BroadcastContent{}, e.wake
	}
	e.turn++
	id := e.sending[e.turn%len(e.sending)]
	return id, e.content[id], e.wake
}

// drop takes a broadcast off this replica's sending list until the next discovery.
func (e *Engine) drop(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sending = slices.DeleteFunc(slices.Clone(e.sending), func(x string) bool { return x == id })
}

func (e *Engine) worker(ctx context.Context) {
	for ctx.Err() == nil {
		id, content, wake := e.pick()
		if id == "" {
			select {
			case <-ctx.Done():
			case <-wake:
			}
			continue
		}
		if !e.batch1(ctx, id, content) {
			// Nothing to claim here for now: wait a little before looking again.
			sleep(ctx, 200*time.Millisecond+rand.N(100*time.Millisecond))
		}
	}
}

// batch1 claims a batch of broadcast id and sends it; false when it claimed nothing.
func (e *Engine) batch1(ctx context.Context, id string, content store.BroadcastContent) bool {
	token := strconv.FormatUint(rand.Uint64(), 36)
	state, rs, err := e.st.ClaimRecipients(ctx, id, token, e.batch, e.ttl)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			e.log.Warn("claim broadcast recipients", "id", id, "err", err)
		}
		return false
	case state == store.BroadcastDone:
		e.drop(id)
		e.finish(ctx, id)
		return false
	case state != store.BroadcastSending:
		if state != "wait" {
			e.drop(id)
		}
		return false
	}
	// Redis writes are not cut by shutdown: what was claimed is given back.
	bg := context.WithoutCancel(ctx)
	defer func() {
		if err := e.st.ReleaseClaims(bg, id, token); err != nil {
			e.log.Warn("release broadcast claims", "id", id, "err", err)
		}
	}()
	send, err := e.filter(ctx, id, token, rs)
	if err != nil {
		e.log.Warn("check broadcast recipients", "id", id, "err", err)
		sleep(ctx, time.Second)
		return true
	}
	var backoff time.Duration
	for _, r := range send {
		if !e.send(ctx, id, token, content, r, &backoff) {
			break
		}
	}
	return true
}

// filter records the recipients that may not get the notice as skipped and returns the
// others.
func (e *Engine) filter(ctx context.Context, id, token string, rs []store.Recipient) ([]store.Recipient, error) {
	chats := make([]int64, len(rs))
	for i, r := range rs {
		chats[i] = r.ChatID
	}
	unreachable, err := e.st.UnreachableAmong(ctx, chats)
	if err != nil {
		return nil, err
	}
	var eligible map[int64]bool
	if e.eligible != nil {
		if eligible, err = e.eligible(ctx, chats); err != nil {
			return nil, err
		}
	}
	var send []store.Recipient
	var skip []int64
	for _, r := range rs {
		if unreachable[r.ChatID] || eligible != nil && !eligible[r.ChatID] {
			skip = append(skip, r.Index)
		} else {
			send = append(send, r)
		}
	}
	if err := e.st.Record(ctx, id, token, store.StatusSkipped, "", skip...); err != nil {
		return nil, err
	}
	return send, nil
}

// Message returns the message broadcast id sends to chat, its idx-th recipient.
func Message(id string, c store.BroadcastContent, chat, idx int64) queue.Message {
	m := queue.Message{ID: "b" + id + ":" + strconv.FormatInt(idx, 10), Lane: queue.LaneBulk, ChatID: chat}
	switch {
	case c.FromChatID != 0:
		m.Method, m.FromChatID, m.MessageIDs = queue.MethodCopyMessage, c.FromChatID, []int{c.MessageID}
	case c.Media == "photo":
		m.Method, m.FileID, m.Text, m.Entities = queue.MethodSendPhoto, c.FileID, c.Text, c.Entities
	case c.Media == "document":
		m.Method, m.FileID, m.Text, m.Entities = queue.MethodSendDocument, c.FileID, c.Text, c.Entities
	default:
		m.Method, m.Text, m.ParseMode, m.Entities = queue.MethodSendMessage, c.Text, c.ParseMode, c.Entities
	}
	if c.StopData != "" {
		m.Inline = [][]queue.Button{{{Text: c.StopText, Data: c.StopData}}}
	}
	return m
}

// send paces, marks and sends one recipient and records its outcome. It returns false
// when the batch must end: the claim is lost, the broadcast is no longer sending, or ctx
// is done.
func (e *Engine) send(ctx context.Context, id, token string, c store.BroadcastContent, r store.Recipient, backoff *time.Duration) bool {
	bg := context.WithoutCancel(ctx)
	m := Message(id, c, r.ChatID, r.Index)
	marked := false
	unmark := func() bool {
		mine, err := e.st.Unsend(bg, id, token, r.Index)
		if err != nil {
			// It stays marked sending and ends ambiguous: nothing is sent twice.
			e.log.Warn("unmark broadcast recipient", "id", id, "chat", r.ChatID, "err", err)
			return false
		}
		marked = false
		return mine
	}
	for {
		wait, reserved, err := e.st.TakeBroadcastSlot(ctx, e.interval)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("take broadcast slot", "err", err)
			}
			wait = time.Second
		}
		at := time.Now().Add(wait)
		if !sleep(ctx, wait) {
			if marked {
				unmark()
			}
			return false
		}
		if err != nil || !reserved {
			continue
		}
		if !marked {
			res, err := e.st.MarkSending(ctx, id, token, r.Index, e.ttl)
			if err != nil {
				if ctx.Err() == nil {
					e.log.Warn("mark broadcast recipient", "id", id, "chat", r.ChatID, "err", err)
				}
				continue
			}
			if res != store.MarkOK {
				return false
			}
			marked = true
		}
		if time.Since(at) > Late {
			// The slot has passed: sending now could crowd the next second.
			continue
		}
		sent, err := e.api.Send(bg, m)
		metrics.Sends.WithLabelValues(m.Method, sent.Outcome.String()).Inc()
		switch sent.Outcome {
		case tgapi.NotSent:
			e.log.Warn("broadcast message not sent; retrying", "id", id, "chat", r.ChatID, "err", err)
			if !unmark() {
				return true
			}
			*backoff = min(max(*backoff*2, minBackoff), maxBackoff)
			if !sleep(ctx, *backoff) {
				return false
			}
			continue
		case tgapi.RateLimited:
			e.rateLimited(bg, r.ChatID, sent.RetryAfter)
			if !unmark() {
				return true
			}
			continue
		}
		*backoff = 0
		outcome, reason := classify(sent, err)
		if outcome == store.StatusBlocked {
			if err := e.st.MarkUnreachable(bg, r.ChatID); err != nil {
				e.log.Warn("mark chat unreachable", "chat", r.ChatID, "err", err)
			}
		}
		if outcome != store.StatusSent {
			e.log.Debug("broadcast recipient not reached", "id", id, "chat", r.ChatID, "outcome", outcome, "err", err)
		}
		e.record(bg, id, token, outcome, reason, r)
		return true
	}
}

// classify maps a call's outcome (other than not sent and 429) to the recipient's.
func classify(sent tgapi.Sent, err error) (store.RecipientStatus, string) {
	switch sent.Outcome {
	case tgapi.OK:
		return store.StatusSent, ""
	case tgapi.Forbidden:
		return store.StatusBlocked, ""
	case tgapi.Ambiguous:
		return store.StatusAmbiguous, ""
	case tgapi.Migrated:
		return store.StatusFailed, "migrated to a supergroup"
	}
	reason := sent.Detail
	if reason == "" && err != nil {
		reason = err.Error()
	}
	if strings.Contains(strings.ToLower(reason), "chat not found") {
		return store.StatusBlocked, ""
	}
	return store.StatusFailed, reason
}

// record writes a recipient's outcome, retrying a while; if it cannot, the recipient
// stays marked sending and ends ambiguous.
func (e *Engine) record(ctx context.Context, id, token string, outcome store.RecipientStatus, reason string, r store.Recipient) {
	d := 100 * time.Millisecond
	for i := range recordTries {
		err := e.st.Record(ctx, id, token, outcome, reason, r.Index)
		if err == nil {
			return
		}
		if i == recordTries-1 {
			e.log.Error("record broadcast outcome; the recipient will count as ambiguous", "id", id, "chat", r.ChatID,
				"outcome", outcome, "err", err)
			return
		}
		time.Sleep(d)
		d *= 2
	}
}

// rateLimited pauses broadcasts, and all sending unless retry_after is a ban, on every
// replica.
func (e *Engine) rateLimited(ctx context.Context, chat int64, retryAfter time.Duration) {
	park := retryAfter > parkAfter
	metrics.RateLimited.WithLabelValues(store.ScopeBulk).Inc()
	if park {
		e.log.Error("telegram asked broadcasts for a long pause; parking them", "alert", true, "chat", chat, "retry_after", retryAfter)
	} else {
		metrics.RateLimited.WithLabelValues(store.ScopeGlobal).Inc()
		e.log.Warn("broadcast rate limited; pausing all sending", "chat", chat, "retry_after", retryAfter)
	}
	if err := e.st.BroadcastRateLimited(ctx, retryAfter, park); err != nil {
		e.log.Warn("record broadcast 429", "err", err)
	}
}

// sleep waits d unless ctx ends first; it reports whether the wait ran out.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Stats are a broadcast's figures for a progress report.
type Stats struct {
	// Rate is the measured rate, recipients processed per second since the start.
	Rate float64
	// Remaining is how many recipients have no outcome yet.
	Remaining int64
	// ETA is the time the rest takes at the configured rate (zero when finished).
	ETA time.Duration
}

// StatsOf computes b's figures at now for the configured rate.
func StatsOf(b store.Broadcast, rate float64, now time.Time) Stats {
	s := Stats{Remaining: b.Total - b.Processed()}
	end := now
	if b.Finished() {
		end = b.FinishedAt
	}
	if !b.StartedAt.IsZero() {
		if d := end.Sub(b.StartedAt).Seconds(); d > 0 {
			s.Rate = float64(b.Processed()) / d
		}
	}
	if !b.Finished() && rate > 0 {
		s.ETA = time.Duration(s.Remaining) * Interval(rate)
	}
	return s
}
