package webhook

import (
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nanta-district/bangban/metrics"
)

// WebhookPath is the route Telegram calls; WEBHOOK_URL must end in it.
const WebhookPath = "/telegram/webhook"

// SecretHeader carries the secret token given to setWebhook.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// MaxBody is the largest update body accepted. Telegram's updates are far smaller;
// the cap only stops a caller holding the secret from filling memory.
const MaxBody = 1 << 20

var errTooLarge = errors.New("body too large")

// intake serves POST /telegram/webhook.
type intake struct {
	queue   Intake
	secrets [][]byte
	log     *slog.Logger

	// Counters resolved once: a label lookup per request is measurable at this rate.
	received, duplicate                               prometheus.Counter
	badSecret, tooLarge, badJSON, noUpdateID, unavail prometheus.Counter
}

func newIntake(q Intake, secrets []string, log *slog.Logger) *intake {
	h := &intake{
		queue:      q,
		log:        log,
		received:   metrics.UpdatesReceived.WithLabelValues("webhook"),
		duplicate:  metrics.UpdatesDuplicate,
		badSecret:  metrics.UpdatesRejected.WithLabelValues("secret"),
		tooLarge:   metrics.UpdatesRejected.WithLabelValues("too_large"),
		badJSON:    metrics.UpdatesRejected.WithLabelValues("bad_json"),
		noUpdateID: metrics.UpdatesRejected.WithLabelValues("no_update_id"),
		unavail:    metrics.UpdatesRejected.WithLabelValues("unavailable"),
	}
	for _, s := range secrets {
		// An empty secret would match a request without the header.
		if s != "" {
			h.secrets = append(h.secrets, []byte(s))
		}
	}
	return h
}

// serve answers 200 only once the update is queued (or known to be), so that Telegram
// redelivers anything this process could not store.
func (h *intake) serve(c *gin.Context) {
	r := c.Request
	if !h.authorized(r.Header[SecretHeader]) {
		h.badSecret.Inc()
		abortJSON(c, http.StatusUnauthorized, "wrong secret token")
		return
	}
	body, err := readBody(c.Writer, r)
	switch {
	case errors.Is(err, errTooLarge):
		h.tooLarge.Inc()
		abortJSON(c, http.StatusRequestEntityTooLarge, "body over 1 MiB")
		return
	case err != nil:
		h.badJSON.Inc()
		abortJSON(c, http.StatusBadRequest, "cannot read body")
		return
	}
	u, err := ParseUpdate(body)
	switch {
	case errors.Is(err, errNoUpdateID):
		h.noUpdateID.Inc()
		abortJSON(c, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		h.badJSON.Inc()
		abortJSON(c, http.StatusBadRequest, err.Error())
		return
	}
	dup, err := h.queue.Append(r.Context(), u)
	if err != nil {
		h.unavail.Inc()
		h.log.Warn("queue update", "update_id", u.UpdateID, "err", err)
		abortJSON(c, http.StatusServiceUnavailable, "queue unavailable")
		return
	}
	if dup {
		h.duplicate.Inc()
	} else {
		h.received.Inc()
	}
	c.Status(http.StatusOK)
}

// authorized compares the header with every secret in constant time; a header given
// twice is refused rather than guessed at.
func (h *intake) authorized(got []string) bool {
	if len(got) != 1 {
		return false
	}
	g := []byte(got[0])
	ok := 0
	for _, s := range h.secrets {
		ok |= subtle.ConstantTimeCompare(g, s)
	}
	return ok == 1
}

// readBody reads at most MaxBody bytes, refusing a larger declared length before
// reading anything.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, errTooLarge
	}
	if r.ContentLength >= 0 {
		b := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, errTooLarge
	}
	return b, err
}
