package queue

import (
	"hash/fnv"
	"strconv"
)

// Shard returns the shard of a chat: FNV-1a of the decimal chat id modulo shards
// (DESIGN §2). It is stable across releases because it decides where data lives.
func Shard(chatID int64, shards int) int {
	h := fnv.New32a()
	var buf [20]byte
	h.Write(strconv.AppendInt(buf[:0], chatID, 10))
	return int(h.Sum32() % uint32(shards))
}
