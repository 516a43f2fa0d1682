package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/gin-gonic/gin"
)

// ErrConflict is what Broadcasts.Control returns (possibly wrapped) when the broadcast's
// state does not allow the action; the API answers 409 with its message.
var ErrConflict = errors.New("conflict")

// BroadcastContent is a broadcast's message: a text with its parse mode, or a message to
// copy; StopData, when set, adds an inline button labelled StopText carrying it.
type BroadcastContent struct {
	Text       string `json:"text,omitempty"`
	ParseMode  string `json:"parse_mode,omitempty"`
	FromChatID int64  `json:"from_chat_id,omitempty"`
	MessageID  int    `json:"message_id,omitempty"`
	StopText   string `json:"stop_text,omitempty"`
	StopData   string `json:"stop_data,omitempty"`
	// Entities format Text instead of ParseMode; Media ("photo", "document") with FileID
	// sends a file Telegram has, Text being its caption. A notice decided in the staff
	// group is kept so, a snapshot that no later edit or deletion changes.
	Entities json.RawMessage `json:"entities,omitempty"`
	Media    string          `json:"media,omitempty"`
	FileID   string          `json:"file_id,omitempty"`
}

// NewBroadcast is a validated request to create a broadcast.
type NewBroadcast struct {
	CreatedBy  string
	Content    BroadcastContent
	Recipients []int64
	ScheduleAt time.Time // zero: at once
}

// Broadcast is a broadcast as the admin API shows it.
type Broadcast struct {
	ID         string           `json:"id"`
	CreatedBy  string           `json:"created_by"`
	CreatedAt  time.Time        `json:"created_at"`
	State      string           `json:"state"`
	ScheduleAt *time.Time       `json:"schedule_at,omitempty"`
	StartedAt  *time.Time       `json:"started_at,omitempty"`
	FinishedAt *time.Time       `json:"finished_at,omitempty"`
	Content    BroadcastContent `json:"content"`
	Total      int64            `json:"total"`
	Sent       int64            `json:"sent"`
	Failed     int64            `json:"failed"`
	Blocked    int64            `json:"blocked"`
	Ambiguous  int64            `json:"ambiguous"`
	Skipped    int64            `json:"skipped"`
	Remaining  int64            `json:"remaining"`
	// FailedReasons counts failed recipients by Telegram's description.
	FailedReasons map[string]int64 `json:"failed_reasons,omitempty"`
	// Rate is recipients processed per second since the start; ETASeconds the time the
	// remaining ones take at the configured rate.
	Rate       float64 `json:"rate"`
	ETASeconds float64 `json:"eta_seconds"`
}

// Broadcasts creates, lists and controls broadcasts. Get and Control return ErrNotFound
// for an unknown id; Control returns ErrConflict when the state forbids the action.
type Broadcasts interface {
	// List returns up to limit broadcasts, newest first.
	List(ctx context.Context, limit int) ([]Broadcast, error)
	Create(ctx context.Context, nb NewBroadcast) (Broadcast, error)
	Get(ctx context.Context, id string) (Broadcast, error)
	// Control pauses, resumes or stops a broadcast on behalf of by.
	Control(ctx context.Context, id, action, by string) (Broadcast, error)
}

// Limits of POST /api/broadcasts.
const (
	maxBroadcastBody = 16 << 20
	maxRecipients    = 1_000_000
	maxTextLen       = 4096 // UTF-16 code units, as Telegram counts
	maxStopData      = 64   // bytes of callback_data
	maxStopText      = 64
)

// apiUser is who the audit log names for actions taken over the admin API.
const apiUser = "api"

var parseModes = map[string]bool{"": true, "HTML": true, "MarkdownV2": true, "Markdown": true}

// createRequest is the body of POST /api/broadcasts.
type createRequest struct {
	Text       *string  `json:"text"`
	ParseMode  string   `json:"parse_mode"`
	FromChatID int64    `json:"from_chat_id"`
	MessageID  int      `json:"message_id"`
	Recipients *[]int64 `json:"recipients"`
	ScheduleAt string   `json:"schedule_at"`
	StopText   string   `json:"stop_text"`
	StopData   string   `json:"stop_data"`
}

