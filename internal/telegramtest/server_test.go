package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/nanta-district/bangban/internal/telegramtest"
)

const token = "123456:TEST"

// recordingTB collects the failures the server reports, so tests can check
// that a rejection fails a test without failing this one.
type recordingTB struct {
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := r.errs
	r.errs = nil
	return errs
}

// setup starts a server that fails t on any violation, and a client.
func setup(t *testing.T, opts ...telegramtest.Option) (*telegramtest.Server, *tgbot.Bot) {
	t.Helper()
	s := telegramtest.New(append([]telegramtest.Option{telegramtest.WithTB(t)}, opts...)...)
	t.Cleanup(s.Close)
	return s, newClient(t, s)
}

func newClient(t *testing.T, s *telegramtest.Server) *tgbot.Bot {
	t.Helper()
	b, err := tgbot.New(token, tgbot.WithServerURL(s.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatalf("tgbot.New: %v", err)
	}
	return b
}

func inlineKeyboard(buttons ...models.InlineKeyboardButton) *models.InlineKeyboardMarkup {
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{buttons}}
}

func TestGetMe(t *testing.T) {
	s, _ := setup(t)
	b, err := tgbot.New(token, tgbot.WithServerURL(s.URL()))
	if err != nil {
		t.Fatalf("tgbot.New (calls getMe): %v", err)
	}
	me, err := b.GetMe(context.Background())
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	want := &models.User{ID: telegramtest.DefaultBot.ID, IsBot: true, FirstName: "Bangban", Username: "bangban_bot", CanJoinGroups: true}
	if diff := cmp.Diff(want, me); diff != "" {
		t.Errorf("GetMe() (-want +got):\n%s", diff)
	}
	// The library decodes "support_inline_queries", which Telegram does not
	// send, so the flag is checked in the raw answer.
	if raw := string(s.CallsFor("getMe")[0].Result); !strings.Contains(raw, `"supports_inline_queries":true`) {
		t.Errorf("getMe result = %s, want supports_inline_queries true", raw)
	}
}

func TestSendMessage(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	markup := inlineKeyboard(
		models.InlineKeyboardButton{Text: "OK", CallbackData: "ok"},
		models.InlineKeyboardButton{Text: "Site", URL: "https://example.com"},
	)
	first, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 42, Text: "<b>Hi</b> &amp; welcome", ParseMode: models.ParseModeHTML, ReplyMarkup: markup})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	second, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 42, Text: "again"})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if first.ID != 1 || second.ID != 2 {
		t.Errorf("SendMessage message ids = %d, %d, want 1, 2", first.ID, second.ID)
	}
	if first.Text != "Hi & welcome" || first.Chat.Type != models.ChatTypePrivate || first.From == nil || first.From.Username != "bangban_bot" || first.Date == 0 {
		t.Errorf("SendMessage() = text %q chat %+v from %+v date %d, want visible text, private chat, from the bot, a date", first.Text, first.Chat, first.From, first.Date)
	}
	if diff := cmp.Diff([]models.MessageEntity{{Type: models.MessageEntityTypeBold, Offset: 0, Length: 2}}, first.Entities); diff != "" {
		t.Errorf("SendMessage() entities (-want +got):\n%s", diff)
	}
	if first.ReplyMarkup == nil || len(first.ReplyMarkup.InlineKeyboard) != 1 || first.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "ok" {
		t.Errorf("SendMessage() reply_markup = %+v, want the inline keyboard echoed", first.ReplyMarkup)
	}
	// Telegram counts the limit after entity parsing: 4096 visible
	// characters in bold are fine although the request text is longer.
	if _, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 42, Text: "<b>" + strings.Repeat("я", 4096) + "</b>", ParseMode: models.ParseModeHTML}); err != nil {
		t.Errorf("SendMessage(4096 visible characters) error = %v, want nil", err)
	}
	calls := s.CallsFor("sendMessage")
	if len(calls) != 3 || calls[0].ChatID != 42 || calls[0].Params["parse_mode"] != "HTML" || calls[0].Status != http.StatusOK {
		t.Errorf("CallsFor(sendMessage) = %+v, want 3 calls to chat 42, the first with parse_mode HTML", calls)
	}
}

