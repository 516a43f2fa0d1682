package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// turn is one input of a conversation and what must follow from it.
type turn struct {
	in Input
	// replies are the message ids of the replies, in order.
	replies []string
	state   State
	check   func(t *testing.T, r Result)
}

// play runs a conversation from profile p, carrying session and profile from turn to
// turn, each input a minute after the last, and returns the last result.
func play(t *testing.T, p Profile, h []CheckIn, turns []turn) Result {
	t.Helper()
	s := NewSession(now)
	var r Result
	for i, tn := range turns {
		in := tn.in
		in.Now = now.Add(time.Duration(i) * time.Minute)
		r = Step(s, p, in, world(h))
		var ids []string
		for _, rep := range r.Replies {
			ids = append(ids, rep.Text)
		}
		if diff := cmp.Diff(tn.replies, ids); diff != "" {
			t.Fatalf("turn %d (%+v): replies mismatch (-want +got):\n%s", i, tn.in, diff)
		}
		if r.Session.State != tn.state {
			t.Fatalf("turn %d (%+v): state = %q, want %q", i, tn.in, r.Session.State, tn.state)
		}
		if tn.check != nil {
			tn.check(t, r)
		}
		s, p = r.Session, r.Profile
	}
	return r
}

const userID = 4242

func from(in Input) Input {
	in.FromID, in.Name = userID, "芳"
	return in
}

func contact(uid int64, phone string) Input {
	return from(private(Input{Kind: KindContact, Contact: &Contact{UserID: uid, Phone: phone}}))
}

func location(lat float64) Input {
	return from(private(Input{Kind: KindLocation, Location: &Location{Lat: lat, Lon: 0}}))
}

func checkedIn(point, via string, meters int) func(*testing.T, Result) {
	return func(t *testing.T, r Result) {
		t.Helper()
		if r.CheckIn == nil || r.CheckIn.Point != point || r.CheckIn.Via != via || r.CheckIn.Meters != meters {
			t.Fatalf("CheckIn = %+v, want point %s via %s, %d m", r.CheckIn, point, via, meters)
		}
	}
}

func noCheckIn(t *testing.T, r Result) {
	t.Helper()
	if r.CheckIn != nil {
		t.Fatalf("CheckIn = %+v, want none", r.CheckIn)
	}
}

// TestQRFirstContact is the journey the issue times: a QR scan by someone the bot has
// never seen ends in a confirmed check-in after at most six taps or messages.
func TestQRFirstContact(t *testing.T) {
	for _, tt := range []struct{ code, lang string }{{"zh-hans", LangZH}, {"en-GB", LangEN}} {
		t.Run(tt.lang, func(t *testing.T) {
			withCode := func(in Input) Input { in.LanguageCode = tt.code; return from(in) }
			turns := []turn{
				{in: withCode(cmd("start", "cp_b")), replies: []string{MsgWelcome, MsgPrivacyCheckIn}, state: StateIdle,
					check: func(t *testing.T, r Result) {
						if r.Profile.Lang != tt.lang || r.Profile.Consented() {
							t.Fatalf("profile = %+v, want %s, no consent", r.Profile, tt.lang)
						}
					}},
				{in: withCode(tap(dataConsentYes)), replies: []string{MsgConsentThanks, MsgRegisterFirst, MsgRegRole}, state: StateRegRole},
				{in: withCode(tap("role:courier")), replies: []string{MsgRegName}, state: StateRegName},
				{in: withCode(text(" 王  芳 ")), replies: []string{MsgRegPhone}, state: StateRegPhone,
					check: func(t *testing.T, r Result) {
						if !r.Replies[0].Keyboard[0][0].RequestContact {
							t.Fatalf("phone step keyboard = %+v, want a contact button first", r.Replies[0].Keyboard)
						}
						if r.ProfileChanged {
							t.Fatal("the profile changed before registration completed")
						}
					}},
				{in: withCode(contact(userID, "86 138-0000-0000")), replies: []string{MsgRegDone, MsgCheckInDone}, state: StateIdle,
					check: func(t *testing.T, r Result) {
						checkedIn("b", ViaQR, -1)(t, r)
						want := &Member{Role: "courier", Name: "王 芳", Phone: "+8613800000000", RegisteredAt: now.Add(4 * time.Minute),
							CheckIns: 1, OptionalOffered: true}
						if diff := cmp.Diff(want, r.Profile.Member); diff != "" {
							t.Fatalf("member mismatch (-want +got):\n%s", diff)
						}
						if r.Registered != "courier" || !r.Replies[0].RemoveKeyboard {
							t.Fatalf("Registered = %q, first reply %+v", r.Registered, r.Replies[0])
						}
						if got := r.Replies[1].Buttons[0][0].Data; got != dataOptional {
							t.Fatalf("first check-in offers %q, want the optional details", got)
						}
					}},
			}
			if len(turns) > 6 {
				t.Fatalf("%d steps from scan to check-in, want at most 6", len(turns))
			}
			play(t, Profile{Version: ProfileVersion}, nil, turns)
		})
	}
}

