package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPolicySearch(t *testing.T) {
	stranger := profile(LangZH, false)
	driver := registered(profile(LangZH, false), 1)
	driver.Member.Role = "ride_hailing"
	tests := []struct {
		name  string
		p     Profile
		turns []turn
	}{
		{"a question typed outside any flow is searched", consented(stranger), []turn{
			{in: from(text("骑手 injury 了谁管？")), replies: []string{MsgPolicyResults}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if diff := cmp.Diff(&Query{Text: "骑手 injury 了谁管", Found: true}, r.Query); diff != "" {
						t.Fatalf("query (-want +got):\n%s", diff)
					}
					if b := r.Replies[0].Buttons[0][0]; b.Data != "pol:injury" {
						t.Fatalf("first result button = %+v", b)
					}
				}},
			{in: from(tap("pol:injury")), replies: []string{MsgPolicyCard}, state: StateIdle},
			{in: from(tap("fb:y:injury")), replies: []string{MsgFeedbackThanks}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if diff := cmp.Diff(&Feedback{Policy: "injury", Helpful: true}, r.Feedback); diff != "" {
						t.Fatalf("feedback (-want +got):\n%s", diff)
					}
				}},
		}},
		{"no good match is said, with a way to ask staff and the categories", consented(stranger), []turn{
			{in: from(text("今天天气怎么样")), replies: []string{MsgPolicyNone}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if r.Query == nil || r.Query.Found || len(r.Replies[0].Buttons) != 2 || r.Replies[0].Buttons[0][0].Data != dataRequest || r.Replies[0].Buttons[1][0].Data != "pc:0:labour" {
						t.Fatalf("query %+v, buttons %+v", r.Query, r.Replies[0].Buttons)
					}
				}},
		}},
		{"questions of users who have not agreed are not counted", stranger, []turn{
			{in: from(text("loan")), replies: []string{MsgPolicyResults}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if r.Query != nil {
						t.Fatalf("counted %+v without consent", r.Query)
					}
				}},
		}},
		{"a driver's search ranks the drivers' policy first", driver, []turn{
			{in: from(cmd("policy", "injury licence")), replies: []string{MsgPolicyResults}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if got := r.Replies[0].Items[0]["Policy"]; got != "licence" {
						t.Fatalf("first result %q, want licence", got)
					}
				}},
		}},
		{"browse a category, then the role's policies", driver, []turn{
			{in: from(cmd("policy", "")), replies: []string{MsgPolicyMenu}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					rows := r.Replies[0].Buttons
					if rows[1][0].Data != "pr:0" {
						t.Fatalf("policy menu = %+v, want the role's button after the categories", rows)
					}
				}},
			{in: from(tap("pc:0:labour")), replies: []string{MsgPolicyList}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if len(r.Replies[0].Buttons) != 3 || r.Replies[0].Args["Category"] != "labour" {
						t.Fatalf("category page = %+v", r.Replies[0])
					}
				}},
			{in: from(tap("pr:0")), replies: []string{MsgPolicyList}, state: StateIdle},
			{in: from(tap("pc:0:nope")), replies: []string{MsgStaleButton}, state: StateIdle},
			{in: from(tap("pol:gone")), replies: []string{MsgStaleButton}, state: StateIdle},
		}},
		{"a deep link opens a card", stranger, []turn{
			{in: from(cmd("start", "pol_loan")), replies: []string{MsgPolicyCard}, state: StateIdle},
		}},
		{"an open flow keeps its text: a name is not a question", consented(stranger), []turn{
			{in: from(tap(dataRegister)), replies: []string{MsgRegRole}, state: StateRegRole},
			{in: from(tap("role:rider")), replies: []string{MsgRegName}, state: StateRegName},
			{in: from(text("loan")), replies: []string{MsgRegPhone}, state: StateRegPhone},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { play(t, tt.p, nil, tt.turns) })
	}
}

