// Package telegramtest is a strict, in-process fake of the Telegram Bot API:
// end-to-end tests and playground mode point the real client at it, it keeps
// realistic state, records every call, injects faults on demand and rejects
// what the real API would reject, with rules derived from the Bot API spec.
package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TB is the part of testing.TB the server uses to fail a test, so that
// production code (playground mode) needs no testing package.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// BotUser describes the bot that getMe returns and that sends every message.
type BotUser struct {
	ID                      int64
	FirstName               string
	Username                string
	CanJoinGroups           bool
	CanReadAllGroupMessages bool
	SupportsInlineQueries   bool
}

// DefaultBot is the bot a Server impersonates unless WithBot says otherwise.
var DefaultBot = BotUser{
	ID:                    7000000001,
	FirstName:             "Bangban",
	Username:              "bangban_bot",
	CanJoinGroups:         true,
	SupportsInlineQueries: true,
}

// Option configures a Server.
type Option func(*Server)

// WithTB makes every call the real Bot API would reject as malformed fail
// the test through tb.Errorf. Close the server before the test ends (for
// example with t.Cleanup(s.Close)), since a late call would log on a
// finished test.
func WithTB(tb TB) Option { return func(s *Server) { s.tb = tb } }

// WithBot sets the bot user.
func WithBot(b BotUser) Option { return func(s *Server) { s.bot = b } }

// WithCallLimit keeps only the last n calls (0, the default, keeps all), so
// a long-running playground or benchmark does not grow without bound.
func WithCallLimit(n int) Option { return func(s *Server) { s.rec.limit = n } }

// Server is a fake Bot API server. Its methods are safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	rules *ruleSet
	tb    TB
	bot   BotUser
	done  chan struct{}
	close sync.Once

	mu      sync.Mutex // guards the state below; never held while waiting
	state   state
	faultMu sync.Mutex
	faults  []*Fault
	rec     recorder
}

// New starts a fake Bot API listening on a loopback port.
func New(opts ...Option) *Server {
	s := &Server{rules: rules(), bot: DefaultBot, done: make(chan struct{})}
	s.state.init()
	s.rec.init()
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s)
	return s
}

// URL returns the base URL to give the client (bot.WithServerURL).
func (s *Server) URL() string { return s.srv.URL }

// Close wakes pending long polls and delays, stops the server and ends
// every subscription.
func (s *Server) Close() {
	s.close.Do(func() {
		close(s.done)
		s.srv.Close()
		s.rec.closeSubscribers()
	})
}

// apiError is a Bot API error answer.
type apiError struct {
	code        int
	description string
	retryAfter  int
	migrateTo   int64
	// violation marks a call the real API rejects as malformed, which fails
	// the test; other errors (chat not found, blocked) are answers a bot must
	// handle.
	violation bool
	// generic marks a plain type mismatch, which a more specific reason
	// found for another accepted type outranks.
	generic bool
}

func badRequest(desc string) *apiError {
	return &apiError{code: http.StatusBadRequest, description: "Bad Request: " + desc, violation: true}
}

// stateError is a 400 that depends on state, not on the call's shape.
func stateError(desc string) *apiError {
	return &apiError{code: http.StatusBadRequest, description: "Bad Request: " + desc}
}

func (e *apiError) body() []byte {
	resp := map[string]any{"ok": false, "error_code": e.code, "description": e.description}
	params := map[string]any{}
	if e.retryAfter > 0 {
		params["retry_after"] = e.retryAfter
	}
	if e.migrateTo != 0 {
		params["migrate_to_chat_id"] = e.migrateTo
	}
	if len(params) > 0 {
		resp["parameters"] = params
	}
	b, _ := json.Marshal(resp) // maps of strings and numbers always marshal
	return b
}