func TestSendDocument(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	const admin = 42
	csv := "date,name\n2026-11-01,Somchai\n"
	// 1024 visible characters in bold: the limit counts the caption after parsing.
	caption := "<b>" + strings.Repeat("я", 1024) + "</b>"
	msg, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{
		ChatID:      admin,
		Document:    &models.InputFileUpload{Filename: "checkins.csv", Data: strings.NewReader(csv)},
		Caption:     caption,
		ParseMode:   models.ParseModeHTML,
		ReplyMarkup: inlineKeyboard(models.InlineKeyboardButton{Text: "Again", CallbackData: "export"}),
	})
	if err != nil {
		t.Fatalf("SendDocument: %v", err)
	}
	d := msg.Document
	if d == nil || d.FileID == "" || d.FileUniqueID == "" || d.FileName != "checkins.csv" || d.FileSize != int64(len(csv)) || d.MimeType != "text/csv" {
		t.Errorf("SendDocument() document = %+v, want file ids, checkins.csv, text/csv, %d bytes", d, len(csv))
	}
	if msg.Caption != strings.Repeat("я", 1024) || len(msg.CaptionEntities) != 1 || msg.CaptionEntities[0].Type != models.MessageEntityTypeBold {
		t.Errorf("SendDocument() caption = %d characters, entities %+v; want the parsed caption, one bold entity", len([]rune(msg.Caption)), msg.CaptionEntities)
	}
	if msg.ReplyMarkup == nil || msg.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "export" {
		t.Errorf("SendDocument() reply_markup = %+v, want the inline keyboard echoed", msg.ReplyMarkup)
	}
	calls := s.CallsFor("sendDocument")
	if len(calls) != 1 || calls[0].ChatID != admin {
		t.Fatalf("CallsFor(sendDocument) = %+v, want one call to chat %d", calls, admin)
	}
	if diff := cmp.Diff(map[string]telegramtest.File{"document": {Name: "checkins.csv", Data: []byte(csv)}}, calls[0].Files); diff != "" {
		t.Errorf("recorded files (-want +got):\n%s", diff)
	}
	if _, ok := calls[0].Params["document"]; ok {
		t.Errorf("recorded params %v, want the upload only in Files", calls[0].Params)
	}

	s.SetBlocked(admin, true)
	_, err = b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: admin, Document: &models.InputFileUpload{Filename: "x.csv", Data: strings.NewReader("x")}})
	if !errors.Is(err, tgbot.ErrorForbidden) {
		t.Errorf("SendDocument(blocked user) error = %v, want forbidden", err)
	}
	_, err = b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: -100999, Document: &models.InputFileUpload{Filename: "x.csv", Data: strings.NewReader("x")}})
	if err == nil || !strings.Contains(err.Error(), "chat not found") {
		t.Errorf("SendDocument(unknown group) error = %v, want chat not found", err)
	}
}

func TestValidCallsOfEveryKind(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	if _, err := b.SendChatAction(ctx, &tgbot.SendChatActionParams{ChatID: 7, Action: models.ChatActionTyping}); err != nil {
		t.Errorf("SendChatAction: %v", err)
	}
	loc, err := b.SendLocation(ctx, &tgbot.SendLocationParams{ChatID: 7, Latitude: 41.8, Longitude: 123.4})
	if err != nil || loc.Location == nil || loc.Location.Latitude != 41.8 {
		t.Errorf("SendLocation() = %+v, %v, want the location echoed", loc, err)
	}
	doc, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: 7, Document: &models.InputFileUpload{Filename: "tickets.csv", Data: strings.NewReader("id,name\n1,x\n")}, Caption: "export"})
	if err != nil || doc.Document == nil || doc.Document.FileName != "tickets.csv" || doc.Caption != "export" {
		t.Fatalf("SendDocument() = %+v, %v, want the document and caption", doc, err)
	}
	if got := s.CallsFor("sendDocument")[0].Files["document"]; got.Name != "tickets.csv" || string(got.Data) != "id,name\n1,x\n" {
		t.Errorf("recorded upload = %q %q, want tickets.csv and its content", got.Name, got.Data)
	}
	f, err := b.GetFile(ctx, &tgbot.GetFileParams{FileID: doc.Document.FileID})
	if err != nil {
		t.Fatalf("GetFile: %v", err)
	}
	resp, err := http.Get(b.FileDownloadLink(f))
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "id,name\n1,x\n" {
		t.Errorf("download %s = %q, want the uploaded content", f.FilePath, body)
	}
	photo, err := b.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: 7, Photo: &models.InputFileUpload{Filename: "qr.png", Data: bytes.NewReader([]byte("png"))}})
	if err != nil || len(photo.Photo) == 0 {
		t.Errorf("SendPhoto() = %+v, %v, want photo sizes", photo, err)
	}
	id, err := b.CopyMessage(ctx, &tgbot.CopyMessageParams{ChatID: 8, FromChatID: 7, MessageID: photo.ID})
	if err != nil || id.ID != 1 {
		t.Errorf("CopyMessage() = %+v, %v, want message id 1 in the new chat", id, err)
	}
	if _, err := b.CopyMessage(ctx, &tgbot.CopyMessageParams{ChatID: 8, FromChatID: 7, MessageID: 999}); !errors.Is(err, tgbot.ErrorBadRequest) {
		t.Errorf("CopyMessage(unknown message) error = %v, want bad request", err)
	}
	for name, call := range map[string]func() (bool, error){
		"AnswerCallbackQuery": func() (bool, error) {
			return b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: "1", Text: "done"})
		},
		"AnswerInlineQuery": func() (bool, error) {
			return b.AnswerInlineQuery(ctx, &tgbot.AnswerInlineQueryParams{InlineQueryID: "1", Results: []models.InlineQueryResult{
				&models.InlineQueryResultArticle{ID: "p1", Title: "Point 1", InputMessageContent: &models.InputTextMessageContent{MessageText: "<b>Point</b>", ParseMode: models.ParseModeHTML}},
			}})
		},
		"DeleteMessage": func() (bool, error) {
			return b.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: 7, MessageID: photo.ID})
		},
		"LogOut (sent as logout)": func() (bool, error) { return b.Logout(ctx) },
	} {
		if ok, err := call(); !ok || err != nil {
			t.Errorf("%s() = %v, %v, want true, nil", name, ok, err)
		}
	}
	if _, err := b.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: 7, MessageID: photo.ID}); !errors.Is(err, tgbot.ErrorBadRequest) {
		t.Errorf("DeleteMessage(twice) error = %v, want bad request", err)
	}
	if balance, err := b.GetMyStarBalance(ctx); err != nil || balance.Amount != 0 {
		t.Errorf("GetMyStarBalance() = %+v, %v, want 0, nil", balance, err)
	}
}

