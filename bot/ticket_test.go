package bot

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const staffGroup = -100777

// testDesk has two categories, "licence" (4 h, phone shown) and "other" (1 h), handled by
// staffGroup, open 09:00–17:00 every day, with one canned answer for licences.
type testDesk struct{}

func (testDesk) Categories() []string { return []string{"licence", "other"} }
func (testDesk) Category(id string) (DeskCategory, bool) {
	switch id {
	case "licence":
		return DeskCategory{ID: id, Target: 4 * time.Hour, Group: staffGroup, Phone: true}, true
	case "other":
		return DeskCategory{ID: id, Target: time.Hour, Group: staffGroup}, true
	}
	return DeskCategory{}, false
}
func (testDesk) Open(t time.Time) bool { return t.Hour() >= 9 && t.Hour() < 17 }
func (d testDesk) NextOpen(t time.Time) time.Time {
	if d.Open(t) {
		return t
	}
	next := time.Date(t.Year(), t.Month(), t.Day(), 9, 0, 0, 0, t.Location())
	if !next.After(t) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}
func (testDesk) Canned(cat string) []string {
	if cat == "licence" {
		return []string{"docs"}
	}
	return nil
}
func (testDesk) CannedExists(id string) bool { return id == "docs" }

// msg is a user's message with its id.
func msg(in Input, id int) Input {
	in = from(in)
	in.MessageID = id
	return in
}

// event is a ticket event arriving in the user's chat.
func event(ev Event, seq int64) Input {
	return from(private(Input{Kind: KindEvent, Event: &ev, EventFrom: staffGroup, Seq: seq}))
}

func delivered(t *testing.T, r Result, want ...Delivery) {
	t.Helper()
	if diff := cmp.Diff(want, r.Deliver); diff != "" {
		t.Fatalf("deliveries (-want +got):\n%s", diff)
	}
}

// openTicket returns a registered user's profile with ticket n open.
func openTicket(n int64) Profile {
	p := registered(profile(LangZH, true), 2)
	p.Tickets = []TicketRef{{N: n, Cat: "licence", Group: staffGroup, Status: TicketOpen, Opened: now.Add(-time.Hour), Active: now.Add(-time.Hour)}}
	return p
}

// TestRequestJourney: a request is picked, described with text and a photo, submitted;
// the number comes back as the "opened" follow-up, which confirms it and tells staff.
func TestRequestJourney(t *testing.T) {
	submit := from(text("提交"))
	submit.Button = MsgButtonSubmit
	r := play(t, registered(profile(LangZH, true), 2), nil, []turn{
		{in: from(cmd("request", "")), replies: []string{MsgReqCategory}, state: StateReqCategory},
		{in: from(tap(reqCatPrefix + "licence")), replies: []string{MsgReqChosen, MsgReqDescribe}, state: StateReqDescribe},
		{in: msg(text("我想办理食品经营许可证"), 10), replies: []string{MsgReqGot}, state: StateReqDescribe},
		{in: msg(private(Input{Kind: KindOther}), 11), replies: nil, state: StateReqDescribe},
		{in: submit, replies: nil, state: StateIdle, check: func(t *testing.T, r Result) {
			delivered(t, r, Delivery{Counter: CounterTicket, Event: Event{Op: opOpened, Chat: userID, Cat: "licence",
				Lang: LangZH, Msgs: []int{10, 11}, Text: "我想办理食品经营许可证", Name: "王芳", Phone: "+8613800000000", Role: "rider", CheckIns: 2}})
			if len(r.Profile.Tickets) != 1 || r.Profile.Tickets[0].Status != TicketPending {
				t.Fatalf("tickets = %+v, want one pending", r.Profile.Tickets)
			}
		}},
	})
	ev := r.Deliver[0].Event
	in := event(ev, 7)
	in.EventFrom = userID
	in.Now = now.Add(10 * time.Minute)
	got := Step(r.Session, r.Profile, in, world(nil))
	if len(got.Replies) != 1 || got.Replies[0].Text != MsgTicketReceived || !got.Replies[0].RemoveKeyboard || got.Replies[0].Args["N"] != "7" {
		t.Fatalf("replies = %+v, want the receipt of #7", got.Replies)
	}
	ev.Op, ev.N = opOpen, 7
	delivered(t, got, Delivery{To: staffGroup, Event: ev})
	if tk := got.Profile.Tickets[0]; tk.N != 7 || tk.Status != TicketOpen {
		t.Fatalf("ticket = %+v, want #7 open", tk)
	}
}

// staffIn is an input in the staff group.
func staffIn(in Input) Input {
	in.Chat, in.ChatID, in.Staff, in.Now = ChatGroup, staffGroup, true, now
	if in.FromID == 0 {
		in.FromID, in.Name = 900, "王姐"
	}
	return in
}