// parseCreate decodes and checks a POST /api/broadcasts body; the error says precisely
// what is wrong, for a 400.
func parseCreate(body io.Reader) (NewBroadcast, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var r createRequest
	if err := dec.Decode(&r); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return NewBroadcast{}, fmt.Errorf("%s must be %s", typeErr.Field, fieldKind(typeErr.Field))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return NewBroadcast{}, fmt.Errorf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return NewBroadcast{}, fmt.Errorf("body must be a JSON object: %w", err)
	}
	if dec.More() {
		return NewBroadcast{}, errors.New("body must be one JSON object")
	}
	nb := NewBroadcast{CreatedBy: apiUser, Content: BroadcastContent{ParseMode: r.ParseMode,
		FromChatID: r.FromChatID, MessageID: r.MessageID, StopText: r.StopText, StopData: r.StopData}}
	isCopy := r.FromChatID != 0 || r.MessageID != 0
	switch {
	case r.Text != nil && isCopy:
		return NewBroadcast{}, errors.New("give either text or from_chat_id and message_id, not both")
	case r.Text == nil && !isCopy:
		return NewBroadcast{}, errors.New("text, or from_chat_id and message_id, is required")
	case isCopy && (r.FromChatID == 0 || r.MessageID <= 0):
		return NewBroadcast{}, errors.New("a copied message needs both from_chat_id (non-zero) and message_id (positive)")
	case isCopy && r.ParseMode != "":
		return NewBroadcast{}, errors.New("parse_mode applies to text only")
	case r.Text != nil && strings.TrimSpace(*r.Text) == "":
		return NewBroadcast{}, errors.New("text must not be empty")
	case r.Text != nil && r.ParseMode == "" && len(utf16.Encode([]rune(*r.Text))) > maxTextLen:
		return NewBroadcast{}, fmt.Errorf("text must be at most %d characters", maxTextLen)
	case !parseModes[r.ParseMode]:
		return NewBroadcast{}, fmt.Errorf("parse_mode must be HTML, MarkdownV2 or Markdown, not %q", r.ParseMode)
	case r.StopData != "" && (len(r.StopData) > maxStopData):
		return NewBroadcast{}, fmt.Errorf("stop_data must be at most %d bytes", maxStopData)
	case (r.StopData == "") != (r.StopText == ""):
		return NewBroadcast{}, errors.New("stop_text and stop_data go together: give both or neither")
	case len([]rune(r.StopText)) > maxStopText:
		return NewBroadcast{}, fmt.Errorf("stop_text must be at most %d characters", maxStopText)
	case r.Recipients == nil || len(*r.Recipients) == 0:
		return NewBroadcast{}, errors.New("recipients must be a non-empty list of chat ids")
	case len(*r.Recipients) > maxRecipients:
		return NewBroadcast{}, fmt.Errorf("recipients must hold at most %d chat ids", maxRecipients)
	}
	if r.Text != nil {
		nb.Content.Text = *r.Text
	}
	for i, c := range *r.Recipients {
		if c == 0 {
			return NewBroadcast{}, fmt.Errorf("recipients[%d] is 0, which is no chat id", i)
		}
	}
	nb.Recipients = *r.Recipients
	if r.ScheduleAt != "" {
		t, err := time.Parse(time.RFC3339, r.ScheduleAt)
		if err != nil {
			return NewBroadcast{}, fmt.Errorf("schedule_at must be an RFC 3339 time such as 2026-12-01T09:00:00+08:00, not %q", r.ScheduleAt)
		}
		nb.ScheduleAt = t
	}
	return nb, nil
}

// fieldKind names what a field of createRequest holds, for a type error.
func fieldKind(field string) string {
	switch {
	case field == "recipients" || strings.HasPrefix(field, "recipients."):
		return "a list of integer chat ids"
	case field == "from_chat_id" || field == "message_id":
		return "an integer"
	}
	return "a string"
}

var broadcastActions = map[string]bool{"pause": true, "resume": true, "stop": true}

func mountBroadcasts(api *gin.RouterGroup, bs Broadcasts, log *slog.Logger) {
	fail := func(c *gin.Context, err error) {
		switch {
		case errors.Is(err, ErrNotFound):
			abortJSON(c, http.StatusNotFound, "no broadcast "+c.Param("id"))
		case errors.Is(err, ErrConflict):
			abortJSON(c, http.StatusConflict, err.Error())
		default:
			log.Warn("admin api", "path", c.FullPath(), "id", c.Param("id"), "err", err)
			abortJSON(c, http.StatusInternalServerError, err.Error())
		}
	}
	api.GET("/broadcasts", func(c *gin.Context) {
		limit, ok := listLimit(c)
		if !ok {
			return
		}
		list, err := bs.List(c.Request.Context(), limit)
		if err != nil {
			fail(c, err)
			return
		}
		if list == nil {
			list = []Broadcast{}
		}
		c.JSON(http.StatusOK, gin.H{"broadcasts": list})
	})
	api.POST("/broadcasts", func(c *gin.Context) {
		nb, err := parseCreate(http.MaxBytesReader(c.Writer, c.Request.Body, maxBroadcastBody))
		if err != nil {
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
				abortJSON(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("body must be at most %d bytes", maxBroadcastBody))
				return
			}
			abortJSON(c, http.StatusBadRequest, err.Error())
			return
		}
		b, err := bs.Create(c.Request.Context(), nb)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, b)
	})
	api.GET("/broadcasts/:id", func(c *gin.Context) {
		b, err := bs.Get(c.Request.Context(), c.Param("id"))
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, b)
	})
	api.POST("/broadcasts/:id/:action", func(c *gin.Context) {
		action := c.Param("action")
		if !broadcastActions[action] {
			abortJSON(c, http.StatusNotFound, "no action "+action+"; use pause, resume or stop")
			return
		}
		b, err := bs.Control(c.Request.Context(), c.Param("id"), action, apiUser)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, b)
	})
}
