package bot

import (
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Service requests, the worker's side. A request is collected in the session (category,
// then any messages), and submitting it asks the follow-up step for a ticket number: the
// conversation hears back with an "opened" event (KindEvent) carrying the number, says so
// and forwards the request to the category's staff group as an "open" event. From then
// on every change of the ticket travels as an event between the user's chat and the staff
// group's chat, so each side changes only what lives in its own slot (DESIGN §2).

// Callback data of the request flow and of /mytickets (≤ 64 bytes: ids are ≤ 32, numbers ≤ 19).
const (
	dataRequest      = "rq:new"
	dataMyTickets    = "rq:mine"
	reqCatPrefix     = "rq:c:"
	closeTktPrefix   = "tk:x:" // the user closes ticket N
	reopenTktPrefix  = "tk:o:" // "still need help" on ticket N
	rateTktPrefix    = "tk:r:" // tk:r:<N>:<stars>
	dataSkipComment  = "tk:nc" // no comment after a rating
	focusTktPrefix   = "tk:f:" // route my messages to ticket N
	keyReqCategory   = "cat"   // the request's category
	keyReqMessages   = "msgs"  // ids of the messages describing it, comma-separated
	keyReqSummary    = "sum"   // its first text, for the staff card
	keyAfter         = "after" // what to do once the user agreed to the privacy notice
	afterRequest     = "request"
	keyRatedTicket   = "rated"  // the ticket a comment is for
	keyFlood         = "flood"  // "<minute>:<count>" of messages relayed
	keyRepeat        = "repeat" // "<hash>:<count>" of the same text in a row
	keyAckedAt       = "ack"    // unix time of the last "added to your ticket"
	keyCommentTicket = "ct"
)

// CounterTicket is the global counter ticket numbers are drawn from.
const CounterTicket = "ticket"

// Ticket statuses, on both sides.
const (
	TicketPending  = "pending" // submitted, waiting for its number
	TicketOpen     = "open"
	TicketTaken    = "taken"
	TicketAnswered = "answered"
	TicketClosed   = "closed"
)

// Request limits.
const (
	// maxRequestMessages bounds the messages of one request description.
	maxRequestMessages = 20
	// floodPerMinute is how many messages a minute a user may add to tickets.
	floodPerMinute = 10
	// repeatHeld is how many times in a row the same text is relayed before it is held.
	repeatHeld = 3
	// reopenWithin is how long after closing a ticket "still need help" reopens it.
	reopenWithin = 7 * 24 * time.Hour
	// ackEvery spaces the "added to ticket #N" notes of a conversation.
	ackEvery = 10 * time.Minute
	// ticketsKept is how many tickets a profile remembers (closed ones go first).
	ticketsKept = 20
	// maxComment bounds a rating's comment, in characters.
	maxComment = 500
	// maxSummary bounds the text shown on the staff card, in characters.
	maxSummary = 200
)

// DefaultMaxOpenTickets is the default of World.MaxOpenTickets.
const DefaultMaxOpenTickets = 3

// Desk is what the conversation knows of the service desk: the request categories and the
// staff's working hours.
type Desk interface {
	// Categories lists the request categories, in display order.
	Categories() []string
	// Category describes one.
	Category(id string) (DeskCategory, bool)
	// Open reports whether staff are at work at t; NextOpen when they next are (t when
	// open now, zero when the desk has no hours).
	Open(t time.Time) bool
	NextOpen(t time.Time) time.Time
	// Canned lists the canned answers offered on tickets of a category.
	Canned(category string) []string
	// CannedExists reports whether a canned answer exists.
	CannedExists(id string) bool
}

// DeskCategory is one request category.
type DeskCategory struct {
	ID string
	// Target is the response-time target.
	Target time.Duration
	// Group is the staff chat that handles it.
	Group int64
	// Phone says staff see the user's phone on its tickets.
	Phone bool
}

// TicketRef is what a user's profile remembers of one of their tickets.
type TicketRef struct {
	N      int64      `json:"n"`
	Cat    string     `json:"cat"`
	Group  int64      `json:"group"`
	Status string     `json:"status"`
	Opened time.Time  `json:"opened"`
	Closed *time.Time `json:"closed,omitempty"`
	// Active is when the user last chose it or staff last wrote in it: the user's
	// messages go to the most active open ticket.
	Active time.Time `json:"active"`
	Rated  bool      `json:"rated,omitempty"`
}

// Event travels between conversations (queue.Event.Body): a ticket's news between a
// user's chat and a staff group's chat, a broadcast's from the follow-up step to the group.
type Event struct {
	Op string `json:"op"`
	N  int64  `json:"n,omitempty"`
	// Chat is the user's chat.
	Chat int64  `json:"chat,omitempty"`
	Cat  string `json:"cat,omitempty"`
	Lang string `json:"lang,omitempty"`
	// Msgs are message ids in the sending chat (the user's request, a staff answer).
	Msgs []int `json:"msgs,omitempty"`
	// The user's details at opening, shown to staff (Phone only when the category needs it).
	Name     string `json:"name,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Role     string `json:"role,omitempty"`
	Point    string `json:"point,omitempty"`
	CheckIns int    `json:"checkins,omitempty"`
	// Text is a request's summary, a staff answer's text or a rating's comment; Media marks
	// an answer that is a media message (copied, Text being its caption); Canned names a
	// canned answer.
	Text   string `json:"text,omitempty"`
	Media  bool   `json:"media,omitempty"`
	Canned string `json:"canned,omitempty"`
	// Staff is the name answers are signed with ("" signs them as the centre's staff).
	Staff  string `json:"staff,omitempty"`
	Rating int    `json:"rating,omitempty"`
	// BC is the news of a broadcast (OpBroadcast… events).
	BC *BroadcastNews `json:"bc,omitempty"`
}

// Event ops. User → staff: open, msg, close, reopen, rate, forget, undelivered.
// Staff → user: taken, answer, closed. The user's own follow-up: opened.
const (
	opOpened      = "opened"
	opOpen        = "open"
	opMsg         = "msg"
	opClose       = "close"
	opReopen      = "reopen"
	opRate        = "rate"
	opForget      = "forget"
	opUndelivered = "undelivered"
	opTaken       = "taken"
	opAnswer      = "answer"
	opClosed      = "closed"
	// OpSLA is raised by the SLA watcher in the staff group's chat.
	OpSLA = "sla"
)

// Delivery is an event for another chat's conversation (or this one's, To 0), sent by the
// follow-up step; Counter draws the event's number.
type Delivery struct {
	To      int64
	Counter string
	Event   Event
}

// answerRef is the Ref of a staff answer relayed to the user: its failure is reported to staff.
const answerRef = "tka:"

var linkRE = regexp.MustCompile(`(?i)(https?://|www\.|t\.me/|\b[a-z0-9-]+\.(com|cn|net|org|me|io|top|xyz|cc)\b)`)

// requestStart opens the request flow (menu, /request, the "ask staff" button).
func (r *Result) requestStart(w World) {
	r.reset()
	if !r.Profile.Consented() {
		r.set(keyAfter, afterRequest)
		r.privacy()
		return
	}
	if len(w.Desk.Categories()) == 0 {
		r.send(MsgReqUnavailable, nil, menu())
		return
	}
	if n := r.openTickets(); n >= w.maxOpen() {
		r.send(MsgReqLimit, map[string]string{"Max": strconv.Itoa(w.maxOpen())},
			[][]Button{{{Text: MsgButtonMyTickets, Data: dataMyTickets}}, {{Text: MsgButtonMenu, Data: dataMenu}}})
		return
	}
	r.enter(StateReqCategory)
	rows := grid(w.Desk.Categories(), 2, func(c string) Button {
		return Button{Text: MsgButtonReqCategory, Args: map[string]string{"ReqCategory": c}, Data: reqCatPrefix + c}
	})
	r.send(MsgReqCategory, nil, append(rows, []Button{{Text: MsgButtonMenu, Data: dataMenu}}))
}

// openTickets counts the user's tickets that are not closed, submitted ones included.
func (r *Result) openTickets() int {
	n := 0
	for _, t := range r.Profile.Tickets {
		if t.Status != TicketClosed {
			n++
		}
	}
	return n
}

func (w World) maxOpen() int {
	if w.MaxOpenTickets > 0 {
		return w.MaxOpenTickets
	}
	return DefaultMaxOpenTickets
}

// submitKeyboard is shown while a request is described.
func submitKeyboard() [][]Button {
	return [][]Button{{{Text: MsgButtonSubmit}, {Text: MsgButtonCancelRequest}}}
}

// requestTap handles the buttons of requests and tickets. It reports false for other data.
func (r *Result) requestTap(in Input, w World, data string) bool {
	switch {
	case data == dataRequest:
		r.requestStart(w)
	case data == dataMyTickets:
		r.myTickets(in)
	case strings.HasPrefix(data, reqCatPrefix):
		cat := strings.TrimPrefix(data, reqCatPrefix)
		if _, ok := w.Desk.Category(cat); !ok || r.Session.State != StateReqCategory {
			r.answer(MsgStaleButton)
			return true
		}
		r.enter(StateReqDescribe)
		r.set(keyReqCategory, cat)
		r.edit(MsgReqChosen, map[string]string{"ReqCategory": cat}, nil)
		r.ask(MsgReqDescribe, map[string]string{"ReqCategory": cat}, submitKeyboard())
	case strings.HasPrefix(data, closeTktPrefix):
		t := r.ticketRef(strings.TrimPrefix(data, closeTktPrefix))
		if t == nil || t.Status == TicketClosed || t.Status == TicketPending {
			r.answer(MsgStaleButton)
			return true
		}
		at := in.Now
		t.Status, t.Closed = TicketClosed, &at
		r.ProfileChanged = true
		r.deliver(t.Group, Event{Op: opClose, N: t.N})
		r.edit(MsgTicketClosedByYou, map[string]string{"N": itoa(t.N)}, ratingButtons(t.N))
	case strings.HasPrefix(data, reopenTktPrefix):
		t := r.ticketRef(strings.TrimPrefix(data, reopenTktPrefix))
		switch {
		case t == nil || t.Status != TicketClosed:
			r.answer(MsgStaleButton)
		case t.Closed == nil || in.Now.Sub(*t.Closed) > reopenWithin:
			r.edit(MsgTicketReopenExpired, map[string]string{"N": itoa(t.N)},
				[][]Button{{{Text: MsgButtonRequest, Data: dataRequest}}})
		case r.openTickets() >= w.maxOpen():
			r.send(MsgReqLimit, map[string]string{"Max": strconv.Itoa(w.maxOpen())},
				[][]Button{{{Text: MsgButtonMyTickets, Data: dataMyTickets}}})
		default:
			t.Status, t.Closed, t.Active = TicketOpen, nil, in.Now
			r.ProfileChanged = true
			r.reset()
			r.deliver(t.Group, Event{Op: opReopen, N: t.N})
			r.edit(MsgTicketReopened, map[string]string{"N": itoa(t.N)}, nil)
		}
	case strings.HasPrefix(data, rateTktPrefix):
		n, stars, _ := strings.Cut(strings.TrimPrefix(data, rateTktPrefix), ":")
		t := r.ticketRef(n)
		s, err := strconv.Atoi(stars)
		if t == nil || t.Status != TicketClosed || err != nil || s < 1 || s > 5 {
			r.answer(MsgStaleButton)
			return true
		}
		t.Rated = true
		r.ProfileChanged = true
		r.deliver(t.Group, Event{Op: opRate, N: t.N, Rating: s})
		r.enter(StateTicketComment)
		r.set(keyCommentTicket, itoa(t.N))
		r.set(keyRatedTicket, stars)
		r.edit(MsgTicketRated, map[string]string{"N": itoa(t.N), "Stars": strings.Repeat("★", s) + strings.Repeat("☆", 5-s)},
			[][]Button{{{Text: MsgButtonSkip, Data: dataSkipComment}}})
	case data == dataSkipComment:
		if r.Session.State != StateTicketComment {
			r.answer(MsgStaleButton)
			return true
		}
		r.reset()
		r.edit(MsgTicketThanks, nil, menu())
	case strings.HasPrefix(data, focusTktPrefix):
		t := r.ticketRef(strings.TrimPrefix(data, focusTktPrefix))
		if t == nil || t.Status == TicketClosed || t.Status == TicketPending {
			r.answer(MsgStaleButton)
			return true
		}
		t.Active = in.Now
		r.ProfileChanged = true
		r.reset()
		r.send(MsgTicketFocus, map[string]string{"N": itoa(t.N)}, nil)
	default:
		return false
	}
	return true
}

func ratingButtons(n int64) [][]Button {
	row := make([]Button, 5)
	for s := 1; s <= 5; s++ {
		row[s-1] = Button{Text: MsgButtonStars, Args: map[string]string{"Stars": strconv.Itoa(s)}, Data: rateTktPrefix + itoa(n) + ":" + strconv.Itoa(s)}
	}
	return [][]Button{row, {{Text: MsgButtonReopen, Data: reopenTktPrefix + itoa(n)}}}
}

// ticketRef finds one of the user's tickets by its number as text.
func (r *Result) ticketRef(n string) *TicketRef {
	num, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return nil
	}
	for i := range r.Profile.Tickets {
		if r.Profile.Tickets[i].N == num && num != 0 {
			return &r.Profile.Tickets[i]
		}
	}
	return nil
}

// describe collects one message of a request's description.
func (r *Result) describe(in Input, w World) {
	switch in.Button {
	case MsgButtonSubmit:
		r.submit(in, w)
		return
	case MsgButtonCancelRequest:
		r.reset()
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgCancelled, RemoveKeyboard: true})
		r.send(MsgMenu, nil, menu())
		return
	}
	if in.MessageID == 0 {
		return
	}
	ids := splitIDs(r.Session.Data[keyReqMessages])
	if len(ids) >= maxRequestMessages {
		r.ask(MsgReqTooMany, map[string]string{"Max": strconv.Itoa(maxRequestMessages)}, submitKeyboard())
		return
	}
	if !r.admit(in) {
		return
	}
	ids = append(ids, in.MessageID)
	r.set(keyReqMessages, joinIDs(ids))
	if r.Session.Data[keyReqSummary] == "" {
		if s := strings.TrimSpace(in.Text + in.Caption); s != "" {
			r.set(keyReqSummary, truncate(s, maxSummary))
		}
	}
	if len(ids) == 1 {
		r.ask(MsgReqGot, nil, submitKeyboard())
	}
}

