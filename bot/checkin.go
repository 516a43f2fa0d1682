package bot

import (
	"strconv"
	"strings"
	"time"
)

// CheckInPayload starts the deep-link payload of a point's QR code: /start cp_<point>.
const CheckInPayload = "cp_"

// How a check-in was asked for.
const (
	ViaQR       = "qr"
	ViaLocation = "location"
	ViaList     = "list"
)

// Callback data of check-in.
const (
	checkInPrefix = "ck:"  // check in at a point of the list
	nearPrefix    = "cn:"  // check in at a point of the nearest list
	pagePrefix    = "pts:" // a page of the list, replacing the tapped one
	dataAllPoints = "pts:all"
	dataLocKeep   = "loc:keep"
	dataLocDrop   = "loc:drop"
)

// Data keys of the check-in flow.
const (
	keyLat = "lat" // the shared location, kept only with consent and LocConsent "yes"
	keyLon = "lon"
)

// visit is a check-in asked for: the point, how, and the distance to it when asked by
// location (-1 otherwise). Only this distance is kept, never the location it came from.
type visit struct {
	point, via string
	meters     int
}

// pointsPerPage is the page size of the point list.
const pointsPerPage = 6

// nearestShown is how many points a shared location lists.
const nearestShown = 3

// checkInMenu offers the ways to check in: the QR code is the quickest, a shared location
// lists the nearest points, and the whole list is a tap away.
func (r *Result) checkInMenu() {
	r.enter(StateCheckIn)
	r.ask(MsgCheckInHow, nil, [][]Button{
		{{Text: MsgButtonShareLocation, RequestLocation: true}},
		{{Text: MsgButtonPointList}},
		{{Text: MsgButtonBackToMenu}},
	})
}

// checkInKeyboard handles the text buttons of the check-in keyboard.
func (r *Result) checkInKeyboard(in Input, w World) {
	switch in.Button {
	case MsgButtonPointList:
		r.list(w, 0, false)
	case MsgButtonBackToMenu:
		r.reset()
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgMenu, RemoveKeyboard: true})
		r.send(MsgMenu, nil, menu())
	default:
		r.checkInMenu()
	}
}

// list shows a page of the point list; edit replaces the tapped page.
func (r *Result) list(w World, page int, edit bool) {
	ids := w.Points.IDs()
	rows, pages, page := pageButtons(ids, page, checkInPrefix, pagePrefix)
	args := map[string]string{"Page": strconv.Itoa(page + 1), "Pages": strconv.Itoa(pages)}
	if edit {
		r.edit(MsgPointList, args, rows)
		return
	}
	r.send(MsgPointList, args, rows)
}

// pageButtons lays out one page of points, one per row, with a navigation row.
func pageButtons(ids []string, page int, pick, nav string) ([][]Button, int, int) {
	pages := max(1, (len(ids)+pointsPerPage-1)/pointsPerPage)
	page = min(max(page, 0), pages-1)
	var rows [][]Button
	for _, id := range ids[page*pointsPerPage : min(len(ids), (page+1)*pointsPerPage)] {
		rows = append(rows, []Button{{Text: MsgButtonPoint, Args: map[string]string{"Point": id}, Data: pick + id}})
	}
	if pages > 1 {
		var navRow []Button
		if page > 0 {
			navRow = append(navRow, Button{Text: MsgButtonPrev, Data: nav + strconv.Itoa(page-1)})
		}
		if page < pages-1 {
			navRow = append(navRow, Button{Text: MsgButtonNext, Data: nav + strconv.Itoa(page+1)})
		}
		rows = append(rows, navRow)
	}
	return rows, pages, page
}

// nearest answers a shared location with the nearest points. Only their distances are
// kept, and the location itself only when the user agreed to that.
func (r *Result) nearest(in Input, w World) {
	near := w.Points.Nearest(in.Location.Lat, in.Location.Lon, nearestShown, in.Now)
	pending, ok := r.kept()
	r.enter(StateIdle)
	if ok {
		r.keep(pending)
	}
	items := make([]map[string]string, 0, len(near))
	rows := make([][]Button, 0, len(near)+1)
	for i, n := range near {
		m := strconv.Itoa(n.Meters)
		item := map[string]string{"N": strconv.Itoa(i + 1), "Point": n.ID, "Meters": m, "Open": "no"}
		if n.Open {
			item["Open"] = "yes"
		}
		items = append(items, item)
		rows = append(rows, []Button{{Text: MsgButtonPointNear, Args: map[string]string{"Point": n.ID, "Meters": m}, Data: nearData(n.ID, n.Meters)}})
	}
	rows = append(rows, []Button{{Text: MsgButtonAllPoints, Data: dataAllPoints}})
	if r.Profile.Consented() && r.Profile.LocConsent == "yes" {
		r.set(keyLat, strconv.FormatFloat(in.Location.Lat, 'f', 6, 64))
		r.set(keyLon, strconv.FormatFloat(in.Location.Lon, 'f', 6, 64))
	}
	r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgNearest, Item: MsgNearestItem, Items: items, Buttons: rows})
	if r.Profile.Consented() && r.Profile.LocConsent == "" {
		r.send(MsgLocConsentAsk, nil, [][]Button{
			{{Text: MsgButtonLocKeep, Data: dataLocKeep}},
			{{Text: MsgButtonLocDrop, Data: dataLocDrop}},
		})
	}
}

