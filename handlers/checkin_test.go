package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/queue"
)

const (
	user     = 5550001
	staffGrp = -1001234567890
	adminID  = 9001
)

// fakeReader is the store as staff commands read it.
type fakeReader struct {
	stats    map[string]map[string]int64
	checkins [][]byte
	profiles map[int64][]byte
	asked    []string
}

func (f *fakeReader) Stats(_ context.Context, names []string) (map[string]map[string]int64, error) {
	f.asked = names
	out := map[string]map[string]int64{}
	for _, n := range names {
		out[n] = f.stats[n]
	}
	return out, nil
}

func (f *fakeReader) CheckIns(_ context.Context, from, to time.Time) ([][]byte, error) {
	var out [][]byte
	for _, b := range f.checkins {
		var r record
		if json.Unmarshal(b, &r) == nil && !r.At.Before(from) && r.At.Before(to) {
			out = append(out, b)
		}
	}
	return out, nil
}

func (f *fakeReader) Profiles(_ context.Context, chats []int64) (map[int64][]byte, error) {
	out := map[int64][]byte{}
	for _, c := range chats {
		if b, ok := f.profiles[c]; ok {
			out[c] = b
		}
	}
	return out, nil
}

func staffHandler(t *testing.T, r Reader) *Handler {
	t.Helper()
	h, err := New(WithUsername("bangban_bot"), WithClock(func() time.Time { return now }),
		WithStaff([]int64{staffGrp}, []int64{adminID}), WithReader(r))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func demo(t *testing.T) *content.Content {
	t.Helper()
	c, err := content.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// update builds a Telegram update; body is the message or callback_query object.
func update(t *testing.T, kind string, body map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"update_id": 1, kind: body})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func message(chat, from int64, extra map[string]any) map[string]any {
	ctype := "private"
	if chat < 0 {
		ctype = "supergroup"
	}
	m := map[string]any{"message_id": 10, "date": now.Unix(),
		"chat": map[string]any{"id": chat, "type": ctype},
		"from": map[string]any{"id": from, "is_bot": false, "first_name": "芳", "language_code": "zh-hans"}}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func tapUpdate(t *testing.T, data string) []byte {
	return update(t, "callback_query", map[string]any{"id": "cb1", "chat_instance": "1", "data": data,
		"from":    map[string]any{"id": user, "is_bot": false, "first_name": "芳", "language_code": "zh-hans"},
		"message": message(user, 1, map[string]any{"text": "x"})})
}

func memberProfile(t *testing.T, checkIns int) []byte {
	at := now.Add(-time.Hour)
	return encode(t, bot.Profile{Version: bot.ProfileVersion, Lang: bot.LangZH, ConsentAt: &at,
		Member: &bot.Member{Role: "rider", Name: "王芳", Phone: "+8613800000000", RegisteredAt: at, CheckIns: checkIns, OptionalOffered: true}})
}

func handle(t *testing.T, h *Handler, chat int64, raw []byte, st queue.State) queue.Effects {
	t.Helper()
	eff, err := h.Handle(context.Background(), queue.Update{StreamID: streamID, Kind: queue.KindTelegram, ChatID: chat, Raw: raw}, st)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return eff
}

func TestCheckInEffects(t *testing.T) {
	h := newHandler(t)
	p, _ := demo(t).Point("nt-p01")
	eff := handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "/start cp_nt-p01"})),
		queue.State{Profile: memberProfile(t, 2)})

	var rec record
	if err := json.Unmarshal(eff.CheckIn, &rec); err != nil {
		t.Fatalf("check-in record %s: %v", eff.CheckIn, err)
	}
	want := record{CheckIn: bot.CheckIn{Point: "nt-p01", At: now, Via: bot.ViaQR, Meters: -1}, Chat: user, Role: "rider", Update: streamID}
	if diff := cmp.Diff(want, rec); diff != "" || !eff.CheckInAt.Equal(now) {
		t.Errorf("record mismatch (-want +got):\n%s (at %v)", diff, eff.CheckInAt)
	}
	// 09:00 UTC is 17:00 in Shenyang, the same day.
	wantCounters := []queue.Counter{{Key: "ck:2025-03-01", Field: "nt-p01", By: 1, TTL: statDays * 24 * time.Hour}}
	if diff := cmp.Diff(wantCounters, eff.Counters); diff != "" {
		t.Errorf("counters mismatch (-want +got):\n%s", diff)
	}
	if len(eff.Outbox) != 1 {
		t.Fatalf("outbox = %+v, want one confirmation", eff.Outbox)
	}
	text := eff.Outbox[0].Text
	for _, s := range []string{p.Name.ZH, p.Address.ZH, p.Services[0].ZH + "、" + p.Services[1].ZH, "2025-03-01 17:00", "第 3 次"} {
		if !strings.Contains(text, s) {
			t.Errorf("confirmation %q lacks %q", text, s)
		}
	}
	if got := bot.DecodeProfile(eff.Profile).Member.CheckIns; got != 3 {
		t.Errorf("stored check-in count = %d, want 3", got)
	}

	// The same point again inside the window: recognised, nothing recorded.
	again := handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "/start cp_nt-p01"})),
		queue.State{Profile: eff.Profile, History: [][]byte{eff.CheckIn}})
	if again.CheckIn != nil || len(again.Counters) != 0 || !strings.Contains(again.Outbox[0].Text, "已经在") {
		t.Errorf("second check-in: record %s, counters %+v, reply %q", again.CheckIn, again.Counters, again.Outbox[0].Text)
	}
}

