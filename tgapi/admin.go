package tgapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Me is the bot's own account, from getMe.
type Me struct {
	ID                    int64
	Username              string
	SupportsInlineQueries bool
}

// GetMe returns the bot's account. It decodes getMe itself: the library's models.User
// reads "support_inline_queries", a field the Bot API does not have (it is
// "supports_inline_queries"), so inline mode would always look off.
func (c *Client) GetMe(ctx context.Context) (Me, error) {
	ctx, cancel := context.WithTimeout(ctx, c.sendTimeout)
	defer cancel()
	var u struct {
		ID                    int64  `json:"id"`
		Username              string `json:"username"`
		SupportsInlineQueries bool   `json:"supports_inline_queries"`
	}
	if err := c.raw(ctx, "getMe", nil, &u); err != nil {
		return Me{}, fmt.Errorf("get me: %w", err)
	}
	return Me{ID: u.ID, Username: u.Username, SupportsInlineQueries: u.SupportsInlineQueries}, nil
}

// Command is one entry of the bot's command menu.
type Command struct {
	Command     string
	Description string
}

// SetMyCommands sets the command menu shown to users whose language is lang ("" for the
// default menu): in private chats, or in the one chat when chat is not 0.
func (c *Client) SetMyCommands(ctx context.Context, lang string, cmds []Command, chat int64) error {
	ctx, cancel := context.WithTimeout(ctx, c.sendTimeout)
	defer cancel()
	bc := make([]models.BotCommand, len(cmds))
	for i, cmd := range cmds {
		bc[i] = models.BotCommand{Command: cmd.Command, Description: cmd.Description}
	}
	var scope models.BotCommandScope = &models.BotCommandScopeAllPrivateChats{}
	if chat != 0 {
		scope = &models.BotCommandScopeChat{ChatID: chat}
	}
	if _, err := c.bot.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: bc, Scope: scope, LanguageCode: lang}); err != nil {
		return fmt.Errorf("set commands for %q: %w", lang, err)
	}
	return nil
}

// SetWebhook points Telegram at webhookURL. allowedUpdates should name every update kind
// the bot handles: an empty list keeps whatever list Telegram had before.
func (c *Client) SetWebhook(ctx context.Context, webhookURL, secret string, maxConnections int, allowedUpdates []string, dropPending bool) error {
	ctx, cancel := context.WithTimeout(ctx, c.sendTimeout)
	defer cancel()
	_, err := c.bot.SetWebhook(ctx, &tgbot.SetWebhookParams{
		URL: webhookURL, SecretToken: secret, MaxConnections: maxConnections,
		AllowedUpdates: allowedUpdates, DropPendingUpdates: dropPending,
	})
	if err != nil {
		return fmt.Errorf("set webhook: %w", err)
	}
	return nil
}

// WebhookInfo is what getWebhookInfo reports.
type WebhookInfo struct {
	URL                string
	PendingUpdateCount int
	LastErrorDate      time.Time // zero when there was none
	LastErrorMessage   string
	MaxConnections     int
	AllowedUpdates     []string
}

// GetWebhookInfo returns the webhook Telegram currently uses; URL is empty in polling mode.
func (c *Client) GetWebhookInfo(ctx context.Context) (WebhookInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.sendTimeout)
	defer cancel()
	wi, err := c.bot.GetWebhookInfo(ctx)
	if err != nil {
		return WebhookInfo{}, fmt.Errorf("get webhook info: %w", err)
	}
	info := WebhookInfo{
		URL: wi.URL, PendingUpdateCount: wi.PendingUpdateCount, LastErrorMessage: wi.LastErrorMessage,
		MaxConnections: wi.MaxConnections, AllowedUpdates: wi.AllowedUpdates,
	}
	if wi.LastErrorDate != 0 {
		info.LastErrorDate = time.Unix(int64(wi.LastErrorDate), 0)
	}
	return info, nil
}

// DeleteWebhook removes the webhook, keeping pending updates unless dropPending.
func (c *Client) DeleteWebhook(ctx context.Context, dropPending bool) error {
	ctx, cancel := context.WithTimeout(ctx, c.sendTimeout)
	defer cancel()
	if _, err := c.bot.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{DropPendingUpdates: dropPending}); err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

// GetUpdates long-polls for updates with update_id ≥ offset, waiting up to timeout, and
// returns each one as Telegram sent it. The library has no exported getUpdates and would
// decode into models.Update, which loses an update it cannot decode, so the call is made
// here through the same HTTP client. allowedUpdates, when non-nil, replaces Telegram's list.
// A 409 (a webhook is set, or another poller runs) is returned as an error wrapping
// tgbot.ErrorConflict.
func (c *Client) GetUpdates(ctx context.Context, offset int64, timeout time.Duration, allowedUpdates []string) ([]json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+pollMargin)
	defer cancel()
	fields := map[string]string{
		"offset":  strconv.FormatInt(offset, 10),
		"timeout": strconv.Itoa(int(timeout / time.Second)),
	}
	if allowedUpdates != nil {
		b, _ := json.Marshal(allowedUpdates)
		fields["allowed_updates"] = string(b)
	}
	var ups []json.RawMessage
	if err := c.raw(ctx, "getUpdates", fields, &ups); err != nil {
		return nil, fmt.Errorf("get updates from %d: %w", offset, err)
	}
	return ups, nil
}

