package handlers

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/queue"
)

func consentedProfile(t *testing.T, lang string) []byte {
	at := now.Add(-time.Hour)
	return encode(t, bot.Profile{Version: bot.ProfileVersion, Lang: lang, LangChosen: true, ConsentAt: &at})
}

func TestPolicyQuestion(t *testing.T) {
	h := newHandler(t)
	eff := handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "外卖骑手送餐路上受伤了谁管"})),
		queue.State{Profile: consentedProfile(t, bot.LangZH)})
	if len(eff.Outbox) != 1 {
		t.Fatalf("outbox = %+v", eff.Outbox)
	}
	m := eff.Outbox[0]
	if !strings.Contains(m.Text, "相关的政策") || len(m.Inline) < 2 || !strings.HasPrefix(m.Inline[0][0].Data, "pol:") {
		t.Fatalf("results = %q with %+v", m.Text, m.Inline)
	}
	first, _ := demo(t).Policy(strings.TrimPrefix(m.Inline[0][0].Data, "pol:"))
	injury := false
	for _, row := range m.Inline[:3] {
		p, _ := demo(t).Policy(strings.TrimPrefix(row[0].Data, "pol:"))
		injury = injury || p.Category == "injury"
	}
	if !injury {
		t.Errorf("top 3 = %+v, want an injury policy among them", m.Inline[:3])
	}
	if !strings.Contains(m.Text, "<b>"+first.Title.ZH+"</b>") {
		t.Errorf("results text %q lacks the first title %q", m.Text, first.Title.ZH)
	}
	want := []queue.Counter{{Key: "q:2025-03-01", Field: "外卖骑手送餐路上受伤了谁管", By: 1, TTL: statDays * 24 * time.Hour}}
	if len(eff.Counters) != 1 || eff.Counters[0] != want[0] {
		t.Errorf("counters = %+v, want %+v", eff.Counters, want)
	}

	none := handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "今天天气怎么样"})),
		queue.State{Profile: consentedProfile(t, bot.LangZH)})
	if !strings.Contains(none.Outbox[0].Text, "没找到") || len(none.Counters) != 2 || none.Counters[1].Key != "q0:2025-03-01" {
		t.Errorf("no match: %q, counters %+v", none.Outbox[0].Text, none.Counters)
	}
}

// TestPolicyCards renders every demo policy's card in both languages: valid, within
// Telegram's limit per message, with the source link and, for unchecked facts, the warning.
func TestPolicyCards(t *testing.T) {
	h := newHandler(t)
	c := demo(t)
	for _, p := range c.Policies {
		for _, lang := range []string{bot.LangZH, bot.LangEN} {
			eff := handle(t, h, user, tapUpdate(t, "pol:"+p.ID), queue.State{Profile: consentedProfile(t, lang)})
			var texts []string
			for _, m := range eff.Outbox {
				if m.Method == queue.MethodSendMessage {
					texts = append(texts, m.Text)
					if n := utf8.RuneCountInString(m.Text); n > 4096 {
						t.Errorf("%s (%s): a message of %d characters", p.ID, lang, n)
					}
				}
			}
			all := strings.Join(texts, "\n")
			if len(texts) == 0 || !strings.Contains(all, html.EscapeString(p.Title.In(lang))) {
				t.Fatalf("%s (%s): card %q", p.ID, lang, all)
			}
			if p.Source != "" && !strings.Contains(all, `href="`+html.EscapeString(p.Source)+`"`) {
				t.Errorf("%s (%s): no source link", p.ID, lang)
			}
			warned := strings.Contains(all, "待与服务中心确认") || strings.Contains(all, "to be confirmed with the centre")
			if warned == p.Verified {
				t.Errorf("%s (%s): verified %v but warning shown %v", p.ID, lang, p.Verified, warned)
			}
			last := eff.Outbox[len(eff.Outbox)-1]
			if len(last.Inline) == 0 || last.Inline[0][0].Data != "fb:y:"+p.ID {
				t.Errorf("%s (%s): last message keyboard %+v, want the feedback buttons", p.ID, lang, last.Inline)
			}
		}
	}
}