// submit asks for the ticket's number; the "opened" event that brings it back says the
// ticket was received.
func (r *Result) submit(in Input, w World) {
	ids := splitIDs(r.Session.Data[keyReqMessages])
	cat, ok := w.Desk.Category(r.Session.Data[keyReqCategory])
	if !ok {
		r.reset()
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgStaleButton, RemoveKeyboard: true})
		r.requestStart(w)
		return
	}
	if len(ids) == 0 {
		r.ask(MsgReqEmpty, nil, submitKeyboard())
		return
	}
	ev := Event{Op: opOpened, Chat: in.FromID, Cat: cat.ID, Lang: r.Profile.Lang, Msgs: ids,
		Text: r.Session.Data[keyReqSummary], Name: in.Name}
	if m := r.Profile.Member; m != nil {
		ev.Name, ev.Role, ev.Point, ev.CheckIns = m.Name, m.Role, m.HomePoint, m.CheckIns
		if cat.Phone {
			ev.Phone = m.Phone
		}
	}
	r.reset()
	r.Profile.Tickets = append(r.Profile.Tickets, TicketRef{Cat: cat.ID, Group: cat.Group, Status: TicketPending, Opened: in.Now, Active: in.Now})
	r.ProfileChanged = true
	r.Deliver = append(r.Deliver, Delivery{Counter: CounterTicket, Event: ev})
}

