package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nanta-district/bangban/internal/telegramtest"
)

// The service-request tests (issue 6) drive a worker and staff through the real binary:
// the worker's messages reach the staff group (a topic per ticket, or the group itself),
// staff answers reach the worker, and every status change is pushed.

// deskCalls returns the successful calls of methods that put something in chat.
func deskCalls(api *telegramtest.Server, chat int64, methods ...string) []telegramtest.Call {
	var out []telegramtest.Call
	for _, c := range api.Calls() {
		if c.ChatID == chat && c.Status == http.StatusOK && slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// waitCall waits until a successful call of method to chat satisfies ok, and returns it.
func waitCall(t *testing.T, api *telegramtest.Server, chat int64, method string, ok func(telegramtest.Call) bool) telegramtest.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got telegramtest.Call
	err := api.WaitFor(ctx, func(calls []telegramtest.Call) bool {
		for _, c := range calls {
			if c.ChatID == chat && c.Method == method && c.Status == http.StatusOK && ok(c) {
				got = c
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no %s to %d as expected: %v\ncalls to it:\n%s", method, chat, err, dumpTexts(deskCalls(api, chat, method)))
	}
	return got
}

// result decodes a call's result.
func result[T any](t *testing.T, c telegramtest.Call) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(c.Result, &v); err != nil {
		t.Fatalf("decode result of %s: %v (%s)", c.Method, err, c.Result)
	}
	return v
}

// submitRequest takes a consented user through /request: category, a text and a photo,
// Submit; it returns the ids of the two messages and waits for the receipt of ticket n.
func submitRequest(t *testing.T, u *tgUser, category string, n int) []int {
	t.Helper()
	u.say(textFields("/request"), "需要哪方面的帮助")
	u.tap("rq:c:"+category, "请描述您的问题")
	text := u.message(textFields("营业执照地址变更要带什么材料？"))
	u.post(text)
	u.await("收到")
	photo := u.message(photoFields())
	u.post(photo)
	u.say(textFields("✅ 提交"), fmt.Sprintf("工单 #%d 已受理", n))
	return []int{messageID(t, text), messageID(t, photo)}
}

// messageID is the id of the message of a message update.
func messageID(t *testing.T, update []byte) int {
	t.Helper()
	var u struct {
		Message struct {
			ID int `json:"message_id"`
		} `json:"message"`
	}
	if err := json.Unmarshal(update, &u); err != nil || u.Message.ID == 0 {
		t.Fatalf("no message id in %s: %v", update, err)
	}
	return u.Message.ID
}

// consent gives the user's agreement to the privacy notice.
func (u *tgUser) consent() {
	u.t.Helper()
	u.say(textFields("/start"), "隐私")
	u.tap("consent:yes", "谢谢你的信任")
}

// topicMessage is a staff message in a forum topic.
func (u *tgUser) topicMessage(thread int, fields map[string]any) []byte {
	f := map[string]any{"message_thread_id": thread, "is_topic_message": true}
	for k, v := range fields {
		f[k] = v
	}
	return u.message(f)
}

// TestTickets runs the ticket scenarios at once, each with a bot of its own: they spend
// most of their time waiting for the staff group's pace (20 messages a minute).
func TestTickets(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test runs the binary")
	}
	t.Parallel() // with the other tests that mostly wait for paced replies
	type scenario struct {
		name string
		run  func(*testing.T)
	}
	scenarios := []scenario{
		{"round trip with topics", testTicketRoundTripForum},
		{"round trip without topics", testTicketRoundTripGroup},
		{"guards", testTicketGuards},
	}
	together(t, scenarios, func(s scenario) string { return s.name }, func(t *testing.T, s scenario) { s.run(t) })
}

// testTicketRoundTripForum: with forum topics, a request opens a topic with a card and the
// user's messages copied in; staff answers (text and photo) reach the user signed, internal
// notes do not, a duplicate delivery relays once; take, close, rating, comment and reopen
// are pushed both ways; a deleted topic is made again with nothing lost; a blocked user is
// reported to staff.
func testTicketRoundTripForum(t *testing.T) {
	w, p := startCheckInBot(t)
	u := newUser(t, w, p, 7_600_000_001, "小李", "zh-hans")
	u.consent()
	msgs := submitRequest(t, u, "licence", 1)

	topic := waitCall(t, w.api, staffChat, "createForumTopic", func(c telegramtest.Call) bool { return strings.HasPrefix(c.Params["name"], "#1 ") })
	if name := topic.Params["name"]; !strings.Contains(name, "证照办理") || !strings.Contains(name, "小李") {
		t.Errorf("topic name = %q, want the number, category and name", name)
	}
	thread := result[struct {
		ID int `json:"message_thread_id"`
	}](t, topic).ID
	card := waitCall(t, w.api, staffChat, "sendMessage", func(c telegramtest.Call) bool {
		return c.Params["message_thread_id"] == strconv.Itoa(thread) && strings.Contains(c.Params["text"], "工单 #1")
	})
	if !strings.Contains(card.Params["text"], "营业执照地址变更") || !strings.Contains(card.Params["reply_markup"], "dk:t:1") {
		t.Errorf("card = %q %s, want the summary and a Take button", card.Params["text"], card.Params["reply_markup"])
	}
	copies := waitCall(t, w.api, staffChat, "copyMessages", func(c telegramtest.Call) bool { return c.Params["message_thread_id"] == strconv.Itoa(thread) })
	if want := fmt.Sprintf("[%d,%d]", msgs[0], msgs[1]); copies.Params["message_ids"] != want || copies.Params["from_chat_id"] != strconv.FormatInt(u.id, 10) {
		t.Errorf("copyMessages ids %s from %s, want %s from the user", copies.Params["message_ids"], copies.Params["from_chat_id"], want)
	}

	staff := inStaffGroup(t, w, p, 7_600_000_900, "王姐")
	answer := staff.topicMessage(thread, textFields("您好，请带上身份证原件和租赁合同。"))
	staff.post(answer)
	staff.post(answer) // Telegram delivering it twice
	u.await("请带上身份证原件")
	staff.post(staff.topicMessage(thread, textFields("// 这个人上周来过")))
	photo := staff.topicMessage(thread, map[string]any{"photo": photoFields()["photo"], "caption": "材料样本"})
	staff.post(photo)
	cp := waitCall(t, w.api, u.id, "copyMessage", func(c telegramtest.Call) bool { return c.Params["from_chat_id"] == strconv.Itoa(staffChat) })
	if !strings.Contains(cp.Params["caption"], "工作人员") || !strings.Contains(cp.Params["caption"], "材料样本") {
		t.Errorf("copied photo caption = %q, want the signature and the caption", cp.Params["caption"])
	}
	late := u.settle()
	lacks(t, late, "这个人上周来过")
	if n := len(slices.DeleteFunc(append(u.calls(), late...), func(c telegramtest.Call) bool { return !strings.Contains(callText(c), "请带上身份证原件") })); n != 1 {
		t.Errorf("the answer reached the user %d times, want once", n)
	}

	// The user adds a message: it is copied into the topic, with a one-time note.
	more := u.message(textFields("还有，我的店在南塔路 12 号"))
	u.post(more)
	u.await("已转给工作人员")
	waitCall(t, w.api, staffChat, "copyMessages", func(c telegramtest.Call) bool {
		return c.Params["message_thread_id"] == strconv.Itoa(thread) && c.Params["message_ids"] != copies.Params["message_ids"]
	})

	// An anonymous admin cannot take it; a person can, and the user hears of it.
	anon := inStaffGroup(t, w, p, 1087968824, "Group")
	body, id := anon.tapUpdate("dk:t:1")
	anon.post(body)
	if toast := anon.answer(id); !strings.Contains(toast, "个人身份") {
		t.Errorf("anonymous take toast = %q", toast)
	}
	body, _ = staff.tapUpdate("dk:t:1")
	staff.post(body)
	u.await("已接手您的工单 #1")

	// Close → rating → comment → reopen.
	body, _ = staff.tapUpdate("dk:c:1")
	staff.post(body)
	u.await("工单 #1 已由工作人员关闭")
	u.tap("tk:r:1:4", "谢谢您的评价")
	waitCall(t, w.api, staffChat, "sendMessage", func(c telegramtest.Call) bool { return strings.Contains(c.Params["text"], "★★★★☆") })
	u.say(textFields("办事很快，谢谢"), "谢谢！")
	waitCall(t, w.api, staffChat, "sendMessage", func(c telegramtest.Call) bool { return strings.Contains(c.Params["text"], "办事很快") })
	u.tap("tk:o:1", "已重新打开")
	waitCall(t, w.api, staffChat, "sendMessage", func(c telegramtest.Call) bool { return strings.Contains(c.Params["text"], "重新打开了工单 #1") })

	// Staff delete the topic: the next message makes it again, with the card and the message.
	w.api.DeleteTopic(staffChat, thread)
	lost := u.message(textFields("请问今天能办吗？"))
	u.post(lost)
	again := waitCall(t, w.api, staffChat, "createForumTopic", func(c telegramtest.Call) bool {
		return strings.HasPrefix(c.Params["name"], "#1 ") && string(c.Result) != string(topic.Result)
	})
	thread2 := result[struct {
		ID int `json:"message_thread_id"`
	}](t, again).ID
	waitCall(t, w.api, staffChat, "sendMessage", func(c telegramtest.Call) bool {
		return c.Params["message_thread_id"] == strconv.Itoa(thread2) && strings.Contains(c.Params["text"], "已重建")
	})
	waitCall(t, w.api, staffChat, "copyMessages", func(c telegramtest.Call) bool {
		return c.Params["message_thread_id"] == strconv.Itoa(thread2) && strings.Contains(c.Params["message_ids"], strconv.Itoa(messageID(t, lost)))
	})

	// The user blocks the bot: staff are told their answer did not arrive.
	w.api.SetBlocked(u.id, true)
	staff.post(staff.topicMessage(thread2, textFields("今天可以，下午三点前来。")))
	waitCall(t, w.api, staffChat, "sendMessage", func(c telegramtest.Call) bool {
		return c.Params["message_thread_id"] == strconv.Itoa(thread2) && strings.Contains(c.Params["text"], "回复没有送达")
	})
	w.healthy(t, p)
}

// testTicketRoundTripGroup: without forum topics the card and the messages are posted in
// the group; staff answer by replying to any of them.
func testTicketRoundTripGroup(t *testing.T) {
	w := newWorld(t)
	w.api.AddChat(telegramtest.Chat{ID: staffChat, Type: "supergroup", Title: "staff", BotStatus: "administrator", CanDeleteMessages: true})
	p := w.start(checkinEnv...)
	u := newUser(t, w, p, 7_600_000_002, "小张", "zh-hans")
	u.consent()
	submitRequest(t, u, "repair", 1)
	card := waitCall(t, w.api, staffChat, "sendMessage", func(c telegramtest.Call) bool { return strings.Contains(c.Params["text"], "工单 #1") })
	if _, ok := card.Params["message_thread_id"]; ok {
		t.Errorf("card went to a topic in a group without topics: %v", card.Params)
	}
	copies := waitCall(t, w.api, staffChat, "copyMessages", func(c telegramtest.Call) bool { return true })
	cardID := result[struct {
		ID int `json:"message_id"`
	}](t, card).ID
	copied := result[[]struct {
		ID int `json:"message_id"`
	}](t, copies)

	staff := inStaffGroup(t, w, p, 7_600_000_901, "老陈")
	staff.chat = map[string]any{"id": int64(staffChat), "type": "supergroup", "title": "staff"}
	staff.post(staff.message(map[string]any{"text": "师傅明天上午上门。", "reply_to_message": map[string]any{
		"message_id": cardID, "date": time.Now().Unix(), "chat": staff.chat}}))
	u.await("师傅明天上午上门")
	staff.post(staff.message(map[string]any{"text": "请保持电话畅通。", "reply_to_message": map[string]any{
		"message_id": copied[1].ID, "date": time.Now().Unix(), "chat": staff.chat}}))
	u.await("请保持电话畅通")
	// A message in the group that replies to nothing of a ticket stays in the group.
	staff.post(staff.message(textFields("大家中午吃什么？")))
	lacks(t, u.settle(), "中午吃什么")

	// Follow-ups are announced under the card, then copied.
	u.post(u.message(textFields("门牌是 3 栋 201")))
	u.await("已转给工作人员")
	waitCall(t, w.api, staffChat, "sendMessage", func(c telegramtest.Call) bool {
		return strings.Contains(c.Params["text"], "补充") && strings.Contains(c.Params["reply_parameters"], strconv.Itoa(cardID))
	})
	w.healthy(t, p)
}

// testTicketGuards: a double-tapped Submit makes one ticket and one topic; outsiders cannot
// act on tickets; /queue lists the open ones.
func testTicketGuards(t *testing.T) {
	w, p := startCheckInBot(t)
	u := newUser(t, w, p, 7_600_000_003, "阿强", "zh-hans")
	u.consent()
	u.say(textFields("/request"), "需要哪方面的帮助")
	u.tap("rq:c:other", "请描述您的问题")
	u.say(textFields("电动车充电桩坏了"), "收到")
	u.postAtOnce(u.message(textFields("✅ 提交")), u.message(textFields("✅ 提交")))
	u.await("工单 #1 已受理")
	waitCall(t, w.api, staffChat, "copyMessages", func(c telegramtest.Call) bool { return true })
	time.Sleep(500 * time.Millisecond)
	if n := len(deskCalls(w.api, staffChat, "createForumTopic")); n != 1 {
		t.Errorf("%d topics made, want 1", n)
	}
	lacks(t, u.settle(), "工单 #2")

	outsider := inGroup(t, w, p, -1009999, 7_600_000_950, "路人")
	outsider.post(outsider.message(textFields("/queue")))
	// A forged tap on a card button from a group that is not the staff group.
	outsider.post(newUpdate("callback_query", map[string]any{"id": "4382999001", "from": outsider.from(), "chat_instance": "-1",
		"data": "dk:c:1", "message": map[string]any{"message_id": 1, "date": time.Now().Unix(), "chat": outsider.chat}}))
	staff := inStaffGroup(t, w, p, 7_600_000_902, "小周")
	staff.post(staff.message(textFields("/queue")))
	q := waitCall(t, w.api, staffChat, "sendMessage", func(c telegramtest.Call) bool { return strings.Contains(c.Params["text"], "待处理工单") })
	if !strings.Contains(q.Params["text"], "#1") || !strings.Contains(q.Params["text"], "等工作人员") {
		t.Errorf("/queue = %q, want ticket #1 waiting for staff", q.Params["text"])
	}
	if n := len(deskCalls(w.api, -1009999, "sendMessage")); n != 0 {
		t.Errorf("the outsiders' group got %d messages", n)
	}
	lacks(t, u.settle(), "已由工作人员关闭")
	w.healthy(t, p)
}
