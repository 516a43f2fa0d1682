package bot

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Broadcasts, the staff's side. An admin replies to a message of the staff group with
// /broadcast: the message is snapshotted (text and entities, or the file id), the admin
// picks the audience, previews it (the notice copied to their private chat), then sends or
// schedules it. Creating the broadcast, and pausing, resuming or stopping it, are orders
// the follow-up step carries out (they live outside the group's slot); it reports back
// with events, and the group's progress message is edited from them.

// Callback data of broadcasts: bc:<op>[:<arg>…] (≤ 64 bytes: ids ≤ 32, values ≤ 32).
const (
	bcPrefix    = "bc:"
	bcMenu      = "m"   // bc:m:<dim> opens a dimension's picker
	bcToggle    = "t"   // bc:t:<dim>:<value>
	bcAll       = "all" // clear every filter
	bcBack      = "b"
	bcPreview   = "pv"
	bcSend      = "go"
	bcSchedule  = "sch"
	bcCancel    = "x"
	bcControl   = "ctl" // bc:ctl:<id>:<pause|resume|stop>
	keyDraftPfx = "bc:"
	keyProgress = "bcm:"
)

// Audience dimensions.
const (
	DimRole     = "r"
	DimPoint    = "p"
	DimCategory = "c"
	DimLang     = "l"
	DimActive   = "a"
)

// ActiveChoices are the "active in the last N days" choices.
var ActiveChoices = []int{7, 30, 90}

// Broadcast actions.
const (
	ActionPause  = "pause"
	ActionResume = "resume"
	ActionStop   = "stop"
)

// Broadcast states, as the delivery engine reports them.
const (
	BroadcastScheduled = "scheduled"
	BroadcastSending   = "sending"
	BroadcastPaused    = "paused"
	BroadcastStopped   = "stopped"
	BroadcastDone      = "done"
)

// Broadcast event ops, from the follow-up step and the delivery engine.
const (
	OpBroadcastCreated  = "bc_created"
	OpBroadcastProgress = "bc_progress"
	OpBroadcastFailed   = "bc_failed"
)

// Snapshot is a message's content as a broadcast keeps it: text and its entities, or a
// file Telegram has (Media "photo" or "document") with its caption in Text.
type Snapshot struct {
	Text     string          `json:"text,omitempty"`
	Entities json.RawMessage `json:"ent,omitempty"`
	Media    string          `json:"media,omitempty"`
	FileID   string          `json:"file,omitempty"`
}

// Selection is an audience: in each dimension any of the values (none: no filter), and
// active in the last Days (0: no filter).
type Selection struct {
	Roles  []string `json:"r,omitempty"`
	Points []string `json:"p,omitempty"`
	Cats   []string `json:"c,omitempty"`
	Langs  []string `json:"l,omitempty"`
	Days   int      `json:"a,omitempty"`
}

// draft is a broadcast being prepared by one admin, kept in the group's session.
type draft struct {
	Content Snapshot  `json:"c"`
	Sel     Selection `json:"s"`
	// AskTime is set while the admin is asked for the time to send it.
	AskTime bool `json:"t,omitempty"`
}

// Order is a broadcast order for the follow-up step: create one, or control one.
type Order struct {
	Op      string    `json:"op"` // "create" or an action
	ID      string    `json:"id,omitempty"`
	Content Snapshot  `json:"content,omitempty"`
	Sel     Selection `json:"sel,omitempty"`
	At      time.Time `json:"at,omitempty"`
	By      int64     `json:"by"`
	ByName  string    `json:"by_name,omitempty"`
}

// OrderCreate is the op of an Order that creates a broadcast.
const OrderCreate = "create"

// BroadcastNews is what the follow-up step and the engine report of a broadcast.
type BroadcastNews struct {
	ID        string           `json:"id"`
	State     string           `json:"state,omitempty"`
	Total     int64            `json:"total"`
	Sent      int64            `json:"sent,omitempty"`
	Failed    int64            `json:"failed,omitempty"`
	Blocked   int64            `json:"blocked,omitempty"`
	Ambiguous int64            `json:"ambiguous,omitempty"`
	Skipped   int64            `json:"skipped,omitempty"`
	Rate      float64          `json:"rate,omitempty"`
	ETA       int64            `json:"eta,omitempty"`      // seconds
	Duration  int64            `json:"duration,omitempty"` // seconds, once finished
	At        time.Time        `json:"at,omitempty"`       // when a scheduled one starts
	Reasons   map[string]int64 `json:"reasons,omitempty"`
	Error     string           `json:"error,omitempty"`
}

