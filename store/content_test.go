package store_test

import (
	"context"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/store"
)

// TestContentVersion runs on a real server and on the embedded engine: replicas read the
// version that PublishContent moved on, with the hash it recorded.
func TestContentVersion(t *testing.T) {
	engines := map[string]func(t *testing.T) *store.Store{
		"redis": func(t *testing.T) *store.Store { return newStore(t, 2) },
		"embedded": func(t *testing.T) *store.Store {
			rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
			t.Cleanup(func() { rdb.Close() })
			return store.New(rdb, rdb, "emb", 2)
		},
	}
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			check := func(wantVersion int64, wantHash string) {
				t.Helper()
				v, h, err := s.ContentVersion(ctx)
				if err != nil || v != wantVersion || h != wantHash {
					t.Fatalf("ContentVersion = %d, %q, %v; want %d, %q, nil", v, h, err, wantVersion, wantHash)
				}
			}
			check(0, "")
			for i, hash := range []string{"0123456789ab", "ba9876543210", "ba9876543210"} {
				v, err := s.PublishContent(ctx, hash)
				if want := int64(i + 1); err != nil || v != want {
					t.Fatalf("PublishContent(%q) #%d = %d, %v; want %d, nil", hash, i, v, err, want)
				}
				check(int64(i+1), hash)
			}
		})
	}
}
