package bot

import (
	"testing"
	"time"
)

const adminUser = 900

// adminIn is an input of the admin in the staff group, with the session s.
func adminIn(in Input) Input {
	in = staffIn(in)
	in.Admin = true
	return in
}

// TestBroadcastDraft: an admin's reply with /broadcast starts a draft; filters toggle;
// preview copies the notice to the admin; Send orders the broadcast with the selection.
func TestBroadcastDraft(t *testing.T) {
	w := world(nil)
	snap := &Snapshot{Text: "新政策", Entities: []byte(`[{"type":"bold","offset":0,"length":3}]`)}
	r := Step(NewSession(now), Profile{}, adminIn(Input{Kind: KindCommand, Command: "broadcast", Reply: snap}), w)
	if len(r.Replies) != 1 || r.Replies[0].Text != MsgBroadcastAudience || r.Replies[0].Fetch != FetchAudience || !r.SessionChanged {
		t.Fatalf("replies = %+v", r.Replies)
	}
	s := r.Session
	for _, data := range []string{"bc:m:r", "bc:t:r:rider", "bc:t:r:truck", "bc:t:r:truck", "bc:t:a:30", "bc:b"} {
		r = Step(s, Profile{}, adminIn(Input{Kind: KindCallback, Data: data}), w)
		s = r.Session
	}
	if got := r.Replies[0]; got.Text != MsgBroadcastAudience || got.Args["Roles"] != "rider" || got.Args["Days"] != "30" {
		t.Fatalf("after the filters: %+v", got)
	}
	r = Step(s, Profile{}, adminIn(Input{Kind: KindCallback, Data: "bc:pv"}), w)
	if len(r.Replies) != 2 || r.Replies[0].Kind != SendSnapshot || r.Replies[0].To != adminUser || r.Replies[0].Snapshot.Text != "新政策" {
		t.Fatalf("preview = %+v", r.Replies)
	}
	r = Step(s, Profile{}, adminIn(Input{Kind: KindCallback, Data: "bc:go"}), w)
	if len(r.Orders) != 1 || r.Orders[0].Op != OrderCreate || r.Orders[0].Sel.Roles[0] != "rider" || r.Orders[0].Sel.Days != 30 ||
		string(r.Orders[0].Content.Entities) != string(snap.Entities) || r.Orders[0].By != adminUser {
		t.Fatalf("orders = %+v", r.Orders)
	}
	if _, ok := r.loadDraft(adminUser); ok {
		t.Error("the draft outlived its order")
	}
}

// TestBroadcastGuards: only admins, only replies, and a schedule needs a future time.
func TestBroadcastGuards(t *testing.T) {
	w := world(nil)
	r := Step(NewSession(now), Profile{}, staffIn(Input{Kind: KindCommand, Command: "broadcast", Reply: &Snapshot{Text: "x"}}), w)
	if len(r.Replies) != 1 || r.Replies[0].Text != MsgBroadcastAdminsOnly {
		t.Errorf("non-admin: %+v", r.Replies)
	}
	r = Step(NewSession(now), Profile{}, adminIn(Input{Kind: KindCommand, Command: "broadcast"}), w)
	if len(r.Replies) != 1 || r.Replies[0].Text != MsgBroadcastUsage {
		t.Errorf("no reply: %+v", r.Replies)
	}
	r = Step(NewSession(now), Profile{}, adminIn(Input{Kind: KindCommand, Command: "broadcast", Reply: &Snapshot{Text: "x"}}), w)
	r = Step(r.Session, Profile{}, adminIn(Input{Kind: KindCallback, Data: "bc:sch"}), w)
	s := r.Session
	// In order: the last one's result is checked below.
	for _, tc := range []struct{ text, want string }{
		{"明天", MsgBroadcastBadTime}, {"2025-02-01 09:00", MsgBroadcastBadTime}, {"2025-03-02 09:00", MsgBroadcastCreating},
	} {
		r = Step(s, Profile{}, adminIn(Input{Kind: KindText, Text: tc.text}), w)
		if len(r.Replies) != 1 || r.Replies[0].Text != tc.want {
			t.Errorf("time %q: %+v, want %s", tc.text, r.Replies, tc.want)
		}
	}
	if len(r.Orders) != 1 || !r.Orders[0].At.Equal(time.Date(2025, 3, 2, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("scheduled order = %+v", r.Orders)
	}
	tap := staffIn(Input{Kind: KindCallback, Data: "bc:ctl:7:stop"})
	if r = Step(NewSession(now), Profile{}, tap, w); len(r.Orders) != 0 {
		t.Errorf("a non-admin stopped a broadcast: %+v", r.Orders)
	}
	if r = Step(NewSession(now), Profile{}, adminIn(tap), w); len(r.Orders) != 1 || r.Orders[0].Op != ActionStop || r.Orders[0].ID != "7" {
		t.Errorf("admin stop: %+v", r.Orders)
	}
}

// TestBroadcastProgress: the created event posts the progress message, whose id is kept;
// progress edits it; the end reports.
func TestBroadcastProgress(t *testing.T) {
	w := world(nil)
	ev := Event{Op: OpBroadcastCreated, BC: &BroadcastNews{ID: "7", State: BroadcastSending, Total: 3}}
	r := Step(NewSession(now), Profile{}, staffIn(Input{Kind: KindEvent, Event: &ev}), w)
	if len(r.Replies) != 1 || r.Replies[0].Ref != "bcp:7" || len(r.Replies[0].Buttons) != 1 {
		t.Fatalf("created: %+v", r.Replies)
	}
	r = Step(r.Session, Profile{}, staffIn(Input{Kind: KindResult, Data: "bcp:7", ResultMessage: 42}), w)
	s := r.Session
	done := Event{Op: OpBroadcastProgress, BC: &BroadcastNews{ID: "7", State: BroadcastDone, Total: 3, Sent: 3}}
	r = Step(s, Profile{}, staffIn(Input{Kind: KindEvent, Event: &done}), w)
	if len(r.Replies) != 2 || r.Replies[0].Edit != 42 || r.Replies[0].Buttons != nil || r.Replies[1].Text != MsgBroadcastReport {
		t.Fatalf("done: %+v", r.Replies)
	}
}

// TestStopNotices: the button under a notice turns every notice off.
func TestStopNotices(t *testing.T) {
	p := registered(profile(LangZH, true), 1)
	r := Step(NewSession(now), p, from(tap(StopNoticesData)), world(nil))
	if !r.ProfileChanged || !r.Profile.SubsChosen || len(r.Profile.Subscriptions) != 0 {
		t.Fatalf("profile = %+v", r.Profile)
	}
}