// broadcastCommand starts a draft from the message the admin replied to.
func (r *Result) broadcastCommand(in Input) {
	switch {
	case !in.Admin || in.FromID == 0 || in.Anonymous:
		r.send(MsgBroadcastAdminsOnly, nil, nil)
	case in.Reply == nil:
		r.send(MsgBroadcastUsage, nil, nil)
	default:
		r.saveDraft(in.FromID, &draft{Content: *in.Reply})
		r.audience(in.FromID, draft{Content: *in.Reply}, false)
	}
}

func (r *Result) loadDraft(admin int64) (draft, bool) {
	var d draft
	raw, ok := r.Session.Data[keyDraftPfx+strconv.FormatInt(admin, 10)]
	if !ok || json.Unmarshal([]byte(raw), &d) != nil {
		return draft{}, false
	}
	return d, true
}

// saveDraft keeps the admin's draft; nil drops it.
func (r *Result) saveDraft(admin int64, d *draft) {
	key := keyDraftPfx + strconv.FormatInt(admin, 10)
	r.SessionChanged = true
	if d == nil {
		delete(r.Session.Data, key)
		return
	}
	b, _ := json.Marshal(d)
	r.set(key, string(b))
}

// selectionArgs describe a selection to handlers, which render it and count its audience.
func selectionArgs(s Selection) map[string]string {
	return map[string]string{
		"Roles": strings.Join(s.Roles, ","), "Points": strings.Join(s.Points, ","),
		"Cats": strings.Join(s.Cats, ","), "Langs": strings.Join(s.Langs, ","), "Days": strconv.Itoa(s.Days),
	}
}

// audience shows the draft's audience with the dimension pickers.
func (r *Result) audience(admin int64, d draft, edit bool) {
	reply := Reply{Kind: SendNew, Text: MsgBroadcastAudience, Args: selectionArgs(d.Sel), Fetch: FetchAudience,
		Buttons: [][]Button{
			{{Text: MsgButtonBcRole, Data: bcPrefix + bcMenu + ":" + DimRole}, {Text: MsgButtonBcPoint, Data: bcPrefix + bcMenu + ":" + DimPoint}},
			{{Text: MsgButtonBcCategory, Data: bcPrefix + bcMenu + ":" + DimCategory}, {Text: MsgButtonBcLang, Data: bcPrefix + bcMenu + ":" + DimLang}},
			{{Text: MsgButtonBcActive, Data: bcPrefix + bcMenu + ":" + DimActive}, {Text: MsgButtonBcAll, Data: bcPrefix + bcAll}},
			{{Text: MsgButtonBcPreview, Data: bcPrefix + bcPreview}, {Text: MsgButtonBcCancel, Data: bcPrefix + bcCancel}},
		}}
	if edit {
		reply.Kind = EditOrigin
	}
	r.Replies = append(r.Replies, reply)
}

// picker shows one dimension's values, each marked when chosen.
func (r *Result) picker(d draft, dim string, w World) {
	var values []string
	var chosen func(string) bool
	// label is the button's message id, key the argument handlers expand the value with.
	var label, key string
	switch dim {
	case DimRole:
		values, label, key = Roles, MsgButtonBcRoleValue, "Role"
		chosen = func(v string) bool { return slices.Contains(d.Sel.Roles, v) }
	case DimPoint:
		values, label, key = w.Points.IDs(), MsgButtonBcPointValue, "Point"
		chosen = func(v string) bool { return slices.Contains(d.Sel.Points, v) }
	case DimCategory:
		values, label, key = w.Policies.Categories(), MsgButtonBcCategoryValue, "Category"
		chosen = func(v string) bool { return slices.Contains(d.Sel.Cats, v) }
	case DimLang:
		values, label, key = []string{LangZH, LangEN}, MsgButtonBcLangValue, "Lang"
		chosen = func(v string) bool { return slices.Contains(d.Sel.Langs, v) }
	case DimActive:
		for _, n := range ActiveChoices {
			values = append(values, strconv.Itoa(n))
		}
		label, key = MsgButtonBcDaysValue, "Days"
		chosen = func(v string) bool { return v == strconv.Itoa(d.Sel.Days) }
	default:
		r.answer(MsgStaleButton)
		return
	}
	rows := grid(values, 2, func(v string) Button {
		on := ""
		if chosen(v) {
			on = "1"
		}
		return Button{Text: label, Args: map[string]string{key: v, "On": on}, Data: bcPrefix + bcToggle + ":" + dim + ":" + v}
	})
	rows = append(rows, []Button{{Text: MsgButtonBcBack, Data: bcPrefix + bcBack}})
	args := selectionArgs(d.Sel)
	args["Dim"] = dim
	r.Replies = append(r.Replies, Reply{Kind: EditOrigin, Text: MsgBroadcastPick, Args: args, Fetch: FetchAudience, Buttons: rows})
}

