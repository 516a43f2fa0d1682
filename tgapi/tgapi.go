// Package tgapi is the only place that talks to the Telegram Bot API: a typed client over
// go-telegram/bot (used as client and models only) whose Send classifies every failure the
// way the sender needs it: not sent, ambiguous, rate limited, forbidden, migrated or permanent.
package tgapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
)

// Defaults for the client's timeouts.
const (
	// DefaultSendTimeout bounds one Bot API call of the sender or an operator command.
	DefaultSendTimeout = 10 * time.Second
	// pollMargin is added to a getUpdates long-poll timeout for the whole call.
	pollMargin = 10 * time.Second
)

// Client is a Bot API client. It is safe for concurrent use.
type Client struct {
	bot         *tgbot.Bot
	http        *http.Client
	serverURL   string
	token       string
	sendTimeout time.Duration
	paid        bool
}

// Option configures a Client.
type Option func(*Client)

// WithSendTimeout sets how long one call may take (default DefaultSendTimeout).
func WithSendTimeout(d time.Duration) Option {
	return func(c *Client) { c.sendTimeout = d }
}

// WithPaidBroadcast makes bulk-lane messages carry allow_paid_broadcast (BROADCAST_PAID).
func WithPaidBroadcast() Option {
	return func(c *Client) { c.paid = true }
}

// WithHTTPClient replaces the underlying HTTP client (tests use it to shorten timeouts).
// Its Timeout should be zero: calls are bounded by their contexts, and a long poll
// needs more than a send.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.http = h }
}

// New returns a client for token against serverURL (e.g. https://api.telegram.org, no
// trailing slash). It makes no call; it fails only on an empty token.
func New(token, serverURL string, opts ...Option) (*Client, error) {
	c := &Client{
		serverURL:   strings.TrimRight(serverURL, "/"),
		token:       token,
		sendTimeout: DefaultSendTimeout,
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = newHTTPClient()
	}
	b, err := tgbot.New(token,
		tgbot.WithServerURL(c.serverURL),
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(time.Minute, probeDoer{c.http}),
		// The library logs through the standard logger when it cannot close a pipe; those
		// lines carry no token but belong to no request we could report, so drop them.
		tgbot.WithErrorsHandler(func(error) {}),
	)
	if err != nil {
		return nil, fmt.Errorf("new bot api client: %w", err)
	}
	c.bot = b
	return c, nil
}

// newHTTPClient has no overall timeout (contexts bound each call) but bounded connection
// set-up, and enough idle connections for the sender's concurrent calls.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	return &http.Client{Transport: t}
}

// probe records, for one call, what the library does not tell: whether the whole request
// was written to the connection, which HTTP status came back and the description of an
// error answer (the library folds it into its error text in a different shape per status).
type probe struct {
	wrote  atomic.Bool
	status atomic.Int32
	desc   atomic.Pointer[string]
}

// description returns the Bot API's description of an error answer, if one came.
func (p *probe) description() string {
	if d := p.desc.Load(); d != nil {
		return *d
	}
	return ""
}

// maxErrorBody bounds how much of an error answer is read for its description; Telegram's
// are a few hundred bytes, and the rest of a longer body is still handed to the library.
const maxErrorBody = 64 << 10

// keepDescription reads the description of an error answer and puts the body back, read
// part first, for the library to decode as usual.
func (p *probe) keepDescription(resp *http.Response) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var answer struct {
		Description string `json:"description"`
	}
	if json.Unmarshal(b, &answer) == nil && answer.Description != "" {
		p.desc.Store(&answer.Description)
	}
	rest := io.Reader(resp.Body)
	if err != nil {
		rest = failedRead{err}
	}
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(b), rest), resp.Body}
}

// failedRead repeats the error a body read failed with, after the part that was read.
type failedRead struct{ err error }

func (f failedRead) Read([]byte) (int, error) { return 0, f.err }

type readCloser struct {
	io.Reader
	io.Closer
}

type probeKey struct{}

func withProbe(ctx context.Context) (context.Context, *probe) {
	p := &probe{}
	return context.WithValue(ctx, probeKey{}, p), p
}

// buffer reads a streamed request body into memory. go-telegram/bot writes its
// multipart forms through a pipe, which the transport sends chunk by chunk: 5 to 13
// write syscalls per call, a fifth of the bot's CPU under load. One buffered body goes out
// in one write, with a Content-Length. Nothing has been sent when reading fails.
func buffer(req *http.Request) error {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength > 0 {
		return nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return fmt.Errorf("build the %s request: %w", req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:], err)
	}
	req.ContentLength = int64(len(b))
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return nil
}

// probeDoer is the tgbot.HttpClient that fills the probe found in the request context.
type probeDoer struct{ c *http.Client }

var _ tgbot.HttpClient = probeDoer{}

func (d probeDoer) Do(req *http.Request) (*http.Response, error) {
	if err := buffer(req); err != nil {
		return nil, err
	}
	p, _ := req.Context().Value(probeKey{}).(*probe)
	if p != nil {
		// A request counts as sent once it was written completely: Telegram cannot act on
		// a multipart body it did not receive to the end, so anything earlier (dial, TLS,
		// a write error) means nothing was sent.
		trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				p.wrote.Store(true)
			}
		}}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	resp, err := d.c.Do(req)
	if p != nil && resp != nil {
		p.status.Store(int32(resp.StatusCode))
		if resp.StatusCode != http.StatusOK {
			p.keepDescription(resp)
		}
	}
	return resp, err
}
