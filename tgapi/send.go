package tgapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/nanta-district/bangban/queue"
)

// Outcome is what became of one call, as far as the sender must know.
type Outcome int

const (
	// OK: the call succeeded (an edit that changed nothing included).
	OK Outcome = iota
	// NotSent: the request never reached Telegram completely (dial error, write error,
	// 401/404 for the whole bot); sending again cannot duplicate anything.
	NotSent
	// Ambiguous: the request left but no answer says what happened (timeout, dropped
	// connection, 5xx); Telegram may have acted on it.
	Ambiguous
	// RateLimited: 429; Sent.RetryAfter says for how long the scope must wait.
	RateLimited
	// Forbidden: 403; the bot cannot write to the chat (blocked, kicked, deactivated).
	Forbidden
	// Migrated: the group became a supergroup; Sent.MigrateTo is its new id.
	Migrated
	// Failed: Telegram refused the call for good (400 and other client errors).
	Failed
)

// String returns the outcome as used in the metrics label.
func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case NotSent:
		return "not_sent"
	case Ambiguous:
		return "ambiguous"
	case RateLimited:
		return "rate_limited"
	case Forbidden:
		return "forbidden"
	case Migrated:
		return "migrated"
	case Failed:
		return "bad_request"
	}
	return "error"
}

// Sent is the result of Send.
type Sent struct {
	Outcome   Outcome
	MessageID int // sendMessage / sendDocument / editMessageText / copyMessage
	// ThreadID is the forum topic of a sent or copied message, or the topic
	// createForumTopic created.
	ThreadID int
	// MessageIDs are the messages copyMessages created, in the order of the copied ones;
	// Telegram skips messages it cannot find or copy, so there may be fewer.
	MessageIDs []int
	RetryAfter time.Duration // RateLimited
	MigrateTo  int64         // Migrated
	Status     int           // HTTP status, 0 when no response arrived
	// Detail is the Bot API's description of a call it refused (e.g. "Bad Request: message
	// thread not found"); empty when the call succeeded or no answer carried one.
	Detail string
}

// notModified is how Telegram says an edit would change nothing, which is the wanted state.
const notModified = "message is not modified"