// toggle adds or removes a value of a dimension.
func toggle(list []string, v string) []string {
	if i := slices.Index(list, v); i >= 0 {
		return slices.Delete(slices.Clone(list), i, i+1)
	}
	return append(slices.Clone(list), v)
}

// broadcastTap handles the buttons of drafts and of progress messages. It reports false
// for other data.
func (r *Result) broadcastTap(in Input, w World) bool {
	rest, ok := strings.CutPrefix(in.Data, bcPrefix)
	if !ok {
		return false
	}
	if !in.Admin || in.Anonymous {
		r.answer(MsgBroadcastAdminsOnly)
		return true
	}
	if id, action, ok := strings.Cut(strings.TrimPrefix(rest, bcControl+":"), ":"); ok && strings.HasPrefix(rest, bcControl+":") {
		switch action {
		case ActionPause, ActionResume, ActionStop:
			r.Orders = append(r.Orders, Order{Op: action, ID: id, By: in.FromID, ByName: in.Name})
		default:
			r.answer(MsgStaleButton)
		}
		return true
	}
	d, ok := r.loadDraft(in.FromID)
	if !ok {
		r.answer(MsgBroadcastNoDraft)
		return true
	}
	op, arg, _ := strings.Cut(rest, ":")
	switch op {
	case bcMenu:
		r.picker(d, arg, w)
	case bcToggle:
		dim, v, _ := strings.Cut(arg, ":")
		switch dim {
		case DimRole:
			d.Sel.Roles = toggle(d.Sel.Roles, v)
		case DimPoint:
			d.Sel.Points = toggle(d.Sel.Points, v)
		case DimCategory:
			d.Sel.Cats = toggle(d.Sel.Cats, v)
		case DimLang:
			d.Sel.Langs = toggle(d.Sel.Langs, v)
		case DimActive:
			n, _ := strconv.Atoi(v)
			if d.Sel.Days == n {
				n = 0
			}
			d.Sel.Days = n
		}
		r.saveDraft(in.FromID, &d)
		r.picker(d, dim, w)
	case bcAll:
		d.Sel = Selection{}
		r.saveDraft(in.FromID, &d)
		r.audience(in.FromID, d, true)
	case bcBack:
		d.AskTime = false
		r.saveDraft(in.FromID, &d)
		r.audience(in.FromID, d, true)
	case bcPreview:
		c := d.Content
		r.Replies = append(r.Replies,
			Reply{Kind: SendSnapshot, To: in.FromID, Snapshot: &c},
			Reply{Kind: EditOrigin, Text: MsgBroadcastPreview, Args: selectionArgs(d.Sel), Fetch: FetchAudience, Buttons: [][]Button{
				{{Text: MsgButtonBcSend, Data: bcPrefix + bcSend}, {Text: MsgButtonBcSchedule, Data: bcPrefix + bcSchedule}},
				{{Text: MsgButtonBcBack, Data: bcPrefix + bcBack}, {Text: MsgButtonBcCancel, Data: bcPrefix + bcCancel}},
			}})
	case bcSend:
		r.saveDraft(in.FromID, nil)
		r.Orders = append(r.Orders, Order{Op: OrderCreate, Content: d.Content, Sel: d.Sel, By: in.FromID, ByName: in.Name})
		r.edit(MsgBroadcastCreating, nil, nil)
	case bcSchedule:
		d.AskTime = true
		r.saveDraft(in.FromID, &d)
		r.edit(MsgBroadcastAskTime, nil, [][]Button{{{Text: MsgButtonBcBack, Data: bcPrefix + bcBack}}})
	case bcCancel:
		r.saveDraft(in.FromID, nil)
		r.edit(MsgBroadcastCancelled, nil, nil)
	default:
		r.answer(MsgStaleButton)
	}
	return true
}

