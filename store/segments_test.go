package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/store"
)

// TestAudience: commits keep the segment indexes; an audience is an AND of ORs over them,
// optionally of recently active chats; /forgetme takes a chat out of every segment.
func TestAudience(t *testing.T) {
	ctx := context.Background()
	const shards = 4
	s := newStore(t, shards)
	leases := map[int]store.Lease{}
	var next int64
	commit := func(chat int64, eff queue.Effects) {
		t.Helper()
		shard := queue.Shard(chat, shards)
		l, ok := leases[shard]
		if !ok {
			l = acquire(t, s, shard, "a")
			leases[shard] = l
		}
		next++
		commitTicket(t, s, l, chat, next, eff)
	}
	commit(101, queue.Effects{Segments: []string{"notices", "role:rider", "sub:labour", "lang:zh-CN"}, Active: true})
	commit(102, queue.Effects{Segments: []string{"notices", "role:truck", "sub:money", "lang:en", "visit:p1"}, Active: true})
	commit(103, queue.Effects{Segments: []string{"role:rider", "lang:zh-CN"}})
	commit(104, queue.Effects{Segments: []string{"notices", "role:merchant", "sub:labour", "sub:money", "home:p1"}, Active: true})

	for _, tc := range []struct {
		name string
		a    store.Audience
		want []int64
	}{
		{"everyone who gets notices", store.Audience{Groups: [][]string{{"notices"}}}, []int64{101, 102, 104}},
		{"riders who get notices", store.Audience{Groups: [][]string{{"notices"}, {"role:rider"}}}, []int64{101}},
		{"labour or money subscribers", store.Audience{Groups: [][]string{{"sub:labour", "sub:money"}}}, []int64{101, 102, 104}},
		{"point p1, home or visited", store.Audience{Groups: [][]string{{"notices"}, {"home:p1", "visit:p1"}}}, []int64{102, 104}},
		{"nobody", store.Audience{Groups: [][]string{{"notices"}, {"role:none"}}}, nil},
	} {
		got, err := s.Audience(ctx, tc.a)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	if got, err := s.Audience(ctx, store.Audience{Groups: [][]string{{"notices"}}, ActiveSince: time.Now().Add(time.Hour)}); err != nil || len(got) != 0 {
		t.Errorf("active in the future = %v, %v; want nobody", got, err)
	}
	if got, err := s.Audience(ctx, store.Audience{Groups: [][]string{{"notices"}}, ActiveSince: time.Now().Add(-time.Hour)}); err != nil || len(got) != 3 {
		t.Errorf("active in the last hour = %v, %v; want the three", got, err)
	}

	// A role change moves the chat; /forgetme removes it everywhere.
	commit(101, queue.Effects{Segments: []string{"role:truck"}, Unsegments: []string{"role:rider"}})
	commit(104, queue.Effects{Forget: true, DeleteSession: true})
	if got, _ := s.Audience(ctx, store.Audience{Groups: [][]string{{"role:truck"}}}); !cmp.Equal(got, []int64{101, 102}) {
		t.Errorf("truck drivers = %v, want 101 and 102", got)
	}
	if got, _ := s.Audience(ctx, store.Audience{Groups: [][]string{{"sub:labour", "sub:money", "home:p1"}}}); !cmp.Equal(got, []int64{101, 102}) {
		t.Errorf("after 104 forgot = %v, want 101 and 102", got)
	}
	in, err := s.InSegment(ctx, "notices", []int64{101, 103, 104})
	if err != nil || !cmp.Equal(in, map[int64]bool{101: true, 103: false, 104: false}) {
		t.Errorf("InSegment = %v, %v", in, err)
	}
}