func deskEvent(ev Event) Input {
	return staffIn(Input{Kind: KindEvent, Event: &ev, EventFrom: userID})
}

// opened is ticket 7 of userID as the staff group holds it after the open event, in a forum.
func openedTicket(forum bool) Ticket {
	w := world(nil)
	w.Forum = forum
	r := Step(NewSession(now), Profile{}, deskEvent(Event{Op: opOpen, N: 7, Chat: userID, Cat: "licence", Name: "王芳", Msgs: []int{10, 11}}), w)
	return *r.TicketWrite
}

// TestDeskOpen: in a forum the open event makes a topic first, and the card and the copies
// follow its result; without topics they go to the group at once.
func TestDeskOpen(t *testing.T) {
	w := world(nil)
	w.Forum = true
	r := Step(NewSession(now), Profile{}, deskEvent(Event{Op: opOpen, N: 7, Chat: userID, Cat: "licence", Name: "王芳", Msgs: []int{10, 11}}), w)
	if len(r.Replies) != 1 || r.Replies[0].Kind != CreateTopic || r.Replies[0].Ref != "dk:7:topic" {
		t.Fatalf("replies = %+v, want a topic", r.Replies)
	}
	tk := *r.TicketWrite
	if tk.Thread != 0 || !slices.Equal(tk.Pending, []int{10, 11}) || tk.Waiting == nil || tk.Status != TicketOpen {
		t.Fatalf("ticket = %+v", tk)
	}
	if r.TicketChange == nil || !r.TicketChange.Opened {
		t.Errorf("change = %+v, want opened", r.TicketChange)
	}

	w.Ticket = &tk
	res := staffIn(Input{Kind: KindResult, Data: "dk:7:topic", ResultThread: 55})
	r = Step(NewSession(now), Profile{}, res, w)
	if len(r.Replies) != 2 || r.Replies[0].Text != MsgDeskCard || r.Replies[0].Thread != 55 ||
		r.Replies[1].Kind != CopyMessages || r.Replies[1].Thread != 55 || !slices.Equal(r.Replies[1].IDs, []int{10, 11}) {
		t.Fatalf("replies = %+v, want the card and the copies in topic 55", r.Replies)
	}
	if r.TicketWrite.Thread != 55 || len(r.TicketWrite.Pending) != 0 || !slices.Equal(r.TicketIndex, []string{"t55"}) {
		t.Fatalf("ticket %+v index %v", r.TicketWrite, r.TicketIndex)
	}

	w.Forum, w.Ticket = false, nil
	r = Step(NewSession(now), Profile{}, deskEvent(Event{Op: opOpen, N: 8, Chat: userID, Cat: "other", Msgs: []int{3}}), w)
	if len(r.Replies) != 2 || r.Replies[0].Text != MsgDeskCard || r.Replies[0].Thread != 0 || r.Replies[1].Kind != CopyMessages || r.TicketWrite.Thread != -1 {
		t.Fatalf("replies %+v ticket %+v, want card and copies in the group", r.Replies, r.TicketWrite)
	}
}

// TestDeskAnswer: what staff write in the ticket goes to the user as an event; "//" stays.
func TestDeskAnswer(t *testing.T) {
	tk := openedTicket(true)
	tk.Thread = 55
	w := world(nil)
	w.Ticket = &tk
	in := staffIn(Input{Kind: KindText, Text: "请带身份证", MessageID: 70})
	r := Step(NewSession(now), Profile{}, in, w)
	delivered(t, r, Delivery{To: userID, Event: Event{Op: opAnswer, N: 7, Msgs: []int{70}, Text: "请带身份证"}})
	if r.TicketWrite.Status != TicketAnswered || r.TicketWrite.FirstResponse == nil || r.TicketWrite.Waiting != nil {
		t.Fatalf("ticket = %+v, want answered", r.TicketWrite)
	}
	w.StaffNames = true
	photo := staffIn(Input{Kind: KindOther, Caption: "样本", MessageID: 71})
	r = Step(NewSession(now), Profile{}, photo, w)
	delivered(t, r, Delivery{To: userID, Event: Event{Op: opAnswer, N: 7, Msgs: []int{71}, Text: "样本", Media: true, Staff: "王姐"}})
	r = Step(NewSession(now), Profile{}, staffIn(Input{Kind: KindText, Text: "// 内部", MessageID: 72}), w)
	if len(r.Deliver) != 0 || r.TicketWrite != nil || len(r.Replies) != 0 {
		t.Fatalf("internal note had effects: %+v", r)
	}
}

