package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"math"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/queue"
)

// The onboarding and check-in tests (issue 4) drive the real binary as people do in
// Telegram: one update at a time, each sent once the bot's answer to the one before has
// arrived, tapping only buttons the bot actually sent. They assert on what the fake Bot
// API recorded and on what Redis holds. The bot paces a private chat to 1 message a second
// after a burst of 3, so a scenario spends most of its time waiting: they all run at
// once (TestOnboardingAndCheckIn), each user in a chat of their own.

// ciShards is QUEUE_SHARDS of world.env.
const ciShards = 8

// checkinEnv is the configuration every check-in test runs with; TZ is set because "today"
// of the statistics and the keys the tests read is a day in Asia/Shanghai.
var checkinEnv = []string{"TZ=Asia/Shanghai", "CHECKIN_WINDOW=2h"}

var (
	// nextUpdateID numbers the updates of all check-in tests.
	nextUpdateID atomic.Int64
	// nextCallback numbers their callback queries.
	nextCallback atomic.Int64
	shanghai     = sync.OnceValue(func() *time.Location {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			panic(err)
		}
		return loc
	})
	demo = sync.OnceValues(func() (*content.Content, error) { return content.Load("") })
)

// pointByID returns a point of the embedded demo content (content/demo/points.yaml).
func pointByID(t *testing.T, id string) content.Point {
	t.Helper()
	c, err := demo()
	if err != nil {
		t.Fatalf("load demo content: %v", err)
	}
	p, ok := c.Point(id)
	if !ok {
		t.Fatalf("demo content has no point %q", id)
	}
	return p
}

// ui is what a user reading one language sees: the fragments of texts that tell the
// bot's messages apart. %s stands for a point name, a person's name or a count; %d for
// metres.
type ui struct {
	code, lang                                                string // Telegram's language_code, content language
	welcome, privacyPoint, thanks, registerFirst              string
	roleQ, roleRetry, nameQ, nameRetry, nameLong, nameBad     string
	phoneQ, phoneRetry, notYours, registered, checkedIn, nth  string
	again, nearest, nearestItem, locAsk, forgetAsk, forgotten string
}

var zh = ui{
	code: "zh-hans", lang: "zh-CN",
	welcome:       "我是<b>帮办</b>",
	privacyPoint:  "你扫的是<b>%s</b>的签到码",
	thanks:        "谢谢你的信任",
	registerFirst: "在<b>%s</b>签到前",
	roleQ:         "第 1 步（共 3 步）",
	roleRetry:     "请点下面的按钮选择你的身份",
	nameQ:         "第 2 步（共 3 步）",
	nameRetry:     "请用文字输入你的姓名",
	nameLong:      "名字太长了，最多 30 个字",
	nameBad:       "姓名只能包含文字",
	phoneQ:        "第 3 步（共 3 步）",
	phoneRetry:    "为了确认是你本人",
	notYours:      "这是别人的联系人",
	registered:    "登记完成，%s！",
	checkedIn:     "✅ <b>签到成功</b>\n站点：%s\n",
	nth:           "这是你的第 %s 次签到",
	again:         "已经在<b>%s</b>签过到了",
	nearest:       "<b>离你最近的站点</b>",
	nearestItem:   "1. <b>%s</b> · %d 米 · ",
	locAsk:        "要不要把你签到时的具体位置",
	forgetAsk:     "确定要删除你的全部资料和签到记录吗",
	forgotten:     "已删除你的全部资料和签到记录",
}

var en = ui{
	code: "en", lang: "en",
	welcome:       "I'm <b>Bangban</b>",
	privacyPoint:  "You scanned the check-in code of <b>%s</b>",
	thanks:        "Thank you for your trust",
	registerFirst: "Before checking in at <b>%s</b>",
	roleQ:         "Step 1 of 3",
	roleRetry:     "Please tap a button below to pick your role",
	nameQ:         "Step 2 of 3",
	nameRetry:     "Please type your name as text",
	nameLong:      "That name is too long: at most 30 characters",
	nameBad:       "A name can only have letters",
	phoneQ:        "Step 3 of 3",
	phoneRetry:    "To make sure it's you",
	notYours:      "That is someone else's contact",
	registered:    "You're registered, %s!",
	checkedIn:     "✅ <b>Checked in</b>\nPoint: %s\n",
	nth:           "This is your check-in no. %s.",
	again:         "You already checked in at <b>%s</b>",
	nearest:       "<b>Nearest service points</b>",
	nearestItem:   "1. <b>%s</b> · %d m · ",
	locAsk:        "Keep your exact location with your check-ins?",
	forgetAsk:     "Delete all your details and check-ins?",
	forgotten:     "All your details and check-ins are deleted",
}

// pointName is a point's name as a message shows it (HTML-escaped) in the ui's language.
func (x ui) pointName(t *testing.T, id string) string {
	return html.EscapeString(pointByID(t, id).Name.In(x.lang))
}

// tgUser is a Telegram user talking to the bot in one chat: their private chat, or a
// group they write in.
type tgUser struct {
	t      *testing.T
	w      *world
	addr   string
	id     int64
	first  string
	lang   string
	chatID int64
	chat   map[string]any
	seen   int // calls to the chat already returned by await
	sent   int // updates this user sent
}

// newUser returns a user with a private chat with the bot of p.
func newUser(t *testing.T, w *world, p *proc, id int64, first, lang string) *tgUser {
	return &tgUser{t: t, w: w, addr: p.addr, id: id, first: first, lang: lang, chatID: id,
		chat: map[string]any{"id": id, "type": "private", "first_name": first}}
}

// inStaffGroup returns a user writing in the staff group.
func inStaffGroup(t *testing.T, w *world, p *proc, id int64, first string) *tgUser {
	u := newUser(t, w, p, id, first, "zh-hans")
	u.chatID = staffChat
	u.chat = map[string]any{"id": int64(staffChat), "type": "supergroup", "title": "staff", "is_forum": true}
	return u
}

// inGroup returns a user writing in a supergroup that is not the staff group.
func inGroup(t *testing.T, w *world, p *proc, chat, id int64, first string) *tgUser {
	w.api.AddChat(telegramtest.Chat{ID: chat, Type: "supergroup", Title: "riders", BotStatus: "member"})
	u := newUser(t, w, p, id, first, "zh-hans")
	u.chatID = chat
	u.chat = map[string]any{"id": chat, "type": "supergroup", "title": "riders"}
	return u
}

func (u *tgUser) from() map[string]any {
	return map[string]any{"id": u.id, "is_bot": false, "first_name": u.first, "language_code": u.lang}
}

func newUpdate(kind string, v any) []byte {
	b, err := json.Marshal(map[string]any{"update_id": nextUpdateID.Add(1), kind: v})
	if err != nil {
		panic(err)
	}
	return b
}

// message builds a message update of the user carrying fields (text, sticker, contact…).
func (u *tgUser) message(fields map[string]any) []byte {
	m := map[string]any{"message_id": u.w.api.NewMessageID(u.chatID), "date": time.Now().Unix(),
		"from": u.from(), "chat": u.chat}
	maps.Copy(m, fields)
	return newUpdate("message", m)
}

