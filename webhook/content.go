package webhook

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// ContentInfo identifies the content a replica uses, as POST /api/content/reload answers
// it and /readyz shows it under "content".
type ContentInfo struct {
	// Hash identifies the content files (content.Content.Hash).
	Hash string `json:"hash"`
	// Version is the published content version this content stands for; 0 when it was
	// never published (nobody reloaded since the content was first deployed).
	Version  int64 `json:"version"`
	Points   int   `json:"points"`
	Policies int   `json:"policies"`
}

// ContentProblems is what ContentReloader.Reload returns (possibly wrapped) when the new
// content is invalid: one "file:line: message" per problem. The API answers 422 with them.
type ContentProblems []string

func (ps ContentProblems) Error() string { return strings.Join(ps, "\n") }

// ContentReloader reloads the content on demand. It logs the outcome of every reload
// itself, so the API does not log it again.
type ContentReloader interface {
	// Reload loads the content again, makes it the one in use and has every replica
	// follow. On invalid content it returns ContentProblems and the content in use stays;
	// any other error is a failure to read the content or to publish it.
	Reload(ctx context.Context) (ContentInfo, error)
}

func mountContent(api *gin.RouterGroup, cr ContentReloader) {
	api.POST("/content/reload", func(c *gin.Context) {
		info, err := cr.Reload(c.Request.Context())
		var probs ContentProblems
		switch {
		case errors.As(err, &probs):
			c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": "content has problems", "problems": []string(probs)})
		case err != nil:
			abortJSON(c, http.StatusInternalServerError, err.Error())
		default:
			c.JSON(http.StatusOK, info)
		}
	})
}
