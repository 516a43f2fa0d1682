package redistest

import (
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Option configures Single.
type Option func(*options)

type options struct {
	args    []string
	restart bool
}

// Args appends redis-server arguments to the defaults (--save "" --appendonly
// yes --appendfsync always); a later argument overrides an earlier one, so
// Args("--appendfsync", "everysec") relaxes durability. It has no effect on a
// shared or embedded server.
func Args(args ...string) Option {
	return func(o *options) { o.args = append(o.args, args...) }
}

// Restartable skips the test at once, with the reason, when the server could
// not be killed and restarted: when REDIS_TEST_URL is set or only the
// embedded engine is available. Use it in tests that call Kill, Stop, Start
// or Restart, so they skip before doing any work.
func Restartable() Option {
	return func(o *options) { o.restart = true }
}

// defaultArgs keep every acknowledged write on disk, so a restart test can
// kill the server at any moment and expect its data back.
var defaultArgs = []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always"}

// Server is a Redis server for one test: a redis-server process of its own,
// the shared server named by REDIS_TEST_URL, or an embedded miniredis.
type Server struct {
	t    testing.TB
	p    *proc // nil unless the server is a process of its own
	url  string
	addr string
	why  string // why Kill and friends cannot work, when p is nil

	mu     sync.Mutex
	client *redis.Client
}

// Single returns a Redis server for t, stopped when t ends. By default it
// starts redis-server on a free 127.0.0.1 port in t.TempDir(). With
// REDIS_TEST_URL set it returns that server instead (isolate keys with
// Prefix). Without redis-server on PATH it fails the test when
// BANGBAN_TEST_REQUIRE_REDIS=1, and otherwise falls back to an embedded
// miniredis and logs that it did.
func Single(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if u := os.Getenv(EnvURL); u != "" {
		const why = "redistest: " + EnvURL + " is set and a shared server cannot be restarted"
		if o.restart {
			t.Skip(why)
		}
		opt, err := redis.ParseURL(u)
		if err != nil {
			t.Fatalf("redistest: parse %s %q: %v", EnvURL, u, err)
		}
		return &Server{t: t, url: u, addr: opt.Addr, why: why}
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if required() {
			t.Fatalf("redistest: redis-server not found on PATH and %s=1: install it (apt-get install redis-server) or set %s", EnvRequire, EnvURL)
		}
		const why = "redistest: no redis-server on PATH and the embedded engine cannot be restarted"
		if o.restart {
			t.Skip(why)
		}
		m := miniredis.RunT(t)
		t.Log("redistest: no redis-server on PATH; using the embedded miniredis (nothing persists; set " + EnvRequire + "=1 to fail instead)")
		return &Server{t: t, url: "redis://" + m.Addr() + "/0", addr: m.Addr(), why: why}
	}
	p := &proc{bin: bin, dir: t.TempDir(), args: append(append([]string(nil), defaultArgs...), o.args...)}
	t.Cleanup(p.close)
	if err := p.startFree(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return &Server{t: t, p: p, url: "redis://" + p.addr() + "/0", addr: p.addr()}
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL returns the server's address in go-redis ParseURL form, for REDIS_URL.
func (s *Server) URL() string { return s.url }

// CanRestart reports whether Kill, Stop, Start and Restart work, that is,
// whether the server is a redis-server process of this test's own.
func (s *Server) CanRestart() bool { return s.p != nil }

// Client returns a go-redis client for the server, the same one on every
// call, closed when the test ends.
func (s *Server) Client() *redis.Client {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		opt, err := redis.ParseURL(s.url)
		if err != nil {
			s.t.Fatalf("redistest: parse %q: %v", s.url, err)
		}
		s.client = redis.NewClient(opt)
		s.t.Cleanup(func() { s.client.Close() })
	}
	return s.client
}

// own skips the test when the server is not a process of its own. Like every
// method that may skip or fail, its callers must run on the test's goroutine.
func (s *Server) own() {
	s.t.Helper()
	if s.p == nil {
		s.t.Skip(s.why)
	}
}

// Kill ends the server with SIGKILL, as a crash would. With the default
// appendfsync always nothing acknowledged is lost.
func (s *Server) Kill() {
	s.t.Helper()
	s.own()
	s.p.kill()
}

// Stop shuts the server down gracefully with SHUTDOWN.
func (s *Server) Stop() {
	s.t.Helper()
	s.own()
	if err := s.p.stop(); err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
}

// Start starts a stopped or killed server again on the same port and
// directory, so it reloads its AOF, and waits until it answers PING.
func (s *Server) Start() {
	s.t.Helper()
	s.own()
	if err := s.p.start(); err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
}

// Restart kills the server if it is running (a crash, not a graceful stop)
// and starts it again on the same port and directory.
func (s *Server) Restart() {
	s.t.Helper()
	s.own()
	s.p.kill()
	if err := s.p.start(); err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
}
