// Package metrics holds bangban's Prometheus collectors, registered once on the default
// registry and served by /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	// UpdatesReceived counts updates durably queued, by source (webhook, poller, playground).
	UpdatesReceived = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "bangban_updates_received_total",
		Help: "Updates durably queued, by source.",
	}, []string{"source"})
	// UpdatesDuplicate counts repeats of an update_id seen in the last 24 h.
	UpdatesDuplicate = promauto.NewCounter(prometheus.CounterOpts{
		Name: "bangban_updates_duplicate_total",
		Help: "Updates answered 200 without processing because their update_id was already queued.",
	})
	// UpdatesRejected counts intake refusals by reason (secret, too_large, bad_json, no_update_id, unavailable).
	UpdatesRejected = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "bangban_updates_rejected_total",
		Help: "Webhook requests refused, by reason.",
	}, []string{"reason"})
	// QueueDepth is the number of entries in a shard stream, sampled by its holder.
	QueueDepth = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bangban_queue_depth",
		Help: "Entries waiting or in progress in a shard stream.",
	}, []string{"shard"})
	// QueueOldestAge is the age of the oldest entry of a shard stream, sampled by its holder.
	QueueOldestAge = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bangban_queue_oldest_age_seconds",
		Help: "Age of the oldest entry in a shard stream.",
	}, []string{"shard"})
	// LeaseMoves counts shard lease events on this replica (acquired, released, lost).
	LeaseMoves = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "bangban_lease_moves_total",
		Help: "Shard lease events on this replica.",
	}, []string{"event"})
	// ShardsHeld is the number of shards this replica holds.
	ShardsHeld = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "bangban_shards_held",
		Help: "Shards whose lease this replica holds.",
	})
	// ProcessingSeconds is the time from reading an update to committing its effects.
	ProcessingSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "bangban_update_processing_seconds",
		Help:    "Time to handle and commit one update.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	// Sends counts Bot API calls of the sender by method and outcome
	// (ok, not_sent, ambiguous, forbidden, bad_request, rate_limited, error).
	Sends = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "bangban_sends_total",
		Help: "Bot API calls made by the sender, by method and outcome.",
	}, []string{"method", "outcome"})
	// RateLimited counts 429 answers by scope (private, group, bulk, global).
	RateLimited = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "bangban_telegram_429_total",
		Help: "429 Too Many Requests answers, by pacing scope.",
	}, []string{"scope"})
	// DeadLetters counts updates moved to the dead-letter stream.
	DeadLetters = promauto.NewCounter(prometheus.CounterOpts{
		Name: "bangban_dead_letters_total",
		Help: "Updates moved to the dead-letter stream after repeated failures.",
	})
	// HandlerFailures counts failed attempts to handle an update (not counting Redis outages).
	HandlerFailures = promauto.NewCounter(prometheus.CounterOpts{
		Name: "bangban_handler_failures_total",
		Help: "Failed attempts to handle an update, Redis outages excluded.",
	})
)