// TestDeskButtons: take needs a person; take and close tell the user; a closed ticket's
// buttons are stale.
func TestDeskButtons(t *testing.T) {
	tk := openedTicket(true)
	tk.Thread, tk.Card = 55, 60
	w := world(nil)
	w.Ticket = &tk
	anon := staffIn(Input{Kind: KindCallback, Data: "dk:t:7", FromID: AnonymousAdmin, Name: "Group"})
	r := Step(NewSession(now), Profile{}, anon, w)
	if len(r.Replies) != 1 || r.Replies[0].Text != MsgDeskAnonymous || r.TicketWrite != nil {
		t.Fatalf("anonymous take: %+v", r.Replies)
	}
	r = Step(NewSession(now), Profile{}, staffIn(Input{Kind: KindCallback, Data: "dk:t:7"}), w)
	delivered(t, r, Delivery{To: userID, Event: Event{Op: opTaken, N: 7}})
	if r.TicketWrite.TakenBy != 900 || r.TicketWrite.Status != TicketTaken {
		t.Fatalf("ticket = %+v, want taken by 900", r.TicketWrite)
	}
	r = Step(NewSession(now), Profile{}, staffIn(Input{Kind: KindCallback, Data: "dk:c:7"}), w)
	delivered(t, r, Delivery{To: userID, Event: Event{Op: opClosed, N: 7}})
	if r.TicketWrite.Status != TicketClosed || r.TicketChange == nil || !r.TicketChange.Closed {
		t.Fatalf("ticket %+v change %+v, want closed", r.TicketWrite, r.TicketChange)
	}
	closed := *r.TicketWrite
	w.Ticket = &closed
	r = Step(NewSession(now), Profile{}, staffIn(Input{Kind: KindCallback, Data: "dk:t:7"}), w)
	if r.TicketWrite != nil || len(r.Deliver) != 0 {
		t.Fatalf("a closed ticket was taken: %+v", r)
	}
}

// TestDeskTopicLost: a copy into a deleted topic makes the topic again and keeps the
// messages for it.
func TestDeskTopicLost(t *testing.T) {
	tk := openedTicket(true)
	tk.Thread = 55
	w := world(nil)
	w.Ticket = &tk
	in := staffIn(Input{Kind: KindResult, Data: "dk:7:copy", Text: "bad_request", Detail: "Bad Request: message thread not found", ResultIDs: []int{12}})
	r := Step(NewSession(now), Profile{}, in, w)
	if len(r.Replies) != 1 || r.Replies[0].Kind != CreateTopic {
		t.Fatalf("replies = %+v, want a new topic", r.Replies)
	}
	if got := r.TicketWrite; got.Thread != 0 || got.Remade != 1 || !slices.Equal(got.Pending, []int{10, 11, 12}) {
		t.Fatalf("ticket = %+v", got)
	}
}

// TestTicketLimits: floods, repeats and unregistered links are held back with a word.
func TestTicketLimits(t *testing.T) {
	p := openTicket(7)
	s := NewSession(now)
	var relayed int
	for i := range 12 {
		in := msg(text("消息"+strconv.Itoa(i)), 100+i)
		r := Step(s, p, in, world(nil))
		relayed += len(r.Deliver)
		s, p = r.Session, r.Profile
	}
	if relayed != floodPerMinute {
		t.Errorf("relayed %d of 12 messages in a minute, want %d", relayed, floodPerMinute)
	}
	s = NewSession(now)
	relayed = 0
	for i := range 3 {
		in := msg(text("在吗"), 200+i)
		in.Now = now.Add(time.Duration(i) * time.Minute)
		r := Step(s, p, in, world(nil))
		relayed += len(r.Deliver)
		s, p = r.Session, r.Profile
	}
	if relayed != 2 {
		t.Errorf("relayed the same text %d times, want 2", relayed)
	}
	stranger := consented(profile(LangZH, true))
	stranger.Tickets = openTicket(7).Tickets
	r := Step(NewSession(now), stranger, msg(text("看这里 http://example.com"), 300), world(nil))
	if len(r.Deliver) != 0 || len(r.Replies) != 1 || r.Replies[0].Text != MsgTicketLinkHeld {
		t.Errorf("link from an unregistered user: %+v", r.Replies)
	}
}