// Send makes the Bot API call m describes. The error is nil exactly when Outcome is OK;
// otherwise it describes the failure (never containing the token) and Sent.Outcome says
// how to treat it, with Sent.Detail the Bot API's description of a refusal. The call is
// bounded by the client's send timeout. A document that must not be uploaded (no file name,
// empty, over queue.MaxDocument) is Failed without a call, and so is a copyMessage without
// exactly one message id or a copyMessages without 1 to queue.MaxCopy distinct ones
// (copyMessages sends them in ascending order, as the Bot API requires).
func (c *Client) Send(ctx context.Context, m queue.Message) (Sent, error) {
	ctx, cancel := context.WithTimeout(ctx, c.sendTimeout)
	defer cancel()
	ctx, p := withProbe(ctx)
	var (
		s   Sent
		err error
	)
	switch m.Method {
	case queue.MethodSendMessage:
		var msg *models.Message
		msg, err = c.bot.SendMessage(ctx, c.sendParams(m))
		if msg != nil {
			s.MessageID, s.ThreadID = msg.ID, msg.MessageThreadID
		}
	case queue.MethodSendPhoto:
		var msg *models.Message
		msg, err = c.bot.SendPhoto(ctx, &tgbot.SendPhotoParams{
			ChatID: m.ChatID, MessageThreadID: m.ThreadID, Photo: &models.InputFileString{Data: m.FileID},
			Caption: m.Text, ParseMode: models.ParseMode(m.ParseMode), CaptionEntities: entities(m),
			AllowPaidBroadcast: c.paid && m.Lane == queue.LaneBulk, ReplyParameters: replyTo(m), ReplyMarkup: replyMarkup(m),
		})
		if msg != nil {
			s.MessageID, s.ThreadID = msg.ID, msg.MessageThreadID
		}
	case queue.MethodSendDocument:
		if err := checkDocument(m); err != nil {
			return Sent{Outcome: Failed}, fmt.Errorf("send %s to %d: %w", m.Method, m.ChatID, err)
		}
		var msg *models.Message
		msg, err = c.bot.SendDocument(ctx, c.documentParams(m))
		if msg != nil {
			s.MessageID, s.ThreadID = msg.ID, msg.MessageThreadID
		}
	case queue.MethodEditMessageText:
		params := &tgbot.EditMessageTextParams{
			ChatID: m.ChatID, MessageID: m.MessageID, Text: m.Text,
			ParseMode: models.ParseMode(m.ParseMode),
		}
		if m.Inline != nil {
			params.ReplyMarkup = inlineKeyboard(m.Inline)
		}
		var msg *models.Message
		msg, err = c.bot.EditMessageText(ctx, params)
		s.MessageID = m.MessageID
		if msg != nil {
			s.ThreadID = msg.MessageThreadID
		}
	case queue.MethodAnswerCallbackQuery:
		_, err = c.bot.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{
			CallbackQueryID: m.CallbackID, Text: m.Text, ShowAlert: m.ShowAlert,
		})
	case queue.MethodAnswerInlineQuery:
		_, err = c.bot.AnswerInlineQuery(ctx, inlineAnswer(m))
	case queue.MethodDeleteMessage:
		_, err = c.bot.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: m.ChatID, MessageID: m.MessageID})
	case queue.MethodSendChatAction:
		_, err = c.bot.SendChatAction(ctx, &tgbot.SendChatActionParams{
			ChatID: m.ChatID, MessageThreadID: m.ThreadID, Action: models.ChatAction(m.Action),
		})
	case queue.MethodCopyMessage:
		if len(m.MessageIDs) != 1 {
			return Sent{Outcome: Failed}, fmt.Errorf("send %s to %d: %d message ids, want one", m.Method, m.ChatID, len(m.MessageIDs))
		}
		var id *models.MessageID
		id, err = c.bot.CopyMessage(ctx, c.copyParams(m))
		if err == nil {
			s.MessageID, s.ThreadID = id.ID, m.ThreadID
		}
	case queue.MethodCopyMessages:
		ids := slices.Compact(slices.Sorted(slices.Values(m.MessageIDs)))
		if len(ids) == 0 || len(ids) > queue.MaxCopy {
			return Sent{Outcome: Failed}, fmt.Errorf("send %s to %d: %d message ids, want 1 to %d", m.Method, m.ChatID, len(ids), queue.MaxCopy)
		}
		var copied []models.MessageID
		copied, err = c.bot.CopyMessages(ctx, &tgbot.CopyMessagesParams{
			ChatID: m.ChatID, MessageThreadID: m.ThreadID, FromChatID: m.FromChatID, MessageIDs: ids,
		})
		if err == nil {
			s.ThreadID = m.ThreadID
			s.MessageIDs = make([]int, len(copied))
			for i, id := range copied {
				s.MessageIDs[i] = id.ID
			}
		}
	case queue.MethodCreateForumTopic:
		var topic *models.ForumTopic
		topic, err = c.bot.CreateForumTopic(ctx, &tgbot.CreateForumTopicParams{ChatID: m.ChatID, Name: m.Name})
		if err == nil {
			s.ThreadID = topic.MessageThreadID
		}
	case queue.MethodDeleteForumTopic:
		_, err = c.bot.DeleteForumTopic(ctx, &tgbot.DeleteForumTopicParams{ChatID: m.ChatID, MessageThreadID: m.ThreadID})
	default:
		return Sent{Outcome: Failed}, fmt.Errorf("send %s to %d: unknown method", m.Method, m.ChatID)
	}
	s.Status = int(p.status.Load())
	s.Outcome = classify(err, p, &s)
	if s.Outcome == OK {
		return s, nil
	}
	s.Detail = p.description()
	return s, fmt.Errorf("send %s to %d: %s: %w", m.Method, m.ChatID, s.Outcome, err)
}