// TestLibraryQuirks sends what go-telegram/bot v1.19.0 sends differently
// from Bot API 10.1 (renamed parameters, zero values of non-pointer fields),
// which the fake must accept like Telegram does.
func TestLibraryQuirks(t *testing.T) {
	_, b := setup(t)
	ctx := context.Background()
	if _, err := b.SendPoll(ctx, &tgbot.SendPollParams{ChatID: 3, Question: "Open on Sunday?", Options: []models.InputPollOption{{Text: "Yes"}, {Text: "No"}}}); err != nil {
		t.Errorf("SendPoll: %v", err)
	}
	photo, err := b.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: 3, Photo: &models.InputFileString{Data: "https://example.com/map.png"}, Caption: "map"})
	if err != nil {
		t.Fatalf("SendPhoto: %v", err)
	}
	if _, err := b.EditMessageCaption(ctx, &tgbot.EditMessageCaptionParams{ChatID: 3, MessageID: photo.ID, Caption: "new map", ShowCaptionAboveMedia: true}); err != nil {
		t.Errorf("EditMessageCaption: %v", err)
	}
	if _, err := b.SendMediaGroup(ctx, &tgbot.SendMediaGroupParams{ChatID: 3, Media: []models.InputMedia{
		&models.InputMediaPhoto{Media: "attach://a.png", MediaAttachment: bytes.NewReader([]byte("a"))},
		&models.InputMediaPhoto{Media: "attach://b.png", MediaAttachment: bytes.NewReader([]byte("b"))},
	}}); err != nil {
		t.Errorf("SendMediaGroup: %v", err)
	}
	keyboard := &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{{{Text: "Share phone", RequestContact: true}}}, ResizeKeyboard: true}
	if _, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 3, Text: "phone?", ReplyMarkup: keyboard}); err != nil {
		t.Errorf("SendMessage(reply keyboard): %v", err)
	}
	if _, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 3, Text: "ok", ReplyMarkup: &models.ReplyKeyboardRemove{RemoveKeyboard: true}}); err != nil {
		t.Errorf("SendMessage(remove keyboard): %v", err)
	}
}

func TestEdit(t *testing.T) {
	_, b := setup(t)
	ctx := context.Background()
	markup := inlineKeyboard(models.InlineKeyboardButton{Text: "A", CallbackData: "a"})
	msg, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 5, Text: "one", ReplyMarkup: markup})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	edited, err := b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: 5, MessageID: msg.ID, Text: "two", ReplyMarkup: markup})
	if err != nil || edited.Text != "two" || edited.EditDate == 0 {
		t.Fatalf("EditMessageText() = %+v, %v, want text two and an edit date", edited, err)
	}
	_, err = b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: 5, MessageID: msg.ID, Text: "two", ReplyMarkup: markup})
	if err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("EditMessageText(same content) error = %v, want message is not modified", err)
	}
	if _, err := b.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: 5, MessageID: msg.ID}); err != nil {
		t.Errorf("EditMessageReplyMarkup(remove keyboard) error = %v, want nil", err)
	}
	_, err = b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: 5, MessageID: msg.ID + 10, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "message to edit not found") {
		t.Errorf("EditMessageText(unknown id) error = %v, want message to edit not found", err)
	}
}

