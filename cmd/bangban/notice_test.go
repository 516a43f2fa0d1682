package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nanta-district/bangban/internal/telegramtest"
)

// TestStaffBroadcast: an admin broadcasts a notice from the staff group to riders, as
// Telegram users do it: reply with /broadcast, filter, preview, send. The riders get the
// notice with its formatting and a stop button, the truck driver does not; the group sees
// the progress and the report; a rider who stops notices is left out of the next one.
func TestStaffBroadcast(t *testing.T) {
	t.Parallel() // with the other tests that mostly wait for paced replies
	const admin = 7_700_000_900
	w, p := startCheckInBot(t, fmt.Sprintf("ADMIN_IDS=%d", admin), "BROADCAST_RATE=25")
	riderA := newUser(t, w, p, 7_700_000_001, "阿明", "zh-hans")
	riderB := newUser(t, w, p, 7_700_000_002, "阿华", "zh-hans")
	driver := newUser(t, w, p, 7_700_000_003, "老赵", "zh-hans")
	riderA.onboard(zh, "nt-p01", "rider", "阿明", "+8613800000001")
	riderB.onboard(zh, "nt-p02", "rider", "阿华", "+8613800000002")
	driver.onboard(zh, "nt-p01", "truck", "老赵", "+8613800000003")

	staff := inStaffGroup(t, w, p, admin, "主任")
	text := "骑手工伤保险新规：本周六讲解会"
	notice := map[string]any{"message_id": w.api.NewMessageID(staffChat), "date": time.Now().Unix(), "from": staff.from(),
		"chat": staff.chat, "text": text, "entities": []map[string]any{{"type": "bold", "offset": 0, "length": 6}}}
	staff.post(newUpdate("message", notice))
	cmd := textFields("/broadcast")
	cmd["reply_to_message"] = notice
	staff.say(cmd, "将发送给 <b>3</b> 人")
	staff.tap("bc:m:r", "点击切换")
	staff.tap("bc:t:r:rider", "👥 2 人")
	staff.tap("bc:b", "将发送给 <b>2</b> 人")
	staff.tap("bc:pv", "预览已发到你的私聊")
	preview := waitCall(t, w.api, admin, "sendMessage", func(c telegramtest.Call) bool { return c.Params["text"] == text })
	if !strings.Contains(preview.Params["entities"], "bold") || !strings.Contains(preview.Params["reply_markup"], "nt:off") {
		t.Errorf("preview = %v, want the entities and the stop button", preview.Params)
	}
	staff.tap("bc:go", "正在创建群发")
	staff.await("群发 ")
	for _, u := range []*tgUser{riderA, riderB} {
		got := waitCall(t, w.api, u.id, "sendMessage", func(c telegramtest.Call) bool { return c.Params["text"] == text })
		if !strings.Contains(got.Params["entities"], "bold") || !strings.Contains(got.Params["reply_markup"], "nt:off") {
			t.Errorf("notice to %d = %v, want the entities and the stop button", u.id, got.Params)
		}
	}
	staff.await("送达 2")
	lacks(t, driver.settle(), text)

	// A rider stops notices; the next broadcast, to everyone, leaves them out.
	riderA.seen = len(riderA.calls())
	riderA.tap("nt:off", "不再给你发政策通知")
	staff.say(cmd, "将发送给 <b>2</b> 人")
	staff.tap("bc:pv", "预览已发到你的私聊")
	staff.tap("bc:go", "正在创建群发")
	staff.await("送达 2")
	lacks(t, riderA.settle(), text)
	w.healthy(t, p)
}