func TestCheckIn(t *testing.T) {
	member := registered(profile(LangZH, false), 3)
	recent := []CheckIn{{Point: "a", At: now.Add(-90 * time.Minute), Via: ViaQR, Meters: -1}}
	old := []CheckIn{{Point: "a", At: now.Add(-3 * time.Hour), Via: ViaQR, Meters: -1}}
	tests := []struct {
		name  string
		p     Profile
		h     []CheckIn
		turns []turn
	}{
		{"registered member scans a QR", member, nil, []turn{
			{in: from(cmd("start", "cp_a")), replies: []string{MsgCheckInDone}, state: StateIdle, check: checkedIn("a", ViaQR, -1)},
		}},
		{"second scan inside the window is the same visit", member, recent, []turn{
			{in: from(cmd("start", "cp_a")), replies: []string{MsgCheckInAgain}, state: StateIdle, check: noCheckIn},
		}},
		{"the same point after the window counts again", member, old, []turn{
			{in: from(cmd("start", "cp_a")), replies: []string{MsgCheckInDone}, state: StateIdle, check: checkedIn("a", ViaQR, -1)},
		}},
		{"another point inside the window counts", member, recent, []turn{
			{in: from(cmd("start", "cp_b")), replies: []string{MsgCheckInDone}, state: StateIdle, check: checkedIn("b", ViaQR, -1)},
		}},
		{"a deep link to a point that is gone", member, nil, []turn{
			{in: from(cmd("start", "cp_zz")), replies: []string{MsgPointUnknown}, state: StateIdle, check: noCheckIn},
		}},
		{"location lists the nearest points, asks once about keeping it, keeps only distances", member, nil, []turn{
			{in: from(cmd("checkin", "")), replies: []string{MsgCheckInHow}, state: StateCheckIn},
			{in: location(0.001), replies: []string{MsgNearest, MsgLocConsentAsk}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					var got []string
					for _, it := range r.Replies[0].Items {
						got = append(got, it["Point"]+"="+it["Meters"]+"/"+it["Open"])
					}
					if diff := cmp.Diff([]string{"a=111/yes", "b=890/yes", "c=4893/no"}, got); diff != "" {
						t.Fatalf("nearest mismatch (-want +got):\n%s", diff)
					}
					if _, kept := r.Session.Data[keyLat]; kept {
						t.Fatal("the location was kept without consent")
					}
					if got := r.Replies[0].Buttons[1][0].Data; got != "cn:890:b" {
						t.Fatalf("second point's button = %q, want its distance in the data", got)
					}
				}},
			{in: from(tap(dataLocDrop)), replies: []string{MsgLocDropped}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if r.Profile.LocConsent != "no" {
						t.Fatalf("LocConsent = %q, want no", r.Profile.LocConsent)
					}
				}},
			{in: from(tap("cn:890:b")), replies: []string{MsgCheckInDone}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					checkedIn("b", ViaLocation, 890)(t, r)
					if r.CheckIn.Where != nil {
						t.Fatal("the location was recorded without consent")
					}
				}},
		}},
		{"with consent the location is kept with the check-in", func() Profile { p := member; p.LocConsent = "yes"; return p }(), nil, []turn{
			{in: location(0.001), replies: []string{MsgNearest}, state: StateIdle},
			{in: from(tap("cn:111:a")), replies: []string{MsgCheckInDone}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if r.CheckIn == nil || r.CheckIn.Where == nil || r.CheckIn.Where.Lat != 0.001 {
						t.Fatalf("CheckIn = %+v, want the location kept", r.CheckIn)
					}
				}},
		}},
		{"the list checks in by tap and pages", member, nil, []turn{
			{in: from(cmd("checkin", "")), replies: []string{MsgCheckInHow}, state: StateCheckIn},
			{in: from(private(Input{Kind: KindText, Text: "📋 站点列表", Button: MsgButtonPointList})), replies: []string{MsgPointList}, state: StateCheckIn,
				check: func(t *testing.T, r Result) {
					rows := r.Replies[0].Buttons
					if len(rows) != pointsPerPage+1 || rows[len(rows)-1][0].Data != "pts:1" {
						t.Fatalf("first page = %+v, want %d points and a next button", rows, pointsPerPage)
					}
				}},
			{in: from(tap("pts:1")), replies: []string{MsgPointList}, state: StateCheckIn,
				check: func(t *testing.T, r Result) {
					if r.Replies[0].Kind != EditOrigin || r.Replies[0].Args["Page"] != "2" {
						t.Fatalf("page 2 = %+v, want an edit of the list", r.Replies[0])
					}
				}},
			{in: from(tap("ck:g")), replies: []string{MsgCheckInDone}, state: StateIdle, check: checkedIn("g", ViaList, -1)},
		}},
		{"a location tap by someone who has not agreed asks first and keeps only the distance", profile(LangZH, false), nil, []turn{
			{in: location(0.001), replies: []string{MsgNearest}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if len(r.Session.Data) != 0 || r.ProfileChanged {
						t.Fatalf("before consent the bot stored session data %v / a profile", r.Session.Data)
					}
				}},
			{in: from(tap(dataLocKeep)), replies: []string{MsgPrivacy}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if r.Profile.LocConsent != "" {
						t.Fatal("keeping the location was accepted before the privacy notice")
					}
				}},
			{in: from(tap("cn:111:a")), replies: []string{MsgPrivacy}, state: StateIdle},
			{in: from(tap(dataConsentYes)), replies: []string{MsgConsentThanks, MsgRegisterFirst, MsgRegRole}, state: StateRegRole,
				check: func(t *testing.T, r Result) {
					if r.Session.Data[keyIntent] != "a" || r.Session.Data[keyVia] != ViaLocation || r.Session.Data[keyMeters] != "111" {
						t.Fatalf("session data = %v, want the check-in at a, by location, 111 m, kept", r.Session.Data)
					}
				}},
			{in: from(tap("role:truck")), replies: []string{MsgRegName}, state: StateRegName},
			{in: from(text("王芳")), replies: []string{MsgRegPhone}, state: StateRegPhone},
			{in: contact(userID, "+8613800000000"), replies: []string{MsgRegDone, MsgCheckInDone}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					checkedIn("a", ViaLocation, 111)(t, r)
					if r.CheckIn.Where != nil {
						t.Fatal("the location was recorded")
					}
				}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { play(t, tt.p, tt.h, tt.turns) })
	}
}

