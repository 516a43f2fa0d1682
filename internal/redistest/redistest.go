// Package redistest starts real redis-server processes for tests: a single
// server, a 3-master cluster and a Sentinel group, each on free ports in the
// test's temporary directory and stopped when the test ends.
//
// Two environment variables change what Single returns. REDIS_TEST_URL points
// every Single at an existing server; tests then share it and keep apart by
// the key prefix from Prefix. BANGBAN_TEST_REQUIRE_REDIS=1 turns a missing
// redis-server into a test failure instead of a fallback to the embedded
// miniredis (for Single) or a skip (for Cluster and Sentinel).
package redistest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables read by this package.
const (
	// EnvURL names an existing Redis server that Single uses instead of
	// starting one.
	EnvURL = "REDIS_TEST_URL"
	// EnvRequire, when "1", makes a missing redis-server fail the test.
	EnvRequire = "BANGBAN_TEST_REQUIRE_REDIS"
)

// startTimeout bounds how long a server, a cluster or a Sentinel group may
// take to become usable; a slow CI machine under -race needs headroom.
const startTimeout = 30 * time.Second

// required reports whether CI asked for real servers only.
func required() bool { return os.Getenv(EnvRequire) == "1" }

// lookBin finds a Redis binary on PATH. Without it the test fails when real
// servers are required and is skipped otherwise.
func lookBin(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		return bin
	}
	if required() {
		t.Fatalf("redistest: %s not found on PATH and %s=1: install it (apt-get install redis-server redis-tools)", name, EnvRequire)
	}
	t.Skipf("redistest: %s not found on PATH; skipping (set %s=1 to make this a failure)", name, EnvRequire)
	return ""
}

// Prefix returns a key prefix unique to this test, for REDIS_PREFIX, so tests
// sharing one server (REDIS_TEST_URL) never see each other's keys. It holds
// only [A-Za-z0-9_-], so it is safe inside a hash tag and a SCAN pattern.
// On a shared server the test's keys are deleted at cleanup unless the test
// failed, when they are kept for inspection.
func Prefix(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, r := range t.Name() {
		if b.Len() == 32 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	p := fmt.Sprintf("t-%s-%08x", b.String(), rand.Uint32())
	if u := os.Getenv(EnvURL); u != "" {
		t.Cleanup(func() { dropPrefix(t, u, p) })
	}
	return p
}

// dropPrefix deletes the keys of prefix p from the shared server at u.
func dropPrefix(t testing.TB, u, p string) {
	if t.Failed() {
		t.Logf("redistest: test failed; keeping keys matching *%s* on %s", p, EnvURL)
		return
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Logf("redistest: parse %s: %v", EnvURL, err)
		return
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it := c.Scan(ctx, 0, "*"+p+"*", 1000).Iterator()
	for it.Next(ctx) {
		if err := c.Unlink(ctx, it.Val()).Err(); err != nil {
			t.Logf("redistest: delete keys of prefix %s: %v", p, err)
			return
		}
	}
	if err := it.Err(); err != nil {
		t.Logf("redistest: scan keys of prefix %s: %v", p, err)
	}
}

// quickClient is a client for polling a server's state: short timeouts and
// no retries, so a poll loop, not the client, decides how long to wait.
func quickClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:          addr,
		DialTimeout:   500 * time.Millisecond,
		ReadTimeout:   2 * time.Second,
		WriteTimeout:  time.Second,
		MaxRetries:    -1,
		DialerRetries: 1,
		PoolSize:      1,
		// Let a poll's context deadline cut the timeouts above short.
		ContextTimeoutEnabled: true,
	})
}

// poll calls f every interval until it returns nil or ctx ends, and then
// returns f's last error.
func poll(ctx context.Context, interval time.Duration, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}

// infoField returns the value of field in the text of an INFO reply.
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}