func TestRejections(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(*tgbot.Bot) error
		want string
	}{
		{"text over 4096", func(b *tgbot.Bot) error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: strings.Repeat("a", 4097)})
			return err
		}, "Bad Request: message is too long"},
		{"text over 4096 in UTF-16", func(b *tgbot.Bot) error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: strings.Repeat("😀", 2049)})
			return err
		}, "Bad Request: message is too long"},
		{"empty text", func(b *tgbot.Bot) error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: ""})
			return err
		}, "Bad Request: message text is empty"},
		{"text empty after parsing", func(b *tgbot.Bot) error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: "<b> </b>", ParseMode: models.ParseModeHTML})
			return err
		}, "Bad Request: message text is empty"},
		{"caption over 1024", func(b *tgbot.Bot) error {
			_, err := b.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: 1, Photo: &models.InputFileString{Data: "AgACAgIAAxk"}, Caption: strings.Repeat("b", 1025)})
			return err
		}, "Bad Request: message caption is too long"},
		{"document caption over 1024 after parsing", func(b *tgbot.Bot) error {
			_, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: 1, Document: &models.InputFileUpload{Filename: "a.csv", Data: strings.NewReader("a")},
				Caption: "<i>" + strings.Repeat("😀", 512) + "x</i>", ParseMode: models.ParseModeHTML})
			return err
		}, "Bad Request: message caption is too long"},
		{"document caption with bad HTML", func(b *tgbot.Bot) error {
			_, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: 1, Document: &models.InputFileUpload{Filename: "a.csv", Data: strings.NewReader("a")},
				Caption: "<b>unclosed", ParseMode: models.ParseModeHTML})
			return err
		}, "Bad Request: can't parse entities"},
		{"empty document upload", func(b *tgbot.Bot) error {
			_, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: 1, Document: &models.InputFileUpload{Filename: "a.csv", Data: strings.NewReader("")}})
			return err
		}, "Bad Request: file must be non-empty"},
		{"empty document", func(b *tgbot.Bot) error {
			_, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: 1, Document: &models.InputFileString{Data: ""}})
			return err
		}, "Bad Request: there is no document in the request"},
		{"callback_data of 65 bytes", func(b *tgbot.Bot) error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: "x", ReplyMarkup: inlineKeyboard(models.InlineKeyboardButton{Text: "t", CallbackData: strings.Repeat("c", 65)})})
			return err
		}, "Bad Request: BUTTON_DATA_INVALID"},
		{"button without action", func(b *tgbot.Bot) error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: "x", ReplyMarkup: inlineKeyboard(models.InlineKeyboardButton{Text: "t"})})
			return err
		}, "Text buttons are unallowed in the inline keyboard"},
		{"button with two actions", func(b *tgbot.Bot) error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: "x", ReplyMarkup: inlineKeyboard(models.InlineKeyboardButton{Text: "t", CallbackData: "c", URL: "https://e.com"})})
			return err
		}, "needs exactly one of"},
		{"bad HTML", func(b *tgbot.Bot) error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: "1 < 2 <b>", ParseMode: models.ParseModeHTML})
			return err
		}, "Bad Request: can't parse entities"},
		{"unescaped ampersand", func(b *tgbot.Bot) error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: "R&D", ParseMode: models.ParseModeHTML})
			return err
		}, "Bad Request: can't parse entities"},
		{"invalid command", func(b *tgbot.Bot) error {
			_, err := b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Start", Description: "go"}}})
			return err
		}, "Bad Request: BOT_COMMAND_INVALID"},
		{"webhook on a wrong port", func(b *tgbot.Bot) error {
			_, err := b.SetWebhook(ctx, &tgbot.SetWebhookParams{URL: "https://bot.example.com:8080/telegram/webhook"})
			return err
		}, "ports 80, 88, 443 or 8443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &recordingTB{}
			s := telegramtest.New(telegramtest.WithTB(tb))
			defer s.Close()
			err := tt.call(newClient(t, s))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("call error = %v, want it to contain %q", err, tt.want)
			}
			if errs := tb.take(); len(errs) != 1 {
				t.Errorf("TB failures = %q, want exactly one", errs)
			}
			if v := s.Violations(); len(v) != 1 || v[0].Status != http.StatusBadRequest {
				t.Errorf("Violations() = %+v, want one 400", v)
			}
		})
	}
}