// TestRegistrationInput sends garbage, the wrong contact and "back" at every step.
func TestRegistrationInput(t *testing.T) {
	fresh := consented(profile(LangZH, false))
	sticker := from(private(Input{Kind: KindOther}))
	long := from(text(strings.Repeat("长", 5000)))
	toRole := turn{in: from(tap(dataRegister)), replies: []string{MsgRegRole}, state: StateRegRole}
	toName := turn{in: from(tap("role:truck")), replies: []string{MsgRegName}, state: StateRegName}
	toPhone := turn{in: from(text("Li Lei")), replies: []string{MsgRegPhone}, state: StateRegPhone}
	tests := []struct {
		name  string
		turns []turn
	}{
		{"garbage at the role step", []turn{toRole,
			{in: sticker, replies: []string{MsgRegRoleRetry}, state: StateRegRole},
			{in: from(text("宇航员")), replies: []string{MsgRegRoleRetry}, state: StateRegRole},
			{in: from(text("骑手")), replies: []string{MsgRegName}, state: StateRegName},
		}},
		{"garbage at the name step", []turn{toRole, toName,
			{in: sticker, replies: []string{MsgRegNameRetry}, state: StateRegName},
			{in: long, replies: []string{MsgRegNameTooLong}, state: StateRegName},
			{in: from(text("😀😀😀")), replies: []string{MsgRegNameInvalid}, state: StateRegName},
			{in: from(text("13800000000")), replies: []string{MsgRegNameInvalid}, state: StateRegName},
			{in: from(text("   ")), replies: []string{MsgRegNameRetry}, state: StateRegName},
			{in: from(text("买买提·艾力")), replies: []string{MsgRegPhone}, state: StateRegPhone},
		}},
		{"the Telegram name button", []turn{toRole, toName,
			{in: from(tap(dataNameTG)), replies: []string{MsgRegPhone}, state: StateRegPhone,
				check: func(t *testing.T, r Result) {
					if r.Session.Data[keyName] != "芳" {
						t.Fatalf("name = %q, want the Telegram first name", r.Session.Data[keyName])
					}
				}},
		}},
		{"garbage and someone else's contact at the phone step", []turn{toRole, toName, toPhone,
			{in: from(text("13800000000")), replies: []string{MsgRegPhoneRetry}, state: StateRegPhone},
			{in: sticker, replies: []string{MsgRegPhoneRetry}, state: StateRegPhone},
			{in: contact(777, "+8613900000000"), replies: []string{MsgRegPhoneNotYours}, state: StateRegPhone},
			{in: contact(0, "+8613900000000"), replies: []string{MsgRegPhoneNotYours}, state: StateRegPhone},
			{in: location(1), replies: []string{MsgRegPhoneRetry}, state: StateRegPhone},
			{in: contact(userID, "+8613800000000"), replies: []string{MsgRegDone, MsgMenu}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if m := r.Profile.Member; m == nil || m.Name != "Li Lei" || m.Role != "truck" || r.CheckIn != nil {
						t.Fatalf("member = %+v, check-in %+v", m, r.CheckIn)
					}
				}},
		}},
		{"back goes one step back, then leaves", []turn{toRole, toName, toPhone,
			{in: from(private(Input{Kind: KindText, Text: "⬅️ 返回", Button: MsgButtonBack})), replies: []string{MsgBackTo, MsgRegName}, state: StateRegName},
			{in: from(tap(dataRegBack)), replies: []string{MsgRegRole}, state: StateRegRole},
			{in: from(text("返回")), replies: []string{MsgCancelled, MsgMenu}, state: StateIdle},
		}},
		{"cancel leaves cleanly and forgets what was typed", []turn{toRole, toName, toPhone,
			{in: from(cmd("cancel", "")), replies: []string{MsgCancelled, MsgMenu}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if r.Session.Data != nil || r.Profile.Member != nil || r.ProfileChanged {
						t.Fatalf("after cancel: data %v, member %+v", r.Session.Data, r.Profile.Member)
					}
				}},
		}},
		{"a stale role button after the step is refused", []turn{toRole, toName,
			{in: from(tap("role:courier")), replies: []string{MsgStaleButton}, state: StateRegName},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { play(t, fresh, nil, tt.turns) })
	}
}

