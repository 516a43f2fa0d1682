package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/handlers"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/webhook"
)

// contentPollInterval is how often a replica looks for content another one published.
const contentPollInterval = 2 * time.Second

// publishTimeout bounds the Redis calls of a reload, which finishes even when the
// request that asked for it has gone.
const publishTimeout = 10 * time.Second

// reloader owns the content in use. An explicit reload (SIGHUP, POST /api/content/reload)
// loads CONTENT_DIR again and publishes the new hash under a new version; every replica
// polls that version and follows when its own CONTENT_DIR gives the published hash. Only
// explicit reloads publish, so replicas whose folders differ never undo each other.
type reloader struct {
	dir string // CONTENT_DIR; "" is the embedded content, which never changes
	h   *handlers.Handler
	st  *store.Store
	log *slog.Logger

	info atomic.Pointer[webhook.ContentInfo] // the content in use

	mu     sync.Mutex // one reload at a time; guards seen and warned
	seen   int64      // the published version last handled
	warned string     // the last failure to follow that was logged, so it is logged once
}

var _ webhook.ContentReloader = (*reloader)(nil)

// newReloader returns the reloader of c, the content h was built with. The version
// published when it starts counts as handled: a replica that starts with other content
// (a rolling deploy, a restart after editing the folder) keeps it until the next
// explicit reload.
func newReloader(ctx context.Context, dir string, c *content.Content, h *handlers.Handler, st *store.Store, log *slog.Logger) (*reloader, error) {
	v, hash, err := st.ContentVersion(ctx)
	if err != nil {
		return nil, err
	}
	r := &reloader{dir: dir, h: h, st: st, log: log, seen: v}
	info := contentInfo(c, 0)
	if hash == c.Hash {
		info.Version = v
	}
	r.info.Store(&info)
	log.Info("content loaded", "dir", dir, "hash", info.Hash, "version", info.Version,
		"points", info.Points, "policies", info.Policies)
	return r, nil
}

func contentInfo(c *content.Content, version int64) webhook.ContentInfo {
	return webhook.ContentInfo{Hash: c.Hash, Version: version, Points: len(c.Points), Policies: len(c.Policies)}
}

// Info returns the content in use.
func (r *reloader) Info() webhook.ContentInfo { return *r.info.Load() }

// Reload is POST /api/content/reload.
func (r *reloader) Reload(ctx context.Context) (webhook.ContentInfo, error) {
	return r.reload(ctx, "api")
}

// reload loads CONTENT_DIR again, uses it and publishes it. Invalid content returns
// webhook.ContentProblems and leaves the content in use as it was. The embedded content
// cannot change: reloading it does nothing. trigger names the cause in the log.
func (r *reloader) reload(ctx context.Context, trigger string) (webhook.ContentInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.Info()
	if r.dir == "" {
		r.log.Info("content reload: the embedded content cannot change; set CONTENT_DIR to edit it", "trigger", trigger, "hash", cur.Hash)
		return cur, nil
	}
	c, err := content.Load(r.dir)
	if err == nil {
		err = r.h.SetContent(c)
	}
	if err != nil {
		var probs content.Problems
		if errors.As(err, &probs) {
			lines := problemLines(probs)
			r.log.Warn("content reload refused: the content has problems; keeping the content in use",
				"trigger", trigger, "hash", cur.Hash, "problems", lines)
			return cur, webhook.ContentProblems(lines)
		}
		r.log.Error("content reload failed; keeping the content in use", "trigger", trigger, "hash", cur.Hash, "err", err)
		return cur, fmt.Errorf("reload content: %w", err)
	}
	info := contentInfo(c, 0)
	r.info.Store(&info)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	v, err := r.st.PublishContent(ctx, c.Hash)
	if err != nil {
		r.log.Error("content reloaded on this replica only: publishing it failed, the others keep theirs",
			"trigger", trigger, "hash", info.Hash, "previous", cur.Hash, "err", err)
		return info, fmt.Errorf("content %s reloaded on this replica only: %w", c.Hash, err)
	}
	r.seen, info.Version = v, v
	r.info.Store(&info)
	r.log.Info("content reloaded", "trigger", trigger, "hash", info.Hash, "previous", cur.Hash,
		"version", v, "points", info.Points, "policies", info.Policies)
	return info, nil
}

// follow switches to the content another replica published once this replica's own
// CONTENT_DIR gives the published hash (a shared folder may still be being copied). It
// never publishes.
func (r *reloader) follow(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, hash, err := r.st.ContentVersion(ctx)
	if err != nil {
		// Redis being away shows in /readyz and in every other part's log.
		r.log.Debug("content version", "err", err)
		return
	}
	if v == r.seen {
		return
	}
	cur := r.Info()
	if hash == cur.Hash {
		r.seen, cur.Version = v, v
		r.info.Store(&cur)
		return
	}
	c, err := content.Load(r.dir)
	if err == nil && c.Hash == hash {
		err = r.h.SetContent(c)
	}
	switch {
	case err != nil:
		var probs content.Problems
		if errors.As(err, &probs) {
			r.warnOnce(v, err.Error(), "published content has problems here; keeping the content in use until it loads",
				"version", v, "published", hash, "hash", cur.Hash, "problems", problemLines(probs))
			return
		}
		r.warnOnce(v, err.Error(), "following the published content failed; keeping the content in use",
			"version", v, "published", hash, "hash", cur.Hash, "err", err)
	case c.Hash != hash:
		r.warnOnce(v, c.Hash, "CONTENT_DIR here differs from the published content (not shared, or still being copied); keeping the content in use until it matches",
			"version", v, "published", hash, "here", c.Hash, "hash", cur.Hash)
	default:
		info := contentInfo(c, v)
		r.seen = v
		r.info.Store(&info)
		r.log.Info("content reloaded", "trigger", "published", "hash", info.Hash, "previous", cur.Hash,
			"version", v, "points", info.Points, "policies", info.Policies)
	}
}

// warnOnce logs a failure to follow version v once for each different cause: the poll
// retries every few seconds.
func (r *reloader) warnOnce(v int64, cause, msg string, args ...any) {
	key := fmt.Sprint(v, "\x00", cause)
	if key == r.warned {
		return
	}
	r.warned = key
	r.log.Warn(msg, args...)
}

// run follows the published content and reloads on every signal from hup until ctx is
// done.
func (r *reloader) run(ctx context.Context, hup <-chan os.Signal) {
	t := time.NewTicker(contentPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_, _ = r.reload(ctx, "SIGHUP") // the outcome is in the log
		case <-t.C:
			r.follow(ctx)
		}
	}
}

func problemLines(ps content.Problems) []string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return lines
}