type rawResponse struct {
	OK          bool            `json:"ok"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Result      json.RawMessage `json:"result"`
}

func post(t *testing.T, u, contentType, body string) (int, rawResponse) {
	t.Helper()
	status, r, err := postRaw(u, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, r
}

// postRaw is post for goroutines other than the test's, which must not call
// t.Fatal.
func postRaw(u, contentType, body string) (int, rawResponse, error) {
	resp, err := http.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		return 0, rawResponse{}, fmt.Errorf("POST %s: %w", u, err)
	}
	defer resp.Body.Close()
	var r rawResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, rawResponse{}, fmt.Errorf("POST %s: decode answer: %w", u, err)
	}
	return resp.StatusCode, r, nil
}

const form = "application/x-www-form-urlencoded"

func TestRawRequests(t *testing.T) {
	tests := []struct {
		name, method, contentType, body string
		status                          int
		want                            string // description, or the result for 200
	}{
		{"JSON body", "sendMessage", "application/json", `{"chat_id":3,"text":"hi","reply_markup":{"inline_keyboard":[[{"text":"a","callback_data":"a"}]]}}`, 200, ""},
		{"urlencoded form", "sendMessage", form, "chat_id=3&text=hi&disable_notification=true", 200, ""},
		{"query string", "sendMessage?chat_id=3&text=hi", "", "", 200, ""},
		{"method case", "SENDMESSAGE", form, "chat_id=3&text=hi", 200, ""},
		{"unknown method", "sendTelepathy", form, "chat_id=3", 404, "Not Found"},
		{"missing chat_id", "sendMessage", form, "text=hi", 400, `Bad Request: parameter "chat_id" is required`},
		{"unknown parameter", "sendMessage", form, "chat_id=3&text=hi&colour=red", 400, `Bad Request: unknown parameter "colour" for method sendMessage`},
		{"integer as word", "deleteMessage", form, "chat_id=3&message_id=abc", 400, `Bad Request: parameter "message_id" must be Integer, got "abc"`},
		{"boolean as word", "sendMessage", form, "chat_id=3&text=hi&disable_notification=maybe", 400, `Bad Request: parameter "disable_notification" must be Boolean, got "maybe"`},
		{"chat_id as word", "sendMessage", form, "chat_id=bob&text=hi", 400, "Bad Request: chat not found"},
		{"reply_markup not JSON", "sendMessage", form, "chat_id=3&text=hi&reply_markup=yes", 400, `Bad Request: parameter "reply_markup" must be`},
		{"unknown button field", "sendMessage", "application/json", `{"chat_id":3,"text":"hi","reply_markup":{"inline_keyboard":[[{"text":"a","callback_data":"a","colour":"red"}]]}}`, 400, `Bad Request: can't parse reply_markup.inline_keyboard[0][0]: unknown field "colour"`},
		{"unknown group", "sendMessage", form, "chat_id=-1001&text=hi", 400, "Bad Request: chat not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &recordingTB{}
			s := telegramtest.New(telegramtest.WithTB(tb))
			defer s.Close()
			status, r := post(t, s.URL()+"/bot"+token+"/"+tt.method, tt.contentType, tt.body)
			if status != tt.status || r.ErrorCode != 0 && r.ErrorCode != status || !strings.HasPrefix(r.Description, tt.want) {
				t.Errorf("POST %s %q = %d %q, want %d %q", tt.method, tt.body, status, r.Description, tt.status, tt.want)
			}
			// A malformed call fails the test; a missing chat is an answer.
			wantFailures := 0
			if status != 200 && !strings.Contains(tt.want, "chat not found") {
				wantFailures = 1
			}
			if errs := tb.take(); len(errs) != wantFailures {
				t.Errorf("POST %s %q: TB failures = %q, want %d", tt.method, tt.body, errs, wantFailures)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	send := func(b *tgbot.Bot, chat int64) error {
		_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chat, Text: "hi"})
		return err
	}
	t.Run("429", func(t *testing.T) {
		s, b := setup(t)
		s.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: 42, Times: 1, Code: 429, RetryAfter: 3})
		if err := send(b, 7); err != nil {
			t.Errorf("send to another chat: %v, want nil", err)
		}
		var tooMany *tgbot.TooManyRequestsError
		if err := send(b, 42); !errors.As(err, &tooMany) || tooMany.RetryAfter != 3 {
			t.Errorf("send error = %v, want *TooManyRequestsError with retry_after 3", err)
		}
		if err := send(b, 42); err != nil {
			t.Errorf("send after the fault ran out: %v, want nil", err)
		}
		if c := s.CallsFor("sendMessage")[1]; !c.Injected || c.Status != 429 {
			t.Errorf("recorded call = %+v, want injected 429", c)
		}
	})
	t.Run("403 and SetBlocked", func(t *testing.T) {
		s, b := setup(t)
		s.Inject(telegramtest.Fault{Code: 403, Times: 1})
		if err := send(b, 1); !errors.Is(err, tgbot.ErrorForbidden) {
			t.Errorf("send error = %v, want ErrorForbidden", err)
		}
		s.SetBlocked(9, true)
		if err := send(b, 9); !errors.Is(err, tgbot.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
			t.Errorf("send to blocked chat error = %v, want ErrorForbidden, bot was blocked", err)
		}
		s.SetBlocked(9, false)
		if err := send(b, 9); err != nil {
			t.Errorf("send after unblocking: %v, want nil", err)
		}
	})
	t.Run("migrate", func(t *testing.T) {
		s, b := setup(t)
		s.AddChat(telegramtest.Chat{ID: -5, Type: "group"})
		s.Inject(telegramtest.Fault{Code: 400, MigrateToChatID: -1005})
		var migrate *tgbot.MigrateError
		if err := send(b, -5); !errors.As(err, &migrate) || migrate.MigrateToChatID != -1005 {
			t.Errorf("send error = %v, want *MigrateError to -1005", err)
		}
	})
	t.Run("5xx", func(t *testing.T) {
		for _, f := range []telegramtest.Fault{{Code: 500, Times: 1}, {Code: 502, HTML: true, Times: 1}} {
			s, b := setup(t)
			s.Inject(f)
			if err := send(b, 1); err == nil {
				t.Errorf("send with fault %+v error = nil, want an error", f)
			}
			if c := s.Calls()[0]; c.Status != f.Code {
				t.Errorf("recorded status = %d, want %d", c.Status, f.Code)
			}
		}
	})
	t.Run("drop", func(t *testing.T) {
		s, b := setup(t)
		s.Inject(telegramtest.Fault{Method: "sendMessage", Drop: true, Times: 1})
		if err := send(b, 1); err == nil {
			t.Error("send with a dropped connection error = nil, want an error")
		}
		if c := s.Calls()[0]; c.Status != 0 || c.Params["text"] != "hi" {
			t.Errorf("recorded call = %+v, want the request read and no status", c)
		}
		if err := send(b, 1); err != nil {
			t.Errorf("send after the drop: %v, want nil", err)
		}
	})
	t.Run("delay", func(t *testing.T) {
		s, b := setup(t)
		s.Inject(telegramtest.Fault{Delay: 50 * time.Millisecond, Times: 1})
		start := time.Now()
		if err := send(b, 1); err != nil || time.Since(start) < 50*time.Millisecond {
			t.Errorf("delayed send = %v after %v, want nil after 50ms", err, time.Since(start))
		}
		s.Inject(telegramtest.Fault{Delay: time.Hour})
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if _, err := b.SendMessage(short, &tgbot.SendMessageParams{ChatID: 1, Text: "hi"}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("send during an hour's delay error = %v, want deadline exceeded", err)
		}
	})
}

