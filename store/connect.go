package store

import (
	"fmt"
	"net/url"

	"github.com/redis/go-redis/v9"
)

// Dial opens the clients for REDIS_URL in the given mode (auto, single, cluster or
// sentinel; auto reads master_name as sentinel and addr as cluster). blockingConns sizes
// the separate client used by blocking stream reads: one connection per shard held. Its
// reads are pipelines (the wait and the read script, Store.Read), so they run on that
// pool rather than on go-redis's small pipeline pool with its 128 KiB buffers.
func Dial(rawURL, mode string, blockingConns int) (rdb, blocking redis.UniversalClient, err error) {
	if mode == "" || mode == "auto" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("parse REDIS_URL: %w", err)
		}
		q := u.Query()
		switch {
		case q.Has("master_name"):
			mode = "sentinel"
		case q.Has("addr"):
			mode = "cluster"
		default:
			mode = "single"
		}
	}
	// pipelinePool, when not 0, sets go-redis's PipelinePoolSize (negative: none).
	open := func(poolSize, pipelinePool int) (redis.UniversalClient, error) {
		switch mode {
		case "single":
			o, err := redis.ParseURL(rawURL)
			if err != nil {
				return nil, fmt.Errorf("parse REDIS_URL: %w", err)
			}
			if poolSize > 0 {
				o.PoolSize = poolSize
			}
			if pipelinePool != 0 {
				o.PipelinePoolSize = pipelinePool
			}
			return redis.NewClient(o), nil
		case "cluster":
			o, err := redis.ParseClusterURL(rawURL)
			if err != nil {
				return nil, fmt.Errorf("parse REDIS_URL as a cluster URL: %w", err)
			}
			if poolSize > 0 {
				o.PoolSize = poolSize
			}
			return redis.NewClusterClient(o), nil
		case "sentinel":
			o, err := redis.ParseFailoverURL(rawURL)
			if err != nil {
				return nil, fmt.Errorf("parse REDIS_URL as a sentinel URL: %w", err)
			}
			if poolSize > 0 {
				o.PoolSize = poolSize
			}
			if pipelinePool != 0 {
				o.PipelinePoolSize = pipelinePool
			}
			return redis.NewFailoverClient(o), nil
		}
		return nil, fmt.Errorf("REDIS_MODE must be one of auto, single, cluster, sentinel, not %q", mode)
	}
	if rdb, err = open(0, 0); err != nil {
		return nil, nil, err
	}
	// A cluster client makes no pipeline pool unless its buffer sizes are set.
	if blocking, err = open(blockingConns+2, -1); err != nil {
		return nil, nil, err
	}
	return rdb, blocking, nil
}
