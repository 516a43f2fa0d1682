// Package outbox is the sender: it drains the per-chat outbox queues of the shards this
// replica holds, pacing every call per scope, honouring 429s on every replica, and turning
// each Bot API outcome into the store update that keeps DESIGN §3 invariants 4 and 5.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nanta-district/bangban/metrics"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/tgapi"
)

// Store is the part of *store.Store the sender uses.
type Store interface {
	Shards() int
	ReadyChats(ctx context.Context, shard int, limit int64) ([]store.ReadyChat, error)
	ClaimHead(ctx context.Context, l store.Lease, chatID int64, token, reservedID string) (store.Claim, bool, error)
	Postpone(ctx context.Context, l store.Lease, chatID int64, c store.Claim, sent bool, at time.Time) error
	CompleteAndClaim(ctx context.Context, l store.Lease, chatID int64, m queue.Message, res queue.Result, token, reservedID string) (store.Claim, bool, error)
	Unreachable(ctx context.Context, l store.Lease, chatID int64, m queue.Message, detail string) error
	Take(ctx context.Context, m queue.Message, bulkRate float64) (time.Duration, bool, error)
	RateLimited(ctx context.Context, m queue.Message, retryAfter time.Duration, park bool) (bool, error)
	GlobalPause(ctx context.Context) (time.Duration, error)
	RecordMigration(ctx context.Context, from, to int64) error
	Deliver(ctx context.Context, from int64, m queue.Message) error
}

// API is the part of *tgapi.Client the sender uses.
type API interface {
	Send(ctx context.Context, m queue.Message) (tgapi.Sent, error)
}

var (
	_ Store = (*store.Store)(nil)
	_ API   = (*tgapi.Client)(nil)
)

// Tuning of the sender.
const (
	defaultWorkers       = 16
	defaultBroadcastRate = 25
	// pageSize is how many ready chats one scan of a shard reads beyond those in flight.
	pageSize = 256
	// pauseCache is how long the global pause read from Redis is trusted.
	pauseCache = 100 * time.Millisecond
	// parkAfter is the retry_after beyond which a 429 is not a burst but a ban: alert,
	// park the scope, leave the global window alone.
	parkAfter = 60 * time.Second
	// maxReplyAttempts bounds ambiguous attempts of a reply (sent, then re-sent once);
	// maxRetryAttempts those of calls that are safe to repeat (edits, answers, deletes).
	maxReplyAttempts = 2
	maxRetryAttempts = 8
	minBackoff       = 500 * time.Millisecond
	maxBackoff       = 30 * time.Second
	// unvouchedRetry is how soon a head is tried again after the local clock could not
	// vouch for the shard's lease (Options.Valid).
	unvouchedRetry = 100 * time.Millisecond
)

// Options configure a Sender.
type Options struct {
	Store  Store
	API    API
	Logger *slog.Logger
	// BroadcastRate is the bulk lane's rate in messages per second (BROADCAST_RATE);
	// 0 means 25.
	BroadcastRate float64
	// Workers bounds concurrent Bot API calls; 0 means 16.
	Workers int
	// Valid, when set, is asked right before each call whether the lease is still
	// certainly held by the local clock (the worker pool's Pool.Valid).
	Valid func(store.Lease) bool
	// Broadcasts applies a MethodBroadcast entry of chat from's outbox. It must be
	// idempotent per entry (it is retried after a crash); an error wrapping
	// store.ErrBadMessage drops the entry, any other is retried with backoff.
	Broadcasts func(ctx context.Context, from int64, m queue.Message) error
}

