package bot

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Callback data of the policy knowledge base (a policy id is at most 48 bytes).
const (
	dataPolicies     = "menu:policy"
	policyPrefix     = "pol:" // show a policy's card
	categoryPrefix   = "pc:"  // "pc:<page>:<category>", a page of a category
	rolePolicyPrefix = "pr:"  // "pr:<page>", a page of the policies for the user's role
	feedbackPrefix   = "fb:"  // "fb:y:<id>" or "fb:n:<id>"
	subscribePrefix  = "sub:"
	toggleCategory   = "sub:c:" // toggle a category's notices
	dataSubscribe    = "sub:menu"
	dataSubscribeOK  = "sub:done"
)

// PolicyPayload starts the deep-link payload that opens a policy's card: /start pol_<id>.
const PolicyPayload = "pol_"

// policiesPerPage is the page size of a policy list; searchShown how many hits a search lists.
const (
	policiesPerPage = 6
	searchShown     = 5
	maybeShown      = 3
)

// maxQuery is how much of a question is kept for the statistics, in characters.
const maxQuery = 50

// Policies is the knowledge base as the conversation sees it. Lists leave out expired
// policies.
type Policies interface {
	Exists(id string) bool
	// Search returns the best matches for a question, best first, and whether the best
	// one is a good match; without one, the matches are only about part of the question.
	Search(text, role string, now time.Time) (ids []string, good bool)
	// Categories lists the category ids in display order.
	Categories() []string
	InCategory(category string, now time.Time) []string
	ForRole(role string, now time.Time) []string
	// RoleCategories are the categories a role is subscribed to by default.
	RoleCategories(role string) []string
}

// Query is a question asked of the knowledge base, for the statistics: normalised, and
// only from users who agreed to the privacy notice.
type Query struct {
	Text  string
	Found bool
}

// policyMenu offers the ways into the knowledge base: ask in your own words, browse a
// category, or see what concerns your role.
func (r *Result) policyMenu(w World, edit bool) {
	rows := grid(w.Policies.Categories(), 2, func(c string) Button {
		return Button{Text: MsgButtonCategory, Args: map[string]string{"Category": c}, Data: categoryPrefix + "0:" + c}
	})
	if m := r.Profile.Member; m != nil {
		rows = append(rows, []Button{{Text: MsgButtonForMyRole, Args: map[string]string{"Role": m.Role}, Data: rolePolicyPrefix + "0"}})
	}
	rows = append(rows, []Button{{Text: MsgButtonMenu, Data: dataMenu}})
	if edit {
		r.edit(MsgPolicyMenu, nil, rows)
		return
	}
	r.send(MsgPolicyMenu, nil, rows)
}

// search answers a question with the best matching policies, or says honestly that none
// fits and offers the categories.
func (r *Result) search(in Input, w World, text string) {
	role := ""
	if m := r.Profile.Member; m != nil {
		role = m.Role
	}
	ids, good := w.Policies.Search(text, role, in.Now)
	if q := normalizeQuery(text); q != "" && r.Profile.Consented() {
		r.Query = &Query{Text: q, Found: good}
	}
	categories := grid(w.Policies.Categories(), 2, func(c string) Button {
		return Button{Text: MsgButtonCategory, Args: map[string]string{"Category": c}, Data: categoryPrefix + "0:" + c}
	})
	askStaff := []Button{{Text: MsgButtonAskStaff, Data: dataRequest}}
	if !good && len(ids) == 0 {
		r.send(MsgPolicyNone, map[string]string{"Query": quote(text)}, append([][]Button{askStaff}, categories...))
		return
	}
	if !good {
		// Said honestly: nothing fits the whole question, these are about part of it.
		ids = ids[:min(len(ids), maybeShown)]
		items := make([]map[string]string, len(ids))
		rows := make([][]Button, 0, len(ids)+len(categories))
		for i, id := range ids {
			items[i] = map[string]string{"N": strconv.Itoa(i + 1), "Policy": id}
			rows = append(rows, []Button{{Text: MsgButtonPolicy, Args: map[string]string{"N": strconv.Itoa(i + 1), "Policy": id}, Data: policyPrefix + id}})
		}
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgPolicyMaybe, Args: map[string]string{"Query": quote(text)},
			Item: MsgPolicyItem, Items: items, Buttons: append(append(rows, askStaff), categories...)})
		return
	}
	ids = ids[:min(len(ids), searchShown)]
	items := make([]map[string]string, len(ids))
	rows := make([][]Button, 0, len(ids)+1)
	for i, id := range ids {
		items[i] = map[string]string{"N": strconv.Itoa(i + 1), "Policy": id}
		rows = append(rows, []Button{{Text: MsgButtonPolicy, Args: map[string]string{"N": strconv.Itoa(i + 1), "Policy": id}, Data: policyPrefix + id}})
	}
	rows = append(rows, []Button{{Text: MsgButtonPolicies, Data: dataPolicies}})
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgPolicyResults, Args: map[string]string{"Query": quote(text)},
		Item: MsgPolicyItem, Items: items, Buttons: rows})
}

