// Package webhook is bangban's HTTP face: the gin engine that takes Telegram's webhook
// calls into the update queue, answers health and readiness probes, serves metrics and
// the authenticated admin API.
package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nanta-district/bangban/queue"
)

// Intake queues updates durably. The store implements it.
type Intake interface {
	// Append queues u on the shard of u.ChatID unless an update with the same UpdateID
	// was queued in the last 24 hours, in which case it reports duplicate. A nil error
	// means the update is stored durably; any error means it may not be.
	Append(ctx context.Context, u queue.Update) (duplicate bool, err error)
}

// ReadyFunc reports whether the process should receive traffic, with details for
// operators (Redis, workers, shutting down, content hash, bot self-check…). GET /readyz
// serves the detail map as a JSON object with "ready" added, so it must not hold secrets.
type ReadyFunc func(ctx context.Context) (ok bool, detail map[string]any)

// Options configures the engine. Only what is set is mounted: no Intake, no webhook
// route; no DeadLetters, no dead-letter API; no Content, no content reload.
type Options struct {
	// Intake receives the updates of POST /telegram/webhook.
	Intake Intake
	// Secrets are the accepted values of X-Telegram-Bot-Api-Secret-Token; several during
	// a rotation. Empty entries are ignored; with none, every webhook call is refused.
	Secrets []string
	// AdminToken is the bearer token of /api/...; empty refuses every admin call.
	AdminToken string
	// Ready backs GET /readyz; nil means always ready.
	Ready ReadyFunc
	// DeadLetters backs /api/deadletters.
	DeadLetters DeadLetters
	// Content backs POST /api/content/reload.
	Content ContentReloader
	// Broadcasts backs /api/broadcasts.
	Broadcasts Broadcasts
	// Logger receives request failures and panics; nil discards them.
	Logger *slog.Logger
	// API mounts more routes on the /api group, behind the admin token check.
	API func(api *gin.RouterGroup)
	// Extra mounts more routes on the engine (the playground, for one).
	Extra func(e *gin.Engine)
}

// readyTimeout bounds a readiness check, so that a hung Redis makes /readyz answer 503
// before the prober gives up on it.
const readyTimeout = 2 * time.Second

// New returns the gin engine serving bangban's routes. It sets gin's global mode to
// release, so that gin prints nothing of its own.
func New(opts Options) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := gin.New()
	e.Use(recovery(log))

	if opts.Intake != nil {
		e.POST(WebhookPath, newIntake(opts.Intake, opts.Secrets, log).serve)
	}
	e.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	e.GET("/readyz", readyz(opts.Ready))
	e.GET("/metrics", gin.WrapH(promhttp.Handler()))

	api := e.Group("/api", requireAdmin(opts.AdminToken))
	if opts.DeadLetters != nil {
		mountDeadLetters(api, opts.DeadLetters, log)
	}
	if opts.Content != nil {
		mountContent(api, opts.Content)
	}
	if opts.Broadcasts != nil {
		mountBroadcasts(api, opts.Broadcasts, log)
	}
	if opts.API != nil {
		opts.API(api)
	}
	if opts.Extra != nil {
		opts.Extra(e)
	}
	return e
}

func readyz(ready ReadyFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		ok, detail := true, map[string]any(nil)
		if ready != nil {
			ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
			ok, detail = ready(ctx)
			cancel()
		}
		body := make(map[string]any, len(detail)+1)
		for k, v := range detail {
			body[k] = v
		}
		body["ready"] = ok
		status := http.StatusOK
		if !ok {
			status = http.StatusServiceUnavailable
		}
		c.JSON(status, body)
	}
}

// recovery turns a panic into a 500 and a log line with the stack, instead of gin's
// own recovery which writes to stderr in its own format.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			// gin's renderers panic when the client has gone; that is no bug of ours.
			if err, ok := v.(error); ok && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
				log.Debug("client went away", "path", c.FullPath(), "err", err)
				c.Abort()
				return
			}
			log.Error("panic in HTTP handler", "path", c.FullPath(), "panic", v, "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			abortJSON(c, http.StatusInternalServerError, "internal error")
		}()
		c.Next()
	}
}

// abortJSON ends the request with the JSON error body every route uses.
func abortJSON(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}