// Sender drains outboxes. Chats are sent concurrently by a bounded pool with at most one
// call in flight per chat, so a slow or paced chat never delays another.
type Sender struct {
	st    Store
	api   API
	log   *slog.Logger
	valid func(store.Lease) bool
	rate  float64
	// broadcasts is Options.Broadcasts.
	broadcasts func(ctx context.Context, from int64, m queue.Message) error
	sem        chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	shards map[int]*shard
	// busy holds the chats being drained; a chat notified meanwhile is set to true, so
	// that a drain finding the outbox empty looks once more before it ends.
	busy map[int64]bool
	hold map[int64]time.Time // chat -> not before (after a Redis error)
	// until keeps Notify from starting a chat this replica postponed before its time
	// (pacing, backoff, 429); the ready set's timer starts it then, if the shard's lease
	// is still the one it was postponed under.
	until    map[int64]postponed
	reserved map[int64]string // chat -> id of the head whose pacing slot is taken
	failures map[int64]int    // chat -> consecutive unsent/ambiguous attempts
	// done keeps the outcome of a call whose completion could not be written, so the
	// message is completed, not sent again, when it is claimed next.
	done map[int64]finished
	// granted holds the chats reserved for a commit that claims their head (Reserve),
	// with their shard and claim token, until Start.
	granted map[int64]grant
	// jobs feeds the drains to Run's goroutines, which are kept (with their grown stacks)
	// rather than started per drain; a drain holds a sending slot from before it is queued,
	// so the buffer, as large as the slots, never blocks.
	jobs chan drainJob

	pmu        sync.Mutex
	pauseRead  time.Time
	pauseUntil time.Time
}

type drainJob struct {
	sh    *shard
	chat  int64
	token string
	hc    store.HeadClaim
}

type grant struct {
	sh    *shard
	token string
}

type finished struct {
	id  string
	res queue.Result
}

// postponed is when a chat may be tried again and the epoch of the shard's lease it was
// postponed under. Only that lease's scan has the time in its timer: the shard may have
// moved meanwhile, and the chat been sent and left the ready set.
type postponed struct {
	at    time.Time
	epoch int64
}

type shard struct {
	lease store.Lease
	wake  chan struct{}
	stop  chan struct{}
	// inflight counts the shard's running drains and drained is closed once the shard is
	// stopped and none runs; both are guarded by Sender.mu.
	inflight int
	drained  chan struct{}
}