func TestGetUpdates(t *testing.T) {
	s, _ := setup(t)
	u := s.URL() + "/bot" + token + "/getUpdates"
	done := make(chan rawResponse)
	go func() {
		_, r, err := postRaw(u, form, "timeout=10")
		if err != nil {
			r.Description = err.Error()
		}
		done <- r
	}()
	time.Sleep(20 * time.Millisecond)
	id, err := s.PushUpdate([]byte(`{"message":{"message_id":1,"date":1,"chat":{"id":77,"type":"private"},"text":"/start"}}`))
	if err != nil || id != 1 {
		t.Fatalf("PushUpdate() = %d, %v, want 1, nil", id, err)
	}
	select {
	case r := <-done:
		if !strings.Contains(string(r.Result), `"update_id":1`) {
			t.Errorf("long poll result = %s, want update 1", r.Result)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not return after PushUpdate")
	}
	if s.PendingUpdates() != 1 {
		t.Errorf("PendingUpdates() = %d, want 1 before confirming", s.PendingUpdates())
	}
	if _, r := post(t, u, form, "offset=2"); string(r.Result) != "[]" || s.PendingUpdates() != 0 {
		t.Errorf("getUpdates(offset=2) = %s with %d pending, want [] and 0", r.Result, s.PendingUpdates())
	}
	// chat_member is delivered only when allowed_updates names it.
	_, _ = s.PushUpdate([]byte(`{"chat_member":{}}`))
	if _, r := post(t, u, form, "offset=2"); string(r.Result) != "[]" {
		t.Errorf("getUpdates() = %s, want chat_member skipped by default", r.Result)
	}
	// A newer poll ends an older one with 409, like a second bot instance.
	go func() {
		status, r, err := postRaw(u, form, "timeout=10")
		if err != nil {
			r.Description = err.Error()
		}
		done <- rawResponse{ErrorCode: status, Description: r.Description}
	}()
	time.Sleep(20 * time.Millisecond)
	go func() { _, _ = http.Post(u, form, strings.NewReader("timeout=0")) }()
	select {
	case r := <-done:
		if r.ErrorCode != 409 || !strings.Contains(r.Description, "terminated by other getUpdates") {
			t.Errorf("older long poll = %d %q, want 409 terminated", r.ErrorCode, r.Description)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("older long poll was not terminated")
	}
	// The bot's reply gets the next message id after the user's.
	b := newClient(t, s)
	msg, err := b.SendMessage(context.Background(), &tgbot.SendMessageParams{ChatID: 77, Text: "welcome"})
	if err != nil || msg.ID != 2 {
		t.Errorf("SendMessage after a pushed message = %+v, %v, want id 2", msg, err)
	}
}

func TestLibraryPolling(t *testing.T) {
	s, _ := setup(t)
	got := make(chan string, 1)
	b, err := tgbot.New(token, tgbot.WithServerURL(s.URL()), tgbot.WithSkipGetMe(),
		tgbot.WithDefaultHandler(func(_ context.Context, _ *tgbot.Bot, u *models.Update) {
			if u.Message != nil {
				got <- u.Message.Text
			}
		}))
	if err != nil {
		t.Fatalf("tgbot.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { b.Start(ctx); close(stopped) }()
	if _, err := s.PushUpdate([]byte(`{"update_id":10,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"text":"hello"}}`)); err != nil {
		t.Fatalf("PushUpdate: %v", err)
	}
	select {
	case text := <-got:
		if text != "hello" {
			t.Errorf("handler got %q, want hello", text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the library's poller did not deliver the pushed update")
	}
	cancel()
	<-stopped
}

func TestWebhookState(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	_, _ = s.PushUpdate([]byte(`{"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"text":"x"}}`))
	ok, err := b.SetWebhook(ctx, &tgbot.SetWebhookParams{URL: "https://bot.example.com/telegram/webhook", MaxConnections: 40, SecretToken: "s3cret_-", AllowedUpdates: []string{"message", "callback_query"}})
	if !ok || err != nil {
		t.Fatalf("SetWebhook() = %v, %v, want true, nil", ok, err)
	}
	at := time.Unix(1700000000, 0)
	s.SetWebhookError(at, "Connection refused")
	info, err := b.GetWebhookInfo(ctx)
	if err != nil {
		t.Fatalf("GetWebhookInfo: %v", err)
	}
	want := &models.WebhookInfo{URL: "https://bot.example.com/telegram/webhook", PendingUpdateCount: 1, MaxConnections: 40,
		AllowedUpdates: []string{"message", "callback_query"}, LastErrorDate: int(at.Unix()), LastErrorMessage: "Connection refused"}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("GetWebhookInfo() (-want +got):\n%s", diff)
	}
	if w := s.Webhook(); w.SecretToken != "s3cret_-" {
		t.Errorf("Webhook().SecretToken = %q, want s3cret_-", w.SecretToken)
	}
	status, r := post(t, s.URL()+"/bot"+token+"/getUpdates", form, "")
	if status != 409 || !strings.Contains(r.Description, "webhook is active") {
		t.Errorf("getUpdates with a webhook = %d %q, want 409 webhook is active", status, r.Description)
	}
	if _, err := b.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{DropPendingUpdates: true}); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	info, err = b.GetWebhookInfo(ctx)
	if err != nil || info.URL != "" || info.PendingUpdateCount != 0 {
		t.Errorf("GetWebhookInfo() after delete = %+v, %v, want no url and nothing pending", info, err)
	}
}

func TestCommands(t *testing.T) {
	_, b := setup(t)
	ctx := context.Background()
	zh := []models.BotCommand{{Command: "start", Description: "开始"}, {Command: "help", Description: "帮助"}}
	en := []models.BotCommand{{Command: "start", Description: "Start"}}
	for lang, cmds := range map[string][]models.BotCommand{"zh": zh, "en": en} {
		if _, err := b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: cmds, Scope: &models.BotCommandScopeAllPrivateChats{}, LanguageCode: lang}); err != nil {
			t.Fatalf("SetMyCommands(%s): %v", lang, err)
		}
	}
	got, err := b.GetMyCommands(ctx, &tgbot.GetMyCommandsParams{Scope: &models.BotCommandScopeAllPrivateChats{}, LanguageCode: "zh"})
	if err != nil {
		t.Fatalf("GetMyCommands: %v", err)
	}
	if diff := cmp.Diff(zh, got); diff != "" {
		t.Errorf("GetMyCommands(zh) (-want +got):\n%s", diff)
	}
	if got, _ := b.GetMyCommands(ctx, &tgbot.GetMyCommandsParams{LanguageCode: "zh"}); len(got) != 0 {
		t.Errorf("GetMyCommands(default scope) = %v, want none", got)
	}
	if _, err := b.DeleteMyCommands(ctx, &tgbot.DeleteMyCommandsParams{Scope: &models.BotCommandScopeAllPrivateChats{}, LanguageCode: "en"}); err != nil {
		t.Fatalf("DeleteMyCommands: %v", err)
	}
	if got, _ := b.GetMyCommands(ctx, &tgbot.GetMyCommandsParams{Scope: &models.BotCommandScopeAllPrivateChats{}, LanguageCode: "en"}); len(got) != 0 {
		t.Errorf("GetMyCommands(en) after delete = %v, want none", got)
	}
}

func TestForum(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	const staff = -1001234
	s.AddChat(telegramtest.Chat{ID: staff, Title: "Staff", IsForum: true, CanManageTopics: true, CanDeleteMessages: true})
	s.AddChat(telegramtest.Chat{ID: -1009, Title: "Plain"})

	chat, err := b.GetChat(ctx, &tgbot.GetChatParams{ChatID: staff})
	if err != nil || !chat.IsForum || chat.Type != models.ChatTypeSupergroup || chat.Title != "Staff" {
		t.Errorf("GetChat() = %+v, %v, want the forum supergroup", chat, err)
	}
	member, err := b.GetChatMember(ctx, &tgbot.GetChatMemberParams{ChatID: staff, UserID: telegramtest.DefaultBot.ID})
	if err != nil || member.Administrator == nil || !member.Administrator.CanManageTopics || !member.Administrator.CanDeleteMessages {
		t.Errorf("GetChatMember(bot) = %+v, %v, want administrator who manages topics and deletes", member, err)
	}
	var threads []int
	for _, name := range []string{"Ticket 1", "Ticket 2"} {
		topic, err := b.CreateForumTopic(ctx, &tgbot.CreateForumTopicParams{ChatID: staff, Name: name})
		if err != nil {
			t.Fatalf("CreateForumTopic(%s): %v", name, err)
		}
		threads = append(threads, topic.MessageThreadID)
	}
	if threads[1] <= threads[0] {
		t.Errorf("CreateForumTopic thread ids = %v, want increasing", threads)
	}
	msg, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: staff, MessageThreadID: threads[0], Text: "new ticket"})
	if err != nil || msg.MessageThreadID != threads[0] || !msg.IsTopicMessage || msg.ID <= threads[1] {
		t.Errorf("SendMessage(topic) = %+v, %v, want thread %d, a topic message, id after the topics", msg, err, threads[0])
	}
	if _, err := b.EditForumTopic(ctx, &tgbot.EditForumTopicParams{ChatID: staff, MessageThreadID: threads[0], Name: "Ticket 1 (done)"}); err != nil {
		t.Errorf("EditForumTopic: %v", err)
	}
	if _, err := b.CloseForumTopic(ctx, &tgbot.CloseForumTopicParams{ChatID: staff, MessageThreadID: threads[0]}); err != nil {
		t.Errorf("CloseForumTopic: %v", err)
	}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"send to closed topic", func() error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: staff, MessageThreadID: threads[0], Text: "x"})
			return err
		}(), "TOPIC_CLOSED"},
		{"send to unknown topic", func() error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: staff, MessageThreadID: 9999, Text: "x"})
			return err
		}(), "message thread not found"},
		{"topic outside a forum", func() error {
			_, err := b.CreateForumTopic(ctx, &tgbot.CreateForumTopicParams{ChatID: -1009, Name: "x"})
			return err
		}(), "the chat is not a forum"},
		{"unknown group", func() error {
			_, err := b.GetChat(ctx, &tgbot.GetChatParams{ChatID: -1000})
			return err
		}(), "chat not found"},
	} {
		if !errors.Is(tt.err, tgbot.ErrorBadRequest) || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want bad request %q", tt.name, tt.err, tt.want)
		}
	}
}

