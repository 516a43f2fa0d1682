package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/queue"
)

// Per-chat key kinds of a staff group's tickets, written only by Commit of the group's
// updates (queue.Effects.Ticket), so that they change in the group's order.
const (
	kindTickets     = "tk"  // hash: ticket number -> record (JSON)
	kindTicketIndex = "tki" // hash: "t<topic>" / "m<message>" -> ticket number
	kindTicketsOpen = "tko" // zset: open ticket numbers by waiting-since (ms)
	kindTicketsAll  = "tka" // zset: every ticket number by opening time (ms)
)

// groupTag is the tag of a staff group's shard.
func (s *Store) groupTag(group int64) string { return s.tag(queue.Shard(group, s.shards)) }

// Ticket returns the record of ticket n of a staff group, nil when there is none.
func (s *Store) Ticket(ctx context.Context, group, n int64) ([]byte, error) {
	b, err := s.rdb.HGet(ctx, chatKey(s.groupTag(group), kindTickets, group), strconv.FormatInt(n, 10)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ticket %d of %d: %w", n, group, err)
	}
	return b, nil
}

// TicketByIndex returns the ticket an index key ("t<topic>", "m<message>") of a staff
// group leads to, 0 when none.
func (s *Store) TicketByIndex(ctx context.Context, group int64, key string) (int64, error) {
	v, err := s.rdb.HGet(ctx, chatKey(s.groupTag(group), kindTicketIndex, group), key).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read ticket index %s of %d: %w", key, group, err)
	}
	return v, nil
}

// OpenTickets returns the records of a staff group's open tickets, longest waiting first.
func (s *Store) OpenTickets(ctx context.Context, group int64, limit int64) ([][]byte, error) {
	t := s.groupTag(group)
	ns, err := s.rdb.ZRange(ctx, chatKey(t, kindTicketsOpen, group), 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("list open tickets of %d: %w", group, err)
	}
	return s.ticketRecords(ctx, t, group, ns)
}

// TicketsOpened returns the records of a staff group's tickets opened in [from, to).
func (s *Store) TicketsOpened(ctx context.Context, group int64, from, to time.Time) ([][]byte, error) {
	t := s.groupTag(group)
	ns, err := s.rdb.ZRangeByScore(ctx, chatKey(t, kindTicketsAll, group), &redis.ZRangeBy{
		Min: strconv.FormatInt(from.UnixMilli(), 10), Max: "(" + strconv.FormatInt(to.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("list tickets of %d: %w", group, err)
	}
	return s.ticketRecords(ctx, t, group, ns)
}

func (s *Store) ticketRecords(ctx context.Context, tag string, group int64, ns []string) ([][]byte, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, chatKey(tag, kindTickets, group), ns...).Result()
	if err != nil {
		return nil, fmt.Errorf("read tickets of %d: %w", group, err)
	}
	out := make([][]byte, 0, len(vals))
	for _, v := range vals {
		if str, ok := v.(string); ok {
			out = append(out, []byte(str))
		}
	}
	return out, nil
}
