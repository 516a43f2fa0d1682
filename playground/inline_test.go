package playground

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// TestInlineQuery: the page's inline query reaches the intake as Telegram's inline_query
// from the simulated user, and the bot's answer is there to fetch once it came.
func TestInlineQuery(t *testing.T) {
	_, in, api, e := setup(t)
	w := do(e, http.MethodPost, "/playground/inline", `{"user":1001,"name":"王师傅","lang":"zh-hans","query":"社保"}`)
	var got struct{ ID string }
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.ID == "" {
		t.Fatalf("inline = %d %s", w.Code, w.Body)
	}
	var upd models.Update
	if len(in.got) != 1 || json.Unmarshal(in.got[0].Raw, &upd) != nil || upd.InlineQuery == nil ||
		upd.InlineQuery.ID != got.ID || upd.InlineQuery.Query != "社保" || upd.InlineQuery.From.FirstName != "王师傅" || in.got[0].ChatID != 1001 {
		t.Fatalf("queued %s, want the inline query of user 1001", in.got[0].Raw)
	}
	if w := do(e, http.MethodGet, "/playground/inline?id="+got.ID, ""); w.Code != http.StatusAccepted {
		t.Errorf("answer before the bot's = %d, want 202", w.Code)
	}
	results := `[{"type":"article","id":"a","title":"工伤保险","description":"骑手受伤谁管",` +
		`"input_message_content":{"message_text":"<b>工伤保险</b>","parse_mode":"HTML"},` +
		`"reply_markup":{"inline_keyboard":[[{"text":"打开","url":"https://t.me/bangban_bot?start=pol_injury"}]]}},` +
		`{"type":"article","id":"b","title":"贷款","input_message_content":{"message_text":` +
		`"<b>贷款</b>\n<a href=\"https://t.me/bangban_bot?start=pol_loan\">详情</a>","parse_mode":"HTML"}}]`
	resp, err := http.Post(api.URL()+"/bot1:x/answerInlineQuery", "application/json",
		strings.NewReader(fmt.Sprintf(`{"inline_query_id":%q,"results":%s}`, got.ID, results)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var answer struct{ Results []InlineResult }
	for deadline := time.Now().Add(5 * time.Second); ; {
		w := do(e, http.MethodGet, "/playground/inline?id="+got.ID, "")
		if w.Code == http.StatusOK {
			if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer: %d %s", w.Code, w.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	want := []InlineResult{
		{Title: "工伤保险", Description: "骑手受伤谁管", Text: "<b>工伤保险</b>", URL: "https://t.me/bangban_bot?start=pol_injury"},
		{Title: "贷款", Text: "<b>贷款</b>\n<a href=\"https://t.me/bangban_bot?start=pol_loan\">详情</a>", URL: "https://t.me/bangban_bot?start=pol_loan"},
	}
	if len(answer.Results) != 2 || answer.Results[0] != want[0] || answer.Results[1] != want[1] {
		t.Errorf("results = %+v, want %+v", answer.Results, want)
	}
	for _, body := range []string{`{"user":1001,"query":""}`, `{"user":0,"query":"x"}`, `not json`} {
		if w := do(e, http.MethodPost, "/playground/inline", body); w.Code != http.StatusBadRequest {
			t.Errorf("inline %s = %d, want 400", body, w.Code)
		}
	}
	if w := do(e, http.MethodGet, "/playground/inline?id=nope", ""); w.Code != http.StatusNotFound {
		t.Errorf("unknown id = %d, want 404", w.Code)
	}
}