func (c *Client) sendParams(m queue.Message) *tgbot.SendMessageParams {
	return &tgbot.SendMessageParams{
		ChatID: m.ChatID, MessageThreadID: m.ThreadID, Text: m.Text,
		ParseMode:          models.ParseMode(m.ParseMode),
		Entities:           entities(m),
		AllowPaidBroadcast: c.paid && m.Lane == queue.LaneBulk,
		ReplyParameters:    replyTo(m),
		ReplyMarkup:        replyMarkup(m),
	}
}

// copyParams copies m's one message into m's chat (and topic); Text, when set, replaces
// the caption of a copied media message.
func (c *Client) copyParams(m queue.Message) *tgbot.CopyMessageParams {
	params := &tgbot.CopyMessageParams{
		ChatID: m.ChatID, MessageThreadID: m.ThreadID, FromChatID: m.FromChatID, MessageID: m.MessageIDs[0],
		AllowPaidBroadcast: c.paid && m.Lane == queue.LaneBulk,
	}
	if m.Text != "" {
		params.Caption, params.ParseMode = m.Text, models.ParseMode(m.ParseMode)
	}
	if m.Inline != nil {
		params.ReplyMarkup = inlineKeyboard(m.Inline)
	}
	return params
}

// entities decodes m's entities; ones that do not decode are left out, and the text goes
// unformatted rather than not at all.
func entities(m queue.Message) []models.MessageEntity {
	var e []models.MessageEntity
	if len(m.Entities) > 0 && json.Unmarshal(m.Entities, &e) != nil {
		return nil
	}
	return e
}

// checkDocument refuses a document that must not be uploaded (one sent by file id always
// goes): one without a file name (its
// multipart part would read as a plain field, not as a file), an empty one (Telegram
// answers "file must be non-empty") and one over queue.MaxDocument.
func checkDocument(m queue.Message) error {
	switch {
	case m.FileID != "":
		return nil
	case m.FileName == "":
		return errors.New("document without a file name")
	case len(m.Document) == 0:
		return fmt.Errorf("document %q is empty", m.FileName)
	case len(m.Document) > queue.MaxDocument:
		return fmt.Errorf("document %q has %d bytes, over the cap of %d", m.FileName, len(m.Document), queue.MaxDocument)
	}
	return nil
}

// documentParams uploads m.Document as m.FileName with m.Text as its caption. A fresh
// reader per call lets a call that was not sent go again.
func (c *Client) documentParams(m queue.Message) *tgbot.SendDocumentParams {
	var doc models.InputFile = &models.InputFileUpload{Filename: m.FileName, Data: bytes.NewReader(m.Document)}
	if m.FileID != "" {
		doc = &models.InputFileString{Data: m.FileID}
	}
	return &tgbot.SendDocumentParams{
		ChatID: m.ChatID, MessageThreadID: m.ThreadID,
		Document:           doc,
		Caption:            m.Text,
		ParseMode:          models.ParseMode(m.ParseMode),
		CaptionEntities:    entities(m),
		AllowPaidBroadcast: c.paid && m.Lane == queue.LaneBulk,
		ReplyParameters:    replyTo(m),
		ReplyMarkup:        replyMarkup(m),
	}
}

// replyTo quotes the message m replies to, if any.
func replyTo(m queue.Message) *models.ReplyParameters {
	if m.MessageID == 0 {
		return nil
	}
	// The message replied to may be gone by the time the reply leaves; the answer
	// still matters more than the quote.
	return &models.ReplyParameters{MessageID: m.MessageID, AllowSendingWithoutReply: true}
}