func TestSubscribe(t *testing.T) {
	member := registered(profile(LangZH, false), 1)
	play(t, member, nil, []turn{
		{in: from(cmd("subscribe", "")), replies: []string{MsgSubscribe}, state: StateIdle,
			check: func(t *testing.T, r Result) {
				rows := r.Replies[0].Buttons
				if rows[0][0].Text != MsgButtonSubOn || rows[1][0].Text != MsgButtonSubOff {
					t.Fatalf("subscriptions = %+v, want the role's default (labour) on", rows)
				}
			}},
		{in: from(tap("sub:c:labour")), replies: []string{MsgSubscribe}, state: StateIdle,
			check: func(t *testing.T, r Result) {
				if !r.Profile.SubsChosen || len(r.Profile.Subscriptions) != 0 {
					t.Fatalf("subscriptions = %#v (chosen %v), want an explicit empty choice", r.Profile.Subscriptions, r.Profile.SubsChosen)
				}
			}},
		{in: from(tap("sub:c:money")), replies: []string{MsgSubscribe}, state: StateIdle,
			check: func(t *testing.T, r Result) {
				if diff := cmp.Diff([]string{"money"}, r.Profile.Subscriptions); diff != "" {
					t.Fatalf("subscriptions (-want +got):\n%s", diff)
				}
			}},
		{in: from(tap("sub:done")), replies: []string{MsgSubscribeSaved}, state: StateIdle},
	})
	play(t, profile(LangZH, false), nil, []turn{
		{in: from(cmd("subscribe", "")), replies: []string{MsgPrivacy}, state: StateIdle},
	})
}

func TestInline(t *testing.T) {
	r := Step(NewSession(now), profile(LangZH, false), Input{Kind: KindInline, Chat: ChatOther, Text: "loan", Now: now}, world(nil))
	want := []Reply{{Kind: AnswerInline, Items: []map[string]string{{"Policy": "loan"}}}}
	if diff := cmp.Diff(want, r.Replies); diff != "" || r.SessionChanged {
		t.Errorf("inline answer (-want +got):\n%s", diff)
	}
	r = Step(NewSession(now), profile(LangZH, false), Input{Kind: KindInline, Chat: ChatOther, Now: now}, world(nil))
	if n := len(r.Replies[0].Items); n != 3 {
		t.Errorf("an empty inline query lists %d policies, want all 3 for a stranger", n)
	}
}

func TestNormalizeQuery(t *testing.T) {
	for in, want := range map[string]string{
		"  骑手受伤了，谁管？？ ":          "骑手受伤了 谁管",
		"How   do I GET a loan?": "how do i get a loan",
		"😀😀":                     "",
		"/":                      "",
	} {
		if got := normalizeQuery(in); got != want {
			t.Errorf("normalizeQuery(%q) = %q, want %q", in, got, want)
		}
	}
	if got := normalizeQuery(string(make([]rune, 0)) + "长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长"); len([]rune(got)) != maxQuery {
		t.Errorf("normalizeQuery of a long question keeps %d characters, want %d", len([]rune(got)), maxQuery)
	}
}

// TestLongQuestionIsQuotedShort: a 5,000-character question is answered with a quote of
// it short enough for any reply.
func TestLongQuestionIsQuotedShort(t *testing.T) {
	long := strings.Repeat("长", 5000)
	r := Step(NewSession(now), consented(profile(LangZH, false)), from(text(long)), world(nil))
	if got := r.Replies[0].Args["Query"]; len([]rune(got)) != maxQuote || !strings.HasSuffix(got, "…") {
		t.Errorf("quoted %d characters (%q…), want %d ending in …", len([]rune(got)), got[:12], maxQuote)
	}
	if q := r.Query; q == nil || len([]rune(q.Text)) != maxQuery {
		t.Errorf("counted query %+v, want it cut to %d characters", q, maxQuery)
	}
}