// card shows a policy, with feedback buttons and a way back to its category.
func (r *Result) card(id string) {
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgPolicyCard, Args: map[string]string{"Policy": id},
		Buttons: [][]Button{
			{{Text: MsgButtonHelpful, Data: feedbackPrefix + "y:" + id}, {Text: MsgButtonNotHelpful, Data: feedbackPrefix + "n:" + id}},
			{{Text: MsgButtonPolicies, Data: dataPolicies}, {Text: MsgButtonMenu, Data: dataMenu}},
		}})
}

// policyList shows a page of policies, replacing the tapped message.
func (r *Result) policyList(ids []string, page int, nav func(page int) string, args map[string]string) {
	if len(ids) == 0 {
		r.edit(MsgPolicyListEmpty, args, [][]Button{{{Text: MsgButtonPolicies, Data: dataPolicies}}})
		return
	}
	pages := (len(ids) + policiesPerPage - 1) / policiesPerPage
	page = min(max(page, 0), pages-1)
	var rows [][]Button
	for _, id := range ids[page*policiesPerPage : min(len(ids), (page+1)*policiesPerPage)] {
		rows = append(rows, []Button{{Text: MsgButtonPolicyTitle, Args: map[string]string{"Policy": id}, Data: policyPrefix + id}})
	}
	var navRow []Button
	if page > 0 {
		navRow = append(navRow, Button{Text: MsgButtonPrev, Data: nav(page - 1)})
	}
	if page < pages-1 {
		navRow = append(navRow, Button{Text: MsgButtonNext, Data: nav(page + 1)})
	}
	if len(navRow) > 0 {
		rows = append(rows, navRow)
	}
	rows = append(rows, []Button{{Text: MsgButtonPolicies, Data: dataPolicies}})
	a := map[string]string{"Page": strconv.Itoa(page + 1), "Pages": strconv.Itoa(pages)}
	for k, v := range args {
		a[k] = v
	}
	r.edit(MsgPolicyList, a, rows)
}

// policyTap handles the knowledge base's buttons. It reports false for other data.
func (r *Result) policyTap(in Input, w World, data string) bool {
	switch {
	case data == dataPolicies:
		r.policyMenu(w, true)
	case strings.HasPrefix(data, policyPrefix):
		id := strings.TrimPrefix(data, policyPrefix)
		if !w.Policies.Exists(id) {
			r.answer(MsgStaleButton)
			return true
		}
		r.card(id)
	case strings.HasPrefix(data, categoryPrefix):
		p, cat, ok := strings.Cut(strings.TrimPrefix(data, categoryPrefix), ":")
		page, err := strconv.Atoi(p)
		if !ok || err != nil || !slices.Contains(w.Policies.Categories(), cat) {
			r.answer(MsgStaleButton)
			return true
		}
		r.policyList(w.Policies.InCategory(cat, in.Now), page,
			func(n int) string { return categoryPrefix + strconv.Itoa(n) + ":" + cat },
			map[string]string{"Category": cat, "Role": ""})
	case strings.HasPrefix(data, rolePolicyPrefix):
		page, err := strconv.Atoi(strings.TrimPrefix(data, rolePolicyPrefix))
		m := r.Profile.Member
		if err != nil || m == nil {
			r.answer(MsgStaleButton)
			return true
		}
		r.policyList(w.Policies.ForRole(m.Role, in.Now), page,
			func(n int) string { return rolePolicyPrefix + strconv.Itoa(n) },
			map[string]string{"Category": "", "Role": m.Role})
	case strings.HasPrefix(data, feedbackPrefix):
		verdict, id, ok := strings.Cut(strings.TrimPrefix(data, feedbackPrefix), ":")
		if !ok || (verdict != "y" && verdict != "n") || !w.Policies.Exists(id) {
			r.answer(MsgStaleButton)
			return true
		}
		r.Feedback = &Feedback{Policy: id, Helpful: verdict == "y"}
		r.answer(MsgFeedbackThanks)
	case strings.HasPrefix(data, subscribePrefix):
		r.subscribeTap(w, data)
	default:
		return false
	}
	return true
}

