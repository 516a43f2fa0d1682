package main

import (
	"context"
	"net/http"
	"slices"
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
	var probes []int
	want := w.load(tg, chats, 3, func() {
		w.sentinel.KillMaster()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// Telegram keeps delivering during the gap: probe with fresh updates until the
		// failover is over. None may be answered 200 before a replica holds it.
		failedOver := make(chan struct{})
		probed := make(chan struct{})
		go func() {
			defer close(probed)
			for id := int64(900_000_001); ; id++ {
				code, err := post(a.addr, testSecret, message(id, 8_000_000, "/help"))
				if err == nil {
					probes = append(probes, code)
				}
				select {
				case <-failedOver:
					return
				default:
				}
			}
		}()
		now, err := w.sentinel.WaitFailover(ctx)
		close(failedOver)
		<-probed
		if err != nil {
			t.Errorf("no failover: %v", err)
		} else if now == old {
			t.Errorf("master still %s after failover", now)
		}
	})
	if !slices.Contains(probes, http.StatusServiceUnavailable) {
		t.Errorf("probes during the failover were answered %v, want a 503 while no master could store them", probes)
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