func TestRegistrationEffects(t *testing.T) {
	h := newHandler(t)
	sess := encode(t, bot.Session{Version: bot.SessionVersion, State: bot.StateRegPhone, UpdatedAt: now.Add(-time.Minute),
		Data: map[string]string{"role": "truck", "name": "李雷", "intent": "nt-centre", "via": "qr"}})
	at := now.Add(-2 * time.Minute)
	prof := encode(t, bot.Profile{Version: bot.ProfileVersion, Lang: bot.LangZH, ConsentAt: &at})
	contact := func(uid int64) []byte {
		return update(t, "message", message(user, user, map[string]any{
			"contact": map[string]any{"phone_number": "8613912345678", "first_name": "李", "user_id": uid}}))
	}

	refused := handle(t, h, user, contact(777), queue.State{Session: sess, Profile: prof})
	if refused.Profile != nil || !strings.Contains(refused.Outbox[0].Text, "别人的联系人") ||
		!refused.Outbox[0].Reply[0][0].RequestContact {
		t.Errorf("someone else's contact: profile %s, reply %+v", refused.Profile, refused.Outbox[0])
	}

	eff := handle(t, h, user, contact(user), queue.State{Session: sess, Profile: prof})
	m := bot.DecodeProfile(eff.Profile).Member
	if m == nil || m.Phone != "+8613912345678" || m.Name != "李雷" || m.Role != "truck" || m.CheckIns != 1 {
		t.Fatalf("member = %+v", m)
	}
	want := []queue.Counter{
		{Key: "ck:2025-03-01", Field: "nt-centre", By: 1, TTL: statDays * 24 * time.Hour},
		{Key: "reg:2025-03-01", Field: "truck", By: 1, TTL: statDays * 24 * time.Hour},
		{Key: "members", Field: "truck", By: 1},
	}
	if diff := cmp.Diff(want, eff.Counters); diff != "" {
		t.Errorf("counters mismatch (-want +got):\n%s", diff)
	}
	if len(eff.Outbox) != 2 || !eff.Outbox[0].RemoveKeyboard || eff.Outbox[1].Inline[0][0].Data != "opt:start" {
		t.Errorf("replies = %+v, want the keyboard removed, then a confirmation offering the optional details", eff.Outbox)
	}
}