func TestSubscribeAndWait(t *testing.T) {
	s, b := setup(t)
	calls, cancel := s.Subscribe()
	defer cancel()
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	go func() {
		for i := range 3 {
			_, _ = b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: fmt.Sprint("m", i)})
		}
	}()
	got, err := s.Wait(ctx, "sendMessage", 3)
	if err != nil {
		t.Fatalf("Wait(sendMessage, 3): %v", err)
	}
	var texts []string
	for range 3 {
		c := <-calls
		texts = append(texts, c.Params["text"])
	}
	if diff := cmp.Diff([]string{"m0", "m1", "m2"}, texts); diff != "" {
		t.Errorf("Subscribe() texts (-want +got):\n%s", diff)
	}
	var first models.Message
	if err := got[0].Decode(&first); err != nil || first.Text != "m0" {
		t.Errorf("Call.Decode() = %+v, %v, want message m0", first, err)
	}
	s.Reset()
	if n := len(s.Calls()); n != 0 {
		t.Errorf("len(Calls()) after Reset = %d, want 0", n)
	}
	s.Close()
	if _, open := <-calls; open {
		t.Error("subscription channel open after Close, want closed")
	}
}

func TestCallLimit(t *testing.T) {
	s, b := setup(t, telegramtest.WithCallLimit(2))
	for i := range 5 {
		if _, err := b.SendMessage(context.Background(), &tgbot.SendMessageParams{ChatID: 1, Text: fmt.Sprint(i)}); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
	}
	got := s.Calls()
	texts := []string{got[0].Params["text"], got[1].Params["text"]}
	if diff := cmp.Diff([]string{"3", "4"}, texts, cmpopts.EquateEmpty()); len(got) != 2 || diff != "" {
		t.Errorf("Calls() with limit 2 = %d calls (-want +got):\n%s", len(got), diff)
	}
}

