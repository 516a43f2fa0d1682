package queue

import (
	"strconv"
	"testing"
)

func TestShard(t *testing.T) {
	// Known FNV-1a 32 values, then a reference implementation for negative (group) ids.
	tests := []struct {
		chat int64
		want int
	}{
		{0, 0x350ca8af % 64},
		{12345, 0x43c2c0d8 % 64},
		{-1001234567890, int(fnv1a(strconv.Itoa(-1001234567890)) % 64)},
	}
	for _, tt := range tests {
		if got := Shard(tt.chat, 64); got != tt.want {
			t.Errorf("Shard(%d, 64) = %d, want %d", tt.chat, got, tt.want)
		}
	}
}

func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
