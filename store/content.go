package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Content keys of the global slot: the version counter of the published content and the
// hash of the content it stands for. Replicas poll them to converge after a reload.
const (
	contentVersionKey = "content:version"
	contentHashKey    = "content:hash"
)

// ContentVersion returns the version of the content published last and its hash; 0 and
// "" when none was published yet.
func (s *Store) ContentVersion(ctx context.Context) (version int64, hash string, err error) {
	vals, err := s.rdb.MGet(ctx, s.global(contentVersionKey), s.global(contentHashKey)).Result()
	if err != nil {
		return 0, "", fmt.Errorf("read content version: %w", err)
	}
	v, _ := vals[0].(string)
	hash, _ = vals[1].(string)
	if v == "" {
		return 0, hash, nil
	}
	version, err = strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("content version holds %q, not an integer", v)
	}
	return version, hash, nil
}

// publishContentScript moves the content version on and records its hash in one step, so
// that no reader sees the new version with the old hash.
// KEYS: version, hash. ARGV: hash.
var publishContentScript = redis.NewScript(`
local v = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1])
return v
`)

// PublishContent records hash as the content every replica should use, under a new
// version, and returns that version. A call retried after a dropped connection may skip
// a version number: replicas only look for a version that moved.
func (s *Store) PublishContent(ctx context.Context, hash string) (version int64, err error) {
	version, err = publishContentScript.Run(ctx, s.rdb,
		[]string{s.global(contentVersionKey), s.global(contentHashKey)}, hash).Int64()
	if err != nil {
		return 0, fmt.Errorf("publish content: %w", err)
	}
	return version, nil
}