// ServeHTTP answers /bot<token>/<method> and /file/bot<token>/<path>.
// It is exported so that playground mode can mount the fake on its own mux.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		s.serveFile(w, rest)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, found := strings.Cut(rest, "/")
	if !ok || !found || token == "" || method == "" || strings.Contains(method, "/") {
		writeJSON(w, http.StatusNotFound, (&apiError{code: http.StatusNotFound, description: "Not Found"}).body())
		return
	}
	call := Call{Method: method, Time: time.Now()}
	req, err := parseRequest(r)
	if err != nil {
		e := badRequest(err.Error())
		// A body cut short is the client going away, not a malformed call.
		e.violation = !errors.Is(err, errTruncated) && r.Context().Err() == nil
		s.finish(w, &call, nil, e)
		return
	}
	call.Params, call.Files = req.params, req.files
	call.ChatID, _ = strconv.ParseInt(req.params["chat_id"], 10, 64)
	m := s.rules.byLower[strings.ToLower(method)]
	if m == nil {
		s.finish(w, &call, nil, &apiError{code: http.StatusNotFound, description: "Not Found", violation: true})
		return
	}
	call.Method = m.name
	if e := validate(m, req); e != nil {
		s.finish(w, &call, nil, e)
		return
	}
	if f := s.takeFault(m.name, call.ChatID); f != nil {
		if f.Delay > 0 && !s.sleep(r.Context(), f.Delay) {
			s.finishDropped(&call, "request ended during delay")
			return
		}
		if f.Drop {
			s.drop(w, &call)
			return
		}
		if f.Code != 0 {
			call.Injected = true
			if f.HTML {
				s.finishHTML(w, &call, f.Code)
				return
			}
			s.finish(w, &call, nil, f.apiError())
			return
		}
	}
	result, e := s.handle(r.Context(), m, req, &call)
	if e == nil && result == nil {
		// The client went away during a long poll: nobody reads an answer.
		s.finishDropped(&call, "request canceled")
		return
	}
	s.finish(w, &call, result, e)
}

// sleep waits for d unless the request or the server ends first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// drop closes the connection without an answer, after the request was read,
// so the client cannot tell whether the call took effect.
func (s *Server) drop(w http.ResponseWriter, call *Call) {
	call.Injected = true
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			// Record first: the client may look at the calls as soon as it
			// sees the connection die.
			s.finishDropped(call, "connection dropped")
			// SetLinger(0) resets the connection instead of closing it
			// politely, as a crashed proxy would.
			if tcp, ok := conn.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0)
			}
			_ = conn.Close()
			return
		}
	}
	// HTTP/2 cannot hijack: aborting the handler resets the stream instead.
	s.finishDropped(call, "connection dropped")
	panic(http.ErrAbortHandler)
}

func (s *Server) finishDropped(call *Call, why string) {
	call.Err = why
	s.rec.add(*call)
}

func (s *Server) finishHTML(w http.ResponseWriter, call *Call, code int) {
	text := fmt.Sprintf("%d %s", code, http.StatusText(code))
	call.Status, call.Err = code, text
	s.rec.add(*call)
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", text, text)
}

// finish records the call, fails the test on a violation and answers. It
// records first, so that a client that got its answer finds its call in
// Calls.
func (s *Server) finish(w http.ResponseWriter, call *Call, result any, e *apiError) {
	if e == nil {
		res, err := json.Marshal(result)
		if err != nil {
			e = &apiError{code: http.StatusInternalServerError, description: "Internal Server Error: " + err.Error()}
		} else {
			call.Status, call.Result = http.StatusOK, res
			body := make([]byte, 0, len(res)+24)
			body = append(body, `{"ok":true,"result":`...)
			body = append(body, res...)
			body = append(body, '}')
			s.rec.add(*call)
			writeJSON(w, http.StatusOK, body)
			return
		}
	}
	call.Status, call.Err = e.code, e.description
	if e.violation && !call.Injected {
		call.Violation = e.description
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Errorf("telegramtest: the Bot API would reject %s: %s (params %v)", call.Method, e.description, call.Params)
		}
	}
	s.rec.add(*call)
	writeJSON(w, e.code, e.body())
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
