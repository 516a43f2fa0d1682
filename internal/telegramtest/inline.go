package telegramtest

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// Inline queries: Telegram accepts one answer per query, within a short time
// of the user typing it, and refuses anything else with the same error.
const (
	// queryTimeout is how long after an inline query Telegram accepts its answer.
	queryTimeout = 10 * time.Second
	// keptQueries is how many inline queries are remembered; an answer to a
	// forgotten one is accepted like an answer to an id the fake never issued.
	keptQueries = 1024
	// maxInlineResults and maxResultID are answerInlineQuery's limits.
	maxInlineResults = 50
	maxResultID      = 64
	// queryIDBase makes issued ids look like Telegram's long decimal strings.
	queryIDBase = 4_417_000_000_000_000_000
	queryTooOld = "query is too old and response timeout expired or query ID is invalid"
)

type inlineQuery struct {
	at       time.Time
	answered bool
}

type inlineQueries struct {
	byID  map[string]*inlineQuery
	order []string
	seq   uint64
}

func (q *inlineQueries) add(id string, iq *inlineQuery) {
	if _, ok := q.byID[id]; !ok {
		q.order = append(q.order, id)
	}
	q.byID[id] = iq
	if len(q.order) > keptQueries {
		delete(q.byID, q.order[0])
		q.order = slices.Delete(q.order, 0, 1)
	}
}

// InlineQuery issues an inline query of user from, as Telegram does when the
// user types "@bot query" in any chat, and returns its id and the
// inline_query update (with an update_id of its own) for PushUpdate or for a
// test to post to the webhook. at is when the user typed it (zero means now;
// earlier lets a test answer too late): answerInlineQuery accepts one answer
// to the id, within 10 seconds of at.
func (s *Server) InlineQuery(from int64, query string, at time.Time) (id string, update []byte) {
	if at.IsZero() {
		at = time.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.inline.seq++
	id = strconv.FormatUint(queryIDBase+s.state.inline.seq, 10)
	s.state.inline.add(id, &inlineQuery{at: at})
	updateID := s.state.nextUpdateID
	s.state.nextUpdateID++
	// A map of strings, numbers and a struct of them always marshals.
	update, _ = json.Marshal(map[string]any{
		"update_id": updateID,
		"inline_query": map[string]any{
			"id":     id,
			"from":   userJSON{ID: from, FirstName: "User " + strconv.FormatInt(from, 10)},
			"query":  query,
			"offset": "",
		},
	})
	return id, update
}

// answerInlineQuery accepts one answer per query id: an id the fake issued
// within queryTimeout, or any other non-empty id (as answerCallbackQuery
// accepts any id), once. The results were checked against the rules already.
func (s *Server) answerInlineQuery(p map[string]string) (any, *apiError) {
	if e := checkInlineResults(p["results"]); e != nil {
		return nil, e
	}
	id := p["inline_query_id"]
	if id == "" {
		return nil, badRequest(queryTooOld)
	}
	now := time.Now()
	q := s.state.inline.byID[id]
	switch {
	case q == nil:
		s.state.inline.add(id, &inlineQuery{at: now, answered: true})
		return true, nil
	case q.answered, now.Sub(q.at) > queryTimeout:
		return nil, stateError(queryTooOld)
	}
	q.answered = true
	return true, nil
}

// checkInlineResults enforces what the rules cannot: the number of results
// and their ids, 1-64 bytes and unique (the specification states the length
// for some result types only).
func checkInlineResults(raw string) *apiError {
	var results []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(raw), &results); err != nil {
		return badRequest("can't parse inline query results: " + err.Error())
	}
	if len(results) > maxInlineResults {
		return badRequest("RESULTS_TOO_MUCH")
	}
	seen := make(map[string]bool, len(results))
	for _, r := range results {
		switch {
		case r.ID == "" || len(r.ID) > maxResultID:
			return badRequest("RESULT_ID_INVALID")
		case seen[r.ID]:
			return badRequest("RESULT_ID_DUPLICATE")
		}
		seen[r.ID] = true
	}
	return nil
}