func textFields(s string) map[string]any {
	f := map[string]any{"text": s}
	if strings.HasPrefix(s, "/") {
		cmd, _, _ := strings.Cut(s, " ")
		f["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(utf16.Encode([]rune(cmd)))}}
	}
	return f
}

func stickerFields() map[string]any {
	return map[string]any{"sticker": map[string]any{
		"file_id": "CAACAgIAAxkBAAEBdemo", "file_unique_id": "AgADdemo", "type": "regular",
		"width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "😀", "set_name": "HotCherry",
	}}
}

func photoFields() map[string]any {
	return map[string]any{"photo": []map[string]any{
		{"file_id": "AgACAgUAAxkBAAIBsmall", "file_unique_id": "AQADsmall", "width": 90, "height": 67, "file_size": 1290},
		{"file_id": "AgACAgUAAxkBAAIBlarge", "file_unique_id": "AQADlarge", "width": 1280, "height": 960, "file_size": 98765},
	}}
}

// contactFields is a shared contact; userID 0 leaves out user_id, as Telegram does for a
// contact who is not a Telegram user.
func contactFields(phone, first string, userID int64) map[string]any {
	c := map[string]any{"phone_number": phone, "first_name": first}
	if userID != 0 {
		c["user_id"] = userID
	}
	return map[string]any{"contact": c}
}

func locationFields(lat, lon float64) map[string]any {
	return map[string]any{"location": map[string]any{"latitude": lat, "longitude": lon}}
}

// post delivers an update to the bot as Telegram does, until it is answered 200.
func (u *tgUser) post(body []byte) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := (&targets{addrs: []string{u.addr}}).deliver(ctx, body); err != nil {
		u.t.Fatalf("chat %d: deliver update: %v", u.chatID, err)
	}
	u.sent++
}

// say sends a message of fields and waits for the reply containing want.
func (u *tgUser) say(fields map[string]any, want string) []telegramtest.Call {
	u.t.Helper()
	u.post(u.message(fields))
	return u.await(want)
}

// tap taps the inline button with callback data on the latest message of the chat that
// has it, and waits for the reply containing want.
func (u *tgUser) tap(data, want string) []telegramtest.Call {
	u.t.Helper()
	body, _ := u.tapUpdate(data)
	u.post(body)
	return u.await(want)
}

// tapUpdate returns a tap on the inline button with callback data of the latest message of
// the chat that has it, and the callback query's id.
func (u *tgUser) tapUpdate(data string) ([]byte, string) {
	u.t.Helper()
	c, ok := withButton(u.calls(), data)
	if !ok {
		u.t.Fatalf("chat %d: no message has a button %q; messages:\n%s", u.chatID, data, dumpTexts(u.calls()))
	}
	var msg map[string]any
	if err := c.Decode(&msg); err != nil {
		u.t.Fatalf("decode message of %s: %v", c.Method, err)
	}
	id := strconv.FormatInt(4_382_000_000+nextCallback.Add(1), 10)
	return newUpdate("callback_query", map[string]any{
		"id": id, "from": u.from(), "message": msg, "chat_instance": "-53816" + strconv.FormatInt(u.chatID, 10), "data": data,
	}), id
}

// postAtOnce delivers updates of the chat concurrently, as Telegram does with updates that
// arrive together (up to max_connections at a time).
func (u *tgUser) postAtOnce(bodies ...[]byte) {
	u.t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(bodies))
	for i, b := range bodies {
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			errs[i] = (&targets{addrs: []string{u.addr}}).deliver(ctx, b)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			u.t.Fatalf("chat %d: deliver updates at once: %v", u.chatID, err)
		}
	}
	u.sent += len(bodies)
}

// answer waits until the callback query id was answered and returns the toast shown.
func (u *tgUser) answer(id string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var toast string
	err := u.w.api.WaitFor(ctx, func(calls []telegramtest.Call) bool {
		for _, c := range calls {
			if c.Method == "answerCallbackQuery" && c.Params["callback_query_id"] == id && c.Status == http.StatusOK {
				toast = c.Params["text"]
				return true
			}
		}
		return false
	})
	if err != nil {
		u.t.Fatalf("chat %d: callback query %s was not answered: %v", u.chatID, id, err)
	}
	return toast
}

// calls returns every successful message call to the user's chat, in order.
func (u *tgUser) calls() []telegramtest.Call { return chatCalls(u.w.api.Calls(), u.chatID) }

// await waits until a message to the chat not returned before contains want, and
// returns all those messages.
func (u *tgUser) await(want string) []telegramtest.Call {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []telegramtest.Call
	err := u.w.api.WaitFor(ctx, func(calls []telegramtest.Call) bool {
		got = chatCalls(calls, u.chatID)[u.seen:]
		return slices.ContainsFunc(got, func(c telegramtest.Call) bool { return strings.Contains(callText(c), want) })
	})
	if err != nil {
		u.t.Fatalf("chat %d: no reply containing %q: %v\nnew messages:\n%s", u.chatID, want, err, dumpTexts(got))
	}
	u.seen += len(got)
	return got
}

// settle waits a moment and returns the messages to the chat not returned before: late
// or unexpected replies.
func (u *tgUser) settle() []telegramtest.Call {
	time.Sleep(300 * time.Millisecond)
	got := u.calls()[u.seen:]
	u.seen += len(got)
	return got
}

// chatCalls returns the successful calls among calls that put a message in chat.
func chatCalls(calls []telegramtest.Call, chat int64) []telegramtest.Call {
	var out []telegramtest.Call
	for _, c := range calls {
		switch c.Method {
		case "sendMessage", "editMessageText", "sendDocument":
			if c.ChatID == chat && c.Status == http.StatusOK {
				out = append(out, c)
			}
		}
	}
	return out
}

func callText(c telegramtest.Call) string {
	if c.Method == "sendDocument" {
		return c.Params["caption"]
	}
	return c.Params["text"]
}

func dumpTexts(calls []telegramtest.Call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "  %s %q %s\n", c.Method, callText(c), c.Params["reply_markup"])
	}
	return b.String()
}

// expect checks that calls hold messages containing wants, in that order.
func expect(t *testing.T, calls []telegramtest.Call, wants ...string) {
	t.Helper()
	i := 0
	for _, c := range calls {
		for i < len(wants) && strings.Contains(callText(c), wants[i]) {
			i++
		}
	}
	if i < len(wants) {
		t.Errorf("messages lack %q (after %q) in order; got:\n%s", wants[i], wants[:i], dumpTexts(calls))
	}
}

// lacks checks that no message of calls contains any of bad.
func lacks(t *testing.T, calls []telegramtest.Call, bad ...string) {
	t.Helper()
	for _, c := range calls {
		for _, b := range bad {
			if strings.Contains(callText(c), b) {
				t.Errorf("unexpected message containing %q: %q", b, callText(c))
			}
		}
	}
}

// find returns the last of calls containing s.
func find(t *testing.T, calls []telegramtest.Call, s string) telegramtest.Call {
	t.Helper()
	for i := len(calls) - 1; i >= 0; i-- {
		if strings.Contains(callText(calls[i]), s) {
			return calls[i]
		}
	}
	t.Fatalf("no message contains %q; got:\n%s", s, dumpTexts(calls))
	return telegramtest.Call{}
}

// markup is a message's reply_markup as sent.
type markup struct {
	Inline [][]struct {
		Text string `json:"text"`
		Data string `json:"callback_data"`
	} `json:"inline_keyboard"`
	Keyboard [][]struct {
		Text            string `json:"text"`
		RequestContact  bool   `json:"request_contact"`
		RequestLocation bool   `json:"request_location"`
	} `json:"keyboard"`
}

func markupOf(c telegramtest.Call) markup {
	var m markup
	_ = json.Unmarshal([]byte(c.Params["reply_markup"]), &m)
	return m
}