func (sh *shard) poke() {
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

func (sh *shard) stopped() bool {
	select {
	case <-sh.stop:
		return true
	default:
		return false
	}
}

// New returns a Sender; it sends nothing until shards are added.
func New(o Options) *Sender {
	if o.Workers <= 0 {
		o.Workers = defaultWorkers
	}
	if o.BroadcastRate <= 0 {
		o.BroadcastRate = defaultBroadcastRate
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Sender{
		st: o.Store, api: o.API, log: o.Logger, valid: o.Valid, rate: o.BroadcastRate, broadcasts: o.Broadcasts,
		sem: make(chan struct{}, o.Workers), jobs: make(chan drainJob, o.Workers), ctx: ctx, cancel: cancel,
		shards: map[int]*shard{}, busy: map[int64]bool{}, hold: map[int64]time.Time{}, until: map[int64]postponed{},
		reserved: map[int64]string{}, failures: map[int64]int{}, done: map[int64]finished{}, granted: map[int64]grant{},
	}
}

// Run runs the drains until ctx is done, then stops every shard and returns once the calls
// in flight have finished and been recorded. It always returns nil.
func (s *Sender) Run(ctx context.Context) error {
	var drains sync.WaitGroup
	for range cap(s.sem) {
		drains.Go(func() {
			for j := range s.jobs {
				s.drain(j.sh, j.chat, j.token, j.hc)
			}
		})
	}
	defer drains.Wait()
	<-ctx.Done()
	s.cancel()
	s.mu.Lock()
	for id, sh := range s.shards {
		close(sh.stop)
		delete(s.shards, id)
	}
	s.mu.Unlock()
	// Every drain was queued before the shards stopped (start and Reserve check), so none
	// is queued after it.
	s.wg.Wait()
	close(s.jobs)
	return nil
}

// AddShard starts draining the outboxes of a shard held with lease l, beginning with its
// ready set. Adding a shard again (a new epoch) replaces the old lease.
func (s *Sender) AddShard(l store.Lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	if old, ok := s.shards[l.Shard]; ok {
		close(old.stop)
	}
	sh := &shard{lease: l, wake: make(chan struct{}, 1), stop: make(chan struct{}), drained: make(chan struct{})}
	s.shards[l.Shard] = sh
	s.wg.Add(1)
	go s.loop(sh)
}

// RemoveShard stops draining a shard. Calls in flight finish; the returned channel is
// closed once they have been recorded, so the caller can release the lease only then
// (a completion written after the release would be refused, and the message sent again).
func (s *Sender) RemoveShard(shard int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, ok := s.shards[shard]
	if !ok {
		done := make(chan struct{})
		close(done)
		return done
	}
	close(sh.stop)
	delete(s.shards, shard)
	s.forgetShard(shard)
	if sh.inflight == 0 {
		close(sh.drained)
	}
	return sh.drained
}

// forgetShard drops what the sender keeps about the chats of a shard it no longer holds —
// postponements, reserved pacing slots, failure counts, holds — so that it does not grow as
// shards move between replicas; a chat still being drained keeps them (its drain may still
// write them). The outcome of a call whose completion could not be written is kept: it
// saves a second send should the shard come back. s.mu is held.
func (s *Sender) forgetShard(shard int) {
	n := s.st.Shards()
	gone := func(chat int64) bool {
		_, busy := s.busy[chat]
		return !busy && queue.Shard(chat, n) == shard
	}
	maps.DeleteFunc(s.until, func(chat int64, _ postponed) bool { return gone(chat) })
	maps.DeleteFunc(s.reserved, func(chat int64, _ string) bool { return gone(chat) })
	maps.DeleteFunc(s.failures, func(chat int64, _ int) bool { return gone(chat) })
	maps.DeleteFunc(s.hold, func(chat int64, _ time.Time) bool { return gone(chat) })
}

// Notify starts draining chat's outbox at once, after a commit of the shard queued
// messages in it, without scanning the shard's ready set. A chat this replica postponed
// under the shard's current lease is left to the ready set's timer; when the chat is held
// back after a Redis error or every sending slot is busy, the shard's ready set is scanned
// instead.
func (s *Sender) Notify(shard int, chat int64) {
	s.mu.Lock()
	sh := s.shards[shard]
	if sh == nil {
		s.mu.Unlock()
		return
	}
	if _, ok := s.busy[chat]; ok {
		s.busy[chat] = true
		s.mu.Unlock()
		return
	}
	if s.postponedUnder(chat, sh.lease.Epoch) {
		s.mu.Unlock()
		return
	}
	_, held := s.hold[chat]
	s.mu.Unlock()
	if !held {
		select {
		case s.sem <- struct{}{}:
			if !s.start(sh, chat) {
				<-s.sem
			}
			return
		default:
		}
	}
	sh.poke()
}

// postponedUnder reports whether chat is postponed, not yet due, under the lease of the
// given epoch: the ready set's timer of that lease starts it. A postponement under an
// earlier lease is dropped, since no timer of this one is set for the chat, with the
// pacing slot reserved then (the claim takes another, so that the head does not go before
// its time). s.mu is held.
func (s *Sender) postponedUnder(chat, epoch int64) bool {
	u, ok := s.until[chat]
	if !ok || !time.Now().Before(u.at) {
		return false
	}
	if u.epoch == epoch {
		return true
	}
	delete(s.until, chat)
	delete(s.reserved, chat)
	return false
}

// Reserve takes chat's drain ahead of a commit of lease l that queues messages for it, so
// that the commit's script claims the chat's head with token (store.CommitAndClaim, with
// reservedID, the head whose pacing slot is already taken) and the drain starts with it in
// hand: one script less than Notify's drain, which claims on its own. It declines where
// Notify would not start a drain at once (the chat being drained, postponed under this
// lease or held back, no free sending slot, the shard not held under l); the caller then
// notifies after the commit. Every reservation must be ended by Start.
func (s *Sender) Reserve(l store.Lease, chat int64) (token, reservedID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shards[l.Shard]
	if sh == nil || sh.lease != l || sh.stopped() {
		return "", "", false
	}
	if _, busy := s.busy[chat]; busy {
		return "", "", false
	}
	if s.postponedUnder(chat, l.Epoch) {
		return "", "", false
	}
	if _, held := s.hold[chat]; held {
		return "", "", false
	}
	select {
	case s.sem <- struct{}{}:
	default:
		return "", "", false
	}
	token = newToken()
	s.granted[chat] = grant{sh: sh, token: token}
	s.drainStarted(sh, chat)
	return token, s.reserved[chat], true
}

// Start begins the drain of chat reserved by Reserve, with the head the commit claimed
// (hc.Made) or, when it claimed nothing (a retried commit, lease lost, not committed), by
// claiming under the reservation's token.
func (s *Sender) Start(chat int64, hc store.HeadClaim) {
	s.mu.Lock()
	g, ok := s.granted[chat]
	delete(s.granted, chat)
	s.mu.Unlock()
	if !ok {
		return
	}
	s.jobs <- drainJob{sh: g.sh, chat: chat, token: g.token, hc: hc}
}

// start begins draining chat with a sending slot the caller holds, unless the chat is
// being drained already or the shard is stopped; it reports whether it did.
func (s *Sender) start(sh *shard, chat int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, busy := s.busy[chat]; busy || sh.stopped() {
		return false
	}
	s.drainStarted(sh, chat)
	s.jobs <- drainJob{sh: sh, chat: chat, token: newToken()}
	return true
}

// drainStarted records that a drain of chat on sh is under way; s.mu is held.
func (s *Sender) drainStarted(sh *shard, chat int64) {
	s.busy[chat] = false
	delete(s.until, chat)
	sh.inflight++
	s.wg.Add(1)
}

// loop scans a shard's ready set when the shard is added, whenever it is woken (a chat
// postponed or held back, a notification that found no free slot) or the earliest
// postponed chat comes due; there is no polling at a fixed interval.
func (s *Sender) loop(sh *shard) {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, err := s.dispatch(sh)
		if err != nil {
			s.log.Warn("scan outbox ready set", "shard", sh.lease.Shard, "err", err)
			next = time.Now().Add(time.Second)
		}
		timer.Stop()
		var due <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(time.Until(next), time.Millisecond))
			due = timer.C
		}
		select {
		case <-s.ctx.Done():
			return
		case <-sh.stop:
			return
		case <-sh.wake:
		case <-due:
		}
	}
}

