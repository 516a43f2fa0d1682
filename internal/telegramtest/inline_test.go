package telegramtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/internal/telegramtest"
)

const queryTooOld = "Bad Request: query is too old and response timeout expired or query ID is invalid"

func article(id, title, text string) models.InlineQueryResult {
	return &models.InlineQueryResultArticle{ID: id, Title: title,
		InputMessageContent: &models.InputTextMessageContent{MessageText: text, ParseMode: models.ParseModeHTML}}
}

func answer(b *tgbot.Bot, id string, results ...models.InlineQueryResult) error {
	_, err := b.AnswerInlineQuery(context.Background(), &tgbot.AnswerInlineQueryParams{InlineQueryID: id, Results: results, IsPersonal: true})
	return err
}

func TestInlineQueryUpdate(t *testing.T) {
	s, _ := setup(t)
	id, raw := s.InlineQuery(77, "社保", time.Time{})
	if _, err := s.PushUpdate(raw); err != nil {
		t.Fatalf("PushUpdate(InlineQuery update): %v", err)
	}
	_, r := post(t, s.URL()+"/bot"+token+"/getUpdates", form, "")
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil || len(ups) != 1 {
		t.Fatalf("getUpdates = %s, %v; want the inline query", r.Result, err)
	}
	q := ups[0].InlineQuery
	if ups[0].ID == 0 || q == nil || q.ID != id || q.From == nil || q.From.ID != 77 || q.Query != "社保" {
		t.Errorf("inline query update = %+v %+v, want update id set, query id %s from 77 with 社保", ups[0], q, id)
	}
	other, _ := s.InlineQuery(77, "社保", time.Time{})
	if other == id {
		t.Errorf("InlineQuery issued %s twice, want a fresh id per query", id)
	}
}

func TestAnswerInlineQuery(t *testing.T) {
	s, b := setup(t)
	fresh, _ := s.InlineQuery(77, "q", time.Time{})
	late, _ := s.InlineQuery(77, "q", time.Now().Add(-11*time.Second))
	results := []models.InlineQueryResult{
		article("p1", "Social security", "<b>Social security</b>: bring your ID card"),
		&models.InlineQueryResultArticle{ID: "p2", Title: "Hours", Description: "Mon–Fri", URL: "https://example.org/hours",
			InputMessageContent: &models.InputTextMessageContent{MessageText: "<b>" + strings.Repeat("я", 4096) + "</b>", ParseMode: models.ParseModeHTML},
			ReplyMarkup:         inlineKeyboard(models.InlineKeyboardButton{Text: "Open", URL: "https://example.org"})},
	}
	tests := []struct {
		name    string
		id      string
		results []models.InlineQueryResult
		want    string // error, "" for success
	}{
		{"issued query", fresh, results, ""},
		{"issued query again", fresh, results, queryTooOld},
		{"after 10 seconds", late, results, queryTooOld},
		{"id the fake did not issue", "8412", results[:1], ""},
		{"that id again", "8412", results[:1], queryTooOld},
		{"no results", "8413", nil, ""},
	}
	for _, tt := range tests {
		err := answer(b, tt.id, tt.results...)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: AnswerInlineQuery(%s) error = %v, want %q", tt.name, tt.id, err, tt.want)
		}
	}

	calls := s.CallsFor("answerInlineQuery")
	var statuses []int
	for _, c := range calls {
		statuses = append(statuses, c.Status)
	}
	if want := []int{200, 400, 400, 200, 400, 200}; !cmp.Equal(statuses, want) {
		t.Fatalf("answerInlineQuery statuses = %v, want %v", statuses, want)
	}
	type content struct {
		MessageText string `json:"message_text"`
		ParseMode   string `json:"parse_mode"`
	}
	type result struct {
		Type        string          `json:"type"`
		ID          string          `json:"id"`
		Title       string          `json:"title"`
		Description string          `json:"description"`
		URL         string          `json:"url"`
		Content     content         `json:"input_message_content"`
		ReplyMarkup json.RawMessage `json:"reply_markup"`
	}
	var got []result
	if err := calls[0].DecodeParam("results", &got); err != nil {
		t.Fatalf("DecodeParam(results): %v", err)
	}
	if len(got) != 2 || string(got[1].ReplyMarkup) == "" {
		t.Fatalf("recorded results = %+v, want 2, the second with a keyboard", got)
	}
	got[1].ReplyMarkup = nil
	want := []result{
		{Type: "article", ID: "p1", Title: "Social security", Content: content{"<b>Social security</b>: bring your ID card", "HTML"}},
		{Type: "article", ID: "p2", Title: "Hours", Description: "Mon–Fri", URL: "https://example.org/hours",
			Content: content{"<b>" + strings.Repeat("я", 4096) + "</b>", "HTML"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded results (-want +got):\n%s", diff)
	}
}

func TestAnswerInlineQueryRejections(t *testing.T) {
	many := make([]models.InlineQueryResult, 51)
	for i := range many {
		many[i] = article(fmt.Sprint("r", i), "t", "x")
	}
	tests := []struct {
		name    string
		id      string
		results []models.InlineQueryResult
		want    string
	}{
		{"51 results", "1", many, "Bad Request: RESULTS_TOO_MUCH"},
		{"duplicate ids", "1", []models.InlineQueryResult{article("a", "t", "x"), article("a", "u", "y")}, "Bad Request: RESULT_ID_DUPLICATE"},
		{"id of 65 bytes", "1", []models.InlineQueryResult{article(strings.Repeat("i", 65), "t", "x")}, "Bad Request: RESULT_ID_INVALID"},
		{"empty id", "1", []models.InlineQueryResult{article("", "t", "x")}, "Bad Request: RESULT_ID_INVALID"},
		{"no title", "1", []models.InlineQueryResult{article("a", "", "x")}, `field "title" of InlineQueryResultArticle is required`},
		{"text over 4096 after parsing", "1", []models.InlineQueryResult{article("a", "t", "<i>"+strings.Repeat("😀", 2048)+"x</i>")}, "Bad Request: message is too long"},
		{"text empty after parsing", "1", []models.InlineQueryResult{article("a", "t", "<b> </b>")}, "Bad Request: message text is empty"},
		{"bad HTML", "1", []models.InlineQueryResult{article("a", "t", "<b>unclosed")}, "Bad Request: can't parse entities"},
		{"empty query id", "", []models.InlineQueryResult{article("a", "t", "x")}, queryTooOld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &recordingTB{}
			s := telegramtest.New(telegramtest.WithTB(tb))
			defer s.Close()
			err := answer(newClient(t, s), tt.id, tt.results...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("AnswerInlineQuery error = %v, want it to contain %q", err, tt.want)
			}
			if v := s.Violations(); len(v) != 1 || len(tb.take()) != 1 {
				t.Errorf("Violations() = %+v, want one, failing the test", v)
			}
		})
	}
}

// TestRejectedAnswerKeepsQuery checks that an answer Telegram refuses does not use up the
// query: the corrected answer that follows is accepted.
func TestRejectedAnswerKeepsQuery(t *testing.T) {
	s := telegramtest.New(telegramtest.WithTB(&recordingTB{}))
	defer s.Close()
	b := newClient(t, s)
	id, _ := s.InlineQuery(5, "q", time.Time{})
	if err := answer(b, id, article("a", "", "x")); err == nil {
		t.Fatal("AnswerInlineQuery(no title) = nil, want an error")
	}
	if err := answer(b, id, article("a", "t", "x")); err != nil {
		t.Errorf("AnswerInlineQuery after a rejected answer = %v, want nil", err)
	}
}