// deliver sends an event to a staff group's conversation.
func (r *Result) deliver(to int64, ev Event) {
	r.Deliver = append(r.Deliver, Delivery{To: to, Event: ev})
}

// ticketEvent handles an event in a user's private chat: its own "opened" follow-up, or
// news from staff.
func (r *Result) ticketEvent(in Input, w World) {
	ev := in.Event
	if ev.Op == opOpened {
		r.opened(in, w)
		return
	}
	t := r.ticketRef(itoa(ev.N))
	switch ev.Op {
	case opTaken:
		if t != nil && t.Status != TicketClosed {
			t.Status = TicketTaken
			r.ProfileChanged = true
		}
		r.send(MsgTicketTaken, map[string]string{"N": itoa(ev.N)}, nil)
	case opAnswer:
		if t != nil {
			if t.Status != TicketClosed {
				t.Status = TicketAnswered
			}
			t.Active = in.Now
			r.ProfileChanged = true
		}
		r.relayAnswer(in, w, ev)
	case opClosed:
		if t != nil && t.Status != TicketClosed {
			at := in.Now
			t.Status, t.Closed = TicketClosed, &at
			r.ProfileChanged = true
		}
		r.send(MsgTicketClosed, map[string]string{"N": itoa(ev.N)}, ratingButtons(ev.N))
	}
}