// dispatch starts a drain for every due chat of the shard not already in flight and
// returns when the earliest other chat comes due (zero: none known).
func (s *Sender) dispatch(sh *shard) (time.Time, error) {
	for {
		s.mu.Lock()
		limit := int64(pageSize + len(s.busy))
		s.mu.Unlock()
		chats, err := s.st.ReadyChats(s.ctx, sh.lease.Shard, limit)
		if err != nil {
			return time.Time{}, err
		}
		now := time.Now()
		var next time.Time
		started := 0
		for _, c := range chats {
			if c.At.After(now) {
				if next.IsZero() || c.At.Before(next) {
					next = c.At
				}
				break
			}
			s.mu.Lock()
			_, busy := s.busy[c.ChatID]
			h, held := s.hold[c.ChatID]
			if held && !h.After(now) {
				delete(s.hold, c.ChatID)
				held = false
			}
			s.mu.Unlock()
			if held {
				if next.IsZero() || h.Before(next) {
					next = h
				}
				continue
			}
			if busy {
				continue
			}
			select {
			case s.sem <- struct{}{}:
			case <-sh.stop:
				return time.Time{}, nil
			case <-s.ctx.Done():
				return time.Time{}, nil
			}
			if !s.start(sh, c.ChatID) {
				<-s.sem
				if sh.stopped() {
					return time.Time{}, nil
				}
				continue
			}
			started++
		}
		if int64(len(chats)) < limit || started == 0 || !next.IsZero() {
			return next, nil
		}
	}
}

