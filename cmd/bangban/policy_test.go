package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestPolicyLookup asks the knowledge base as workers do, through the real binary: a
// question in their own words, a tap on a result for the card, feedback, browsing, an
// inline query from another chat, and the staff's view of what was asked.
func TestPolicyLookup(t *testing.T) {
	w, p := startCheckInBot(t)
	u := newUser(t, w, p, 7900000001, "芳", zh.code)
	u.say(textFields("/start"), "隐私说明")
	u.tap("consent:yes", "登记一次")

	calls := u.say(textFields("外卖小哥送餐路上摔伤了谁管"), "相关的政策")
	results := find(t, calls, "相关的政策")
	kb := markupOf(results).Inline
	var ids []string
	for _, row := range kb[:len(kb)-1] {
		ids = append(ids, strings.TrimPrefix(row[0].Data, "pol:"))
	}
	found := false
	for _, id := range ids[:min(3, len(ids))] {
		found = found || strings.Contains(id, "injury")
	}
	if !found {
		t.Errorf("top results %v, want an injury policy in the first three", ids)
	}

	card := u.tap("pol:"+ids[0], "查看原文")
	last := find(t, card, "查看原文")
	if m := markupOf(last); len(m.Inline) == 0 || m.Inline[0][0].Data != "fb:y:"+ids[0] {
		t.Errorf("card keyboard = %+v, want the feedback buttons", m.Inline)
	}
	u.post(func() []byte { b, _ := u.tapUpdate("fb:y:" + ids[0]); return b }())
	u.say(textFields("今天天气怎么样"), "没找到")
	u.say(textFields("/policy"), "政策查询")
	u.tap("pc:0:injury", "工伤与职业伤害保障")

	// Inline mode: "@bot 网约车证" typed in any chat.
	qid, upd := w.api.InlineQuery(7900000001, "网约车证怎么办", time.Time{})
	var inline map[string]any
	if err := json.Unmarshal(upd, &inline); err != nil {
		t.Fatal(err)
	}
	// The fake numbers its updates from 1; the test's own numbering avoids the dedupe.
	u.post(newUpdate("inline_query", inline["inline_query"]))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answers, err := w.api.Wait(ctx, "answerInlineQuery", 1)
	if err != nil {
		t.Fatalf("no inline answer: %v", err)
	}
	var res []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := answers[0].DecodeParam("results", &res); err != nil || answers[0].Params["inline_query_id"] != qid || answers[0].Status != 200 {
		t.Fatalf("inline answer %+v: %v", answers[0], err)
	}
	if len(res) == 0 || res[0].ID != "ride-hailing-licences" {
		t.Errorf("inline results %+v, want the ride-hailing licences first", res)
	}

	// Asked again (the staff see only questions asked at least twice).
	u.say(textFields("外卖小哥送餐路上摔伤了谁管"), "相关的政策")
	u.say(textFields("今天天气怎么样"), "没找到")

	// The staff see what was asked, and what found nothing.
	staff := inStaffGroup(t, w, p, staffAdmin, "站长")
	stats := find(t, staff.say(textFields("/stats"), "常问的问题"), "常问的问题")
	for _, want := range []string{"外卖小哥送餐路上摔伤了谁管（2）", "今天天气怎么样（2）"} {
		if !strings.Contains(callText(stats), want) {
			t.Errorf("stats lack %q:\n%s", want, callText(stats))
		}
	}
	w.healthy(t, p)
}