func (m markup) hasData(data string) bool {
	for _, row := range m.Inline {
		for _, b := range row {
			if b.Data == data {
				return true
			}
		}
	}
	return false
}

func (m markup) asksContact() bool {
	for _, row := range m.Keyboard {
		for _, b := range row {
			if b.RequestContact {
				return true
			}
		}
	}
	return false
}

// withButton returns the last of calls whose inline keyboard has a button with data.
func withButton(calls []telegramtest.Call, data string) (telegramtest.Call, bool) {
	for i := len(calls) - 1; i >= 0; i-- {
		if markupOf(calls[i]).hasData(data) {
			return calls[i], true
		}
	}
	return telegramtest.Call{}, false
}

// The steps of onboarding through a point's QR code, each one user action.

// scanQR sends /start cp_<point> as a new user: welcome, then the privacy notice naming
// the point, with Agree.
func (u *tgUser) scanQR(x ui, point string) {
	u.t.Helper()
	calls := u.say(textFields("/start cp_"+point), fmt.Sprintf(x.privacyPoint, x.pointName(u.t, point)))
	expect(u.t, calls, x.welcome, fmt.Sprintf(x.privacyPoint, x.pointName(u.t, point)))
	if c := find(u.t, calls, fmt.Sprintf(x.privacyPoint, x.pointName(u.t, point))); !markupOf(c).hasData("consent:yes") {
		u.t.Errorf("privacy notice has no consent:yes button: %s", c.Params["reply_markup"])
	}
}

// agree taps Agree: registration starts, for the point scanned.
func (u *tgUser) agree(x ui, point string) {
	u.t.Helper()
	calls := u.tap("consent:yes", x.roleQ)
	expect(u.t, calls, x.thanks, fmt.Sprintf(x.registerFirst, x.pointName(u.t, point)), x.roleQ)
	if c := find(u.t, calls, x.thanks); c.Method != "editMessageText" {
		u.t.Errorf("consent was acknowledged by %s, want the privacy notice edited", c.Method)
	}
}

// pickRole taps a role: the name is asked.
func (u *tgUser) pickRole(x ui, role string) {
	u.t.Helper()
	u.tap("role:"+role, x.nameQ)
}

// typeName sends the name: the phone is asked with a keyboard that shares the contact.
func (u *tgUser) typeName(x ui, name string) {
	u.t.Helper()
	calls := u.say(textFields(name), x.phoneQ)
	if c := find(u.t, calls, x.phoneQ); !markupOf(c).asksContact() {
		u.t.Errorf("phone question has no request_contact keyboard: %s", c.Params["reply_markup"])
	}
}

// shareContact shares the user's own contact: registered, then checked in at point.
func (u *tgUser) shareContact(x ui, name, phone, point string) []telegramtest.Call {
	u.t.Helper()
	done := fmt.Sprintf(x.checkedIn, x.pointName(u.t, point))
	calls := u.say(contactFields(phone, u.first, u.id), done)
	expect(u.t, calls, fmt.Sprintf(x.registered, html.EscapeString(name)), done)
	return calls
}

// onboard takes a new user from a point's QR code to a confirmed check-in there.
func (u *tgUser) onboard(x ui, point, role, name, phone string) []telegramtest.Call {
	u.t.Helper()
	u.scanQR(x, point)
	u.agree(x, point)
	u.pickRole(x, role)
	u.typeName(x, name)
	return u.shareContact(x, name, phone, point)
}

// Redis as the tests read it (store/keys.go): every key of a chat carries its shard's
// hash tag {<prefix>:sNN}.

func (w *world) chatKey(kind string, chat int64) string {
	return fmt.Sprintf("{%s:s%02d}:%s:%d", w.prefix, queue.Shard(chat, ciShards), kind, chat)
}

// checkInRecord is a stored check-in as the tests look at it.
type checkInRecord struct {
	Point  string          `json:"p"`
	At     time.Time       `json:"at"`
	Via    string          `json:"via"`
	Meters int             `json:"m"`
	Where  json.RawMessage `json:"where"`
	Chat   int64           `json:"c"`
	raw    string
}

// history returns the chat's check-in records, newest first.
func (w *world) history(t *testing.T, chat int64) []checkInRecord {
	t.Helper()
	raws, err := w.rdb.LRange(context.Background(), w.chatKey("hist", chat), 0, -1).Result()
	if err != nil {
		t.Fatalf("read history of chat %d: %v", chat, err)
	}
	out := make([]checkInRecord, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal([]byte(r), &out[i]); err != nil {
			t.Fatalf("history of chat %d holds %q: %v", chat, r, err)
		}
		out[i].raw = r
	}
	return out
}

