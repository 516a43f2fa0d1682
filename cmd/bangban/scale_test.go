package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSentinelFailover kills the master mid-load. With REDIS_WAIT_REPLICAS=1 an update is
// answered 200 only once a replica has it, so the promoted replica holds every update
// Telegram was told was received; during the gap intake answers 503 and Telegram retries.
func TestSentinelFailover(t *testing.T) {
	w := newWorldOn(t, sentinel)
	a, b := w.start("REDIS_WAIT_REPLICAS=1"), w.start("REDIS_WAIT_REPLICAS=1")
	tg := &targets{}
	tg.set(a.addr, b.addr)
	const chats = 20
	old := w.sentinel.MasterAddr()
	want := w.load(tg, chats, 3, func() {
		w.sentinel.KillMaster()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		now, err := w.sentinel.WaitFailover(ctx)
		if err != nil {
			t.Errorf("no failover: %v", err)
		} else if now == old {
			t.Errorf("master still %s after failover", now)
		}
	})
	if tg.count(http.StatusServiceUnavailable) == 0 {
		t.Error("no 503 was answered while the master was down")
	}
	// Commits and sends not yet on a replica may be redone after the failover: their
	// replies can go out twice, never be lost.
	w.check(chats, want, chats*2)
	for _, p := range []*proc{a, b} {
		if strings.Contains(p.log(), "CROSSSLOT") {
			t.Errorf("cross-slot command:\n%s", p.log())
		}
	}
}

// TestClusterNodeRestartAndReplicaKill kills one of three bot replicas and restarts one
// of the three cluster masters (AOF, appendfsync always) mid-load.
func TestClusterNodeRestartAndReplicaKill(t *testing.T) {
	w := newWorldOn(t, cluster)
	a, b, c := w.start(), w.start(), w.start()
	tg := &targets{}
	tg.set(a.addr, b.addr, c.addr)
	const chats = 30
	want := w.load(tg, chats, 3, func() {
		tg.set(b.addr, c.addr)
		a.kill()
		w.cluster.Restart(1)
	})
	w.check(chats, want, 16)
}
