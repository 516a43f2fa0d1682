package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/store"
)

func TestSlotMatchesClusterKeyslot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := redistest.Cluster(t)
	rdb := c.Client()
	ctx := context.Background()
	for _, key := range []string{"", "a", "{bangban:s07}:q", "{bangban:g}:replicas", "x{}y", "{}{a}", "foo{bar}{zap}", "中文{键}", "{user1000}.following"} {
		want, err := rdb.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := store.Slot(key); got != int(want) {
			t.Errorf("Slot(%q) = %d, CLUSTER KEYSLOT says %d", key, got, want)
		}
	}
}

func TestSlotCheckRefusesCrossSlotScripts(t *testing.T) {
	srv := redistest.Single(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	rdb.AddHook(store.SlotCheck{})
	ctx := context.Background()
	err := rdb.Eval(ctx, "return 1", []string{"{a}:1", "{b}:1"}).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("cross-slot EVAL = %v, want a CROSSSLOT error", err)
	}
	if err := rdb.Eval(ctx, "return 1", []string{"{a}:1", "{a}:2"}).Err(); err != nil {
		t.Errorf("same-slot EVAL = %v", err)
	}
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "{a}:1", 1, 0)
		p.Set(ctx, "{b}:1", 1, 0)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("cross-slot MULTI = %v, want a CROSSSLOT error", err)
	}
}
