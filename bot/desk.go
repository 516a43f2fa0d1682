package bot

import (
	"strconv"
	"strings"
	"time"
)

// Service requests, the staff's side: the conversation of a staff group. Tickets are
// records of the group's slot (World.Ticket in, Result.TicketWrite out); the group hears of
// users through events, and tells them through events.

// Callback data of the ticket card: dk:<op>:<N>[:<canned id>].
const (
	deskPrefix = "dk:"
	deskTake   = "t"
	deskClose  = "c"
	deskCanned = "a"
)

// Refs of the messages the desk posts: dk:<N>:<what>. A failure of any of them with
// "thread not found" means staff deleted the topic: it is made again.
const (
	refTopic = "topic"
	refCard  = "card"
	refCopy  = "copy"
	refNote  = "note"
)

// AnonymousAdmin is the user id Telegram shows for a group admin posting as the group.
const AnonymousAdmin = 1087968824

// Ticket is the staff's record of a ticket.
type Ticket struct {
	N      int64  `json:"n"`
	Chat   int64  `json:"chat"`
	Group  int64  `json:"group"`
	Cat    string `json:"cat"`
	Lang   string `json:"lang"`
	Status string `json:"status"`
	// Opened, FirstResponse and Closed time the ticket; Waiting is since when the user
	// waits for staff (nil while it is the user's turn or the ticket is closed).
	Opened        time.Time  `json:"opened"`
	FirstResponse *time.Time `json:"first,omitempty"`
	Closed        *time.Time `json:"closed,omitempty"`
	Waiting       *time.Time `json:"waiting,omitempty"`
	SLAFlagged    bool       `json:"sla,omitempty"`
	TakenBy       int64      `json:"taken_by,omitempty"`
	TakenName     string     `json:"taken_name,omitempty"`
	// Thread is the ticket's forum topic: 0 while it is being made, -1 when the group
	// has none (the card and messages are posted in the group). Card is the card's message.
	Thread int `json:"thread,omitempty"`
	Card   int `json:"card,omitempty"`
	// Pending are the user's messages waiting for the topic.
	Pending []int `json:"pending,omitempty"`
	// Msgs counts the user's messages relayed; Remade the times the topic was made again.
	Msgs    int    `json:"msgs,omitempty"`
	Remade  int    `json:"remade,omitempty"`
	Rating  int    `json:"rating,omitempty"`
	Comment string `json:"comment,omitempty"`
	Summary string `json:"summary,omitempty"`
	// The user's details, removed by /forgetme (Forgotten).
	Name      string `json:"name,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Role      string `json:"role,omitempty"`
	Point     string `json:"point,omitempty"`
	CheckIns  int    `json:"checkins,omitempty"`
	Forgotten bool   `json:"forgotten,omitempty"`
}

// TicketChange is what one input changed in the desk's figures (for metrics).
type TicketChange struct {
	Cat                       string
	Opened, Closed            bool
	FirstResponse, Resolution time.Duration
	Rating                    int
}

// DeskTicket names the ticket an input of a staff group concerns, for handlers to load it
// as World.Ticket before Step: a card button, an event, a result of the desk's messages.
// Messages in a topic or replying to a ticket's message are found by handlers' indexes.
func DeskTicket(in Input) int64 {
	var s string
	switch in.Kind {
	case KindCallback:
		s, _ = strings.CutPrefix(in.Data, deskPrefix)
		_, s, _ = strings.Cut(s, ":")
	case KindResult:
		s, _ = strings.CutPrefix(in.Data, deskPrefix)
	case KindEvent:
		if in.Event != nil {
			return in.Event.N
		}
	}
	n, _, _ := strings.Cut(s, ":")
	v, _ := strconv.ParseInt(n, 10, 64)
	return v
}

// desk handles a staff group's tickets. It reports false when the input is not about one.
func (r *Result) desk(in Input, w World) bool {
	switch {
	case in.Kind == KindEvent && in.Event != nil:
		r.deskEvent(in, w)
	case in.Kind == KindResult && strings.HasPrefix(in.Data, deskPrefix):
		r.deskResult(in, w)
	case in.Kind == KindCallback && strings.HasPrefix(in.Data, deskPrefix):
		r.deskTap(in, w)
	case in.Kind == KindCommand && in.Command == "queue":
		r.queue(in, w)
	case w.Ticket == nil || in.Kind == KindResult || in.Kind == KindCallback:
		return false
	case in.Kind == KindCommand && in.Command == "close":
		t := *w.Ticket
		if t.Status == TicketClosed {
			r.note(&t, MsgDeskAlreadyClosed, nil)
			return true
		}
		r.closeTicket(in, w, &t, in.Name)
		r.note(&t, MsgDeskClosed, map[string]string{"Staff": in.Name})
		r.writeTicket(t)
	case in.Kind == KindCommand:
		return false
	default:
		r.deskMessage(in, w)
	}
	return true
}

// writeTicket stores t with the indexes given.
func (r *Result) writeTicket(t Ticket, index ...string) {
	r.TicketWrite = &t
	r.TicketIndex = append(r.TicketIndex, index...)
}

func deskRef(n int64, what string) string { return deskPrefix + itoa(n) + ":" + what }

// thread is where the ticket's messages go: its topic, else the group itself.
func (t *Ticket) thread() int { return max(t.Thread, 0) }

// note posts a line about the ticket where staff see it.
func (r *Result) note(t *Ticket, id string, args map[string]string) {
	a := map[string]string{"N": itoa(t.N)}
	for k, v := range args {
		a[k] = v
	}
	reply := Reply{Kind: SendNew, Text: id, Args: a, Thread: t.thread(), Ref: deskRef(t.N, refNote)}
	if t.Thread < 0 {
		reply.ReplyTo = t.Card
	}
	r.Replies = append(r.Replies, reply)
}

// cardArgs are the template arguments of a ticket's card.
func cardArgs(t *Ticket) map[string]string {
	a := map[string]string{
		"N": itoa(t.N), "ReqCategory": t.Cat, "Name": t.Name, "Role": t.Role, "Point": t.Point,
		"CheckIns": strconv.Itoa(t.CheckIns), "Phone": t.Phone, "At": t.Opened.Format(time.RFC3339),
		"Status": t.Status, "Taken": t.TakenName, "Summary": t.Summary, "Msgs": strconv.Itoa(t.Msgs),
		"Remade": "", "Forgotten": "",
	}
	if t.Remade > 0 {
		a["Remade"] = "1"
	}
	if t.Forgotten {
		a["Forgotten"] = "1"
	}
	if t.Rating > 0 {
		a["Stars"] = strings.Repeat("★", t.Rating) + strings.Repeat("☆", 5-t.Rating)
	}
	return a
}

// cardButtons are the card's buttons: take, close and the category's canned answers.
func cardButtons(t *Ticket, w World) [][]Button {
	if t.Status == TicketClosed {
		return nil
	}
	n := itoa(t.N)
	rows := [][]Button{{{Text: MsgButtonTake, Data: deskPrefix + deskTake + ":" + n}, {Text: MsgButtonCloseTicket, Data: deskPrefix + deskClose + ":" + n}}}
	canned := w.Desk.Canned(t.Cat)
	rows = append(rows, grid(canned, 2, func(id string) Button {
		return Button{Text: MsgButtonCanned, Args: map[string]string{"Canned": id}, Data: deskPrefix + deskCanned + ":" + n + ":" + id}
	})...)
	return rows
}

// postCard posts the card and the pending messages where the ticket lives.
func (r *Result) postCard(t *Ticket, w World) {
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgDeskCard, Args: cardArgs(t), Buttons: cardButtons(t, w),
		Thread: t.thread(), Ref: deskRef(t.N, refCard)})
	r.copyPending(t)
}

// copyPending copies the user's waiting messages to the ticket; outside a forum a header
// replying to the card says which ticket they belong to.
func (r *Result) copyPending(t *Ticket) {
	if len(t.Pending) == 0 {
		return
	}
	if t.Thread < 0 && t.Card != 0 {
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgDeskMore, Args: map[string]string{"N": itoa(t.N), "Name": t.Name},
			ReplyTo: t.Card, Ref: deskRef(t.N, refNote)})
	}
	r.Replies = append(r.Replies, Reply{Kind: CopyMessages, FromChat: t.Chat, IDs: t.Pending, Thread: t.thread(), Ref: deskRef(t.N, refCopy)})
	t.Msgs += len(t.Pending)
	t.Pending = nil
}

// updateCard edits the card to show the ticket as it now stands.
func (r *Result) updateCard(t *Ticket, w World) {
	if t.Card == 0 {
		return
	}
	r.Replies = append(r.Replies, Reply{Kind: EditOrigin, Edit: t.Card, Text: MsgDeskCard, Args: cardArgs(t), Buttons: cardButtons(t, w)})
}

// deskEvent handles news from a user's conversation (or the SLA watcher).
func (r *Result) deskEvent(in Input, w World) {
	ev := in.Event
	if ev.Op == opOpen {
		if w.Ticket != nil || ev.N == 0 {
			return
		}
		at := in.Now
		t := Ticket{N: ev.N, Chat: ev.Chat, Group: in.ChatID, Cat: ev.Cat, Lang: ev.Lang, Status: TicketOpen, Opened: at,
			Waiting: &at, Name: ev.Name, Phone: ev.Phone, Role: ev.Role, Point: ev.Point, CheckIns: ev.CheckIns,
			Summary: ev.Text, Pending: ev.Msgs, Thread: -1}
		r.TicketChange = &TicketChange{Cat: t.Cat, Opened: true}
		if w.Forum {
			t.Thread = 0
			r.Replies = append(r.Replies, Reply{Kind: CreateTopic, Text: MsgDeskTopic, Args: cardArgs(&t), Ref: deskRef(t.N, refTopic)})
			r.writeTicket(t)
			return
		}
		r.postCard(&t, w)
		r.writeTicket(t)
		return
	}
	if w.Ticket == nil {
		return
	}
	t := *w.Ticket
	switch ev.Op {
	case opMsg:
		if t.Forgotten {
			return
		}
		t.Pending = append(t.Pending, ev.Msgs...)
		r.waiting(&t, in.Now)
		if t.Thread != 0 {
			r.copyPending(&t)
		}
	case opClose:
		if t.Status == TicketClosed {
			return
		}
		r.closeTicket(in, w, &t, "")
		r.note(&t, MsgDeskClosedByUser, nil)
	case opReopen:
		if t.Status != TicketClosed {
			return
		}
		t.Status, t.Closed = TicketOpen, nil
		if t.TakenBy != 0 {
			t.Status = TicketTaken
		}
		r.waiting(&t, in.Now)
		r.updateCard(&t, w)
		r.note(&t, MsgDeskReopened, nil)
	case opRate:
		t.Rating = ev.Rating
		if ev.Text != "" {
			t.Comment = ev.Text
		}
		r.TicketChange = &TicketChange{Cat: t.Cat, Rating: ev.Rating}
		if ev.Text != "" {
			r.TicketChange.Rating = 0
		}
		r.updateCard(&t, w)
		r.note(&t, MsgDeskRated, map[string]string{"Stars": cardArgs(&t)["Stars"], "Comment": ev.Text})
	case opForget:
		t.Name, t.Phone, t.Role, t.Point, t.CheckIns, t.Summary, t.Comment, t.Chat, t.Forgotten = "", "", "", "", 0, "", "", 0, true
		t.Pending = nil
		if t.Status != TicketClosed {
			r.closeTicket(in, w, &t, "")
			r.note(&t, MsgDeskForgotten, nil)
			break
		}
		if t.Thread > 0 {
			r.Replies = append(r.Replies, Reply{Kind: DeleteTopic, Thread: t.Thread})
			t.Thread = -1
			break
		}
		r.updateCard(&t, w)
	case opUndelivered:
		if ev.Text == "forbidden" {
			r.note(&t, MsgDeskUndelivered, nil)
			break
		}
		r.note(&t, MsgDeskRefused, map[string]string{"Reason": ev.Text})
	case OpSLA:
		if !Overdue(t, w.Desk, in.Now) {
			return
		}
		c, _ := w.Desk.Category(t.Cat)
		t.SLAFlagged = true
		r.note(&t, MsgDeskSLA, map[string]string{"Waited": durationText(in.Now.Sub(*t.Waiting).Truncate(time.Minute)), "Target": durationText(c.Target)})
	default:
		return
	}
	r.writeTicket(t)
}

// Overdue reports whether t has waited for staff longer than its category's response-time
// target and was not flagged for it yet: the SLA watcher then sends the group an OpSLA event.
func Overdue(t Ticket, d Desk, now time.Time) bool {
	c, ok := d.Category(t.Cat)
	return ok && t.Status != TicketClosed && t.Waiting != nil && !t.SLAFlagged && now.Sub(*t.Waiting) >= c.Target
}

// waiting marks the ticket as waiting for staff, from now unless it already was.
func (r *Result) waiting(t *Ticket, now time.Time) {
	if t.Waiting == nil && t.Status != TicketClosed {
		at := now
		t.Waiting, t.SLAFlagged = &at, false
	}
	if t.Status == TicketAnswered {
		t.Status = TicketOpen
		if t.TakenBy != 0 {
			t.Status = TicketTaken
		}
	}
}

// closeTicket closes t and tells the user; by names the staff member, "" the user.
func (r *Result) closeTicket(in Input, w World, t *Ticket, by string) {
	at := in.Now
	t.Status, t.Closed, t.Waiting = TicketClosed, &at, nil
	r.TicketChange = &TicketChange{Cat: t.Cat, Closed: true, Resolution: at.Sub(t.Opened)}
	if by != "" && t.Chat != 0 {
		r.deliver(t.Chat, Event{Op: opClosed, N: t.N})
	}
	r.updateCard(t, w)
}

// deskResult handles how a message of the desk fared.
func (r *Result) deskResult(in Input, w World) {
	if w.Ticket == nil {
		return
	}
	t := *w.Ticket
	_, what, _ := strings.Cut(strings.TrimPrefix(in.Data, deskPrefix), ":")
	lost := strings.Contains(strings.ToLower(in.Detail), "thread not found")
	switch {
	case what == refTopic && in.Text == "":
		t.Thread = in.ResultThread
		r.postCard(&t, w)
		r.writeTicket(t, "t"+strconv.Itoa(t.Thread))
		return
	case what == refTopic:
		// No topic can be made (rights taken away): the ticket lives in the group itself.
		t.Thread = -1
		r.postCard(&t, w)
	case what == refCard && in.Text == "":
		t.Card = in.ResultMessage
		r.writeTicket(t, "m"+strconv.Itoa(in.ResultMessage))
		return
	case what == refCopy && in.Text == "":
		index := make([]string, len(in.ResultIDs))
		for i, id := range in.ResultIDs {
			index[i] = "m" + strconv.Itoa(id)
		}
		r.writeTicket(t, index...)
		return
	case what == refNote && in.Text == "" && in.ResultMessage != 0:
		r.writeTicket(t, "m"+strconv.Itoa(in.ResultMessage))
		return
	case lost && t.Thread > 0:
		// Staff deleted the topic: make it again; the card tells its history.
		t.Pending = append(t.Pending, in.ResultIDs...)
		t.Thread, t.Remade = 0, t.Remade+1
		r.Replies = append(r.Replies, Reply{Kind: CreateTopic, Text: MsgDeskTopic, Args: cardArgs(&t), Ref: deskRef(t.N, refTopic)})
	case lost && t.Thread == 0:
		t.Pending = append(t.Pending, in.ResultIDs...)
	default:
		return
	}
	r.writeTicket(t)
}

// deskTap handles the card's buttons.
func (r *Result) deskTap(in Input, w World) {
	op, rest, _ := strings.Cut(strings.TrimPrefix(in.Data, deskPrefix), ":")
	if w.Ticket == nil {
		r.answer(MsgStaleButton)
		return
	}
	t := *w.Ticket
	staff := in.Name
	switch {
	case in.Anonymous || in.FromID == AnonymousAdmin:
		r.answer(MsgDeskAnonymous)
		return
	case t.Status == TicketClosed:
		r.answer(MsgDeskAlreadyClosed)
		r.updateCard(&t, w)
		return
	case op == deskTake:
		if t.TakenBy == in.FromID {
			r.answer(MsgDeskYours)
			return
		}
		t.TakenBy, t.TakenName = in.FromID, staff
		if t.Status == TicketOpen {
			t.Status = TicketTaken
		}
		if t.Chat != 0 {
			r.deliver(t.Chat, Event{Op: opTaken, N: t.N})
		}
		r.answer(MsgDeskTakenToast)
		r.updateCard(&t, w)
	case op == deskClose:
		r.closeTicket(in, w, &t, staff)
		r.note(&t, MsgDeskClosed, map[string]string{"Staff": staff})
	case op == deskCanned:
		_, id, _ := strings.Cut(rest, ":")
		if !w.Desk.CannedExists(id) || t.Chat == 0 {
			r.answer(MsgStaleButton)
			return
		}
		r.answered(in, w, &t, Event{Op: opAnswer, N: t.N, Canned: id})
		r.note(&t, MsgDeskCannedSent, map[string]string{"Staff": staff, "Canned": id})
	default:
		r.answer(MsgStaleButton)
		return
	}
	r.writeTicket(t)
}

// deskMessage relays what staff write in a ticket's topic (or in reply to its messages)
// to the user; "//" keeps it among staff.
func (r *Result) deskMessage(in Input, w World) {
	t := *w.Ticket
	if strings.HasPrefix(strings.TrimSpace(in.Text+in.Caption), "//") || in.MessageID == 0 {
		return
	}
	if t.Chat == 0 {
		r.note(&t, MsgDeskNoUser, nil)
		return
	}
	ev := Event{Op: opAnswer, N: t.N, Msgs: []int{in.MessageID}, Text: in.Text}
	if in.Kind != KindText {
		ev.Media, ev.Text = true, in.Caption
	}
	r.answered(in, w, &t, ev)
	r.writeTicket(t)
}

// answered relays an answer and records that it is now the user's turn.
func (r *Result) answered(in Input, w World, t *Ticket, ev Event) {
	if w.StaffNames && !in.Anonymous && in.FromID != AnonymousAdmin {
		ev.Staff = in.Name
	}
	r.deliver(t.Chat, ev)
	if t.FirstResponse == nil {
		at := in.Now
		t.FirstResponse = &at
		r.TicketChange = &TicketChange{Cat: t.Cat, FirstResponse: at.Sub(t.Opened)}
	}
	t.Waiting, t.SLAFlagged = nil, false
	if t.Status != TicketClosed && t.Status != TicketAnswered {
		t.Status = TicketAnswered
		r.updateCard(t, w)
	}
}

// queue lists the group's open tickets, oldest waiting first (handlers load them sorted).
func (r *Result) queue(in Input, w World) {
	if len(w.Queue) == 0 {
		r.send(MsgDeskQueueEmpty, nil, nil)
		return
	}
	items := make([]map[string]string, 0, len(w.Queue))
	for _, t := range w.Queue {
		it := map[string]string{"N": itoa(t.N), "ReqCategory": t.Cat, "Taken": t.TakenName, "Status": t.Status, "Turn": "user"}
		if t.Waiting != nil {
			it["Turn"], it["At"] = "staff", t.Waiting.Format(time.RFC3339)
			it["Waited"] = durationText(in.Now.Sub(*t.Waiting).Truncate(time.Minute))
		}
		items = append(items, it)
	}
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgDeskQueue, Args: map[string]string{"Count": strconv.Itoa(len(items))},
		Item: MsgDeskQueueItem, Items: items})
}