// storedMember is the registration part of a stored profile.
type storedMember struct {
	Role     string `json:"role"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	CheckIns int    `json:"checkins"`
}

// member returns the chat's stored registration, nil when there is none.
func (w *world) member(t *testing.T, chat int64) *storedMember {
	t.Helper()
	b, err := w.rdb.Get(context.Background(), w.chatKey("prof", chat)).Bytes()
	if err == redis.Nil {
		return nil
	}
	var p struct {
		Member *storedMember `json:"member"`
	}
	if err != nil || json.Unmarshal(b, &p) != nil {
		t.Fatalf("read profile of chat %d: %q, %v", chat, b, err)
	}
	return p.Member
}

// stat sums a statistics hash field over every shard.
func (w *world) stat(t *testing.T, name, field string) int64 {
	t.Helper()
	var sum int64
	for sh := range ciShards {
		n, err := w.rdb.HGet(context.Background(), fmt.Sprintf("{%s:s%02d}:stat:%s", w.prefix, sh, name), field).Int64()
		if err != nil && err != redis.Nil {
			t.Fatalf("read statistic %s %s: %v", name, field, err)
		}
		sum += n
	}
	return sum
}

// day is the district's calendar day of t, as statistics name it.
func day(t time.Time) string { return t.In(shanghai()).Format("2006-01-02") }

// noDeadLetters checks that no update was dead-lettered, with the operator's command.
func (w *world) noDeadLetters(t *testing.T) {
	t.Helper()
	for sh := range ciShards {
		if n, err := w.rdb.XLen(context.Background(), fmt.Sprintf("{%s:s%02d}:dead", w.prefix, sh)).Result(); err != nil || n != 0 {
			t.Errorf("dead-letter stream of shard %d holds %d letters (%v), want none", sh, n, err)
		}
	}
	cmd := exec.Command(binary, "deadletters", "list")
	cmd.Env = w.env()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "no dead letters") {
		t.Errorf("bangban deadletters list = %q, %v; want no dead letters", out, err)
	}
}

func startCheckInBot(t *testing.T, extra ...string) (*world, *proc) {
	t.Helper()
	w := newWorld(t)
	return w, w.start(append(slices.Clone(checkinEnv), extra...)...)
}

// healthy checks that the bot is still running, logged no panic or error and
// dead-lettered nothing.
func (w *world) healthy(t *testing.T, p *proc) {
	t.Helper()
	select {
	case <-p.done:
		t.Errorf("the bot exited:\n%s", p.log())
	default:
	}
	if log := p.log(); strings.Contains(log, "panic") || strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("the bot logged a panic or an error:\n%s", log)
	}
	w.noDeadLetters(t)
}

// together runs f for every case as subtests at the same time. They are not t.Parallel
// subtests, which -parallel (GOMAXPROCS by default, 2 in CI) would run two by two,
// while these spend nearly all their time waiting for the bot's paced replies.
func together[T any](t *testing.T, cases []T, name func(T) string, f func(*testing.T, T)) {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() { t.Run(name(c), func(t *testing.T) { f(t, c) }) })
	}
	wg.Wait()
}

// TestOnboardingAndCheckIn runs the scenarios of onboarding and check-in at the same
// time. Those that count check-ins or scan the keyspace get a bot and Redis of their
// own; the others share one.
func TestOnboardingAndCheckIn(t *testing.T) {
	w, p := startCheckInBot(t)
	type scenario struct {
		name string
		run  func(t *testing.T, w *world, p *proc)
		// own is the extra environment of a bot of its own; nil shares the bot.
		own []string
	}
	scenarios := []scenario{
		{"deep link", testCheckInByDeepLink, nil},
		{"deep link after consent", testDeepLinkAfterConsent, nil},
		{"language switch", testLanguageSwitch, nil},
		{"back and cancel", testBackAndCancel, nil},
		{"double taps", testDoubleTaps, nil},
		{"location", testCheckInByLocation, nil},
		{"location before registration", testLocationBeforeRegistration, nil},
		{"contact not the sender's", testContactNotSender, nil},
		{"garbage", testGarbage, nil},
		{"concurrent updates", testConcurrentUpdates, nil},
		{"twice within the window", testCheckInTwice, []string{}},
		{"forgetme", testForgetMe, []string{}},
		{"staff", testStaff, []string{fmt.Sprintf("ADMIN_IDS=%d,7800000300", staffAdmin)}},
	}
	together(t, scenarios, func(s scenario) string { return s.name }, func(t *testing.T, s scenario) {
		if s.own == nil {
			s.run(t, w, p)
			return
		}
		w, p := startCheckInBot(t, s.own...)
		s.run(t, w, p)
		w.healthy(t, p)
	})
	w.healthy(t, p)
}

// testCheckInByDeepLink: a new user scans a point's QR code and is checked in there
// after agreeing and registering, in at most 6 actions, in Chinese or English; a
// registered user's scan checks in at once.
func testCheckInByDeepLink(t *testing.T, w *world, p *proc) {
	type user struct {
		name        string
		x           ui
		id          int64
		first, full string
		phone       string
	}
	users := []user{
		{"zh", zh, 7100000001, "芳", "王芳", "8613800138001"},
		{"en", en, 7100000002, "Amy", "Amy O'Neil", "+44 7700 900123"},
	}
	together(t, users, func(u user) string { return u.name }, func(t *testing.T, tt user) {
		u := newUser(t, w, p, tt.id, tt.first, tt.x.code)
		calls := u.onboard(tt.x, "nt-p03", "rider", tt.full, tt.phone)
		expect(t, calls, fmt.Sprintf(tt.x.nth, "1"))
		if u.sent > 6 {
			t.Errorf("QR scan to confirmed check-in took %d actions, want at most 6", u.sent)
		}
		m := w.member(t, u.id)
		wantPhone := "+" + strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, tt.phone)
		if m == nil || m.Role != "rider" || m.Name != tt.full || m.Phone != wantPhone || m.CheckIns != 1 {
			t.Errorf("stored member = %+v, want rider %q %s with 1 check-in", m, tt.full, wantPhone)
		}

		// Registered: another point's code checks in with one action, nothing asked.
		before := u.sent
		done := fmt.Sprintf(tt.x.checkedIn, tt.x.pointName(t, "nt-p05"))
		calls = u.say(textFields("/start cp_nt-p05"), done)
		calls = append(calls, u.settle()...)
		expect(t, calls, done, fmt.Sprintf(tt.x.nth, "2"))
		lacks(t, calls, tt.x.welcome, tt.x.roleQ, tt.x.phoneQ)
		if n := u.sent - before; n != 1 {
			t.Errorf("registered check-in took %d actions, want 1", n)
		}
		h := w.history(t, u.id)
		if len(h) != 2 || h[0].Point != "nt-p05" || h[1].Point != "nt-p03" || h[0].Via != "qr" || h[1].Via != "qr" {
			t.Errorf("history = %+v, want nt-p05 then nt-p03, both by QR", h)
		}
	})
}

// testDeepLinkAfterConsent: a user who agreed to the privacy notice after a plain /start
// but did not register scans a point's code: registration starts at once, without the
// notice again, and the check-in completes at its end.
func testDeepLinkAfterConsent(t *testing.T, w *world, p *proc) {
	u := newUser(t, w, p, 7150000001, "Lei", en.code)
	calls := u.say(textFields("/start"), "<b>Privacy notice</b>")
	expect(t, calls, en.welcome, "<b>Privacy notice</b>")
	u.tap("consent:yes", "Register once")
	calls = u.say(textFields("/start cp_nt-p02"), en.roleQ)
	expect(t, calls, fmt.Sprintf(en.registerFirst, en.pointName(t, "nt-p02")), en.roleQ)
	lacks(t, calls, "Privacy notice", en.welcome)
	u.pickRole(en, "ride_hailing")
	u.typeName(en, "Zhang Lei")
	u.shareContact(en, "Zhang Lei", "8613800138014", "nt-p02")
}

// testLanguageSwitch: a user whose Telegram speaks Chinese switches the welcome to
// English with one tap and goes on in English; QR code to check-in still takes at most 6
// actions.
func testLanguageSwitch(t *testing.T, w *world, p *proc) {
	u := newUser(t, w, p, 7160000001, "Ivan", zh.code)
	u.scanQR(zh, "nt-p04")
	calls := u.tap("lang:en", fmt.Sprintf(en.privacyPoint, en.pointName(t, "nt-p04")))
	if c := find(t, calls, en.welcome); c.Method != "editMessageText" {
		t.Errorf("the welcome was switched to English by %s, want it edited", c.Method)
	}
	u.agree(en, "nt-p04")
	u.pickRole(en, "other")
	u.typeName(en, "Ivan Petrov")
	u.shareContact(en, "Ivan Petrov", "79161234567", "nt-p04")
	if u.sent > 6 {
		t.Errorf("QR scan to confirmed check-in with a language switch took %d actions, want at most 6", u.sent)
	}
}

// testBackAndCancel: "back" goes one registration step back, from the phone keyboard and
// from the name question; the Telegram name can be taken with one tap; /cancel leaves, and
// the point's code starts registration again.
func testBackAndCancel(t *testing.T, w *world, p *proc) {
	u := newUser(t, w, p, 7170000001, "芳", zh.code)
	u.scanQR(zh, "nt-p03")
	u.agree(zh, "nt-p03")
	u.pickRole(zh, "rider")
	u.typeName(zh, "王芳")
	expect(t, u.say(textFields("⬅️ 返回"), zh.nameQ), "回到上一步", zh.nameQ)
	u.tap("reg:back", zh.roleQ)
	u.pickRole(zh, "courier")
	expect(t, u.say(textFields("/cancel"), "已经取消了"), "已经取消了")
	calls := u.say(textFields("/start cp_nt-p03"), zh.roleQ)
	lacks(t, calls, zh.welcome, "隐私说明")
	u.pickRole(zh, "courier")
	u.tap("reg:tgname", zh.phoneQ)
	u.shareContact(zh, "芳", "8613800138015", "nt-p03")
	if m := w.member(t, u.id); m == nil || m.Name != "芳" || m.Role != "courier" {
		t.Errorf("member = %+v, want the courier 芳 (the Telegram name)", m)
	}
}

// testDoubleTaps: buttons tapped twice at once and a code scanned twice at once (two
// updates of one chat arriving together) change nothing more than one tap would: one
// registration, one check-in per visit.
func testDoubleTaps(t *testing.T, w *world, p *proc) {
	u := newUser(t, w, p, 7180000001, "芳", zh.code)
	u.scanQR(zh, "nt-p03")
	a, _ := u.tapUpdate("consent:yes")
	b, _ := u.tapUpdate("consent:yes")
	u.postAtOnce(a, b)
	u.await(zh.roleQ)
	time.Sleep(1500 * time.Millisecond) // a second role question, if any, is paced
	u.settle()
	a, _ = u.tapUpdate("role:rider")
	b, second := u.tapUpdate("role:rider")
	u.postAtOnce(a, b)
	calls := u.await(zh.nameQ)
	time.Sleep(1500 * time.Millisecond)
	calls = append(calls, u.settle()...)
	if n := len(slices.DeleteFunc(calls, func(c telegramtest.Call) bool { return !strings.Contains(callText(c), zh.nameQ) })); n != 1 {
		t.Errorf("a double tap on a role asked for the name %d times, want once", n)
	}
	u.answer(second)
	u.typeName(zh, "王芳")
	u.shareContact(zh, "王芳", "8613800138016", "nt-p03")

	done := fmt.Sprintf(zh.checkedIn, zh.pointName(t, "nt-p05"))
	again := fmt.Sprintf(zh.again, zh.pointName(t, "nt-p05"))
	u.postAtOnce(u.message(textFields("/start cp_nt-p05")), u.message(textFields("/start cp_nt-p05")))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := w.api.WaitFor(ctx, func(calls []telegramtest.Call) bool {
		got := chatCalls(calls, u.id)[u.seen:]
		return slices.ContainsFunc(got, func(c telegramtest.Call) bool { return strings.Contains(callText(c), done) }) &&
			slices.ContainsFunc(got, func(c telegramtest.Call) bool { return strings.Contains(callText(c), again) })
	})
	if err != nil {
		t.Errorf("a code scanned twice at once: want one check-in and one \"already\"; got:\n%s", dumpTexts(u.calls()[u.seen:]))
	}
	if h := w.history(t, u.id); len(h) != 2 {
		t.Errorf("history holds %d check-ins, want 2 (nt-p03, and nt-p05 once)", len(h))
	}
	if m := w.member(t, u.id); m == nil || m.CheckIns != 2 || m.Name != "王芳" {
		t.Errorf("member = %+v, want 王芳 with 2 check-ins", m)
	}
}

// testCheckInByLocation: a shared location 20 m from a point lists that point first with
// its distance; tapping it checks in by location, keeping the distance and not the place.
func testCheckInByLocation(t *testing.T, w *world, p *proc) {
	u := newUser(t, w, p, 7200000001, "芳", zh.code)
	u.onboard(zh, "nt-p03", "courier", "王芳", "8613800138002")

	// nt-p06 is open around the clock, so it leads the list at any hour of the test.
	pt := pointByID(t, "nt-p06")
	lat := pt.Lat + 20/(6371000*math.Pi/180) // 20 m due north on the earth's mean sphere
	calls := u.say(locationFields(lat, pt.Lon), zh.locAsk)
	near := find(t, calls, zh.nearest)
	if item := fmt.Sprintf(zh.nearestItem, zh.pointName(t, "nt-p06"), 20); !strings.Contains(callText(near), item) {
		t.Errorf("nearest list lacks %q first:\n%s", item, callText(near))
	}
	// The distance travels in the button's data, so the bot keeps no trace of the place.
	if m := markupOf(near); len(m.Inline) == 0 || m.Inline[0][0].Data != "cn:20:nt-p06" || !strings.Contains(m.Inline[0][0].Text, "20 米") {
		t.Errorf("first button of the nearest list = %+v, want nt-p06 with 20 米", m.Inline)
	}
	// The user has not said the location may be kept: not even the session holds it.
	sess, err := w.rdb.Get(context.Background(), w.chatKey("sess", u.id)).Result()
	if err != nil || strings.Contains(sess, strconv.FormatFloat(lat, 'f', 5, 64)) {
		t.Errorf("session = %q, %v; want it without the shared location", sess, err)
	}

	u.tap("cn:20:nt-p06", fmt.Sprintf(zh.checkedIn, zh.pointName(t, "nt-p06")))
	h := w.history(t, u.id)
	if len(h) != 2 {
		t.Fatalf("history holds %d check-ins, want 2", len(h))
	}
	if r := h[0]; r.Point != "nt-p06" || r.Via != "location" || r.Meters != 20 || r.Where != nil || strings.Contains(r.raw, `"where"`) {
		t.Errorf("check-in record = %s, want nt-p06 via location at 20 m, without where", r.raw)
	}
}

// testLocationBeforeRegistration: a new user's first message is a location. The nearest
// list works at once, without the question about keeping locations (that comes after the
// privacy notice); picking a point asks for consent and registration, then checks in there
// by location, with the distance the list showed. Nothing of the place is stored before the
// user agreed to the privacy notice, even when a "keep my location" tap is forged.
func testLocationBeforeRegistration(t *testing.T, w *world, p *proc) {
	u := newUser(t, w, p, 7250000001, "芳", zh.code)
	pt := pointByID(t, "nt-p06")
	lat := pt.Lat + 30/(6371000*math.Pi/180) // 30 m due north
	calls := append(u.say(locationFields(lat, pt.Lon), zh.nearest), u.settle()...)
	if item := fmt.Sprintf(zh.nearestItem, zh.pointName(t, "nt-p06"), 30); !strings.Contains(callText(find(t, calls, zh.nearest)), item) {
		t.Errorf("nearest list lacks %q first:\n%s", item, dumpTexts(calls))
	}
	lacks(t, calls, zh.locAsk)
	// A forged "keep my location" tap on the list (the question was never asked).
	var near map[string]any
	if err := find(t, calls, zh.nearest).Decode(&near); err != nil {
		t.Fatal(err)
	}
	u.post(newUpdate("callback_query", map[string]any{
		"id": "4381999999", "from": u.from(), "message": near, "chat_instance": "-1", "data": "loc:keep",
	}))
	u.await("隐私说明")
	u.say(locationFields(lat, pt.Lon), zh.nearest)
	if left := w.personalKeys(t, []string{strconv.FormatFloat(lat, 'f', 5, 64), "nt-p06=30"}); len(left) > 0 {
		t.Errorf("the shared location is stored before the user agreed to the privacy notice: %v", left)
	}
	u.tap("cn:30:nt-p06", "隐私说明")
	u.agree(zh, "nt-p06")
	u.pickRole(zh, "truck")
	u.typeName(zh, "王芳")
	u.shareContact(zh, "王芳", "8613800138013", "nt-p06")
	h := w.history(t, u.id)
	if len(h) != 1 {
		t.Fatalf("history holds %d check-ins, want 1", len(h))
	}
	if r := h[0]; r.Point != "nt-p06" || r.Via != "location" || r.Meters != 30 {
		t.Errorf("check-in record = %s, want nt-p06 by location at the 30 m the list showed", r.raw)
	}
}

// testCheckInTwice: scanning the same point again within CHECKIN_WINDOW is recognised as
// the same visit and counted once; another point is a new visit.
func testCheckInTwice(t *testing.T, w *world, p *proc) {
	u := newUser(t, w, p, 7300000001, "芳", zh.code)
	u.onboard(zh, "nt-p03", "rider", "王芳", "8613800138003")
	again := fmt.Sprintf(zh.again, zh.pointName(t, "nt-p03"))
	calls := append(u.say(textFields("/start cp_nt-p03"), again), u.settle()...)
	lacks(t, calls, "签到成功")
	h := w.history(t, u.id)
	if len(h) != 1 {
		t.Fatalf("history after a repeated scan holds %d check-ins, want 1", len(h))
	}
	today := day(h[0].At)
	if n := w.stat(t, "ck:"+today, "nt-p03"); n != 1 {
		t.Errorf("check-ins at nt-p03 on %s summed over shards = %d, want 1", today, n)
	}
	if m := w.member(t, u.id); m == nil || m.CheckIns != 1 {
		t.Errorf("member = %+v, want 1 check-in", m)
	}

	u.say(textFields("/start cp_nt-p05"), fmt.Sprintf(zh.nth, "2"))
	if h := w.history(t, u.id); len(h) != 2 {
		t.Errorf("history after a check-in at another point holds %d check-ins, want 2", len(h))
	}
	if a, b := w.stat(t, "ck:"+today, "nt-p03"), w.stat(t, "ck:"+today, "nt-p05"); a != 1 || b != 1 {
		t.Errorf("check-ins on %s: nt-p03 %d, nt-p05 %d; want 1 and 1", today, a, b)
	}
}

// testForgetMe: after /forgetme no key of the deployment holds the user's name, phone
// number, Telegram id or shared location, in its name or its value; the anonymous
// statistics stay.
func testForgetMe(t *testing.T, w *world, p *proc) {
	const name, phone = "王芳", "8613800138004"
	// The Telegram first name is the registered name, so that a raw update left anywhere
	// would show too.
	u := newUser(t, w, p, 7400000001, name, zh.code)
	u.onboard(zh, "nt-p03", "rider", name, phone)

	// A check-in by location with the exact location kept: it must go too.
	pt := pointByID(t, "nt-p06")
	lat, lon := pt.Lat+0.000179876, pt.Lon+0.000012345
	u.say(locationFields(lat, lon), zh.locAsk)
	u.tap("loc:keep", "保存具体位置")
	near := find(t, u.say(locationFields(lat, lon), zh.nearest), zh.nearest)
	u.tap(markupOf(near).Inline[0][0].Data, fmt.Sprintf(zh.checkedIn, zh.pointName(t, "nt-p06")))
	h := w.history(t, u.id)
	if len(h) != 2 || h[0].Where == nil {
		t.Fatalf("history = %+v, want 2 check-ins, the last with its location", h)
	}
	today := day(h[0].At)

	// A dead letter of the user's, as a worker leaves one after repeated failures.
	raw := u.message(textFields(name))
	var upd struct {
		ID int64 `json:"update_id"`
	}
	_ = json.Unmarshal(raw, &upd)
	if err := w.rdb.XAdd(context.Background(), &redis.XAddArgs{
		Stream: fmt.Sprintf("{%s:s%02d}:dead", w.prefix, queue.Shard(u.id, ciShards)),
		Values: []any{"sid", "1764000000000-0", "u", upd.ID, "c", u.id, "k", string(queue.KindTelegram),
			"r", raw, "err", "handle: boom", "n", 5},
	}).Err(); err != nil {
		t.Fatal(err)
	}

	needles := []string{name, phone[2:], strconv.FormatInt(u.id, 10), strconv.FormatFloat(lat, 'f', 5, 64)}
	// The scan sees the user's data before /forgetme, so its silence afterwards means
	// something.
	before := w.personalKeys(t, needles)
	for _, k := range []string{w.chatKey("prof", u.id), w.chatKey("hist", u.id), fmt.Sprintf("{%s:s%02d}:checkins", w.prefix, queue.Shard(u.id, ciShards)),
		fmt.Sprintf("{%s:s%02d}:dead", w.prefix, queue.Shard(u.id, ciShards))} {
		if _, ok := before[k]; !ok {
			t.Errorf("before /forgetme the scan does not find the user in %s; found %v", k, slices.Collect(maps.Keys(before)))
		}
	}

	u.say(textFields("/forgetme"), zh.forgetAsk)
	if c := u.tap("forget:yes", zh.forgotten); len(c) == 0 {
		t.Fatal("no reply to forget:yes")
	}

	// Right after the reply, the sender may still be completing it (out, snd and the
	// ready set name the chat until then); the pacing bucket of the chat (:pace:) lives on
	// for a few seconds with its TTL. Nothing else may name the user at any time.
	deadline := time.Now().Add(5 * time.Second)
	var left map[string]string
	for {
		left = w.personalKeys(t, needles)
		onlyPacing := true
		for k := range left {
			if !strings.Contains(k, ":pace:") {
				onlyPacing = false
			}
		}
		if onlyPacing || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for k, v := range left {
		if !strings.Contains(k, ":pace:") {
			t.Errorf("after /forgetme %s still holds personal data: %.300s", k, v)
			continue
		}
		if ttl, err := w.rdb.PTTL(context.Background(), k).Result(); err != nil || ttl <= 0 || ttl > 10*time.Second {
			t.Errorf("pacing key %s has TTL %v (%v), want one that expires within seconds", k, ttl, err)
		}
	}
	// Wait for the pacing keys to expire: then nothing at all may be left.
	deadline = time.Now().Add(12 * time.Second)
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		left = w.personalKeys(t, needles)
	}
	for k, v := range left {
		t.Errorf("after /forgetme and the pacing TTL %s still holds personal data: %.300s", k, v)
	}

	if m := w.member(t, u.id); m != nil {
		t.Errorf("member after /forgetme = %+v, want none", m)
	}
	// The anonymous counts stay; the member count drops.
	if a, b := w.stat(t, "ck:"+today, "nt-p03"), w.stat(t, "ck:"+today, "nt-p06"); a != 1 || b != 1 {
		t.Errorf("check-ins on %s after /forgetme: nt-p03 %d, nt-p06 %d; want 1 and 1", today, a, b)
	}
	if n := w.stat(t, "reg:"+today, "rider"); n != 1 {
		t.Errorf("registrations of riders on %s after /forgetme = %d, want 1", today, n)
	}
	if n := w.stat(t, "members", "rider"); n != 0 {
		t.Errorf("rider members after /forgetme = %d, want 0", n)
	}
}

// personalKeys dumps every key of the world's prefix by its type and returns those whose
// name or value contains one of needles, with their values.
func (w *world) personalKeys(t *testing.T, needles []string) map[string]string {
	t.Helper()
	ctx := context.Background()
	found := map[string]string{}
	it := w.rdb.Scan(ctx, 0, "*"+w.prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		k := it.Val()
		v := dumpKey(ctx, w.rdb, k)
		for _, n := range needles {
			if strings.Contains(k, n) || strings.Contains(v, n) {
				found[k] = v
			}
		}
	}
	if err := it.Err(); err != nil {
		t.Fatalf("scan keys: %v", err)
	}
	return found
}

// dumpKey returns the value of k, whatever its type, as text.
func dumpKey(ctx context.Context, rdb redis.UniversalClient, k string) string {
	var v any
	var err error
	switch typ, _ := rdb.Type(ctx, k).Result(); typ {
	case "string":
		v, err = rdb.Get(ctx, k).Result()
	case "hash":
		v, err = rdb.HGetAll(ctx, k).Result()
	case "list":
		v, err = rdb.LRange(ctx, k, 0, -1).Result()
	case "set":
		v, err = rdb.SMembers(ctx, k).Result()
	case "zset":
		v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
	case "stream":
		v, err = rdb.XRange(ctx, k, "-", "+").Result()
	case "none":
		return ""
	default:
		return "type " + typ
	}
	if err != nil && err != redis.Nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(v)
}

// testContactNotSender: a contact that is not the sender's own is refused and the phone
// is asked again; the user's own contact then completes the registration.
func testContactNotSender(t *testing.T, w *world, p *proc) {
	u := newUser(t, w, p, 7500000001, "芳", zh.code)
	u.scanQR(zh, "nt-p03")
	u.agree(zh, "nt-p03")
	u.pickRole(zh, "merchant")
	u.typeName(zh, "王芳")
	for _, c := range []map[string]any{
		contactFields("8613900139000", "李娜", 7500000099), // another Telegram user's contact
		contactFields("8613900139001", "张伟", 0),          // a contact who is not on Telegram
	} {
		calls := u.say(c, zh.notYours)
		if r := find(t, calls, zh.notYours); !markupOf(r).asksContact() {
			t.Errorf("refusal has no request_contact keyboard: %s", r.Params["reply_markup"])
		}
		lacks(t, calls, "登记完成")
	}
	if m := w.member(t, u.id); m != nil {
		t.Errorf("member after refused contacts = %+v, want none yet", m)
	}
	if left := w.personalKeys(t, []string{"13900139000", "13900139001"}); len(left) > 0 {
		t.Errorf("a refused contact's number is stored: %v", left)
	}
	u.shareContact(zh, "王芳", "8613800138005", "nt-p03")
	if m := w.member(t, u.id); m == nil || m.Phone != "+8613800138005" || m.Role != "merchant" || m.Name != "王芳" {
		t.Errorf("member = %+v, want the merchant 王芳 with their own number", m)
	}
}

// testGarbage sends stickers, photos, a 5,000-character text and an emoji-only name at
// every step: each gets a helpful re-ask and the flow still completes. That nothing was
// dead-lettered and nothing crashed is checked for the whole bot at the end.
func testGarbage(t *testing.T, w *world, p *proc) {
	long := strings.Repeat("长", 5000)
	junk := []struct {
		name   string
		fields map[string]any
	}{
		{"sticker", stickerFields()},
		{"photo", photoFields()},
		{"5000 characters", textFields(long)},
		{"emoji only", textFields("😀😀")},
	}
	// Each step is tried by its own user, so that their paced replies overlap.
	type step struct {
		name string
		id   int64
		// at brings the user to the step; then runs after each piece of junk and returns
		// the re-ask expected for it; then completes the flow.
		at   func(u *tgUser)
		want func(junk string) string
		then func(u *tgUser)
	}
	steps := []step{
		{
			name: "privacy",
			id:   7600000001,
			at:   func(u *tgUser) { u.scanQR(zh, "nt-p03") },
			// Text outside a flow is a question for the knowledge base, which finds nothing
			// in junk (and quotes a long one only in part); the rest is not understood.
			want: func(junk string) string {
				if junk == "5000 characters" || junk == "emoji only" {
					return "没找到"
				}
				return "没看懂"
			},
			then: func(u *tgUser) {
				// The check-in asked for by the QR code survives the junk.
				u.agree(zh, "nt-p03")
				u.pickRole(zh, "rider")
				u.typeName(zh, "王芳")
				u.shareContact(zh, "王芳", "8613800138006", "nt-p03")
			},
		},
		{
			name: "role",
			id:   7600000002,
			at:   func(u *tgUser) { u.scanQR(zh, "nt-p03"); u.agree(zh, "nt-p03") },
			want: func(string) string { return zh.roleRetry },
			then: func(u *tgUser) {
				u.pickRole(zh, "rider")
				u.typeName(zh, "王芳")
				u.shareContact(zh, "王芳", "8613800138007", "nt-p03")
			},
		},
		{
			name: "name",
			id:   7600000003,
			at: func(u *tgUser) {
				u.scanQR(zh, "nt-p03")
				u.agree(zh, "nt-p03")
				u.pickRole(zh, "rider")
			},
			want: func(junk string) string {
				switch junk {
				case "5000 characters":
					return zh.nameLong
				case "emoji only":
					return zh.nameBad
				}
				return zh.nameRetry
			},
			then: func(u *tgUser) {
				u.typeName(zh, "王芳")
				u.shareContact(zh, "王芳", "8613800138008", "nt-p03")
			},
		},
		{
			name: "phone",
			id:   7600000004,
			at: func(u *tgUser) {
				u.scanQR(zh, "nt-p03")
				u.agree(zh, "nt-p03")
				u.pickRole(zh, "rider")
				u.typeName(zh, "王芳")
			},
			want: func(string) string { return zh.phoneRetry },
			then: func(u *tgUser) { u.shareContact(zh, "王芳", "8613800138009", "nt-p03") },
		},
	}
	together(t, steps, func(st step) string { return st.name }, func(t *testing.T, st step) {
		u := newUser(t, w, p, st.id, "芳", zh.code)
		st.at(u)
		for _, j := range junk {
			calls := u.say(j.fields, st.want(j.name))
			lacks(t, calls, "签到成功", "登记完成")
			if st.name == "role" && !markupOf(find(t, calls, zh.roleRetry)).hasData("role:rider") {
				t.Errorf("%s at the role step: re-ask without the role buttons", j.name)
			}
			if st.name == "phone" && !markupOf(find(t, calls, zh.phoneRetry)).asksContact() {
				t.Errorf("%s at the phone step: re-ask without the contact button", j.name)
			}
		}
		st.then(u)
		if m := w.member(t, u.id); m == nil || m.Name != "王芳" || m.Role != "rider" || m.CheckIns != 1 {
			t.Errorf("member after the junk = %+v, want the rider 王芳 with 1 check-in", m)
		}
	})
}

// testConcurrentUpdates: two updates of one chat arriving at once during registration
// are handled one after the other, in intake order, and leave a consistent registration.
func testConcurrentUpdates(t *testing.T, w *world, p *proc) {
	type pair struct {
		name string
		id   int64
		a, b map[string]any
		// orders are the replies of each order of handling a and b.
		orders [][]string
		names  []string // the registered name may be either of these
	}
	pairs := []pair{
		{
			name: "name and sticker", id: 7700000001, a: textFields("王芳"), b: stickerFields(),
			orders: [][]string{{zh.phoneQ, zh.phoneRetry}, {zh.nameRetry, zh.phoneQ}},
			names:  []string{"王芳"},
		},
		{
			name: "two names", id: 7700000002, a: textFields("王芳"), b: textFields("李娜"),
			orders: [][]string{{zh.phoneQ, zh.phoneRetry}},
			names:  []string{"王芳", "李娜"},
		},
		{
			name: "name and contact", id: 7700000003, a: textFields("王芳"), b: contactFields("8613800138010", "芳", 7700000003),
			orders: [][]string{{zh.phoneQ, "登记完成"}, {zh.nameRetry, zh.phoneQ}},
			names:  []string{"王芳"},
		},
	}
	together(t, pairs, func(c pair) string { return c.name }, func(t *testing.T, tt pair) {
		u := newUser(t, w, p, tt.id, "芳", zh.code)
		u.scanQR(zh, "nt-p03")
		u.agree(zh, "nt-p03")
		u.pickRole(zh, "courier")
		u.postAtOnce(u.message(tt.a), u.message(tt.b))
		// Wait for the first two replies; they tell the order the updates were handled in.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var got []string
		order := func() int {
			for i, o := range tt.orders {
				if len(got) >= 2 && strings.Contains(got[0], o[0]) && strings.Contains(got[1], o[1]) {
					return i
				}
			}
			return -1
		}
		err := w.api.WaitFor(ctx, func(calls []telegramtest.Call) bool {
			got = got[:0]
			for _, c := range chatCalls(calls, u.id)[u.seen:] {
				got = append(got, callText(c))
			}
			return len(got) >= 2
		})
		if err != nil || order() < 0 {
			t.Fatalf("replies to two updates at once = %q (%v), want one of the orders %q", got, err, tt.orders)
		}
		u.seen += 2
		done := fmt.Sprintf(zh.checkedIn, zh.pointName(t, "nt-p03"))
		if tt.name == "name and contact" && order() == 0 {
			// The name came first, so the contact completed the registration.
			u.await(done)
		} else {
			u.say(contactFields("8613800138010", u.first, u.id), done)
		}
		m := w.member(t, u.id)
		if m == nil || !slices.Contains(tt.names, m.Name) || m.Role != "courier" || m.Phone != "+8613800138010" || m.CheckIns != 1 {
			t.Errorf("member = %+v, want the courier named one of %q with 1 check-in", m, tt.names)
		}
		if h := w.history(t, u.id); len(h) != 1 {
			t.Errorf("history holds %d check-ins, want 1", len(h))
		}
		// The name was taken once: no reply asks for it after the phone question.
		calls := u.calls()
		asked := slices.IndexFunc(calls, func(c telegramtest.Call) bool { return strings.Contains(callText(c), zh.phoneQ) })
		lacks(t, calls[asked+1:], zh.nameQ)
	})
}

// The staff and the admin of testStaff; the admin is one of ADMIN_IDS of its bot.
const (
	staffAdmin = 7800000100
	staffClerk = 7800000200
)

// testStaff: in the staff group /stats counts registrations and check-ins per point;
// /export checkins from an admin sends the CSV to the admin's private chat, a non-admin
// is refused, and the group never receives the file.
func testStaff(t *testing.T, w *world, p *proc) {
	const admin, clerk = staffAdmin, staffClerk
	together(t, []string{"rider", "courier"}, func(s string) string { return s }, func(t *testing.T, role string) {
		if role == "rider" {
			u := newUser(t, w, p, 7800000001, "芳", zh.code)
			u.onboard(zh, "nt-p03", "rider", "王芳", "8613800138011")
			// The same visit again: not counted twice.
			u.say(textFields("/start cp_nt-p03"), fmt.Sprintf(zh.again, zh.pointName(t, "nt-p03")))
			return
		}
		u := newUser(t, w, p, 7800000002, "Bob", en.code)
		u.onboard(en, "nt-p05", "courier", "Bob Li", "8613800138012")
	})
	if t.Failed() {
		t.FailNow()
	}

	staff := inStaffGroup(t, w, p, clerk, "小刘")
	stats := staff.say(textFields("/stats"), "<b>统计</b>")
	text := callText(find(t, stats, "<b>统计</b>"))
	for _, want := range []string{
		"<b>会员</b>：共 2 人", "🛵 外卖骑手：1", "📦 快递员：1", "今天 2 · 7 天 2 · 30 天 2",
		zh.pointName(t, "nt-p03") + "：1 / 1 / 1", zh.pointName(t, "nt-p05") + "：1 / 1 / 1",
		"合计：2 / 2 / 2",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/stats lacks %q:\n%s", want, text)
		}
	}
	// Points nobody visited in 30 days are left out, so the message stays short.
	if strings.Contains(text, zh.pointName(t, "nt-p06")) {
		t.Errorf("/stats lists an unvisited point:\n%s", text)
	}

	staff.say(textFields("/export checkins"), "只有管理员可以导出数据")
	boss := inStaffGroup(t, w, p, admin, "老王")
	boss.say(textFields("/export checkins"), "签到表已发到你的私聊")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := w.api.Wait(ctx, "sendDocument", 1); err != nil {
		t.Fatalf("no sendDocument: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	docs := w.api.CallsFor("sendDocument")
	if len(docs) != 1 || docs[0].ChatID != admin {
		t.Fatalf("sendDocument calls = %d, first to %d; want one, to the admin's private chat %d", len(docs), docs[0].ChatID, admin)
	}
	if !strings.Contains(docs[0].Params["caption"], "共 2 条") {
		t.Errorf("export caption = %q, want 2 rows", docs[0].Params["caption"])
	}
	data := docs[0].Files["document"].Data
	body, ok := bytes.CutPrefix(data, []byte("\ufeff"))
	if !ok {
		t.Errorf("CSV starts with % x, want the UTF-8 BOM", data[:min(len(data), 3)])
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, data)
	}
	var pts []string
	for _, r := range rows[1:] {
		pts = append(pts, r[1])
	}
	slices.Sort(pts)
	if len(rows) != 3 || rows[0][1] != "站点编号" || !slices.Equal(pts, []string{"nt-p03", "nt-p05"}) {
		t.Errorf("CSV rows = %q, want a header and one row per check-in (nt-p03, nt-p05)", rows)
	}
	for _, c := range w.api.Calls() {
		if c.ChatID == staffChat && c.Method == "sendDocument" || c.ChatID == clerk && c.Method == "sendDocument" {
			t.Errorf("%s went to chat %d: the export belongs to the admin's private chat only", c.Method, c.ChatID)
		}
	}
	// An admin the bot cannot write to privately: the group is told, and still gets no file.
	const unreachable = 7800000300
	w.api.SetBlocked(unreachable, true)
	inStaffGroup(t, w, p, unreachable, "小张").say(textFields("/export checkins"), "签到表没能发到私聊")
	for _, c := range w.api.CallsFor("sendDocument") {
		if c.Status == http.StatusOK && c.ChatID != admin {
			t.Errorf("a document reached chat %d; only the admin %d may get one", c.ChatID, admin)
		}
	}

	// Outside the staff group nobody is staff, admins included: no statistics, no export.
	out := inGroup(t, w, p, -1009876543210, admin, "老王")
	out.post(out.message(textFields("/stats")))
	out.post(out.message(textFields("/export checkins")))
	calls := out.say(textFields("/help"), "有事请私聊我")
	if len(calls) != 1 {
		t.Errorf("/stats, /export and /help in a group that is not the staff group got:\n%s\nwant only the help", dumpTexts(calls))
	}
	private := newUser(t, w, p, admin, "老王", zh.code)
	calls = append(private.say(textFields("/stats"), "没看懂"), private.settle()...)
	lacks(t, calls, "<b>统计</b>", "外卖骑手")
	if n := len(w.api.CallsFor("sendDocument")); n != 2 {
		t.Errorf("%d sendDocument calls, want 2 (the admin's, the refused one)", n)
	}

	var audits int64
	for sh := range ciShards {
		es, _ := w.rdb.XRange(context.Background(), fmt.Sprintf("{%s:s%02d}:audit", w.prefix, sh), "-", "+").Result()
		for _, e := range es {
			if strings.Contains(fmt.Sprint(e.Values), "export_checkins") {
				audits++
			}
		}
	}
	if audits != 2 {
		t.Errorf("audit log holds %d export entries, want 2 (one per export built)", audits)
	}
}