// relayAnswer shows a staff answer: a text as our own message, signed; media copied from
// the staff group with the signature as its caption; a canned answer by its id.
func (r *Result) relayAnswer(in Input, w World, ev *Event) {
	args := map[string]string{"N": itoa(ev.N), "Staff": ev.Staff}
	ref := answerRef + itoa(ev.N)
	switch {
	case ev.Canned != "":
		args["Canned"] = ev.Canned
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgTicketCanned, Args: args, Ref: ref})
	case ev.Media && len(ev.Msgs) == 1:
		args["Caption"] = ev.Text
		r.Replies = append(r.Replies, Reply{Kind: CopyMessage, Text: MsgTicketAnswerCaption, Args: args,
			FromChat: in.EventFrom, IDs: ev.Msgs, Ref: ref})
	default:
		args["Text"] = ev.Text
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgTicketAnswer, Args: args, Ref: ref})
	}
}

// opened records the new ticket's number, confirms it and hands the request to staff.
func (r *Result) opened(in Input, w World) {
	ev := *in.Event
	ev.N = in.Seq
	var t *TicketRef
	for i := range r.Profile.Tickets {
		if r.Profile.Tickets[i].Status == TicketPending && r.Profile.Tickets[i].Cat == ev.Cat {
			t = &r.Profile.Tickets[i]
			break
		}
	}
	cat, ok := w.Desk.Category(ev.Cat)
	if t == nil || !ok || ev.N == 0 {
		// A forgotten user (/forgetme while it was under way), or content that lost the
		// category: the request cannot be followed up.
		return
	}
	t.N, t.Status, t.Active = ev.N, TicketOpen, in.Now
	r.trimTickets()
	r.ProfileChanged = true
	ev.Op = opOpen
	r.deliver(cat.Group, ev)
	args := map[string]string{"N": itoa(ev.N), "ReqCategory": cat.ID, "Target": durationText(cat.Target)}
	if !w.Desk.Open(in.Now) {
		if next := w.Desk.NextOpen(in.Now); !next.IsZero() {
			args["At"] = next.Format(time.RFC3339)
			r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgTicketReceivedClosed, Args: args, RemoveKeyboard: true})
			return
		}
	}
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgTicketReceived, Args: args, RemoveKeyboard: true})
}

