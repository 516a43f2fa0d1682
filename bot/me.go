package bot

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Callback data of the optional fields and of /me.
const (
	dataOptional   = "opt:start"
	dataOptSkip    = "opt:skip"
	dataPartyYes   = "party:yes"
	dataPartyNo    = "party:no"
	employerPrefix = "emp:"
	homePrefix     = "h:"
	homePagePrefix = "hp:"
	dataMeEdit     = "me:edit"
	histPrefix     = "me:hist:"
	editPrefix     = "edit:"
	dataForget     = "me:forget"
	dataForgetYes  = "forget:yes"
	dataForgetNo   = "forget:no"
)

// Employers are the platforms offered as buttons; their labels are "employer_" + id. Any
// other employer is typed.
var Employers = []string{"meituan", "eleme", "didi", "lalamove", "sf", "jd"}

// maxField is the longest free-text optional field, in characters.
const maxField = 40

// historyPerPage is the page size of the check-in history in /me.
const historyPerPage = 5

// editable are the fields /me can edit, in the order its picker shows them; labels are
// "field_" + name.
var editable = []string{"role", "name", "phone", "party", "branch", "employer", "home"}

// me shows the profile with its actions; users who have not agreed or registered are
// asked to first.
func (r *Result) me() {
	switch m := r.Profile.Member; {
	case !r.Profile.Consented():
		r.privacy()
	case m == nil:
		r.send(MsgMeUnregistered, nil, [][]Button{
			{{Text: MsgButtonRegister, Data: dataRegister}},
			{{Text: MsgButtonMenu, Data: dataMenu}},
		})
	default:
		r.send(MsgMeCard, memberArgs(m), [][]Button{
			{{Text: MsgButtonEdit, Data: dataMeEdit}, {Text: MsgButtonHistory, Data: histPrefix + "0"}},
			{{Text: MsgButtonForget, Data: dataForget}},
			{{Text: MsgButtonMenu, Data: dataMenu}},
		})
	}
}

// memberArgs are the template arguments of a profile card. Role, Employer, Party and
// Point name ids that handlers render in the user's language.
func memberArgs(m *Member) map[string]string {
	return map[string]string{
		"Name": m.Name, "Phone": m.Phone, "Role": m.Role, "Party": m.Party, "Branch": m.Branch,
		"Employer": m.Employer, "Point": m.HomePoint, "CheckIns": strconv.Itoa(m.CheckIns),
	}
}

// forgetConfirm asks before deleting everything.
func (r *Result) forgetConfirm() {
	if !r.Profile.Consented() && r.Profile.Member == nil {
		r.send(MsgForgetNothing, nil, menu())
		return
	}
	r.send(MsgForgetConfirm, nil, [][]Button{{
		{Text: MsgButtonForgetYes, Data: dataForgetYes}, {Text: MsgButtonForgetNo, Data: dataForgetNo},
	}})
}

// meTap handles the buttons of /me. It reports false for other data.
func (r *Result) meTap(in Input, w World, data string) bool {
	m := r.Profile.Member
	switch {
	case data == dataForget:
		r.forgetConfirm()
	case data == dataForgetYes:
		r.Forget = true
		if m != nil {
			r.Forgotten = m.Role
		}
		r.forgetTickets(r.Profile)
		r.Profile = Profile{Version: ProfileVersion, Lang: r.Profile.Lang}
		r.ProfileChanged = false
		r.Session = NewSession(in.Now)
		r.edit(MsgForgotten, nil, nil)
	case data == dataForgetNo:
		r.edit(MsgForgetKept, nil, menu())
	case m == nil && (data == dataMeEdit || strings.HasPrefix(data, histPrefix) || strings.HasPrefix(data, editPrefix)):
		r.answer(MsgStaleButton)
	case data == dataMeEdit:
		r.edit(MsgEditPick, nil, grid(editable, 2, func(f string) Button { return Button{Text: "field_" + f, Data: editPrefix + f} }))
	case strings.HasPrefix(data, histPrefix):
		page, err := strconv.Atoi(strings.TrimPrefix(data, histPrefix))
		if err != nil {
			r.answer(MsgStaleButton)
			return true
		}
		r.history(w, page)
	case strings.HasPrefix(data, editPrefix):
		r.startEdit(in, w, strings.TrimPrefix(data, editPrefix))
	default:
		return false
	}
	return true
}

