package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the sentinels of a SentinelGroup monitor.
const MasterName = "mymaster"

// SentinelGroup is one master, two replicas and three sentinels, each a
// redis-server of the test's own.
type SentinelGroup struct {
	t         testing.TB
	data      []*proc // the master first, then the replicas
	sentinels []*proc
	master    string // the master address last seen by this group

	mu     sync.Mutex
	client *redis.Client
}

// Sentinel starts a Sentinel group for t: a master, two replicas of it and
// three sentinels (quorum 2, down-after 1 s, failover timeout 3 s). It
// returns once every sentinel sees the master, both replicas and the other
// two sentinels, so a failover can be agreed on at once. Everything is
// killed when t ends. Without redis-server on PATH the test is skipped, or
// fails when BANGBAN_TEST_REQUIRE_REDIS=1.
func Sentinel(t testing.TB) *SentinelGroup {
	t.Helper()
	bin := lookBin(t, "redis-server")
	g := &SentinelGroup{t: t}
	// Any data node may become the master, so all keep every write, and
	// the diskless sync starts at once instead of waiting 5 s for more
	// replicas.
	dataArgs := append(append([]string(nil), defaultArgs...), "--repl-diskless-sync-delay", "0")
	var masterPort int
	for i := range 3 {
		args := dataArgs
		if i > 0 {
			args = append(args[:len(args):len(args)], "--replicaof", "127.0.0.1", strconv.Itoa(masterPort))
		}
		p := &proc{bin: bin, dir: t.TempDir(), args: args}
		t.Cleanup(p.close)
		if err := p.startFree(); err != nil {
			t.Fatalf("redistest: sentinel group data node: %v", err)
		}
		if i == 0 {
			masterPort = p.port
		}
		g.data = append(g.data, p)
	}
	g.master = g.data[0].addr()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// A sentinel learns the replicas from the master's INFO, so they must
	// be connected before the sentinels start.
	for _, p := range g.data[1:] {
		if err := waitReplicaLinked(ctx, p); err != nil {
			t.Fatalf("redistest: %v", err)
		}
	}
	conf := fmt.Sprintf("sentinel resolve-hostnames no\n"+
		"sentinel monitor %[1]s 127.0.0.1 %[2]d 2\n"+
		"sentinel down-after-milliseconds %[1]s 1000\n"+
		"sentinel failover-timeout %[1]s 3000\n", MasterName, masterPort)
	for range 3 {
		dir := t.TempDir()
		// A sentinel rewrites its config file, so each needs its own.
		path := filepath.Join(dir, "s.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatalf("redistest: write sentinel config: %v", err)
		}
		p := &proc{bin: bin, dir: dir, conf: path, args: []string{"--sentinel"}}
		t.Cleanup(p.close)
		if err := p.startFree(); err != nil {
			t.Fatalf("redistest: sentinel: %v", err)
		}
		g.sentinels = append(g.sentinels, p)
	}
	for _, p := range g.sentinels {
		if err := waitSentinelSeesAll(ctx, p); err != nil {
			t.Fatalf("redistest: %v", err)
		}
	}
	return g
}