// TestPolicyMaybe: without a good match, policies about part of the question are offered
// as "maybe", with the categories, and the question counts as unanswered.
func TestPolicyMaybe(t *testing.T) {
	w := world(nil)
	w.Policies = maybePolicies{testPolicies{}}
	r := Step(NewSession(now), consented(profile(LangZH, false)), from(text("loan and more")), w)
	rep := r.Replies[0]
	if rep.Text != MsgPolicyMaybe || len(rep.Items) != 1 || rep.Buttons[0][0].Data != "pol:loan" || rep.Buttons[1][0].Data != dataRequest || rep.Buttons[2][0].Data != "pc:0:labour" {
		t.Fatalf("reply = %+v", rep)
	}
	if r.Query == nil || r.Query.Found {
		t.Errorf("query %+v, want counted as unanswered", r.Query)
	}
}

// maybePolicies finds what testPolicies finds, but never a good match.
type maybePolicies struct{ testPolicies }

func (m maybePolicies) Search(text, role string, now time.Time) ([]string, bool) {
	ids, _ := m.testPolicies.Search(text, role, now)
	return ids, false
}

// TestReviewFindings pins the cases a review found.
func TestReviewFindings(t *testing.T) {
	member := registered(profile(LangZH, false), 1)
	t.Run("a reply-keyboard button left on screen is not a question", func(t *testing.T) {
		r := play(t, member, nil, []turn{
			{in: from(private(Input{Kind: KindText, Text: "📋 站点列表", Button: MsgButtonPointList})), replies: []string{MsgPointList}, state: StateIdle},
			{in: from(private(Input{Kind: KindText, Text: "⬅️ 返回", Button: MsgButtonBack})), replies: []string{MsgMenu, MsgMenu}, state: StateIdle},
		})
		if r.Query != nil {
			t.Errorf("a button was counted as a question: %+v", r.Query)
		}
	})
	t.Run("a QR check-in waits through the register button", func(t *testing.T) {
		play(t, consented(profile(LangZH, false)), nil, []turn{
			{in: from(cmd("start", "cp_a")), replies: []string{MsgRegisterFirst, MsgRegRole}, state: StateRegRole},
			{in: from(cmd("me", "")), replies: []string{MsgMeUnregistered}, state: StateRegRole},
			{in: from(tap(dataRegister)), replies: []string{MsgRegisterFirst, MsgRegRole}, state: StateRegRole},
			{in: from(tap("role:rider")), replies: []string{MsgRegName}, state: StateRegName},
			{in: from(text("王芳")), replies: []string{MsgRegPhone}, state: StateRegPhone},
			{in: contact(userID, "+8613800000000"), replies: []string{MsgRegDone, MsgCheckInDone}, state: StateIdle, check: checkedIn("a", ViaQR, -1)},
		})
	})
	t.Run("distance only forgets a location kept before", func(t *testing.T) {
		p := member
		p.LocConsent = "yes"
		play(t, p, nil, []turn{
			{in: location(0.001), replies: []string{MsgNearest}, state: StateIdle},
			{in: from(tap(dataLocDrop)), replies: []string{MsgLocDropped}, state: StateIdle,
				check: func(t *testing.T, r Result) {
					if _, kept := r.Session.Data[keyLat]; kept {
						t.Fatalf("session still holds the location: %v", r.Session.Data)
					}
				}},
		})
	})
	t.Run("not now after agreeing is a stale button, not a false promise", func(t *testing.T) {
		play(t, member, nil, []turn{
			{in: from(tap(dataConsentNo)), replies: []string{MsgStaleButton}, state: StateIdle},
		})
	})
	t.Run("a location keeps the QR check-in of a user who has not agreed", func(t *testing.T) {
		play(t, profile(LangZH, false), nil, []turn{
			{in: from(cmd("start", "cp_b")), replies: []string{MsgWelcome, MsgPrivacyCheckIn}, state: StateIdle},
			{in: location(0.001), replies: []string{MsgNearest}, state: StateIdle},
			{in: from(tap(dataConsentYes)), replies: []string{MsgConsentThanks, MsgRegisterFirst, MsgRegRole}, state: StateRegRole},
		})
	})
}