func TestForgetEffects(t *testing.T) {
	h := newHandler(t)
	eff := handle(t, h, user, tapUpdate(t, "forget:yes"), queue.State{Profile: memberProfile(t, 4)})
	if !eff.Forget || !eff.DeleteSession || eff.Session != nil || eff.Profile != nil {
		t.Errorf("forget effects: forget %v, delete session %v, session %s, profile %s", eff.Forget, eff.DeleteSession, eff.Session, eff.Profile)
	}
	if diff := cmp.Diff([]queue.Counter{{Key: "members", Field: "rider", By: -1}}, eff.Counters); diff != "" {
		t.Errorf("counters mismatch (-want +got):\n%s", diff)
	}
	if last := eff.Outbox[len(eff.Outbox)-1]; !strings.Contains(last.Text, "已删除") {
		t.Errorf("reply %q, want the deletion confirmed in the user's language", last.Text)
	}
}

func TestNearestAndKeyboardLabels(t *testing.T) {
	h := newHandler(t)
	p, _ := demo(t).Point("nt-p05")
	// About 22 m north of nt-p05.
	eff := handle(t, h, user, update(t, "message", message(user, user, map[string]any{
		"location": map[string]any{"latitude": p.Lat + 0.0002, "longitude": p.Lon}})), queue.State{Profile: memberProfile(t, 1)})
	if eff.Profile != nil || eff.CheckIn != nil {
		t.Errorf("a shared location stored profile %s / check-in %s", eff.Profile, eff.CheckIn)
	}
	if strings.Contains(string(eff.Session), fmt.Sprint(p.Lat + 0.0002)[:7]) {
		t.Errorf("session %s keeps the location without consent", eff.Session)
	}
	list := eff.Outbox[0]
	if !strings.Contains(list.Text, "1. <b>"+p.Name.ZH+"</b> · 22 米") {
		t.Errorf("nearest list %q does not start with %s at 22 m", list.Text, p.Name.ZH)
	}
	if got := list.Inline[0][0]; got.Text != p.Name.ZH+" · 22 米" || got.Data != "cn:22:nt-p05" {
		t.Errorf("first button = %+v", got)
	}

	// The reply keyboard's "list" label, typed by the keyboard, opens the list.
	sess := encode(t, bot.Session{Version: bot.SessionVersion, State: bot.StateCheckIn, UpdatedAt: now})
	eff = handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "📋 List of points"})),
		queue.State{Session: sess, Profile: memberProfile(t, 1)})
	if len(eff.Outbox) != 1 || !strings.Contains(eff.Outbox[0].Text, "服务站点") || len(eff.Outbox[0].Inline) == 0 {
		t.Errorf("list reply = %+v", eff.Outbox)
	}
}

func TestStats(t *testing.T) {
	r := &fakeReader{stats: map[string]map[string]int64{
		"members":        {"rider": 3, "truck": 1},
		"reg:2025-03-01": {"rider": 1},
		"reg:2025-02-25": {"truck": 1},
		"ck:2025-03-01":  {"nt-p01": 2},
		"ck:2025-02-10":  {"nt-p01": 5, "gone-point": 1},
		"ck:2025-01-01":  {"nt-p01": 100},
		"q:2025-03-01":   {"电动车上牌": 2, "我叫王芳": 1},
		"q:2025-02-20":   {"电动车上牌": 1},
		"q0:2025-03-01":  {"火星补贴": 2},
	}}
	h := staffHandler(t, r)
	eff := handle(t, h, staffGrp, update(t, "message", message(staffGrp, 1, map[string]any{"text": "/stats"})), queue.State{})
	if len(eff.Outbox) != 1 {
		t.Fatalf("outbox = %+v", eff.Outbox)
	}
	text := eff.Outbox[0].Text
	p, _ := demo(t).Point("nt-p01")
	for _, s := range []string{"共 4 人", "🛵 外卖骑手：3", "今天 1 · 7 天 2 · 30 天 2", p.Name.ZH + "：2 / 2 / 7", "gone-point：0 / 0 / 1", "合计：2 / 2 / 8",
		"电动车上牌（3）", "火星补贴（2）"} {
		if !strings.Contains(text, s) {
			t.Errorf("stats %q lack %q", text, s)
		}
	}
	if strings.Contains(text, "我叫王芳") {
		t.Errorf("stats list a question asked once, which may carry its asker's words: %q", text)
	}
	if len(r.asked) != 121 || !slices.Contains(r.asked, "ck:2025-01-31") || slices.Contains(r.asked, "ck:2025-01-30") {
		t.Errorf("asked for %d statistics (%v…), want members and 30 days of four kinds", len(r.asked), r.asked[:3])
	}
	other := handle(t, h, -100777, update(t, "message", message(-100777, 1, map[string]any{"text": "/stats"})), queue.State{})
	if len(other.Outbox) != 0 {
		t.Errorf("/stats outside the staff chat answered %+v", other.Outbox)
	}
}

