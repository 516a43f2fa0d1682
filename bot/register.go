package bot

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Callback data of consent and registration.
const (
	dataConsentYes = "consent:yes"
	dataConsentNo  = "consent:no"
	dataRegister   = "reg:start"
	dataRegBack    = "reg:back"
	// dataNameTG takes the sender's Telegram first name as their name.
	dataNameTG = "reg:tgname"
	rolePrefix = "role:"
)

// The roles a member may have, in the order the picker shows them. Their labels are the
// message ids "role_" + role.
var Roles = []string{"courier", "rider", "ride_hailing", "truck", "merchant", "other"}

// Data keys of the registration flow.
const (
	keyIntent = "intent" // point to check in at once registered
	keyVia    = "via"    // how that check-in was asked for
	keyMeters = "m"      // and the distance to its point, -1 when not by location
	keyEdit   = "edit"   // "1" when one field is edited from /me
	keyRole   = "role"
	keyName   = "name"
)

// maxName is the longest name accepted, in characters.
const maxName = 30

// consentTap handles the privacy notice's buttons. It reports false for other data.
func (r *Result) consentTap(in Input, w World, data string) bool {
	switch data {
	case dataConsentYes:
		if !r.Profile.Consented() {
			at := in.Now
			r.Profile.ConsentAt = &at
			r.ProfileChanged = true
		}
		r.edit(MsgConsentThanks, nil, nil)
		if r.Session.Data[keyAfter] == afterRequest {
			r.requestStart(w)
			return true
		}
		if v, ok := r.kept(); ok && w.Points.Exists(v.point) {
			r.checkInAt(in, w, v)
			return true
		}
		if r.Profile.Member == nil {
			r.send(MsgRegisterOffer, nil, [][]Button{
				{{Text: MsgButtonRegister, Data: dataRegister}},
				{{Text: MsgButtonMenu, Data: dataMenu}},
			})
			return true
		}
		r.send(MsgMenu, nil, menu())
	case dataConsentNo:
		if r.Profile.Consented() {
			// An old notice tapped after agreeing: declining is /forgetme's job.
			r.answer(MsgStaleButton)
			return true
		}
		r.reset()
		r.edit(MsgConsentDeclined, nil, menu())
	case dataRegister:
		if !r.Profile.Consented() {
			r.askConsent(in, visit{})
			return true
		}
		if r.Profile.Member != nil {
			r.me()
			return true
		}
		// A check-in waiting for the registration (a scanned QR code) survives the detour.
		v, _ := r.kept()
		r.startRegistration(v)
	default:
		return false
	}
	return true
}

// askConsent shows the privacy notice, keeping a check-in to do once the user agrees.
func (r *Result) askConsent(in Input, v visit) {
	r.reset()
	r.keep(v)
	r.privacy()
}

// startRegistration asks for the role, keeping a check-in to do at the end.
func (r *Result) startRegistration(v visit) {
	r.enter(StateRegRole)
	if v.point != "" {
		r.keep(v)
		r.send(MsgRegisterFirst, map[string]string{"Point": v.point}, nil)
	}
	r.askRole()
}

func (r *Result) askRole() {
	r.send(MsgRegRole, nil, roleButtons())
}

func roleButtons() [][]Button {
	return grid(Roles, 2, func(role string) Button { return Button{Text: roleLabel(role), Data: rolePrefix + role} })
}

// grid lays out one button per id, perRow to a row.
func grid(ids []string, perRow int, button func(string) Button) [][]Button {
	var rows [][]Button
	for i := 0; i < len(ids); i += perRow {
		var row []Button
		for _, id := range ids[i:min(i+perRow, len(ids))] {
			row = append(row, button(id))
		}
		rows = append(rows, row)
	}
	return rows
}

func roleLabel(role string) string { return "role_" + role }

// askName asks for the name, offering the Telegram first name when it would be accepted.
func (r *Result) askName(in Input) {
	rows := [][]Button{}
	if _, problem := validName(in.Name); problem == "" {
		rows = append(rows, []Button{{Text: MsgButtonUseName, Args: map[string]string{"Name": in.Name}, Data: dataNameTG}})
	}
	rows = append(rows, []Button{{Text: MsgButtonBack, Data: dataRegBack}})
	r.send(MsgRegName, nil, rows)
}

func (r *Result) askPhone() {
	r.ask(MsgRegPhone, nil, phoneKeyboard())
}

// phoneKeyboard shares the user's own contact, or goes back.
func phoneKeyboard() [][]Button {
	return [][]Button{{{Text: MsgButtonSharePhone, RequestContact: true}}, {{Text: MsgButtonBack}}}
}

// registering reports whether a registration step (or the edit of one of its fields) is open.
func (r *Result) registering() bool {
	switch r.Session.State {
	case StateRegRole, StateRegName, StateRegPhone:
		return true
	}
	return false
}

// editing reports whether the open step edits one field from /me.
func (r *Result) editing() bool { return r.Session.Data[keyEdit] == "1" }

// registrationTap handles the buttons of the registration steps.
func (r *Result) registrationTap(in Input, w World, data string) bool {
	switch {
	case strings.HasPrefix(data, rolePrefix):
		role := strings.TrimPrefix(data, rolePrefix)
		if !slices.Contains(Roles, role) || r.Session.State != StateRegRole {
			r.answer(MsgStaleButton)
			return true
		}
		r.takeRole(in, role)
	case data == dataNameTG:
		if r.Session.State != StateRegName {
			r.answer(MsgStaleButton)
			return true
		}
		r.takeName(in, w, in.Name)
	case data == dataRegBack:
		r.back(in)
	default:
		return false
	}
	return true
}