// trimTickets keeps the profile's list short, dropping the oldest closed tickets.
func (r *Result) trimTickets() {
	for len(r.Profile.Tickets) > ticketsKept {
		i := slices.IndexFunc(r.Profile.Tickets, func(t TicketRef) bool { return t.Status == TicketClosed })
		if i < 0 {
			return
		}
		r.Profile.Tickets = slices.Delete(r.Profile.Tickets, i, i+1)
	}
}

// activeTicket is the open ticket the user's messages go to.
func (r *Result) activeTicket() *TicketRef {
	var best *TicketRef
	for i := range r.Profile.Tickets {
		t := &r.Profile.Tickets[i]
		if t.Status == TicketClosed || t.Status == TicketPending {
			continue
		}
		if best == nil || t.Active.After(best.Active) {
			best = t
		}
	}
	return best
}

// addToTicket relays a message outside any flow to the user's active ticket.
func (r *Result) addToTicket(in Input, t *TicketRef) {
	if in.MessageID == 0 || !r.admit(in) {
		return
	}
	r.deliver(t.Group, Event{Op: opMsg, N: t.N, Msgs: []int{in.MessageID}})
	last, _ := strconv.ParseInt(r.Session.Data[keyAckedAt], 10, 64)
	if in.Now.Sub(time.Unix(last, 0)) >= ackEvery {
		r.set(keyAckedAt, strconv.FormatInt(in.Now.Unix(), 10))
		r.send(MsgTicketAdded, map[string]string{"N": itoa(t.N)}, nil)
	}
}

// admit applies the limits on what reaches staff: a flood of messages, the same text
// again and again, links from someone who never registered. It says why when it holds a
// message back.
func (r *Result) admit(in Input) bool {
	minute := in.Now.Unix() / 60
	m, c, _ := strings.Cut(r.Session.Data[keyFlood], ":")
	count, _ := strconv.Atoi(c)
	if m != strconv.FormatInt(minute, 10) {
		count = 0
	}
	count++
	r.set(keyFlood, strconv.FormatInt(minute, 10)+":"+strconv.Itoa(count))
	if count > floodPerMinute {
		if count == floodPerMinute+1 {
			r.send(MsgTicketFlood, nil, nil)
		}
		return false
	}
	if text := strings.TrimSpace(in.Text + in.Caption); text != "" {
		h := fnv.New32a()
		h.Write([]byte(text))
		sum := strconv.FormatUint(uint64(h.Sum32()), 36)
		prev, n, _ := strings.Cut(r.Session.Data[keyRepeat], ":")
		times, _ := strconv.Atoi(n)
		if prev != sum {
			times = 0
		}
		times++
		r.set(keyRepeat, sum+":"+strconv.Itoa(times))
		if times >= repeatHeld {
			r.send(MsgTicketRepeat, nil, nil)
			return false
		}
		if r.Profile.Member == nil && linkRE.MatchString(text) {
			r.send(MsgTicketLinkHeld, nil, [][]Button{{{Text: MsgButtonRegister, Data: dataRegister}}})
			return false
		}
	}
	return true
}

