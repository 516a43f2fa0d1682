package bot

import (
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
func event(ev TicketEvent, seq int64) Input {
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
			delivered(t, r, Delivery{Counter: CounterTicket, Event: TicketEvent{Op: opOpened, Chat: userID, Cat: "licence",
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