// inlineShown is how many policies an inline query lists.
const inlineShown = 10

// inline answers an inline query with policy cards to share: the best matches of the
// query, or the policies for the user's role (all of them for a stranger) when it is empty.
func (r *Result) inline(in Input, w World) {
	role := ""
	if m := r.Profile.Member; m != nil {
		role = m.Role
	}
	var ids []string
	if q := strings.TrimSpace(in.Text); q != "" {
		ids, _ = w.Policies.Search(q, role, in.Now)
	} else if role != "" {
		ids = w.Policies.ForRole(role, in.Now)
	} else {
		for _, c := range w.Policies.Categories() {
			ids = append(ids, w.Policies.InCategory(c, in.Now)...)
		}
	}
	items := make([]map[string]string, 0, min(len(ids), inlineShown))
	for _, id := range ids[:min(len(ids), inlineShown)] {
		items = append(items, map[string]string{"Policy": id})
	}
	r.Replies = append(r.Replies, Reply{Kind: AnswerInline, Items: items})
}

// Feedback is a "was this helpful?" answer, kept as an anonymous count.
type Feedback struct {
	Policy  string
	Helpful bool
}

// Subscribed returns the categories a profile gets notices about: the user's own choice,
// else their role's defaults (none before registering).
func Subscribed(p Profile, pol Policies) []string {
	if p.SubsChosen {
		return p.Subscriptions
	}
	if m := p.Member; m != nil {
		return pol.RoleCategories(m.Role)
	}
	return nil
}

// subscribe shows the categories with their state; edit replaces the tapped message.
func (r *Result) subscribe(w World, edit bool) {
	if !r.Profile.Consented() {
		r.privacy()
		return
	}
	subs := Subscribed(r.Profile, w.Policies)
	rows := grid(w.Policies.Categories(), 1, func(c string) Button {
		label := MsgButtonSubOff
		if slices.Contains(subs, c) {
			label = MsgButtonSubOn
		}
		return Button{Text: label, Args: map[string]string{"Category": c}, Data: toggleCategory + c}
	})
	rows = append(rows, []Button{{Text: MsgButtonDone, Data: dataSubscribeOK}})
	if edit {
		r.edit(MsgSubscribe, nil, rows)
		return
	}
	r.send(MsgSubscribe, nil, rows)
}

func (r *Result) subscribeTap(w World, data string) {
	cat, toggle := strings.CutPrefix(data, toggleCategory)
	switch {
	case !r.Profile.Consented():
		r.privacy()
	case data == dataSubscribe:
		r.subscribe(w, false)
	case data == dataSubscribeOK:
		r.edit(MsgSubscribeSaved, nil, menu())
	case !toggle || !slices.Contains(w.Policies.Categories(), cat):
		r.answer(MsgStaleButton)
	default:
		subs := slices.Clone(Subscribed(r.Profile, w.Policies))
		if i := slices.Index(subs, cat); i >= 0 {
			subs = slices.Delete(subs, i, i+1)
		} else {
			subs = append(subs, cat)
		}
		// An empty choice is a choice (no notices), not a return to the defaults.
		r.Profile.Subscriptions, r.Profile.SubsChosen = subs, true
		r.ProfileChanged = true
		r.subscribe(w, true)
	}
}

// maxQuote is how much of a question a reply quotes, in characters.
const maxQuote = 40

// quote is a question as a reply repeats it: on one line, and cut short, so that a long
// message never makes the reply too long to send.
func quote(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxQuote {
		return s
	}
	return string([]rune(s)[:maxQuote-1]) + "…"
}

// normalizeQuery is the form a question is counted under: letters in lower case, single
// spaces, at most maxQuery characters; "" for a question with nothing in it. Digits are
// dropped: in a question they are mostly phone numbers, ids and amounts, which the
// statistics must not keep.
func normalizeQuery(s string) string {
	var b strings.Builder
	space := false
	for _, c := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(c):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(c)
		default:
			space = true
		}
		if utf8.RuneCountInString(b.String()) >= maxQuery {
			break
		}
	}
	return b.String()
}