func TestUsernameChat(t *testing.T) {
	s, b := setup(t)
	s.AddChat(telegramtest.Chat{ID: -100777, Type: "channel", Title: "Notices", Username: "nanta_notices"})
	msg, err := b.SendMessage(context.Background(), &tgbot.SendMessageParams{ChatID: "@nanta_notices", Text: "notice"})
	if err != nil || msg.Chat.ID != -100777 || msg.SenderChat == nil {
		t.Errorf("SendMessage(@nanta_notices) = %+v, %v, want the channel, sent as the chat", msg, err)
	}
	if c := s.Calls()[0]; c.ChatID != -100777 {
		t.Errorf("Call.ChatID = %d, want -100777 resolved from the username", c.ChatID)
	}
}

func BenchmarkSendMessage(b *testing.B) {
	s := telegramtest.New(telegramtest.WithCallLimit(1000))
	defer s.Close()
	client, err := tgbot.New(token, tgbot.WithServerURL(s.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		b.Fatal(err)
	}
	markup := inlineKeyboard(models.InlineKeyboardButton{Text: "English", CallbackData: "lang:en"}, models.InlineKeyboardButton{Text: "中文", CallbackData: "lang:zh"})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var chat int64
		for pb.Next() {
			chat++
			if _, err := client.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chat%500 + 1, Text: "<b>Welcome</b> to bangban", ParseMode: models.ParseModeHTML, ReplyMarkup: markup}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