// comment takes a rating's comment.
func (r *Result) comment(in Input) {
	n, _ := strconv.ParseInt(r.Session.Data[keyCommentTicket], 10, 64)
	t := r.ticketRef(itoa(n))
	text := strings.TrimSpace(in.Text)
	if t == nil || in.Kind != KindText || text == "" {
		r.reset()
		r.send(MsgTicketThanks, nil, menu())
		return
	}
	stars, _ := strconv.Atoi(r.Session.Data[keyRatedTicket])
	r.deliver(t.Group, Event{Op: opRate, N: t.N, Rating: stars, Text: truncate(text, maxComment)})
	r.reset()
	r.send(MsgTicketThanks, nil, menu())
}

// myTickets lists the user's tickets, newest first, with what can be done about them.
func (r *Result) myTickets(in Input) {
	r.reset()
	if len(r.Profile.Tickets) == 0 {
		r.send(MsgMyTicketsEmpty, nil, [][]Button{{{Text: MsgButtonRequest, Data: dataRequest}}, {{Text: MsgButtonMenu, Data: dataMenu}}})
		return
	}
	var items []map[string]string
	var rows [][]Button
	for i := len(r.Profile.Tickets) - 1; i >= 0 && len(items) < 10; i-- {
		t := r.Profile.Tickets[i]
		items = append(items, map[string]string{"N": itoa(t.N), "ReqCategory": t.Cat, "Status": t.Status,
			"At": t.Opened.Format(time.RFC3339)})
		n := map[string]string{"N": itoa(t.N)}
		switch {
		case t.N == 0:
		case t.Status == TicketClosed && t.Closed != nil && in.Now.Sub(*t.Closed) <= reopenWithin:
			rows = append(rows, []Button{{Text: MsgButtonReopenN, Args: n, Data: reopenTktPrefix + itoa(t.N)}})
		case t.Status != TicketClosed:
			rows = append(rows, []Button{
				{Text: MsgButtonFocusN, Args: n, Data: focusTktPrefix + itoa(t.N)},
				{Text: MsgButtonCloseN, Args: n, Data: closeTktPrefix + itoa(t.N)},
			})
		}
	}
	rows = append(rows, []Button{{Text: MsgButtonRequest, Data: dataRequest}, {Text: MsgButtonMenu, Data: dataMenu}})
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgMyTickets, Item: MsgMyTicketItem, Items: items, Buttons: rows})
}

// forgetTickets tells each staff group to drop the user's details from their tickets.
func (r *Result) forgetTickets(p Profile) {
	for _, t := range p.Tickets {
		if t.N != 0 {
			r.deliver(t.Group, Event{Op: opForget, N: t.N})
		}
	}
}

// answerFailed tells staff that an answer did not reach the user.
func (r *Result) answerFailed(in Input) {
	n, err := strconv.ParseInt(strings.TrimPrefix(in.Data, answerRef), 10, 64)
	t := r.ticketRef(itoa(n))
	if err != nil || t == nil || in.Text == "" {
		return
	}
	reason := in.Text
	if in.Detail != "" && reason != "forbidden" {
		reason = in.Detail
	}
	r.deliver(t.Group, Event{Op: opUndelivered, N: t.N, Text: reason})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func splitIDs(s string) []int {
	var ids []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(f); err == nil {
			ids = append(ids, n)
		}
	}
	return ids
}

func joinIDs(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, ",")
}

// truncate cuts s to n characters, marking the cut.
func truncate(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

// durationText writes a response-time target as hours ("4") or, under an hour, as a
// fraction ("0.5"): the locale text adds the unit.
func durationText(d time.Duration) string {
	return strconv.FormatFloat(d.Hours(), 'f', -1, 64)
}
