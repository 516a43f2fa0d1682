package bot

import (
	"math"
	"slices"
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

// world is the world of a test: the test points, the given history, a 2 h window.
func world(h []CheckIn) World {
	return World{Points: testPoints{}, History: h, CheckInWindow: 2 * time.Hour}
}

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