func TestExport(t *testing.T) {
	rec := func(chat int64, point string, at time.Time) []byte {
		b, _ := json.Marshal(record{CheckIn: bot.CheckIn{Point: point, At: at, Via: bot.ViaLocation, Meters: 35}, Chat: chat, Role: "rider", Update: "1-0"})
		return b
	}
	r := &fakeReader{
		checkins: [][]byte{
			rec(user, "nt-p01", now.Add(-24*time.Hour)),
			rec(user, "nt-p02", now.Add(-40*24*time.Hour)), // outside the default 30 days
			rec(777, "nt-p03", now.Add(-time.Hour)),        // a user who has no profile left
		},
		profiles: map[int64][]byte{user: func() []byte {
			// A typed employer that a spreadsheet would run as a formula.
			p := bot.DecodeProfile(memberProfile(t, 2))
			p.Member.Employer = `=HYPERLINK("x")`
			return encode(t, p)
		}()},
	}
	h := staffHandler(t, r)
	cmd := func(from int64, text string) []byte {
		return update(t, "message", message(staffGrp, from, map[string]any{"text": text}))
	}
	eff := handle(t, h, staffGrp, cmd(adminID, "/export checkins"), queue.State{})
	if len(eff.Outbox) != 2 {
		t.Fatalf("outbox = %+v", eff.Outbox)
	}
	doc, said := eff.Outbox[0], eff.Outbox[1]
	if doc.Method != queue.MethodSendDocument || doc.ChatID != adminID || !doc.WantResult || doc.FileName != "checkins_2025-01-31_2025-03-01.csv" {
		t.Errorf("document = %+v, want a CSV to the admin's private chat", doc)
	}
	if said.ChatID != staffGrp || said.Method != queue.MethodSendMessage || !strings.Contains(said.Text, "私聊") {
		t.Errorf("group reply = %+v", said)
	}
	if !bytes.HasPrefix(doc.Document, []byte("\ufeff")) {
		t.Fatalf("CSV does not start with a byte order mark: %q", doc.Document[:min(10, len(doc.Document))])
	}
	rows, err := csv.NewReader(bytes.NewReader(doc.Document[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := demo(t).Point("nt-p01")
	want := [][]string{
		strings.Split("签到时间,站点编号,站点,签到方式,距离(米),身份,姓名,手机,党员,平台/单位,用户ID", ","),
		{"2025-02-28 17:00:00", "nt-p01", p1.Name.ZH, "location", "35", "外卖骑手", "王芳", "'+8613800000000", "未填写", "'=HYPERLINK(\"x\")", "5550001"},
	}
	if diff := cmp.Diff(want, rows[:2]); diff != "" || len(rows) != 3 {
		t.Errorf("CSV rows mismatch (-want +got):\n%s\n(%d rows)", diff, len(rows))
	}
	if !strings.Contains(doc.Text, "共 2 条") {
		t.Errorf("caption %q, want the row count", doc.Text)
	}
	var audit auditEntry
	if len(eff.Audit) != 1 || json.Unmarshal(eff.Audit[0], &audit) != nil || audit.By != adminID || audit.Rows != 2 || audit.Action != "export_checkins" {
		t.Errorf("audit = %s", eff.Audit)
	}

	notAdmin := handle(t, h, staffGrp, cmd(1, "/export checkins"), queue.State{})
	if len(notAdmin.Outbox) != 1 || notAdmin.Outbox[0].Method != queue.MethodSendMessage || len(notAdmin.Audit) != 0 {
		t.Errorf("non-admin export = %+v", notAdmin.Outbox)
	}

	undelivered, err := h.Handle(context.Background(), queue.Update{StreamID: streamID, Kind: queue.KindResult, ChatID: staffGrp,
		Raw: []byte(`{"ref":"export","chat":9001,"err":"forbidden"}`)}, queue.State{})
	if err != nil || len(undelivered.Outbox) != 1 || !strings.Contains(undelivered.Outbox[0].Text, "没能发到私聊") {
		t.Errorf("undelivered export: %+v, %v", undelivered.Outbox, err)
	}
}

func TestExportTooBig(t *testing.T) {
	big := make([][]byte, 0, 20000)
	for i := range 20000 {
		b, _ := json.Marshal(record{CheckIn: bot.CheckIn{Point: "nt-p01", At: now.Add(-time.Duration(i) * time.Minute), Via: bot.ViaQR, Meters: -1},
			Chat: int64(i), Role: "rider", Update: strings.Repeat("9", 60)})
		big = append(big, b)
	}
	profiles := map[int64][]byte{}
	for i := range 20000 {
		profiles[int64(i)] = memberProfile(t, 1)
	}
	h := staffHandler(t, &fakeReader{checkins: big, profiles: profiles})
	eff := handle(t, h, staffGrp, update(t, "message", message(staffGrp, adminID, map[string]any{"text": "/export checkins"})), queue.State{})
	for _, m := range eff.Outbox {
		if m.Method == queue.MethodSendDocument {
			t.Fatalf("a %d-byte CSV was queued", len(m.Document))
		}
	}
	if !strings.Contains(eff.Outbox[0].Text, "太大") {
		t.Errorf("reply %q, want the export refused as too big", eff.Outbox[0].Text)
	}
}

// TestStatsStaysShort: only visited points are listed, at most maxPointLines of them, so
// that /stats fits in a message however many points a district has.
func TestStatsStaysShort(t *testing.T) {
	busy := map[string]int64{}
	for i := range 80 {
		busy[fmt.Sprintf("p%02d", i)] = 1
	}
	h := staffHandler(t, &fakeReader{stats: map[string]map[string]int64{"ck:2025-03-01": busy}})
	eff := handle(t, h, staffGrp, update(t, "message", message(staffGrp, 1, map[string]any{"text": "/stats"})), queue.State{})
	text := eff.Outbox[0].Text
	if n := strings.Count(text, "：1 / 1 / 1"); n != maxPointLines {
		t.Errorf("listed %d points, want %d", n, maxPointLines)
	}
	if !strings.Contains(text, "合计：80 / 80 / 80") || utf8.RuneCountInString(text) > 4096 {
		t.Errorf("total or length wrong (%d characters)", utf8.RuneCountInString(text))
	}
	quiet := handle(t, staffHandler(t, &fakeReader{}), staffGrp, update(t, "message", message(staffGrp, 1, map[string]any{"text": "/stats"})), queue.State{})
	if strings.Count(quiet.Outbox[0].Text, "：0 / 0 / 0") != 1 || !strings.Contains(quiet.Outbox[0].Text, "暂无") {
		t.Errorf("a quiet month lists idle points: %q", quiet.Outbox[0].Text)
	}
}
