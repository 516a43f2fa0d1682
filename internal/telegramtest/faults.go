package telegramtest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Fault is an answer injected in place of the normal one, for calls that pass
// validation. A Fault with only Delay answers normally, late.
type Fault struct {
	// Method matches the method name case-insensitively; empty matches all.
	Method string
	// ChatID matches the call's chat_id; 0 matches every call.
	ChatID int64
	// Times is how many calls the fault answers; 0 means until ClearFaults.
	Times int
	// Code is the HTTP status and error_code: 429, 403, 400, 500, 502…
	Code int
	// Description overrides the Telegram-like default for Code.
	Description string
	// RetryAfter is sent as parameters.retry_after (with 429).
	RetryAfter int
	// MigrateToChatID is sent as parameters.migrate_to_chat_id (with 400).
	MigrateToChatID int64
	// HTML answers an HTML page, as a proxy in front of the API does,
	// instead of a JSON body.
	HTML bool
	// Delay waits before answering, or until the request is canceled.
	Delay time.Duration
	// Drop reads the request, then closes the connection without answering,
	// so the client cannot tell whether the call took effect.
	Drop bool
}

// Inject queues a fault; faults are matched in the order injected.
func (s *Server) Inject(f Fault) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
}

// SetBlocked makes every send to chatID answer 403 "Forbidden: bot was
// blocked by the user" until it is unblocked.
func (s *Server) SetBlocked(chatID int64, blocked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if blocked {
		s.state.blocked[chatID] = true
	} else {
		delete(s.state.blocked, chatID)
	}
}

func (s *Server) takeFault(method string, chatID int64) *Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, method) || f.ChatID != 0 && f.ChatID != chatID {
			continue
		}
		taken := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &taken
	}
	return nil
}

func (f *Fault) apiError() *apiError {
	e := &apiError{code: f.Code, description: f.Description, retryAfter: f.RetryAfter, migrateTo: f.MigrateToChatID}
	if e.description != "" {
		return e
	}
	switch {
	case f.Code == http.StatusTooManyRequests:
		e.description = fmt.Sprintf("Too Many Requests: retry after %d", f.RetryAfter)
	case f.Code == http.StatusForbidden:
		e.description = "Forbidden: bot was blocked by the user"
	case f.Code == http.StatusBadRequest && f.MigrateToChatID != 0:
		e.description = "Bad Request: group chat was upgraded to a supergroup chat"
	case f.Code == http.StatusBadRequest:
		e.description = "Bad Request: injected fault"
	default:
		e.description = http.StatusText(f.Code)
	}
	return e
}

// SetStarBalance sets the bot's Star balance getMyStarBalance answers (default 0).
func (s *Server) SetStarBalance(amount int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.stars = amount
}