func TestConsent(t *testing.T) {
	play(t, profile(LangZH, false), nil, []turn{
		{in: from(cmd("start", "")), replies: []string{MsgWelcome, MsgPrivacy}, state: StateIdle},
		{in: from(tap(dataConsentNo)), replies: []string{MsgConsentDeclined}, state: StateIdle,
			check: func(t *testing.T, r Result) {
				if r.ProfileChanged || r.Profile.Consented() {
					t.Fatal("declining stored something")
				}
			}},
		{in: from(cmd("me", "")), replies: []string{MsgPrivacy}, state: StateIdle},
		{in: from(tap(dataConsentYes)), replies: []string{MsgConsentThanks, MsgRegisterOffer}, state: StateIdle,
			check: func(t *testing.T, r Result) {
				if r.Profile.ConsentAt == nil || !r.Profile.ConsentAt.Equal(now.Add(3*time.Minute)) {
					t.Fatalf("ConsentAt = %v", r.Profile.ConsentAt)
				}
			}},
		{in: from(cmd("start", "")), replies: []string{MsgWelcomeBack}, state: StateIdle},
	})
}

func TestMe(t *testing.T) {
	member := registered(profile(LangZH, false), 12)
	var hist []CheckIn
	for i := range 10 {
		hist = append(hist, CheckIn{Point: testIDs[i%len(testIDs)], At: now.Add(-time.Duration(i+1) * 24 * time.Hour)})
	}
	t.Run("card, history pages and edits", func(t *testing.T) {
		play(t, member, hist, []turn{
			{in: from(cmd("me", "")), replies: []string{MsgMeCard}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if a := r.Replies[0].Args; a["Name"] != "王芳" || a["Role"] != "rider" || a["CheckIns"] != "12" {
						t.Fatalf("card args = %v", a)
					}
				}},
			{in: from(tap("me:hist:0")), replies: []string{MsgHistory}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					rep := r.Replies[0]
					if len(rep.Items) != historyPerPage || rep.Items[0]["Point"] != "a" || rep.Args["Pages"] != "2" {
						t.Fatalf("history page 1 = %+v", rep)
					}
				}},
			{in: from(tap("me:hist:1")), replies: []string{MsgHistory}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if it := r.Replies[0].Items; len(it) != 5 || it[4]["Point"] != "c" {
						t.Fatalf("history page 2 = %+v", it)
					}
				}},
			{in: from(tap("me:edit")), replies: []string{MsgEditPick}, state: StateIdle},
			{in: from(tap("edit:name")), replies: []string{MsgRegName}, state: StateRegName},
			{in: from(text("王小芳")), replies: []string{MsgSaved, MsgMeCard}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if r.Profile.Member.Name != "王小芳" || r.Profile.Member.Phone != "+8613800000000" {
						t.Fatalf("member after edit = %+v", r.Profile.Member)
					}
				}},
			{in: from(tap("edit:role")), replies: []string{MsgRegRole}, state: StateRegRole},
			{in: from(tap("role:merchant")), replies: []string{MsgSaved, MsgMeCard}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if r.RoleChanged != [2]string{"rider", "merchant"} || r.Profile.Member.Role != "merchant" {
						t.Fatalf("RoleChanged = %v, role %q", r.RoleChanged, r.Profile.Member.Role)
					}
				}},
			{in: from(tap("edit:phone")), replies: []string{MsgRegPhone}, state: StateRegPhone},
			{in: contact(userID, "+8613911112222"), replies: []string{MsgSaved, MsgMeCard}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if r.Profile.Member.Phone != "+8613911112222" || r.Registered != "" {
						t.Fatalf("member after phone edit = %+v (Registered %q)", r.Profile.Member, r.Registered)
					}
				}},
		})
	})
	t.Run("optional details after the first check-in", func(t *testing.T) {
		play(t, registered(profile(LangZH, false), 1), nil, []turn{
			{in: from(tap(dataOptional)), replies: []string{MsgOptParty}, state: StateOptParty},
			{in: from(text("也许")), replies: []string{MsgOptUseButtons, MsgOptParty}, state: StateOptParty},
			{in: from(tap(dataPartyYes)), replies: []string{MsgOptBranch}, state: StateOptBranch},
			{in: from(text("南塔街道第一支部")), replies: []string{MsgOptEmployer}, state: StateOptEmployer},
			{in: from(text("某某同城配送")), replies: []string{MsgOptHome}, state: StateOptHome},
			{in: from(tap("h:c")), replies: []string{MsgOptDone}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					m := r.Profile.Member
					if m.Party != "yes" || m.Branch != "南塔街道第一支部" || m.Employer != "某某同城配送" || m.HomePoint != "c" {
						t.Fatalf("member = %+v", m)
					}
				}},
		})
	})
	t.Run("forget me", func(t *testing.T) {
		r := play(t, member, hist, []turn{
			{in: from(cmd("forgetme", "")), replies: []string{MsgForgetConfirm}, state: StateIdle},
			{in: from(tap(dataForgetNo)), replies: []string{MsgForgetKept}, state: StateIdle, check: func(t *testing.T, r Result) {
				if r.Forget {
					t.Fatal("forgot after No")
				}
			}},
			{in: from(tap(dataForgetYes)), replies: []string{MsgForgotten}, state: StateIdle},
		})
		if !r.Forget || r.Forgotten != "rider" || r.Profile.Member != nil || r.Profile.Consented() || r.ProfileChanged {
			t.Fatalf("after forget: %+v", r)
		}
	})
}