// drain sends the head of a chat's outbox until it is empty or must wait, beginning with
// the head a commit claimed (hc.Made), else claiming it under token. Each completion
// claims the next head in the same script, so a message costs one claim-or-complete script
// and the drain ends without an extra claim.
func (s *Sender) drain(sh *shard, chat int64, token string, hc store.HeadClaim) {
	// Redis calls are not cut by shutdown: a call that left must be recorded.
	ctx := context.WithoutCancel(s.ctx)
	var h head
	switch {
	case hc.Made:
		h = s.claimedBy(ctx, sh.lease, chat, hc.Claim, hc.OK, hc.Err)
	case sh.stopped():
		h = head{next: stop}
	default:
		h = s.claim(ctx, sh.lease, chat, token)
	}
	for {
		for h.next == claimed && !sh.stopped() && s.ctx.Err() == nil {
			h = s.sendHead(ctx, sh.lease, chat, h.c)
		}
		if h.next == claimed {
			// Stopping with a claim in hand: the attempt did not happen.
			s.postpone(ctx, sh.lease, chat, h.c, false, 0)
			h.next = stop
		}
		s.mu.Lock()
		renotified := s.busy[chat] && h.next == empty && !sh.stopped() && s.ctx.Err() == nil
		var successor *shard
		if !renotified {
			delete(s.busy, chat)
			sh.inflight--
			if sh.inflight == 0 && sh.stopped() {
				close(sh.drained)
			}
			if cur := s.shards[sh.lease.Shard]; cur != nil && cur != sh {
				successor = cur
			}
		} else {
			s.busy[chat] = false
		}
		s.mu.Unlock()
		if renotified {
			// A commit queued messages while the outbox looked empty.
			h = s.claim(ctx, sh.lease, chat, newToken())
			continue
		}
		<-s.sem
		if h.next == wait {
			// The chat was postponed or held back: the scan sets the timer for it.
			sh.poke()
		}
		if successor != nil {
			// The shard was taken again under a new lease while this drain ran: its scans
			// skipped the chat as busy, and a notification meanwhile only marked it so,
			// while this drain ends without sending (its lease is lost). The new lease's
			// scan looks at the chat again.
			successor.poke()
		}
		s.wg.Done()
		return
	}
}

// next says what a drain does after a step.
type next int

const (
	claimed next = iota // send the claimed head
	again               // claim the head afresh (a bad head was dropped)
	empty               // the outbox is empty
	wait                // the chat was postponed or held back
	stop                // the drain ends: lease lost or shard stopped
)

// head is the outcome of a drain's step: what to do next and, when claimed, the claim.
type head struct {
	next next
	c    store.Claim
}

// claim claims the head of chat's outbox under token (then fresh ones, after dropping a
// bad head), taking its pacing slot unless it holds one.
func (s *Sender) claim(ctx context.Context, l store.Lease, chat int64, token string) head {
	for {
		c, ok, err := s.st.ClaimHead(ctx, l, chat, token, s.reservedFor(chat))
		if h := s.claimOutcome(chat, c, ok, err); h.next != again {
			return h
		}
		token = newToken()
	}
}

func newToken() string { return strconv.FormatUint(rand.Uint64(), 36) }

// claimedBy classifies a claim another script made (a commit's or a completion's); after a
// bad head was dropped it claims the next one.
func (s *Sender) claimedBy(ctx context.Context, l store.Lease, chat int64, c store.Claim, ok bool, err error) head {
	if h := s.claimOutcome(chat, c, ok, err); h.next != again {
		return h
	}
	return s.claim(ctx, l, chat, newToken())
}

// claimOutcome classifies the answer of a claim, or of a completion that claimed.
func (s *Sender) claimOutcome(chat int64, c store.Claim, ok bool, err error) head {
	switch {
	case errors.Is(err, store.ErrBadMessage):
		s.log.Error("dropped undecodable outbox message", "chat", chat, "err", err)
		return head{next: again}
	case errors.Is(err, store.ErrLeaseLost):
		return head{next: stop}
	case err != nil:
		s.log.Warn("claim outbox head", "chat", chat, "err", err)
		s.holdChat(chat)
		return head{next: wait}
	case !ok:
		return head{next: empty}
	}
	return head{next: claimed, c: c}
}