func TestLongCardIsSplit(t *testing.T) {
	c := demo(t)
	p := c.Policies[0]
	long := strings.Repeat("很长的说明。", 450) // 2,700 characters
	p.Body.ZH = []content.Section{{Heading: "一", Text: long}, {Heading: "二", Text: long}, {Heading: "三", Text: long}}
	c.Policies = append([]content.Policy{p}, c.Policies[1:]...)
	h, err := New(WithClock(func() time.Time { return now }), WithContent(c))
	if err != nil {
		t.Fatal(err)
	}
	eff := handle(t, h, user, tapUpdate(t, "pol:"+p.ID), queue.State{Profile: consentedProfile(t, bot.LangZH)})
	var sends []queue.Message
	for _, m := range eff.Outbox {
		if m.Method == queue.MethodSendMessage {
			sends = append(sends, m)
		}
	}
	if len(sends) != 3 {
		t.Fatalf("a card of three 2,700-character sections went out as %d messages, want 3", len(sends))
	}
	for i, m := range sends {
		if n := utf8.RuneCountInString(m.Text); n > maxMessage {
			t.Errorf("message %d has %d characters", i, n)
		}
		if i > 0 && !strings.HasPrefix(m.Text, "（续）") {
			t.Errorf("message %d does not say it continues: %q", i, m.Text[:20])
		}
		if (len(m.Inline) > 0) != (i == len(sends)-1) {
			t.Errorf("message %d keyboard %v: the buttons belong to the last message", i, m.Inline)
		}
	}
}

func TestInlineQuery(t *testing.T) {
	h := newHandler(t)
	raw := update(t, "inline_query", map[string]any{"id": "iq1", "query": "网约车证怎么办", "offset": "",
		"from": map[string]any{"id": user, "is_bot": false, "first_name": "芳", "language_code": "zh-hans"}})
	eff, err := h.Handle(context.Background(), queue.Update{StreamID: streamID, Kind: queue.KindTelegram, ChatID: user, Raw: raw}, queue.State{})
	if err != nil {
		t.Fatal(err)
	}
	if eff.Session != nil || eff.Profile != nil || len(eff.Outbox) != 1 {
		t.Fatalf("effects = %+v", eff)
	}
	m := eff.Outbox[0]
	if m.Method != queue.MethodAnswerInlineQuery || m.InlineQueryID != "iq1" || len(m.Results) == 0 || m.CacheTime <= 0 {
		t.Fatalf("answer = %+v", m)
	}
	if r := m.Results[0]; r.ID != "ride-hailing-licences" || !strings.Contains(r.Text, "https://t.me/bangban_bot?start=pol_ride-hailing-licences") {
		t.Errorf("first result = %+v, want the ride-hailing licences with a deep link", r)
	}
}

func TestAsksForExpired(t *testing.T) {
	for q, want := range map[string]bool{
		"已经失效的社保政策": true, "过期的补贴还能领吗": true, "show expired policies": true,
		"社保怎么交": false, "how do I get a loan": false,
	} {
		if got := asksForExpired(q); got != want {
			t.Errorf("asksForExpired(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestExpiredPoliciesOnlyWhenAsked: an expired policy is not offered, unless the question
// asks about expired ones.
func TestExpiredPoliciesOnlyWhenAsked(t *testing.T) {
	c := demo(t)
	var loan content.Policy
	for i, p := range c.Policies {
		if p.ID == "startup-guarantee-loan" {
			c.Policies[i].Expires = now.AddDate(0, -1, 0)
			loan = c.Policies[i]
		}
	}
	h, err := New(WithClock(func() time.Time { return now }), WithContent(c))
	if err != nil {
		t.Fatal(err)
	}
	offered := func(q string) bool {
		eff := handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": q})),
			queue.State{Profile: consentedProfile(t, bot.LangZH)})
		for _, m := range eff.Outbox {
			for _, row := range m.Inline {
				if row[0].Data == "pol:"+loan.ID {
					return true
				}
			}
		}
		return false
	}
	if offered("创业担保贷款怎么申请") {
		t.Error("an expired policy was offered")
	}
	if !offered("已经失效的创业担保贷款") {
		t.Error("a question about expired policies did not find the expired one")
	}
}

func TestPolicyMaybe(t *testing.T) {
	h := newHandler(t)
	eff := handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "rider injured who pays"})),
		queue.State{Profile: consentedProfile(t, bot.LangEN)})
	m := eff.Outbox[0]
	if !strings.Contains(m.Text, "may be related") || len(m.Inline) == 0 || !strings.HasPrefix(m.Inline[0][0].Data, "pol:") {
		t.Fatalf("reply %q with %+v, want related policies offered", m.Text, m.Inline)
	}
	off := handle(t, h, user, update(t, "message", message(user, user, map[string]any{"text": "what's the weather like today"})),
		queue.State{Profile: consentedProfile(t, bot.LangEN)})
	if !strings.Contains(off.Outbox[0].Text, "I found no policy") {
		t.Errorf("off-topic reply %q, want no match", off.Outbox[0].Text)
	}
}