// Check is the start-up self-check of the bot and its staff chat.
type Check struct {
	Username              string
	SupportsInlineQueries bool
	StaffChatIsForum      bool
	StaffChatTitle        string
	// CanManageTopics and CanDeleteMessages are the bot's rights in the staff chat.
	CanManageTopics   bool
	CanDeleteMessages bool
	// MigrateToChatID is set when the staff chat became a supergroup with this new id.
	MigrateToChatID int64
}

// SelfCheck asks Telegram who the bot is and what it may do in the staff chat. A migrated
// staff chat is reported in Check.MigrateToChatID, not as an error; any other failure
// returns the facts gathered so far with the error.
func (c *Client) SelfCheck(ctx context.Context, staffChatID int64) (Check, error) {
	me, err := c.GetMe(ctx)
	if err != nil {
		return Check{}, err
	}
	ch := Check{Username: me.Username, SupportsInlineQueries: me.SupportsInlineQueries}
	cctx, cancel := context.WithTimeout(ctx, c.sendTimeout)
	defer cancel()
	chat, err := c.bot.GetChat(cctx, &tgbot.GetChatParams{ChatID: staffChatID})
	var migrate *tgbot.MigrateError
	if errors.As(err, &migrate) {
		ch.MigrateToChatID = int64(migrate.MigrateToChatID)
		return ch, nil
	}
	if err != nil {
		return ch, fmt.Errorf("get staff chat %d: %w", staffChatID, err)
	}
	ch.StaffChatIsForum, ch.StaffChatTitle = chat.IsForum, chat.Title
	member, err := c.bot.GetChatMember(cctx, &tgbot.GetChatMemberParams{ChatID: staffChatID, UserID: me.ID})
	if err != nil {
		return ch, fmt.Errorf("get own membership in staff chat %d: %w", staffChatID, err)
	}
	switch {
	case member.Owner != nil:
		ch.CanManageTopics, ch.CanDeleteMessages = true, true
	case member.Administrator != nil:
		ch.CanManageTopics = member.Administrator.CanManageTopics
		ch.CanDeleteMessages = member.Administrator.CanDeleteMessages
	}
	return ch, nil
}

// apiResponse is the Bot API's envelope, for the calls made without the library.
type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	Description string          `json:"description"`
	ErrorCode   int             `json:"error_code"`
	Parameters  struct {
		RetryAfter      int `json:"retry_after"`
		MigrateToChatID int `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// raw calls method with fields as a multipart form, like the library does, and decodes the
// result into dest. Errors carry the library's typed errors so callers branch the same way,
// and never the request URL, which holds the token.
func (c *Client) raw(ctx context.Context, method string, fields map[string]string, dest any) error {
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := form.WriteField(k, v); err != nil {
			return err
		}
	}
	if err := form.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.serverURL+"/bot"+c.token+"/"+method, &body)
	if err != nil {
		return fmt.Errorf("%s: bad server URL", method)
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s: %w", method, ue.Err)
		}
		return fmt.Errorf("%s: request failed", method)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", method, err)
	}
	var r apiResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: HTTP %d, undecodable answer: %w", method, resp.StatusCode, err)
	}
	if !r.OK {
		return apiError(r)
	}
	if err := json.Unmarshal(r.Result, dest); err != nil {
		return fmt.Errorf("%s: decode result: %w", method, err)
	}
	return nil
}

// apiError mirrors the library's error values for an unsuccessful answer.
func apiError(r apiResponse) error {
	switch r.ErrorCode {
	case http.StatusTooManyRequests:
		return &tgbot.TooManyRequestsError{Message: r.Description, RetryAfter: r.Parameters.RetryAfter}
	case http.StatusBadRequest:
		if r.Parameters.MigrateToChatID != 0 {
			return &tgbot.MigrateError{Message: r.Description, MigrateToChatID: r.Parameters.MigrateToChatID}
		}
		return fmt.Errorf("%w, %s", tgbot.ErrorBadRequest, r.Description)
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tgbot.ErrorForbidden, r.Description)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tgbot.ErrorUnauthorized, r.Description)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tgbot.ErrorNotFound, r.Description)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tgbot.ErrorConflict, r.Description)
	}
	return fmt.Errorf("error response from telegram, %d %s", r.ErrorCode, r.Description)
}

// StarBalance returns the bot's Telegram Stars (getMyStarBalance), which pay for paid
// broadcasts.
func (c *Client) StarBalance(ctx context.Context) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, c.sendTimeout)
	defer cancel()
	var amount struct {
		Amount         int64 `json:"amount"`
		NanostarAmount int64 `json:"nanostar_amount"`
	}
	if err := c.raw(ctx, "getMyStarBalance", nil, &amount); err != nil {
		return 0, err
	}
	return float64(amount.Amount) + float64(amount.NanostarAmount)/1e9, nil
}
