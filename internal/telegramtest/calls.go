package telegramtest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"
)

// Call is one recorded request. Its maps are shared: do not modify them.
type Call struct {
	// Method is the method as the specification spells it, or as sent when
	// unknown.
	Method string
	// ChatID is the numeric chat_id of the call, resolved from @username
	// when the chat is known; 0 when absent.
	ChatID int64
	// Params are the raw values as sent (objects and arrays as JSON text).
	Params map[string]string
	// Files are the uploaded files by form field.
	Files map[string]File
	Time  time.Time
	// Status is the HTTP status answered; 0 when the connection was dropped
	// or the client went away.
	Status int
	// Result is the JSON result of a successful call.
	Result json.RawMessage
	// Err is the error description answered, or why nothing was answered.
	Err string
	// Violation is set when the real API would reject the call as malformed.
	Violation string
	// Injected is set when an injected Fault answered the call.
	Injected bool
}

// Decode unmarshals the call's result into v.
func (c Call) Decode(v any) error { return json.Unmarshal(c.Result, v) }

// DecodeParam unmarshals a parameter sent as JSON (an object or an array,
// such as answerInlineQuery's results) into v.
func (c Call) DecodeParam(name string, v any) error { return json.Unmarshal([]byte(c.Params[name]), v) }

type recorder struct {
	mu      sync.Mutex
	calls   []Call
	limit   int
	changed chan struct{} // closed and replaced on every call
	subs    map[*subscriber]struct{}
}

func (r *recorder) init() {
	r.changed = make(chan struct{})
	r.subs = map[*subscriber]struct{}{}
}

func (r *recorder) add(c Call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	if r.limit > 0 && len(r.calls) > 2*r.limit {
		// Trim in batches so that appends stay amortised O(1).
		r.calls = slices.Clone(r.calls[len(r.calls)-r.limit:])
	}
	close(r.changed)
	r.changed = make(chan struct{})
	for sub := range r.subs {
		sub.push(c)
	}
	r.mu.Unlock()
}

func (r *recorder) snapshot() ([]Call, chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := r.calls
	if r.limit > 0 && len(calls) > r.limit {
		calls = calls[len(calls)-r.limit:]
	}
	return calls[:len(calls):len(calls)], r.changed
}

// Calls returns every recorded call in the order answered.
func (s *Server) Calls() []Call {
	calls, _ := s.rec.snapshot()
	return slices.Clone(calls)
}

// CallsFor returns the recorded calls of one method (case-insensitive).
func (s *Server) CallsFor(method string) []Call {
	calls, _ := s.rec.snapshot()
	return filter(calls, method)
}

// Violations returns the calls the real API would have rejected as malformed.
func (s *Server) Violations() []Call {
	calls, _ := s.rec.snapshot()
	var out []Call
	for _, c := range calls {
		if c.Violation != "" {
			out = append(out, c)
		}
	}
	return out
}

func filter(calls []Call, method string) []Call {
	var out []Call
	for _, c := range calls {
		if strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls; state and faults stay.
func (s *Server) Reset() {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.rec.calls = nil
}

// WaitFor blocks until done reports true for the calls recorded so far, or
// ctx ends. done must not modify the slice it is given.
func (s *Server) WaitFor(ctx context.Context, done func([]Call) bool) error {
	for {
		calls, changed := s.rec.snapshot()
		if done(calls) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// Wait blocks until at least n successful calls of method were recorded and
// returns them, or returns ctx's error with the calls seen so far.
func (s *Server) Wait(ctx context.Context, method string, n int) ([]Call, error) {
	var got []Call
	err := s.WaitFor(ctx, func(calls []Call) bool {
		got = got[:0]
		for _, c := range calls {
			if c.Status == 200 && strings.EqualFold(c.Method, method) {
				got = append(got, c)
			}
		}
		return len(got) >= n
	})
	return got, err
}

// Subscribe streams every call recorded from now on, in order, without ever
// blocking the server: a slow reader only grows its own queue. cancel ends
// the subscription and closes the channel; Close ends them all.
func (s *Server) Subscribe() (calls <-chan Call, cancel func()) {
	sub := &subscriber{out: make(chan Call), wake: make(chan struct{}, 1), stop: make(chan struct{})}
	s.rec.mu.Lock()
	if s.rec.subs == nil {
		s.rec.mu.Unlock()
		close(sub.out)
		return sub.out, func() {}
	}
	s.rec.subs[sub] = struct{}{}
	s.rec.mu.Unlock()
	go sub.run()
	return sub.out, func() {
		s.rec.mu.Lock()
		delete(s.rec.subs, sub)
		s.rec.mu.Unlock()
		sub.once.Do(func() { close(sub.stop) })
	}
}

func (r *recorder) closeSubscribers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for sub := range r.subs {
		sub.once.Do(func() { close(sub.stop) })
	}
	r.subs = nil
}

type subscriber struct {
	mu    sync.Mutex
	queue []Call
	out   chan Call
	wake  chan struct{}
	stop  chan struct{}
	once  sync.Once
}

func (sub *subscriber) push(c Call) {
	sub.mu.Lock()
	sub.queue = append(sub.queue, c)
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *subscriber) run() {
	defer close(sub.out)
	for {
		sub.mu.Lock()
		if len(sub.queue) == 0 {
			sub.mu.Unlock()
			select {
			case <-sub.wake:
				continue
			case <-sub.stop:
				return
			}
		}
		c := sub.queue[0]
		sub.queue[0] = Call{}
		sub.queue = sub.queue[1:]
		sub.mu.Unlock()
		select {
		case sub.out <- c:
		case <-sub.stop:
			return
		}
	}
}