func TestStaffCommands(t *testing.T) {
	group := func(in Input) Input {
		in.Chat, in.Now, in.FromID, in.Name = ChatGroup, now, userID, "Ops"
		return in
	}
	staff := func(in Input) Input { in = group(in); in.Staff = true; return in }
	admin := func(in Input) Input { in = staff(in); in.Admin = true; return in }
	command := func(name, args string) Input { return Input{Kind: KindCommand, Command: name, Args: args} }
	tests := []struct {
		name string
		in   Input
		want []Reply
	}{
		{"stats in a staff chat", staff(command("stats", "")), []Reply{{Kind: SendNew, Text: MsgStats, Fetch: FetchStats}}},
		{"stats elsewhere is ignored", group(command("stats", "")), nil},
		{"staff help", staff(command("help", "")), []Reply{{Kind: SendNew, Text: MsgHelpStaff}}},
		{"export by staff who are not admins", staff(command("export", "checkins")), []Reply{{Kind: SendNew, Text: MsgExportAdminsOnly}}},
		{"export of something else", admin(command("export", "visits")), []Reply{{Kind: SendNew, Text: MsgExportUsage}}},
		{"export with a bad date", admin(command("export", "checkins 2025-02-30")),
			[]Reply{{Kind: SendNew, Text: MsgExportBadDate, Args: map[string]string{"Date": "2025-02-30"}}}},
		{"export with the range backwards", admin(command("export", "checkins 2025-03-01 2025-02-01")),
			[]Reply{{Kind: SendNew, Text: MsgExportBadRange, Args: map[string]string{"Max": "366"}}}},
		{"export of the last 30 days goes to the admin's private chat", admin(command("export", "checkins")), []Reply{
			{Kind: SendDocument, Text: MsgExportCaption, Args: map[string]string{"From": "2025-01-31", "To": "2025-03-01", "Kind": ExportCheckIns},
				To: userID, Fetch: FetchExport, Ref: exportRef},
			{Kind: SendNew, Text: MsgExportSent, Args: map[string]string{"Name": "Ops", "From": "2025-01-31", "To": "2025-03-01", "Kind": ExportCheckIns}},
		}},
		{"export from a day to today", admin(command("export", "checkins 2025-02-20")), []Reply{
			{Kind: SendDocument, Text: MsgExportCaption, Args: map[string]string{"From": "2025-02-20", "To": "2025-03-01", "Kind": ExportCheckIns},
				To: userID, Fetch: FetchExport, Ref: exportRef},
			{Kind: SendNew, Text: MsgExportSent, Args: map[string]string{"Name": "Ops", "From": "2025-02-20", "To": "2025-03-01", "Kind": ExportCheckIns}},
		}},
		{"an undelivered export is reported in the group", staff(Input{Kind: KindResult, Data: exportRef, Text: "forbidden"}),
			[]Reply{{Kind: SendNew, Text: MsgExportUndelivered}}},
		{"a delivered export needs no word", staff(Input{Kind: KindResult, Data: exportRef}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Step(NewSession(now), profile(LangZH, false), tt.in, world(nil))
			if diff := cmp.Diff(tt.want, got.Replies); diff != "" {
				t.Errorf("replies mismatch (-want +got):\n%s", diff)
			}
			if got.SessionChanged {
				t.Error("a group command changed the session")
			}
		})
	}
}

func TestNearData(t *testing.T) {
	long := strings.Repeat("p", 58)
	tests := []struct {
		id     string
		meters int
		data   string
	}{
		{"a", 111, "cn:111:a"},
		{long, 12345, "cn:" + long}, // the distance does not fit: dropped, not the point
	}
	for _, tt := range tests {
		if got := nearData(tt.id, tt.meters); got != tt.data || len(got) > 64 {
			t.Errorf("nearData(%s, %d) = %q, want %q", tt.id, tt.meters, got, tt.data)
		}
	}
	for data, want := range map[string]visit{
		"111:a": {point: "a", via: ViaLocation, meters: 111},
		"a":     {point: "a", via: ViaLocation, meters: -1},
		"x:a":   {},
		"-5:a":  {},
		"12:":   {},
		"":      {},
	} {
		got, ok := parseNear(data)
		if ok != (want.point != "") || got != want {
			t.Errorf("parseNear(%q) = %+v, %v; want %+v", data, got, ok, want)
		}
	}
}
