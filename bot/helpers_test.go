package bot

import (
	"math"
	"slices"
	"strings"
	"time"
)

// testPoints is a directory of three points on a line of longitude: a 1 km apart from b,
// c 5 km from a; c is closed.
type testPoints struct{}

var testIDs = []string{"a", "b", "c", "d", "e", "f", "g"}

func (testPoints) Exists(id string) bool { return slices.Contains(testIDs, id) }
func (testPoints) IDs() []string         { return testIDs }
func (testPoints) Nearest(lat, lon float64, n int, at time.Time) []Near {
	// Distances from the user's latitude to a (0), b (+0.009°) and c (+0.045°), in metres.
	m := func(plat float64) int { return int(math.Round(math.Abs(lat-plat) * 111_195)) }
	all := []Near{{ID: "a", Meters: m(0), Open: true}, {ID: "b", Meters: m(0.009), Open: true}, {ID: "c", Meters: m(0.045)}}
	slices.SortFunc(all, func(x, y Near) int { return x.Meters - y.Meters })
	return all[:min(n, len(all))]
}

// world is the world of a test: the test points and policies, the given history, a 2 h
// window.
func world(h []CheckIn) World {
	return World{Points: testPoints{}, Policies: testPolicies{}, History: h, CheckInWindow: 2 * time.Hour, Desk: testDesk{}}
}

// testPolicies: "injury" (labour), "loan" (money), "licence" (labour, drivers'); a search
// finds the policies whose id is in the question, and puts drivers' first for drivers.
type testPolicies struct{}

var testPolicyIDs = []string{"injury", "licence", "loan"}

func (testPolicies) Exists(id string) bool { return slices.Contains(testPolicyIDs, id) }
func (testPolicies) Search(text, role string, now time.Time) ([]string, bool) {
	var ids []string
	for _, id := range testPolicyIDs {
		if strings.Contains(text, id) {
			ids = append(ids, id)
		}
	}
	if role == "ride_hailing" && slices.Contains(ids, "licence") {
		ids = append([]string{"licence"}, slices.DeleteFunc(ids, func(s string) bool { return s == "licence" })...)
	}
	return ids, len(ids) > 0
}
func (testPolicies) Categories() []string { return []string{"labour", "money"} }
func (testPolicies) InCategory(c string, now time.Time) []string {
	if c == "labour" {
		return []string{"injury", "licence"}
	}
	return []string{"loan"}
}
func (testPolicies) ForRole(role string, now time.Time) []string { return []string{"licence"} }
func (testPolicies) RoleCategories(role string) []string         { return []string{"labour"} }

func consented(p Profile) Profile {
	at := now.Add(-time.Hour)
	p.ConsentAt = &at
	return p
}

func registered(p Profile, checkIns int) Profile {
	p = consented(p)
	p.Member = &Member{Role: "rider", Name: "王芳", Phone: "+8613800000000", RegisteredAt: now.Add(-time.Hour),
		CheckIns: checkIns, OptionalOffered: checkIns > 0}
	return p
}

func privacyReply() Reply {
	return Reply{Kind: SendNew, Text: MsgPrivacy, Buttons: [][]Button{{
		{Text: MsgButtonAgree, Data: dataConsentYes}, {Text: MsgButtonNotNow, Data: dataConsentNo},
	}}}
}

func welcomeReplies(name, lang string) []Reply {
	return []Reply{
		{Kind: SendNew, Text: MsgWelcome, Args: map[string]string{"Name": name}, Buttons: [][]Button{{langSwitch(lang)}}},
		privacyReply(),
	}
}
