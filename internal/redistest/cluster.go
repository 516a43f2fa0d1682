package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterArgs make each node a cluster master that keeps every acknowledged
// write across a restart. A 2 s node timeout lets the cluster notice a
// killed node quickly.
var clusterArgs = []string{
	"--cluster-enabled", "yes",
	"--cluster-config-file", "nodes.conf",
	"--cluster-node-timeout", "2000",
	"--save", "",
	"--appendonly", "yes",
	"--appendfsync", "always",
}

// ClusterGroup is a Redis Cluster of three masters without replicas, each a
// redis-server of the test's own.
type ClusterGroup struct {
	t     testing.TB
	nodes []*proc

	mu     sync.Mutex
	client *redis.ClusterClient
}

// Cluster starts a 3-master Redis Cluster for t, each node in its own
// directory on free ports, and waits until every node reports
// cluster_state:ok. The nodes are killed when t ends. Without redis-server
// and redis-cli on PATH the test is skipped, or fails when
// BANGBAN_TEST_REQUIRE_REDIS=1.
func Cluster(t testing.TB) *ClusterGroup {
	t.Helper()
	bin := lookBin(t, "redis-server")
	cli := lookBin(t, "redis-cli")
	c := &ClusterGroup{t: t}
	for range 3 {
		p := &proc{bin: bin, dir: t.TempDir(), args: clusterArgs, bus: true}
		t.Cleanup(p.close)
		if err := p.startFree(); err != nil {
			t.Fatalf("redistest: cluster node: %v", err)
		}
		c.nodes = append(c.nodes, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if err := c.waitOK(ctx); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return c
}

// Addrs returns the nodes' host:port addresses, in node order.
func (c *ClusterGroup) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, p := range c.nodes {
		addrs[i] = p.addr()
	}
	return addrs
}

// URL returns the cluster's addresses in go-redis ParseClusterURL form
// (redis://first?addr=second&addr=third), for REDIS_URL.
func (c *ClusterGroup) URL() string {
	addrs := c.Addrs()
	return "redis://" + addrs[0] + "?addr=" + strings.Join(addrs[1:], "&addr=")
}

// Client returns a go-redis cluster client, the same one on every call,
// closed when the test ends.
func (c *ClusterGroup) Client() *redis.ClusterClient {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		opt, err := redis.ParseClusterURL(c.URL())
		if err != nil {
			c.t.Fatalf("redistest: parse %q: %v", c.URL(), err)
		}
		c.client = redis.NewClusterClient(opt)
		c.t.Cleanup(func() { c.client.Close() })
	}
	return c.client
}

// Kill ends node i with SIGKILL. Its slots stay unserved, and the cluster
// reports cluster_state:fail after the node timeout, until Restart(i).
func (c *ClusterGroup) Kill(i int) {
	c.t.Helper()
	c.nodes[i].kill()
}

// Restart kills node i if it is running, starts it again on the same port
// and directory (so nodes.conf and the AOF bring back its identity, slots and
// data) and waits until every node reports cluster_state:ok again.
func (c *ClusterGroup) Restart(i int) {
	c.t.Helper()
	p := c.nodes[i]
	p.kill()
	if err := p.start(); err != nil {
		c.t.Fatalf("redistest: restart cluster node %d: %v", i, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.waitOK(ctx); err != nil {
		c.t.Fatalf("redistest: restart cluster node %d: %v", i, err)
	}
}

// waitOK waits until every running node reports cluster_state:ok.
func (c *ClusterGroup) waitOK(ctx context.Context) error {
	for _, p := range c.nodes {
		if !p.running() {
			continue
		}
		cl := quickClient(p.addr())
		err := poll(ctx, 50*time.Millisecond, func() error {
			info, err := cl.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if s := infoField(info, "cluster_state"); s != "ok" {
				return fmt.Errorf("cluster_state is %q", s)
			}
			return nil
		})
		cl.Close()
		if err != nil {
			return fmt.Errorf("cluster node %s not ok: %w\nlog tail:\n%s", p.addr(), err, p.logTail())
		}
	}
	return nil
}