// TestTicketUserSide: close, rating, comment and reopen from the user's side; the
// answer's failure is reported to staff.
func TestTicketUserSide(t *testing.T) {
	p := openTicket(7)
	r := Step(NewSession(now), p, from(tap("tk:x:7")), world(nil))
	delivered(t, r, Delivery{To: staffGroup, Event: Event{Op: opClose, N: 7}})
	r = Step(r.Session, r.Profile, from(tap("tk:r:7:5")), world(nil))
	delivered(t, r, Delivery{To: staffGroup, Event: Event{Op: opRate, N: 7, Rating: 5}})
	r = Step(r.Session, r.Profile, from(text("很好")), world(nil))
	delivered(t, r, Delivery{To: staffGroup, Event: Event{Op: opRate, N: 7, Rating: 5, Text: "很好"}})
	reopen := from(tap("tk:o:7"))
	reopen.Now = now.Add(8 * 24 * time.Hour)
	late := Step(r.Session, r.Profile, reopen, world(nil))
	if len(late.Deliver) != 0 || late.Replies[len(late.Replies)-1].Text != MsgTicketReopenExpired {
		t.Errorf("reopen after 8 days: %+v", late.Replies)
	}
	r = Step(r.Session, r.Profile, from(tap("tk:o:7")), world(nil))
	delivered(t, r, Delivery{To: staffGroup, Event: Event{Op: opReopen, N: 7}})
	failed := from(private(Input{Kind: KindResult, Data: "tka:7", Text: "forbidden"}))
	r = Step(NewSession(now), openTicket(7), failed, world(nil))
	delivered(t, r, Delivery{To: staffGroup, Event: Event{Op: opUndelivered, N: 7, Text: "forbidden"}})
}

// TestTicketForget: /forgetme tells each staff group, which removes the details and
// deletes the topic of a closed ticket.
func TestTicketForget(t *testing.T) {
	r := Step(NewSession(now), openTicket(7), from(tap(dataForgetYes)), world(nil))
	delivered(t, r, Delivery{To: staffGroup, Event: Event{Op: opForget, N: 7}})
	tk := openedTicket(true)
	tk.Thread, tk.Status = 55, TicketClosed
	w := world(nil)
	w.Ticket = &tk
	r = Step(NewSession(now), Profile{}, deskEvent(Event{Op: opForget, N: 7}), w)
	if got := r.TicketWrite; got.Name != "" || got.Chat != 0 || !got.Forgotten {
		t.Fatalf("ticket = %+v, want the details gone", got)
	}
	if len(r.Replies) != 1 || r.Replies[0].Kind != DeleteTopic || r.Replies[0].Thread != 55 {
		t.Fatalf("replies = %+v, want topic 55 deleted", r.Replies)
	}
}

// TestDeskOutsiders: the desk ignores inputs from groups that are not staff groups.
func TestDeskOutsiders(t *testing.T) {
	tk := openedTicket(true)
	w := world(nil)
	w.Ticket = &tk
	in := staffIn(Input{Kind: KindCallback, Data: "dk:c:7"})
	in.Staff = false
	r := Step(NewSession(now), Profile{}, in, w)
	if r.TicketWrite != nil || len(r.Deliver) != 0 {
		t.Fatalf("an outsider closed a ticket: %+v", r)
	}
}

// TestDeskSLA: a ticket waiting past its target is flagged once; an answer ends the wait.
func TestDeskSLA(t *testing.T) {
	tk := openedTicket(true)
	tk.Thread = 55
	w := world(nil)
	w.Ticket = &tk
	if Overdue(tk, testDesk{}, now.Add(3*time.Hour)) {
		t.Fatal("overdue after 3 h of a 4 h target")
	}
	late := deskEvent(Event{Op: OpSLA, N: 7})
	late.Now = now.Add(5 * time.Hour)
	r := Step(NewSession(now), Profile{}, late, w)
	if len(r.Replies) != 1 || r.Replies[0].Text != MsgDeskSLA || r.Replies[0].Thread != 55 || !r.TicketWrite.SLAFlagged {
		t.Fatalf("replies %+v ticket %+v, want one flag in the topic", r.Replies, r.TicketWrite)
	}
	flagged := *r.TicketWrite
	w.Ticket = &flagged
	if Overdue(flagged, testDesk{}, late.Now) {
		t.Error("a flagged ticket is overdue again")
	}
	if r = Step(NewSession(now), Profile{}, late, w); len(r.Replies) != 0 {
		t.Errorf("flagged twice: %+v", r.Replies)
	}
}

// TestDeskUndelivered: a blocked user and a refused answer are told apart.
func TestDeskUndelivered(t *testing.T) {
	tk := openedTicket(true)
	tk.Thread = 55
	w := world(nil)
	w.Ticket = &tk
	for reason, want := range map[string]string{"forbidden": MsgDeskUndelivered, "Bad Request: message can't be copied": MsgDeskRefused} {
		r := Step(NewSession(now), Profile{}, deskEvent(Event{Op: opUndelivered, N: 7, Text: reason}), w)
		if len(r.Replies) != 1 || r.Replies[0].Text != want {
			t.Errorf("undelivered (%s): replies %+v, want %s", reason, r.Replies, want)
		}
	}
}