// replyMarkup returns m's keyboard, or nil (an untyped nil, which the library omits).
func replyMarkup(m queue.Message) models.ReplyMarkup {
	switch {
	case m.Inline != nil:
		return inlineKeyboard(m.Inline)
	case m.Reply != nil:
		// One-time: the keyboard hides once used, so a step that moves on needs no removal message.
		kb := &models.ReplyKeyboardMarkup{ResizeKeyboard: true, OneTimeKeyboard: true}
		for _, row := range m.Reply {
			r := make([]models.KeyboardButton, len(row))
			for i, b := range row {
				r[i] = models.KeyboardButton{Text: b.Text, RequestContact: b.RequestContact, RequestLocation: b.RequestLocation}
			}
			kb.Keyboard = append(kb.Keyboard, r)
		}
		return kb
	case m.RemoveKeyboard:
		return &models.ReplyKeyboardRemove{RemoveKeyboard: true}
	}
	return nil
}

// inlineAnswer answers m's inline query with one article per result. The answer is
// personal: it depends on the asker's role, so Telegram must not show it to anyone else.
func inlineAnswer(m queue.Message) *tgbot.AnswerInlineQueryParams {
	results := make([]models.InlineQueryResult, len(m.Results))
	for i, r := range m.Results {
		a := &models.InlineQueryResultArticle{
			ID: r.ID, Title: r.Title, Description: r.Description, URL: r.URL,
			InputMessageContent: &models.InputTextMessageContent{MessageText: r.Text, ParseMode: models.ParseMode(m.ParseMode)},
		}
		if r.Inline != nil {
			a.ReplyMarkup = inlineKeyboard(r.Inline)
		}
		results[i] = a
	}
	return &tgbot.AnswerInlineQueryParams{
		InlineQueryID: m.InlineQueryID, Results: results, CacheTime: m.CacheTime, IsPersonal: true,
	}
}

// inlineMarkup replaces models.InlineKeyboardMarkup because the library's button has a
// non-pointer copy_text field that json's omitempty never omits: every button would carry
// "copy_text":{"text":""}, which the Bot API has answered with BUTTON_COPY_TEXT_INVALID.
type inlineMarkup struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	URL          string `json:"url,omitempty"`
	CallbackData string `json:"callback_data,omitempty"`
}

func inlineKeyboard(rows [][]queue.Button) *inlineMarkup {
	kb := &inlineMarkup{InlineKeyboard: make([][]inlineButton, 0, len(rows))}
	for _, row := range rows {
		r := make([]inlineButton, len(row))
		for i, b := range row {
			r[i] = inlineButton{Text: b.Text, URL: b.URL, CallbackData: b.Data}
		}
		kb.InlineKeyboard = append(kb.InlineKeyboard, r)
	}
	return kb
}

// classify maps a call's error and probe to an Outcome, filling RetryAfter and MigrateTo.
// Telegram's typed answers come first; only without one does the transport decide.
func classify(err error, p *probe, s *Sent) Outcome {
	if err == nil {
		return OK
	}
	var tooMany *tgbot.TooManyRequestsError
	var migrate *tgbot.MigrateError
	switch {
	case errors.As(err, &tooMany):
		s.RetryAfter = time.Duration(tooMany.RetryAfter) * time.Second
		if s.RetryAfter <= 0 {
			s.RetryAfter = time.Second
		}
		return RateLimited
	case errors.As(err, &migrate):
		s.MigrateTo = int64(migrate.MigrateToChatID)
		return Migrated
	case errors.Is(err, tgbot.ErrorForbidden):
		return Forbidden
	case errors.Is(err, tgbot.ErrorBadRequest):
		if strings.Contains(strings.ToLower(err.Error()), notModified) {
			return OK
		}
		return Failed
	case errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound):
		// The bot itself is refused (revoked token, wrong server URL): no message was
		// delivered, and dropping replies over a configuration error would lose them.
		return NotSent
	}
	status := int(p.status.Load())
	switch {
	case status >= http.StatusInternalServerError:
		return Ambiguous
	case status >= http.StatusBadRequest:
		return Failed
	case status != 0 || p.wrote.Load():
		// An answer we could not read, a timeout or a dropped connection after the
		// request was written completely: Telegram may have acted on it.
		return Ambiguous
	}
	return NotSent
}