// waitReplicaLinked waits until replica p has synced with its master.
func waitReplicaLinked(ctx context.Context, p *proc) error {
	c := quickClient(p.addr())
	defer c.Close()
	err := poll(ctx, 20*time.Millisecond, func() error {
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if s := infoField(info, "master_link_status"); s != "up" {
			return fmt.Errorf("master_link_status is %q", s)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replica %s not linked: %w\nlog tail:\n%s", p.addr(), err, p.logTail())
	}
	return nil
}

// waitSentinelSeesAll waits until sentinel p knows both replicas and both
// other sentinels, which it learns from the master's INFO and its hello
// messages (sent every 2 s).
func waitSentinelSeesAll(ctx context.Context, p *proc) error {
	c := redis.NewSentinelClient(&redis.Options{Addr: p.addr(), DialTimeout: 500 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	err := poll(ctx, 100*time.Millisecond, func() error {
		replicas, err := c.Replicas(ctx, MasterName).Result()
		if err != nil {
			return err
		}
		sentinels, err := c.Sentinels(ctx, MasterName).Result()
		if err != nil {
			return err
		}
		if len(replicas) != 2 || len(sentinels) != 2 {
			return fmt.Errorf("sees %d replicas and %d other sentinels, want 2 and 2", len(replicas), len(sentinels))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sentinel %s: %w\nlog tail:\n%s", p.addr(), err, p.logTail())
	}
	return nil
}

// URL returns the sentinels' addresses and the master name in go-redis
// ParseFailoverURL form, for REDIS_URL.
func (g *SentinelGroup) URL() string {
	u := "redis://" + g.sentinels[0].addr() + "?master_name=" + MasterName
	for _, p := range g.sentinels[1:] {
		u += "&addr=" + p.addr()
	}
	return u
}

// SentinelAddrs returns the sentinels' host:port addresses.
func (g *SentinelGroup) SentinelAddrs() []string {
	addrs := make([]string, len(g.sentinels))
	for i, p := range g.sentinels {
		addrs[i] = p.addr()
	}
	return addrs
}

// Client returns a go-redis failover client, the same one on every call,
// closed when the test ends.
func (g *SentinelGroup) Client() *redis.Client {
	g.t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.client == nil {
		opt, err := redis.ParseFailoverURL(g.URL())
		if err != nil {
			g.t.Fatalf("redistest: parse %q: %v", g.URL(), err)
		}
		g.client = redis.NewFailoverClient(opt)
		g.t.Cleanup(func() { g.client.Close() })
	}
	return g.client
}

// MasterAddr returns the master's host:port as the first sentinel that
// answers reports it.
func (g *SentinelGroup) MasterAddr() string {
	g.t.Helper()
	var errs []error
	for _, p := range g.sentinels {
		addr, err := sentinelMaster(context.Background(), p)
		if err == nil {
			return addr
		}
		errs = append(errs, err)
	}
	g.t.Fatalf("redistest: no sentinel reports the master: %v", errs)
	return ""
}

func sentinelMaster(ctx context.Context, p *proc) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: p.addr(), DialTimeout: 500 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	hp, err := c.GetMasterAddrByName(ctx, MasterName).Result()
	if err != nil {
		return "", fmt.Errorf("sentinel %s: %w", p.addr(), err)
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("sentinel %s: master address %q", p.addr(), hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// KillMaster ends the current master with SIGKILL; the sentinels notice
// after 1 s and promote a replica. The killed server stays down.
func (g *SentinelGroup) KillMaster() {
	g.t.Helper()
	g.master = g.MasterAddr()
	for _, p := range g.data {
		if p.addr() == g.master {
			p.kill()
			return
		}
	}
	g.t.Fatalf("redistest: master %s is none of the group's servers", g.master)
}

// WaitFailover waits until every sentinel reports a master other than the
// one last seen (at start or by KillMaster) and that server says it is a
// master, and returns its address. It returns an error, with what the
// sentinels last said, when ctx ends first.
func (g *SentinelGroup) WaitFailover(ctx context.Context) (string, error) {
	var addr string
	err := poll(ctx, 100*time.Millisecond, func() error {
		addr = ""
		for _, p := range g.sentinels {
			a, err := sentinelMaster(ctx, p)
			if err != nil {
				return err
			}
			if a == g.master {
				return fmt.Errorf("sentinel %s still reports %s", p.addr(), a)
			}
			if addr != "" && a != addr {
				return fmt.Errorf("sentinels disagree: %s and %s", addr, a)
			}
			addr = a
		}
		c := quickClient(addr)
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return fmt.Errorf("new master %s: %w", addr, err)
		}
		if role := infoField(info, "role"); role != "master" {
			return fmt.Errorf("new master %s has role %q", addr, role)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("wait for failover from %s: %w", g.master, err)
	}
	g.master = addr
	return addr, nil
}