// registration handles what a user sends during a registration step.
func (r *Result) registration(in Input, w World) {
	if isBack(in) {
		r.back(in)
		return
	}
	switch r.Session.State {
	case StateRegRole:
		if role, ok := parseRole(in.Text); ok && in.Kind == KindText {
			r.takeRole(in, role)
			return
		}
		r.send(MsgRegRoleRetry, nil, roleButtons())
	case StateRegName:
		if in.Kind != KindText {
			r.send(MsgRegNameRetry, nil, nil)
			return
		}
		r.takeName(in, w, in.Text)
	case StateRegPhone:
		switch {
		case in.Kind == KindContact && in.Contact != nil && in.Contact.UserID == in.FromID && in.FromID != 0:
			r.takePhone(in, w, in.Contact.Phone)
		case in.Kind == KindContact:
			r.ask(MsgRegPhoneNotYours, nil, phoneKeyboard())
		default:
			r.ask(MsgRegPhoneRetry, nil, phoneKeyboard())
		}
	}
}

func (r *Result) takeRole(in Input, role string) {
	if r.editing() {
		if m := r.Profile.Member; m != nil && m.Role != role {
			r.RoleChanged = [2]string{m.Role, role}
			m.Role = role
			r.ProfileChanged = true
		}
		r.saved()
		return
	}
	r.set(keyRole, role)
	r.Session.State = StateRegName
	r.askName(in)
}

func (r *Result) takeName(in Input, w World, s string) {
	name, problem := validName(s)
	if problem != "" {
		r.send(problem, map[string]string{"Max": strconv.Itoa(maxName)}, nil)
		return
	}
	if r.editing() {
		if m := r.Profile.Member; m != nil {
			m.Name = name
			r.ProfileChanged = true
		}
		r.saved()
		return
	}
	r.set(keyName, name)
	r.Session.State = StateRegPhone
	r.askPhone()
}

func (r *Result) takePhone(in Input, w World, raw string) {
	phone := normalizePhone(raw)
	if r.editing() {
		if m := r.Profile.Member; m != nil {
			m.Phone = phone
			r.ProfileChanged = true
		}
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgSaved, RemoveKeyboard: true})
		r.reset()
		r.me()
		return
	}
	d := r.Session.Data
	r.Profile.Member = &Member{Role: d[keyRole], Name: d[keyName], Phone: phone, RegisteredAt: in.Now}
	r.ProfileChanged = true
	r.Registered = d[keyRole]
	v, pending := r.kept()
	r.reset()
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgRegDone,
		Args: map[string]string{"Name": r.Profile.Member.Name}, RemoveKeyboard: true})
	if pending && w.Points.Exists(v.point) {
		r.checkIn(in, w, v, nil)
		return
	}
	r.send(MsgMenu, nil, menu())
}

// back goes one registration step back; from the first step (or an edit) it leaves.
func (r *Result) back(in Input) {
	if r.editing() {
		r.reset()
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgCancelled, RemoveKeyboard: true})
		r.me()
		return
	}
	switch r.Session.State {
	case StateRegPhone:
		r.Session.State = StateRegName
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgBackTo, RemoveKeyboard: true})
		r.askName(in)
	case StateRegName:
		r.Session.State = StateRegRole
		r.askRole()
	default:
		r.reset()
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgCancelled, RemoveKeyboard: true})
		r.send(MsgMenu, nil, menu())
	}
}

// saved ends a one-field edit and shows the profile again.
func (r *Result) saved() {
	r.reset()
	r.send(MsgSaved, nil, nil)
	r.me()
}

// isBack reports whether the user asked to go one step back.
func isBack(in Input) bool {
	if in.Kind != KindText {
		return false
	}
	if in.Button == MsgButtonBack {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(in.Text)) {
	case "back", "返回", "上一步":
		return true
	}
	return false
}

// parseRole understands a role typed in words.
func parseRole(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "快递员", "快递", "快递小哥", "courier":
		return "courier", true
	case "外卖骑手", "骑手", "外卖", "外卖小哥", "配送员", "rider", "food delivery", "delivery rider":
		return "rider", true
	case "网约车司机", "网约车", "专车司机", "ride-hailing", "ride hailing", "ride-hailing driver", "driver":
		return "ride_hailing", true
	case "货车司机", "货车", "货运司机", "卡车司机", "truck", "truck driver":
		return "truck", true
	case "商户", "个体户", "个体工商户", "店主", "老板", "merchant", "shop owner":
		return "merchant", true
	case "其他", "其它", "other":
		return "other", true
	}
	return "", false
}

// validName trims a typed name and checks it: letters of any script, with spaces, "·",
// ".", "-" and "'" between them. It returns the message id of the problem, or "".
func validName(s string) (string, string) {
	name := strings.Join(strings.Fields(s), " ")
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", MsgRegNameRetry
	case n > maxName:
		return "", MsgRegNameTooLong
	}
	letters := 0
	for _, c := range name {
		switch {
		case unicode.IsLetter(c) || unicode.Is(unicode.Mn, c):
			letters++
		case c == ' ' || c == '·' || c == '•' || c == '.' || c == '-' || c == '\'':
		default:
			return "", MsgRegNameInvalid
		}
	}
	if letters == 0 {
		return "", MsgRegNameInvalid
	}
	return name, ""
}

var phoneJunk = regexp.MustCompile(`[^0-9+]`)

// normalizePhone keeps digits and a leading "+" of a shared contact's number (Telegram
// sends it with or without the "+").
func normalizePhone(s string) string {
	p := phoneJunk.ReplaceAllString(s, "")
	if p != "" && p[0] != '+' {
		p = "+" + p
	}
	return p
}