// sendHead paces and sends the claimed head of chat's outbox (or delivers it, for
// MethodDeliver) and records the outcome, claiming the next head when the chat may go on
// at once. A result of a call Telegram refused carries its description (Result.Detail).
func (s *Sender) sendHead(ctx context.Context, l store.Lease, chat int64, c store.Claim) head {
	m := c.Message
	s.mu.Lock()
	f, wasDone := s.done[chat]
	delete(s.done, chat)
	s.mu.Unlock()
	if wasDone && f.id == m.ID {
		return s.complete(ctx, l, chat, m, f.res)
	}
	if s.exhausted(c) {
		s.log.Warn("outbox message not sent again after an ambiguous attempt",
			"chat", chat, "id", m.ID, "method", m.Method, "lane", m.Lane, "attempts", c.Attempt-1)
		return s.complete(ctx, l, chat, m, queue.Result{MessageRef: m.Ref, ChatID: m.ChatID, Error: "ambiguous"})
	}
	// A follow-up makes no Bot API call: neither Telegram's pauses nor its pacing apply.
	if !followUp(m) {
		if h, wait := s.pace(ctx, l, chat, c); wait {
			return h
		}
	}
	if s.valid != nil && !s.valid(l) {
		// This replica may have stalled past its lease: the successor owns the head now,
		// and a late send would arrive after the successor's later messages. The attempt
		// did not happen, so it is given back (when the lease is in fact still ours),
		// keeping the pacing slot it took, and tried again once late renewals may have
		// come in.
		if !followUp(m) {
			s.mu.Lock()
			s.reserved[chat] = m.ID
			s.mu.Unlock()
		}
		return s.postpone(ctx, l, chat, c, false, unvouchedRetry)
	}
	if followUp(m) {
		return s.deliver(ctx, l, chat, c)
	}
	sent, err := s.api.Send(ctx, m)
	metrics.Sends.WithLabelValues(m.Method, sent.Outcome.String()).Inc()
	if sent.Outcome != tgapi.NotSent && sent.Outcome != tgapi.Ambiguous {
		s.mu.Lock()
		delete(s.failures, chat)
		s.mu.Unlock()
	}
	res := queue.Result{MessageRef: m.Ref, ChatID: m.ChatID, Detail: sent.Detail}
	switch sent.Outcome {
	case tgapi.OK:
		res.MessageID, res.ThreadID, res.MessageIDs = sent.MessageID, sent.ThreadID, sent.MessageIDs
		return s.complete(ctx, l, chat, m, res)
	case tgapi.NotSent:
		s.log.Warn("bot api call not sent", "chat", chat, "id", m.ID, "err", err)
		return s.postpone(ctx, l, chat, c, false, s.backoff(chat))
	case tgapi.Ambiguous:
		s.log.Warn("bot api call outcome unknown", "chat", chat, "id", m.ID, "attempt", c.Attempt, "err", err)
		return s.postpone(ctx, l, chat, c, true, s.backoff(chat))
	case tgapi.RateLimited:
		s.rateLimited(ctx, m, sent.RetryAfter)
		return s.postpone(ctx, l, chat, c, false, sent.RetryAfter)
	case tgapi.Forbidden:
		if m.Method == queue.MethodAnswerInlineQuery {
			// Inline mode works for users who never started the bot: a refused answer says
			// nothing about whether the bot can write to the user.
			s.log.Warn("inline answer refused; dropped", "chat", chat, "id", m.ID, "err", err)
			res.Error = "forbidden"
			return s.complete(ctx, l, chat, m, res)
		}
		s.log.Info("chat unreachable; dropping its queued messages", "chat", m.ChatID, "err", err)
		if err := s.st.Unreachable(ctx, l, chat, m, sent.Detail); err != nil {
			if errors.Is(err, store.ErrLeaseLost) {
				return head{next: stop}
			}
			s.log.Warn("record unreachable chat", "chat", m.ChatID, "err", err)
			s.holdChat(chat)
			return head{next: wait}
		}
		return s.claim(ctx, l, chat, newToken())
	case tgapi.Migrated:
		s.log.Error("chat migrated to a supergroup; update its id where it is configured",
			"alert", true, "chat", m.ChatID, "migrate_to_chat_id", sent.MigrateTo)
		if err := s.st.RecordMigration(ctx, m.ChatID, sent.MigrateTo); err != nil {
			s.log.Warn("record chat migration", "chat", m.ChatID, "err", err)
		}
		res.Error = "migrated"
		return s.complete(ctx, l, chat, m, res)
	default:
		// A message whose conversation asked for its result hears of the refusal and deals
		// with it (a deleted topic is made again); any other refusal is a bug to look at.
		level := slog.LevelError
		if m.WantResult {
			level = slog.LevelWarn
		}
		s.log.Log(ctx, level, "bot api refused outbox message; dropped", "chat", chat, "id", m.ID, "method", m.Method, "err", err)
		res.Error = "bad_request"
		if m.Method == queue.MethodCopyMessage || m.Method == queue.MethodCopyMessages {
			res.Failed = m.MessageIDs
		}
		return s.complete(ctx, l, chat, m, res)
	}
}