// history shows a page of the latest check-ins, replacing the tapped message.
func (r *Result) history(w World, page int) {
	if len(w.History) == 0 {
		r.edit(MsgHistoryEmpty, nil, [][]Button{{{Text: MsgButtonCheckIn, Data: dataCheckIn}}})
		return
	}
	pages := (len(w.History) + historyPerPage - 1) / historyPerPage
	page = min(max(page, 0), pages-1)
	var items []map[string]string
	for _, h := range w.History[page*historyPerPage : min(len(w.History), (page+1)*historyPerPage)] {
		items = append(items, map[string]string{"Point": h.Point, "At": h.At.Format(time.RFC3339)})
	}
	var nav []Button
	if page > 0 {
		nav = append(nav, Button{Text: MsgButtonPrev, Data: histPrefix + strconv.Itoa(page-1)})
	}
	if page < pages-1 {
		nav = append(nav, Button{Text: MsgButtonNext, Data: histPrefix + strconv.Itoa(page+1)})
	}
	rows := [][]Button{}
	if len(nav) > 0 {
		rows = append(rows, nav)
	}
	rows = append(rows, []Button{{Text: MsgButtonMe, Data: dataMe}})
	r.Replies = append(r.Replies, Reply{Kind: EditOrigin, Text: MsgHistory, Item: MsgHistoryItem, Items: items,
		Args: map[string]string{"Page": strconv.Itoa(page + 1), "Pages": strconv.Itoa(pages)}, Buttons: rows})
}

// startEdit opens the step of one field, marked as an edit so that it returns to /me.
func (r *Result) startEdit(in Input, w World, field string) {
	steps := map[string]State{
		"role": StateRegRole, "name": StateRegName, "phone": StateRegPhone, "party": StateOptParty,
		"branch": StateOptBranch, "employer": StateOptEmployer, "home": StateOptHome,
	}
	st, ok := steps[field]
	if !ok {
		r.answer(MsgStaleButton)
		return
	}
	r.enter(st)
	r.set(keyEdit, "1")
	r.askStep(in, w, 0)
}

// askStep asks the question of the current registration or optional step.
func (r *Result) askStep(in Input, w World, page int) {
	switch r.Session.State {
	case StateRegRole:
		r.askRole()
	case StateRegName:
		r.askName(in)
	case StateRegPhone:
		r.askPhone()
	case StateOptParty:
		r.send(MsgOptParty, nil, [][]Button{
			{{Text: MsgButtonYes, Data: dataPartyYes}, {Text: MsgButtonNo, Data: dataPartyNo}},
			{{Text: MsgButtonSkip, Data: dataOptSkip}},
		})
	case StateOptBranch:
		r.send(MsgOptBranch, map[string]string{"Max": strconv.Itoa(maxField)}, [][]Button{{{Text: MsgButtonSkip, Data: dataOptSkip}}})
	case StateOptEmployer:
		rows := grid(Employers, 3, func(e string) Button { return Button{Text: "employer_" + e, Data: employerPrefix + e} })
		rows = append(rows, []Button{{Text: MsgButtonSkip, Data: dataOptSkip}})
		r.send(MsgOptEmployer, nil, rows)
	case StateOptHome:
		rows, _, _ := pageButtons(w.Points.IDs(), page, homePrefix, homePagePrefix)
		rows = append(rows, []Button{{Text: MsgButtonSkip, Data: dataOptSkip}})
		r.send(MsgOptHome, nil, rows)
	}
}