// checkInTap handles the check-in buttons. It reports false for other data.
func (r *Result) checkInTap(in Input, w World, data string) bool {
	switch {
	case strings.HasPrefix(data, checkInPrefix):
		id := strings.TrimPrefix(data, checkInPrefix)
		if !w.Points.Exists(id) {
			r.answer(MsgStaleButton)
			return true
		}
		r.checkInAt(in, w, visit{point: id, via: ViaList, meters: -1})
	case strings.HasPrefix(data, nearPrefix):
		v, ok := parseNear(strings.TrimPrefix(data, nearPrefix))
		if !ok || !w.Points.Exists(v.point) {
			r.answer(MsgStaleButton)
			return true
		}
		r.checkInAt(in, w, v)
	case data == dataAllPoints:
		r.list(w, 0, false)
	case strings.HasPrefix(data, pagePrefix):
		page, err := strconv.Atoi(strings.TrimPrefix(data, pagePrefix))
		if err != nil {
			r.answer(MsgStaleButton)
			return true
		}
		r.list(w, page, true)
	case (data == dataLocKeep || data == dataLocDrop) && !r.Profile.Consented():
		r.privacy()
	case data == dataLocKeep, data == dataLocDrop:
		answer := "no"
		if data == dataLocKeep {
			answer = "yes"
		}
		if r.Profile.LocConsent != answer {
			r.Profile.LocConsent = answer
			r.ProfileChanged = true
		}
		if answer == "yes" {
			r.edit(MsgLocKept, nil, nil)
		} else {
			delete(r.Session.Data, keyLat)
			delete(r.Session.Data, keyLon)
			r.edit(MsgLocDropped, nil, nil)
		}
	default:
		return false
	}
	return true
}

// checkInAt checks the user in at a point, first asking for consent and registration when
// they are missing; the check-in then completes at the end of registration.
func (r *Result) checkInAt(in Input, w World, v visit) {
	switch {
	case !r.Profile.Consented():
		if v.via == ViaQR {
			r.welcomeForCheckIn(in, v)
			return
		}
		r.askConsent(in, v)
	case r.Profile.Member == nil:
		r.startRegistration(v)
	default:
		var where *Location
		if v.via == ViaLocation {
			where = r.sharedLocation()
		}
		r.reset()
		r.checkIn(in, w, v, where)
	}
}

// keep stores a check-in to do once consent and registration are done.
func (r *Result) keep(v visit) {
	if v.point == "" {
		return
	}
	r.set(keyIntent, v.point)
	r.set(keyVia, v.via)
	r.set(keyMeters, strconv.Itoa(v.meters))
}

// kept returns the check-in kept by keep, if any.
func (r *Result) kept() (visit, bool) {
	d := r.Session.Data
	if d[keyIntent] == "" {
		return visit{}, false
	}
	m, err := strconv.Atoi(d[keyMeters])
	if err != nil {
		m = -1
	}
	return visit{point: d[keyIntent], via: d[keyVia], meters: m}, true
}

// nearData is the callback data of a point in the nearest list: the distance travels in
// the button (the user's own message), so the bot keeps no trace of where the user was.
// Point ids have no ":", so "cn:<meters>:<id>" parses back; a point id too long for
// both falls back to "cn:<id>", without the distance.
func nearData(id string, meters int) string {
	if d := nearPrefix + strconv.Itoa(meters) + ":" + id; len(d) <= 64 {
		return d
	}
	return nearPrefix + id
}

func parseNear(s string) (visit, bool) {
	v := visit{point: s, via: ViaLocation, meters: -1}
	if m, id, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			return visit{}, false
		}
		v.point, v.meters = id, n
	}
	if v.point == "" {
		return visit{}, false
	}
	return v, true
}

// welcomeForCheckIn is first contact through a point's QR code: the welcome and privacy
// notice, with the check-in kept for after.
func (r *Result) welcomeForCheckIn(in Input, v visit) {
	r.reset()
	r.keep(v)
	r.welcome(in)
}

// checkIn records a check-in of a registered member, unless the member checked in at the
// same point within the window: that is the same visit, recognised and not counted again.
func (r *Result) checkIn(in Input, w World, v visit, where *Location) {
	id := v.point
	for _, h := range w.History {
		if h.Point == id && in.Now.Sub(h.At) < w.CheckInWindow && !h.At.After(in.Now) {
			r.send(MsgCheckInAgain, map[string]string{"Point": id, "At": h.At.Format(time.RFC3339)}, menu())
			return
		}
	}
	r.CheckIn = &CheckIn{Point: id, At: in.Now, Via: v.via, Meters: v.meters, Where: where}
	m := r.Profile.Member
	m.CheckIns++
	r.ProfileChanged = true
	args := map[string]string{"Point": id, "At": in.Now.Format(time.RFC3339), "Count": strconv.Itoa(m.CheckIns)}
	if m.CheckIns == 1 && !m.OptionalOffered {
		m.OptionalOffered = true
		r.send(MsgCheckInDone, args, [][]Button{
			{{Text: MsgButtonOptional, Data: dataOptional}},
			{{Text: MsgButtonMenu, Data: dataMenu}},
		})
		return
	}
	r.send(MsgCheckInDone, args, menu())
}

// sharedLocation is the location kept in the session, only there with consent and
// LocConsent "yes".
func (r *Result) sharedLocation() *Location {
	if !r.Profile.Consented() || r.Profile.LocConsent != "yes" {
		return nil
	}
	lat, err1 := strconv.ParseFloat(r.Session.Data[keyLat], 64)
	lon, err2 := strconv.ParseFloat(r.Session.Data[keyLon], 64)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &Location{Lat: lat, Lon: lon}
}