// exhausted reports whether a claimed message must not be sent again because earlier
// attempts may have reached Telegram: a broadcast never goes twice, a reply (a message, a
// document, a copy, a new topic) at most twice, calls safe to repeat until
// maxRetryAttempts. A delivery is never exhausted: it applies once however often it runs.
func (s *Sender) exhausted(c store.Claim) bool {
	switch m := c.Message; {
	case followUp(m):
		return false
	case m.Lane == queue.LaneBulk:
		return c.Attempt > 1
	case slices.Contains(replies, m.Method):
		return c.Attempt > maxReplyAttempts
	}
	return c.Attempt > maxRetryAttempts
}

// replies are the methods whose repetition shows: each call posts something new.
var replies = []string{
	queue.MethodSendMessage, queue.MethodSendDocument, queue.MethodSendPhoto, queue.MethodCopyMessage,
	queue.MethodCopyMessages, queue.MethodCreateForumTopic,
}

// pace waits out a global pause and takes m's pacing slot unless the claim took it or it is
// reserved already. When the head must wait, it is postponed and wait is true.
func (s *Sender) pace(ctx context.Context, l store.Lease, chat int64, c store.Claim) (h head, wait bool) {
	m := c.Message
	if d := s.globalPause(ctx); d > 0 {
		return s.postpone(ctx, l, chat, c, false, d), true
	}
	if s.takeReserved(chat, m.ID) {
		return head{}, false
	}
	d, reserved := c.Wait, c.Reserved
	if !c.Paced {
		var err error
		d, reserved, err = s.st.Take(ctx, m, s.rate)
		if err != nil {
			s.log.Warn("take pacing slot", "chat", chat, "err", err)
			return s.postpone(ctx, l, chat, c, false, time.Second), true
		}
	}
	if d <= 0 {
		return head{}, false
	}
	if reserved {
		s.mu.Lock()
		s.reserved[chat] = m.ID
		s.mu.Unlock()
	}
	return s.postpone(ctx, l, chat, c, false, d), true
}

// followUp reports whether m is a follow-up step the sender applies itself.
func followUp(m queue.Message) bool {
	return m.Method == queue.MethodDeliver || m.Method == queue.MethodBroadcast
}

// deliver carries out a follow-up head (store.Deliver, or the broadcast follow-up for
// MethodBroadcast) and completes it. A Redis error
// postpones it with backoff, like a call that was not sent; a message that cannot be
// delivered at all is dropped.
func (s *Sender) deliver(ctx context.Context, l store.Lease, chat int64, c store.Claim) head {
	m := c.Message
	res := queue.Result{MessageRef: m.Ref, ChatID: m.ChatID}
	var err error
	switch {
	case m.Method == queue.MethodDeliver:
		err = s.st.Deliver(ctx, chat, m)
	case s.broadcasts == nil:
		err = fmt.Errorf("%w: no broadcast follow-up configured", store.ErrBadMessage)
	default:
		err = s.broadcasts(ctx, chat, m)
	}
	switch {
	case errors.Is(err, store.ErrBadMessage):
		s.log.Error("undeliverable outbox message; dropped", "chat", chat, "id", m.ID, "err", err)
		res.Error, res.Detail = "bad_request", err.Error()
	case err != nil:
		s.log.Warn("deliver outbox message", "chat", chat, "id", m.ID, "err", err)
		return s.postpone(ctx, l, chat, c, false, s.backoff(chat))
	}
	s.mu.Lock()
	delete(s.failures, chat)
	s.mu.Unlock()
	return s.complete(ctx, l, chat, m, res)
}