// optionalTap handles the buttons of the optional fields.
func (r *Result) optionalTap(in Input, w World, data string) bool {
	m := r.Profile.Member
	switch {
	case data == dataOptional:
		if m == nil {
			r.answer(MsgStaleButton)
			return true
		}
		r.enter(StateOptParty)
		r.askStep(in, w, 0)
	case data == dataOptSkip:
		if !r.optionalOpen() {
			r.answer(MsgStaleButton)
			return true
		}
		r.nextOptional(in, w)
	case data == dataPartyYes, data == dataPartyNo:
		if r.Session.State != StateOptParty || m == nil {
			r.answer(MsgStaleButton)
			return true
		}
		m.Party = strings.TrimPrefix(data, "party:")
		r.ProfileChanged = true
		if m.Party == "yes" && !r.editing() {
			r.Session.State = StateOptBranch
			r.askStep(in, w, 0)
			return true
		}
		r.nextOptional(in, w)
	case strings.HasPrefix(data, employerPrefix):
		e := strings.TrimPrefix(data, employerPrefix)
		if r.Session.State != StateOptEmployer || m == nil || !slices.Contains(Employers, e) {
			r.answer(MsgStaleButton)
			return true
		}
		m.Employer = e
		r.ProfileChanged = true
		r.nextOptional(in, w)
	case strings.HasPrefix(data, homePagePrefix):
		page, err := strconv.Atoi(strings.TrimPrefix(data, homePagePrefix))
		if err != nil || r.Session.State != StateOptHome {
			r.answer(MsgStaleButton)
			return true
		}
		rows, _, _ := pageButtons(w.Points.IDs(), page, homePrefix, homePagePrefix)
		rows = append(rows, []Button{{Text: MsgButtonSkip, Data: dataOptSkip}})
		r.edit(MsgOptHome, nil, rows)
	case strings.HasPrefix(data, homePrefix):
		id := strings.TrimPrefix(data, homePrefix)
		if r.Session.State != StateOptHome || m == nil || !w.Points.Exists(id) {
			r.answer(MsgStaleButton)
			return true
		}
		m.HomePoint = id
		r.ProfileChanged = true
		r.nextOptional(in, w)
	default:
		return false
	}
	return true
}

func (r *Result) optionalOpen() bool {
	switch r.Session.State {
	case StateOptParty, StateOptBranch, StateOptEmployer, StateOptHome:
		return r.Profile.Member != nil
	}
	return false
}

// optional handles what a user types during an optional step.
func (r *Result) optional(in Input, w World) {
	m := r.Profile.Member
	if m == nil {
		r.reset()
		r.send(MsgUnknown, nil, menu())
		return
	}
	switch st := r.Session.State; {
	case (st == StateOptBranch || st == StateOptEmployer) && in.Kind == KindText:
		v, problem := validField(in.Text)
		if problem != "" {
			r.send(problem, map[string]string{"Max": strconv.Itoa(maxField)}, nil)
			return
		}
		if st == StateOptBranch {
			m.Branch = v
		} else {
			m.Employer = v
		}
		r.ProfileChanged = true
		r.nextOptional(in, w)
	default:
		r.send(MsgOptUseButtons, nil, nil)
		r.askStep(in, w, 0)
	}
}

// nextOptional moves to the next optional step; an edit ends after its one field.
func (r *Result) nextOptional(in Input, w World) {
	if r.editing() {
		r.saved()
		return
	}
	next := map[State]State{
		StateOptParty: StateOptEmployer, StateOptBranch: StateOptEmployer,
		StateOptEmployer: StateOptHome, StateOptHome: StateIdle,
	}[r.Session.State]
	if next == StateIdle || next == "" {
		r.reset()
		r.send(MsgOptDone, nil, menu())
		return
	}
	r.Session.State = next
	r.askStep(in, w, 0)
}

// validField checks a short free-text field: one line of printable text.
func validField(s string) (string, string) {
	v := strings.Join(strings.Fields(s), " ")
	switch n := utf8.RuneCountInString(v); {
	case n == 0:
		return "", MsgFieldInvalid
	case n > maxField:
		return "", MsgFieldTooLong
	}
	letters := 0
	for _, c := range v {
		if !unicode.IsPrint(c) {
			return "", MsgFieldInvalid
		}
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			letters++
		}
	}
	if letters == 0 {
		return "", MsgFieldInvalid
	}
	return v, ""
}