// scheduleTime takes the time an admin typed for a draft waiting for one; it reports false
// when the admin has no such draft.
func (r *Result) scheduleTime(in Input) bool {
	d, ok := r.loadDraft(in.FromID)
	if !ok || !d.AskTime || in.Kind != KindText {
		return false
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", strings.TrimSpace(in.Text), in.Now.Location())
	if err != nil || !at.After(in.Now) || at.After(in.Now.AddDate(0, 0, 30)) {
		r.send(MsgBroadcastBadTime, nil, nil)
		return true
	}
	r.saveDraft(in.FromID, nil)
	r.Orders = append(r.Orders, Order{Op: OrderCreate, Content: d.Content, Sel: d.Sel, At: at, By: in.FromID, ByName: in.Name})
	r.send(MsgBroadcastCreating, nil, nil)
	return true
}

// newsArgs are the template arguments of a broadcast's progress and report.
func newsArgs(n *BroadcastNews) map[string]string {
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	a := map[string]string{"ID": n.ID, "State": n.State, "Total": i(n.Total), "Sent": i(n.Sent), "Failed": i(n.Failed),
		"Blocked": i(n.Blocked), "Ambiguous": i(n.Ambiguous), "Skipped": i(n.Skipped),
		"Rate": strconv.FormatFloat(n.Rate, 'f', 1, 64), "ETA": i(n.ETA), "Duration": i(n.Duration), "Reasons": ""}
	if !n.At.IsZero() {
		a["At"] = n.At.Format(time.RFC3339)
	}
	var reasons []string
	for _, k := range slices.Sorted(maps.Keys(n.Reasons)) {
		reasons = append(reasons, k+" ×"+i(n.Reasons[k]))
	}
	a["Reasons"] = strings.Join(reasons, "; ")
	return a
}

// controls are the buttons of a progress message in a state.
func controls(n *BroadcastNews) [][]Button {
	b := func(label, action string) Button {
		return Button{Text: label, Data: bcPrefix + bcControl + ":" + n.ID + ":" + action}
	}
	switch n.State {
	case BroadcastSending, BroadcastScheduled:
		return [][]Button{{b(MsgButtonBcPause, ActionPause), b(MsgButtonBcStop, ActionStop)}}
	case BroadcastPaused:
		return [][]Button{{b(MsgButtonBcResume, ActionResume), b(MsgButtonBcStop, ActionStop)}}
	}
	return nil
}

// broadcastEvent handles what the follow-up step and the engine report in the group.
func (r *Result) broadcastEvent(in Input) {
	n := in.Event.BC
	if n == nil {
		return
	}
	key := keyProgress + n.ID
	switch in.Event.Op {
	case OpBroadcastFailed:
		r.send(MsgBroadcastNotCreated, map[string]string{"Error": n.Error}, nil)
	case OpBroadcastCreated:
		if _, ok := r.Session.Data[key]; ok {
			return
		}
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgBroadcastProgress, Args: newsArgs(n), Buttons: controls(n),
			Ref: broadcastRef + n.ID})
	case OpBroadcastProgress:
		id, _ := strconv.Atoi(r.Session.Data[key])
		finished := n.State == BroadcastDone || n.State == BroadcastStopped
		if id != 0 {
			r.Replies = append(r.Replies, Reply{Kind: EditOrigin, Edit: id, Text: MsgBroadcastProgress, Args: newsArgs(n), Buttons: controls(n)})
		}
		if finished {
			r.send(MsgBroadcastReport, newsArgs(n), nil)
			delete(r.Session.Data, key)
			r.SessionChanged = true
		}
	}
}

// broadcastRef is the Ref of a progress message: its id is kept to edit it.
const broadcastRef = "bcp:"

// broadcastResult keeps the id of a progress message.
func (r *Result) broadcastResult(in Input) bool {
	id, ok := strings.CutPrefix(in.Data, broadcastRef)
	if !ok {
		return false
	}
	if in.Text == "" && in.ResultMessage != 0 {
		r.set(keyProgress+id, strconv.Itoa(in.ResultMessage))
		r.SessionChanged = true
	}
	return true
}

// broadcasting handles a staff group's broadcast inputs. It reports false for others.
func (r *Result) broadcasting(in Input, w World) bool {
	switch in.Kind {
	case KindEvent:
		if in.Event == nil || in.Event.BC == nil {
			return false
		}
		r.broadcastEvent(in)
		return true
	case KindResult:
		return r.broadcastResult(in)
	case KindCallback:
		return r.broadcastTap(in, w)
	case KindCommand:
		if in.Command != "broadcast" {
			return false
		}
		r.broadcastCommand(in)
		return true
	case KindText:
		return r.scheduleTime(in)
	}
	return false
}

// StopNoticesData is the callback data of the "stop these notices" button under every
// broadcast.
const StopNoticesData = "nt:off"

// noticesTap turns every notice off: no category subscribed, a choice /subscribe undoes.
func (r *Result) noticesTap(in Input, w World, data string) bool {
	if data != StopNoticesData {
		return false
	}
	r.Profile.Subscriptions, r.Profile.SubsChosen = nil, true
	r.ProfileChanged = true
	r.answer(MsgNoticesOffToast)
	r.send(MsgNoticesOff, nil, [][]Button{{{Text: MsgButtonSubscribe, Data: dataSubscribe}}})
	return true
}