// rateLimited records a 429 on every replica: its scope pauses for retryAfter and, with
// 429s from enough chats within a second, all sending pauses.
func (s *Sender) rateLimited(ctx context.Context, m queue.Message, retryAfter time.Duration) {
	scope := store.ChatScope(m)
	if m.Lane == queue.LaneBulk {
		scope = store.ScopeBulk
	} else if scope == "" {
		scope = store.ScopePrivate
		if m.ChatID < 0 {
			scope = store.ScopeGroup
		}
	}
	metrics.RateLimited.WithLabelValues(scope).Inc()
	park := retryAfter > parkAfter
	if park {
		s.log.Error("telegram asked for a long pause; parking the scope", "alert", true,
			"scope", scope, "chat", m.ChatID, "retry_after", retryAfter)
	} else {
		s.log.Warn("rate limited", "scope", scope, "chat", m.ChatID, "retry_after", retryAfter)
	}
	global, err := s.st.RateLimited(ctx, m, retryAfter, park)
	if err != nil {
		s.log.Warn("record 429", "chat", m.ChatID, "err", err)
		return
	}
	if global {
		metrics.RateLimited.WithLabelValues(store.ScopeGlobal).Inc()
		s.log.Warn("429s from several chats; pausing all sending", "retry_after", retryAfter)
		s.pmu.Lock()
		now := time.Now()
		if until := now.Add(retryAfter); until.After(s.pauseUntil) {
			s.pauseUntil, s.pauseRead = until, now
		}
		s.pmu.Unlock()
	}
}

// globalPause returns the rest of the global pause, read from Redis at most every
// pauseCache. A read error counts as no pause: the sends that follow hit Redis anyway.
func (s *Sender) globalPause(ctx context.Context) time.Duration {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	now := time.Now()
	if now.Sub(s.pauseRead) >= pauseCache {
		d, err := s.st.GlobalPause(ctx)
		if err == nil {
			s.pauseRead, s.pauseUntil = now, now.Add(d)
		}
	}
	return max(s.pauseUntil.Sub(now), 0)
}

// reservedFor returns the id of chat's head whose pacing slot is already taken, if any.
func (s *Sender) reservedFor(chat int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reserved[chat]
}

func (s *Sender) takeReserved(chat int64, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reserved[chat]
	delete(s.reserved, chat)
	return ok && r == id
}

func (s *Sender) backoff(chat int64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.failures[chat]
	s.failures[chat] = n + 1
	return min(minBackoff<<min(n, 10), maxBackoff)
}

// holdChat keeps the scanner off a chat for a while after a Redis error, since its ready
// score still says it is due.
func (s *Sender) holdChat(chat int64) {
	d := s.backoff(chat)
	s.mu.Lock()
	s.hold[chat] = time.Now().Add(d)
	s.mu.Unlock()
}

func (s *Sender) postpone(ctx context.Context, l store.Lease, chat int64, c store.Claim, sent bool, after time.Duration) head {
	at := time.Now().Add(after)
	if after > 0 {
		s.mu.Lock()
		s.until[chat] = postponed{at: at, epoch: l.Epoch}
		s.mu.Unlock()
	}
	err := s.st.Postpone(ctx, l, chat, c, sent, at)
	switch {
	case errors.Is(err, store.ErrLeaseLost):
		return head{next: stop}
	case err != nil:
		s.log.Warn("postpone outbox message", "chat", chat, "id", c.Message.ID, "err", err)
		s.holdChat(chat)
	}
	return head{next: wait}
}

// complete records m's outcome and claims the next head in the same script.
func (s *Sender) complete(ctx context.Context, l store.Lease, chat int64, m queue.Message, res queue.Result) head {
	c, ok, err := s.st.CompleteAndClaim(ctx, l, chat, m, res, newToken(), s.reservedFor(chat))
	if err != nil && !errors.Is(err, store.ErrLeaseLost) && !errors.Is(err, store.ErrBadMessage) {
		s.log.Warn("complete outbox message", "chat", chat, "id", m.ID, "err", err)
		s.mu.Lock()
		s.done[chat] = finished{id: m.ID, res: res}
		s.mu.Unlock()
		s.holdChat(chat)
		return head{next: wait}
	}
	return s.claimedBy(ctx, l, chat, c, ok, err)
}
