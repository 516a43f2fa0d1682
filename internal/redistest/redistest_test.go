package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestSingleRestartKeepsData(t *testing.T) {
	t.Parallel()
	s := Single(t, Restartable())
	c := s.Client()
	ctx := context.Background()
	steps := []struct {
		name    string
		restart func()
	}{
		{"kill and start", func() { s.Kill(); s.Start() }},
		{"stop and start", func() { s.Stop(); s.Start() }},
		{"restart", s.Restart},
	}
	for i, step := range steps {
		key := fmt.Sprintf("k%d", i)
		if err := c.Set(ctx, key, step.name, 0).Err(); err != nil {
			t.Fatalf("%s: SET %s: %v", step.name, key, err)
		}
		step.restart()
		for j := range i + 1 {
			key := fmt.Sprintf("k%d", j)
			got, err := c.Get(ctx, key).Result()
			if err != nil || got != steps[j].name {
				t.Errorf("after %s: GET %s = %q, %v; want %q", step.name, key, got, err, steps[j].name)
			}
		}
	}
}

func TestStartPortTaken(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := &proc{bin: bin, dir: t.TempDir(), port: l.Addr().(*net.TCPAddr).Port}
	t.Cleanup(p.close)
	if err := p.start(); !errors.Is(err, errAddrInUse) {
		t.Errorf("start on a taken port: %v, want errAddrInUse", err)
	}
}

func TestReserve(t *testing.T) {
	t.Parallel()
	// A port outside the range freePort draws from, so no server uses it.
	const port = 65001
	release, ok := reserve(port)
	if !ok {
		t.Fatalf("reserve(%d) = false, want true", port)
	}
	if _, ok := reserve(port); ok {
		t.Errorf("reserve(%d) while reserved = true, want false", port)
	}
	release()

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), "redistest-ports", strconv.Itoa(port))
	if err := os.WriteFile(path, []byte(strconv.Itoa(dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	release, ok = reserve(port)
	if !ok {
		t.Fatalf("reserve(%d) held by a dead process = false, want true", port)
	}
	release()
}

func TestSingleURL(t *testing.T) {
	t.Parallel()
	s := Single(t)
	if want := "redis://" + s.Addr() + "/0"; s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	if strings.HasSuffix(s.Addr(), ":6379") {
		t.Errorf("Addr() = %q, the machine's own Redis port", s.Addr())
	}
	opt, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", s.URL(), err)
	}
	if opt.Addr != s.Addr() {
		t.Errorf("ParseURL(%q).Addr = %q, want %q", s.URL(), opt.Addr, s.Addr())
	}
}

func TestPrefix(t *testing.T) {
	t.Parallel()
	a, b := Prefix(t), Prefix(t)
	if a == b {
		t.Errorf("Prefix twice = %q both times, want different", a)
	}
	if ok := regexp.MustCompile(`^t-[A-Za-z0-9_-]+-[0-9a-f]{8}$`).MatchString(a); !ok {
		t.Errorf("Prefix = %q, want t-<name>-<8 hex> of [A-Za-z0-9_-]", a)
	}
}

// TestSharedURL runs Single and Prefix against a server named by
// REDIS_TEST_URL, here one started by this test.
func TestSharedURL(t *testing.T) {
	own := Single(t)
	t.Setenv(EnvURL, own.URL())
	t.Setenv(EnvRequire, "")
	ctx := context.Background()

	var key string
	t.Run("use", func(t *testing.T) {
		s := Single(t)
		if s.Addr() != own.Addr() || s.CanRestart() {
			t.Errorf("Single with %s=%s: Addr %q, CanRestart %v; want %q, false", EnvURL, own.URL(), s.Addr(), s.CanRestart(), own.Addr())
		}
		key = "{" + Prefix(t) + ":s01}:k"
		if err := s.Client().Set(ctx, key, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
	})
	if n, err := own.Client().Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Errorf("EXISTS %s after the test = %d, %v; want 0 (deleted at cleanup)", key, n, err)
	}
	if !t.Run("restartable", func(t *testing.T) {
		Single(t, Restartable())
		t.Error("Single(Restartable()) on a shared server did not skip")
	}) {
		t.Error("restartable subtest failed")
	}
}

func TestFallbackToMiniredis(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvURL, "")
	t.Setenv(EnvRequire, "")
	s := Single(t)
	if s.CanRestart() {
		t.Error("embedded server: CanRestart() = true, want false")
	}
	if err := s.Client().Ping(context.Background()).Err(); err != nil {
		t.Errorf("PING embedded server: %v", err)
	}
	t.Run("restart skips", func(t *testing.T) {
		s := Single(t)
		s.Kill()
		t.Error("Kill on the embedded server did not skip")
	})
}

// recordTB stands in for a test so that a Fatal or Skip can be observed
// without ending the real test.
type recordTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordTB) Skip(args ...any) {
	r.skip = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recordTB) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with r on a goroutine of its own, which Fatalf and Skip end.
func (r *recordTB) run(f func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
}

func TestMissingServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvURL, "")
	starts := []struct {
		name  string
		start func(testing.TB)
	}{
		{"Single", func(t testing.TB) { Single(t) }},
		{"Cluster", func(t testing.TB) { Cluster(t) }},
		{"Sentinel", func(t testing.TB) { Sentinel(t) }},
	}
	for _, st := range starts {
		t.Run(st.name, func(t *testing.T) {
			t.Setenv(EnvRequire, "1")
			r := &recordTB{TB: t}
			r.run(st.start)
			if !strings.Contains(r.fatal, "redis-server not found") {
				t.Errorf("%s with %s=1 and no redis-server: fatal %q, want one naming redis-server", st.name, EnvRequire, r.fatal)
			}
			if st.name == "Single" {
				return
			}
			t.Setenv(EnvRequire, "")
			r = &recordTB{TB: t}
			r.run(st.start)
			if r.skip == "" || r.fatal != "" {
				t.Errorf("%s with no redis-server: skip %q, fatal %q; want a skip", st.name, r.skip, r.fatal)
			}
		})
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node Redis Cluster")
	}
	t.Parallel()
	cl := Cluster(t)
	opt, err := redis.ParseClusterURL(cl.URL())
	if err != nil || len(opt.Addrs) != 3 {
		t.Fatalf("ParseClusterURL(%q) = %v, %v; want 3 addresses", cl.URL(), opt, err)
	}
	c := cl.Client()
	ctx := context.Background()
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatalf("CLUSTER SLOTS: %v", err)
	}
	masters := map[string]bool{}
	for _, s := range slots {
		masters[s.Nodes[0].Addr] = true
	}
	if len(masters) != 3 {
		t.Fatalf("CLUSTER SLOTS masters = %v, want 3", masters)
	}
	owner := func(key string) string {
		slot, err := c.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %s: %v", key, err)
		}
		for _, s := range slots {
			if int64(s.Start) <= slot && slot <= int64(s.End) {
				return s.Nodes[0].Addr
			}
		}
		t.Fatalf("slot %d of %s has no owner in %v", slot, key, slots)
		return ""
	}

	// One hash-tagged transaction per shard, as the store writes them;
	// 16 shards spread over all three masters.
	used := map[string]bool{}
	for shard := range 16 {
		tag := fmt.Sprintf("{bb:s%02d}", shard)
		if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, tag+":a", shard, 0)
			p.Set(ctx, tag+":b", shard, 0)
			return nil
		}); err != nil {
			t.Fatalf("MULTI on %s: %v", tag, err)
		}
		addr := owner(tag + ":a")
		used[addr] = true
		direct := redis.NewClient(&redis.Options{Addr: addr})
		got, err := direct.Get(ctx, tag+":b").Result()
		direct.Close()
		if err != nil || got != fmt.Sprint(shard) {
			t.Errorf("GET %s:b on its slot owner %s = %q, %v; want %d", tag, addr, got, err, shard)
		}
	}
	if len(used) != 3 {
		t.Errorf("16 shards landed on %d masters, want 3", len(used))
	}

	addrs := cl.Addrs()
	victim := 0
	for i, a := range addrs {
		if a == owner("{bb:s00}:a") {
			victim = i
		}
	}
	cl.Kill(victim)
	cl.Restart(victim)
	got, err := c.Get(ctx, "{bb:s00}:a").Result()
	if err != nil || got != "0" {
		t.Errorf("GET {bb:s00}:a after restarting node %s = %q, %v; want \"0\"", addrs[victim], got, err)
	}
}

func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Sentinel group and waits for a failover")
	}
	t.Parallel()
	g := Sentinel(t)
	opt, err := redis.ParseFailoverURL(g.URL())
	if err != nil || opt.MasterName != MasterName || len(opt.SentinelAddrs) != 3 {
		t.Fatalf("ParseFailoverURL(%q) = %+v, %v; want master %s and 3 sentinels", g.URL(), opt, err, MasterName)
	}
	c := g.Client()
	ctx := context.Background()
	if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatalf("SET before: %v", err)
	}
	// WAIT makes the write reach both replicas, so the failover cannot
	// lose it.
	if n, err := c.Do(ctx, "WAIT", 2, 5000).Int(); err != nil || n != 2 {
		t.Fatalf("WAIT 2 = %d, %v; want 2", n, err)
	}
	old := g.MasterAddr()
	g.KillMaster()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	addr, err := g.WaitFailover(wctx)
	if err != nil {
		t.Fatalf("WaitFailover: %v", err)
	}
	if addr == old {
		t.Fatalf("WaitFailover = %s, the killed master", addr)
	}
	// The client learns the new master on its own; give it a moment.
	err = poll(wctx, 100*time.Millisecond, func() error {
		return c.Set(ctx, "after", "1", 0).Err()
	})
	if err != nil {
		t.Fatalf("SET after failover: %v", err)
	}
	if got, err := c.Get(ctx, "before").Result(); err != nil || got != "1" {
		t.Errorf("GET before after failover = %q, %v; want \"1\"", got, err)
	}
}
