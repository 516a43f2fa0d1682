package handlers

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/queue"
)

// TestSegments: a consented chat's segments follow its profile; one not indexed yet gets
// them all on its next update; a user who has not agreed is in none.
func TestSegments(t *testing.T) {
	h, err := New(WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	member := memberProfile(t, 2)
	// Not indexed yet: everything the profile says.
	eff := handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "/help"})),
		queue.State{Profile: member})
	want := []string{"lang:zh-CN", "role:rider"}
	p := bot.DecodeProfile(member)
	for _, c := range h.lib.Load().c.Categories {
		if slices.Contains(policies{h.lib.Load().c, h.lib.Load().ix}.RoleCategories(p.Member.Role), c.ID) {
			want = append(want, "sub:"+c.ID)
		}
	}
	want = append(want, SegmentNotices)
	if diff := cmp.Diff(want, eff.Segments); diff != "" || len(eff.Unsegments) != 0 || !eff.Active {
		t.Errorf("first update of an unindexed member: segments (-want +got):\n%s\nunsegments %v active %v", diff, eff.Unsegments, eff.Active)
	}
	// Indexed and unchanged: nothing but activity.
	eff = handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "/help"})),
		queue.State{Profile: member, Indexed: true})
	if len(eff.Segments) != 0 || len(eff.Unsegments) != 0 || !eff.Active {
		t.Errorf("indexed member: %v %v %v", eff.Segments, eff.Unsegments, eff.Active)
	}
	// Switching the language moves the chat between language segments.
	eff = handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "/lang en"})),
		queue.State{Profile: member, Indexed: true})
	if !cmp.Equal(eff.Segments, []string{"lang:en"}) || !cmp.Equal(eff.Unsegments, []string{"lang:zh-CN"}) {
		t.Errorf("language switch: +%v -%v", eff.Segments, eff.Unsegments)
	}
	// A stranger who has not agreed is in no segment and not counted as active.
	eff = handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "/help"})), queue.State{})
	if len(eff.Segments) != 0 || eff.Active {
		t.Errorf("stranger: %v active %v", eff.Segments, eff.Active)
	}
}

// TestStaffAdmins: with WithStaffAdmins (the playground) anyone in a staff group is an
// admin there, and nowhere else.
func TestStaffAdmins(t *testing.T) {
	h, err := New(WithClock(func() time.Time { return now }), WithStaff([]int64{staffGrp}, nil), WithStaffAdmins(), WithReader(&fakeReader{}))
	if err != nil {
		t.Fatal(err)
	}
	eff := handle(t, h, staffGrp, update(t, "message", message(staffGrp, 5, map[string]any{"text": "/export checkins"})), queue.State{})
	if len(eff.Outbox) == 0 || eff.Outbox[0].ChatID != 5 {
		t.Errorf("export by a staff member with staff admins: %+v, want the file in their private chat", eff.Outbox)
	}
	plain, err := New(WithClock(func() time.Time { return now }), WithStaff([]int64{staffGrp}, nil))
	if err != nil {
		t.Fatal(err)
	}
	eff = handle(t, plain, staffGrp, update(t, "message", message(staffGrp, 5, map[string]any{"text": "/export checkins"})), queue.State{})
	if len(eff.Outbox) != 1 || eff.Outbox[0].ChatID != staffGrp {
		t.Errorf("export by a staff member without: %+v, want the admins-only answer in the group", eff.Outbox)
	}
}
