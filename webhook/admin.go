package webhook

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nanta-district/bangban/queue"
)

// ErrNotFound is what DeadLetters implementations return (possibly wrapped) for an
// unknown id; the API answers 404 to it.
var ErrNotFound = errors.New("not found")

// DeadLetter is an update that failed too often to be handled, as the admin API shows it.
type DeadLetter struct {
	ID       string          `json:"id"`
	UpdateID int64           `json:"update_id"`
	ChatID   int64           `json:"chat_id"`
	Kind     queue.Kind      `json:"kind"`
	Error    string          `json:"error"`
	Failures int             `json:"failures"`
	FailedAt time.Time       `json:"failed_at"`
	Raw      json.RawMessage `json:"raw"`
}

// DeadLetters lists and resolves dead letters. Get, Replay and Drop return ErrNotFound
// for an unknown id.
type DeadLetters interface {
	// List returns up to limit dead letters, newest first.
	List(ctx context.Context, limit int) ([]DeadLetter, error)
	Get(ctx context.Context, id string) (DeadLetter, error)
	// Replay queues the update again and removes the dead letter.
	Replay(ctx context.Context, id string) error
	Drop(ctx context.Context, id string) error
}

// Limits of GET /api/deadletters?limit=.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// requireAdmin lets a request through only with "Authorization: Bearer <token>".
// An empty token refuses everything, so that forgetting ADMIN_TOKEN never opens the API.
func requireAdmin(token string) gin.HandlerFunc {
	want := []byte(token)
	return func(c *gin.Context) {
		got, ok := bearer(c.GetHeader("Authorization"))
		if len(want) == 0 || !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="bangban"`)
			abortJSON(c, http.StatusUnauthorized, "unauthorized")
			return
		}
		c.Next()
	}
}

// bearer returns the credentials of a Bearer authorization header; the scheme is
// case-insensitive (RFC 9110 §11.1).
func bearer(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimLeft(cred, " ")
	return cred, cred != ""
}

func mountDeadLetters(api *gin.RouterGroup, dl DeadLetters, log *slog.Logger) {
	fail := func(c *gin.Context, err error) {
		if errors.Is(err, ErrNotFound) {
			abortJSON(c, http.StatusNotFound, "no dead letter "+c.Param("id"))
			return
		}
		log.Warn("admin api", "path", c.FullPath(), "id", c.Param("id"), "err", err)
		abortJSON(c, http.StatusInternalServerError, err.Error())
	}
	api.GET("/deadletters", func(c *gin.Context) {
		limit, ok := listLimit(c)
		if !ok {
			return
		}
		list, err := dl.List(c.Request.Context(), limit)
		if err != nil {
			fail(c, err)
			return
		}
		if list == nil {
			list = []DeadLetter{}
		}
		c.JSON(http.StatusOK, gin.H{"deadletters": list})
	})
	api.GET("/deadletters/:id", func(c *gin.Context) {
		d, err := dl.Get(c.Request.Context(), c.Param("id"))
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, d)
	})
	api.POST("/deadletters/:id/replay", func(c *gin.Context) {
		if err := dl.Replay(c.Request.Context(), c.Param("id")); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"replayed": c.Param("id")})
	})
	api.DELETE("/deadletters/:id", func(c *gin.Context) {
		if err := dl.Drop(c.Request.Context(), c.Param("id")); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"dropped": c.Param("id")})
	})
}

// listLimit reads a list's ?limit= (default defaultListLimit), answering 400 and reporting
// false when it is not a number from 1 to maxListLimit.
func listLimit(c *gin.Context) (int, bool) {
	s := c.Query("limit")
	if s == "" {
		return defaultListLimit, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxListLimit {
		abortJSON(c, http.StatusBadRequest, fmt.Sprintf("limit must be an integer between 1 and %d", maxListLimit))
		return 0, false
	}
	return n, true
}
