package store

import (
	"fmt"
	"strconv"
)

// The key layout is decided here once (DESIGN §2): every key of a chat and of its shard
// carries the hash tag {<prefix>:sNN}, so every script and transaction stays in one slot;
// the few global keys carry {<prefix>:g}.

// tag returns the hash tag of a shard, e.g. "{bangban:s07}".
func (s *Store) tag(shard int) string {
	if shard >= 0 && shard < len(s.tags) {
		return s.tags[shard]
	}
	return fmt.Sprintf("{%s:s%02d}", s.prefix, shard)
}

// global returns a key of the global slot, e.g. "{bangban:g}:replicas".
func (s *Store) global(name string) string {
	return "{" + s.prefix + ":g}:" + name
}

func chatKey(tag, kind string, chatID int64) string {
	return tag + ":" + kind + ":" + strconv.FormatInt(chatID, 10)
}

// shardKeys are the per-shard keys; per-chat keys are built with chatKey.
type shardKeys struct {
	stream string // queued updates (consumer group groupName)
	lease  string // "owner|epoch", expires unless renewed
	epoch  string // lease epoch counter, never expires
	fails  string // hash: stream id -> failed attempts
	dead   string // dead-letter stream
	ready  string // zset: chat id -> next allowed send time (ms)
	unrch  string // set: chats the bot cannot write to
	// checkins is a zset of check-in records (JSON) scored by time (ms): the export source.
	checkins string
	audit    string // stream of audit entries (field "e": JSON)
	statPfx  string // prefix of statistics hashes, see stat
}

// stat returns the key of the shard's statistics hash name (e.g. "ck:2026-11-30").
func (k shardKeys) stat(name string) string { return k.statPfx + name }

func (s *Store) keys(shard int) shardKeys {
	if shard >= 0 && shard < len(s.shardKeys) {
		return s.shardKeys[shard]
	}
	return keysOf(s.tag(shard))
}

// keysOf returns the keys of the shard whose hash tag is t.
func keysOf(t string) shardKeys {
	return shardKeys{
		stream:   t + streamSuffix,
		lease:    t + ":lease",
		epoch:    t + ":epoch",
		fails:    t + ":fails",
		dead:     t + ":dead",
		ready:    t + ":ready",
		unrch:    t + ":unreach",
		checkins: t + ":checkins",
		audit:    t + ":audit",
		statPfx:  t + ":stat:",
	}
}

// Per-chat key kinds.
const (
	kindSeen    = "seen"  // update_id dedupe marker (24 h); the id stands where the chat would
	kindSession = "sess"  // conversation state, with TTL
	kindProfile = "prof"  // profile, no TTL
	kindOutbox  = "out"   // list of queue.Message JSON
	kindSending = "snd"   // hash: id, attempts of the head entry being sent
	kindPace    = "pace"  // token bucket of the chat's scope
	kindPause   = "pause" // 429 pause of the chat's scope
	kindHistory = "hist"  // list of the chat's check-in records (JSON), newest first
)

// Names of the keys of deliveries (Deliver): the global counters, in the global slot as
// s.global(counterName+name) and s.global(drawnName+name+":"+from+":"+entry id); the
// dedupe marker of a delivered event, in the target chat's shard as
// tag+":"+kindSeen+":"+eventSeen+from+":"+entry id (update ids, the other seen markers,
// are numbers, so the two never meet).
const (
	counterName = "seq:"
	drawnName   = "seqof:"
	eventSeen   = "e:"
)

const groupName = "w"

// streamSuffix ends the key of a shard's stream (shardKeys.stream).
const streamSuffix = ":q"
