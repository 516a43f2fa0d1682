package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/nanta-district/bangban/handlers"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/tgapi"
)

// webhookCommand is "bangban webhook set|info|delete".
func webhookCommand(ctx context.Context, cfg config, out io.Writer) error {
	if len(cfg.args) != 1 {
		return fmt.Errorf("usage: bangban webhook set|info|delete")
	}
	if cfg.playground() {
		return fmt.Errorf("BOT_TOKEN is required to manage the webhook")
	}
	api, err := tgapi.New(cfg.botToken, cfg.botAPIURL)
	if err != nil {
		return err
	}
	switch cfg.args[0] {
	case "set":
		if cfg.webhookURL == "" {
			return fmt.Errorf("WEBHOOK_URL is required for webhook set")
		}
		if err := api.SetWebhook(ctx, cfg.webhookURL, cfg.webhookSecrets[0], cfg.webhookMaxConnections, handlers.AllowedUpdates, false); err != nil {
			return fmt.Errorf("setWebhook: %w", err)
		}
		fmt.Fprintf(out, "webhook set to %s (max_connections %d, updates %v)\n", cfg.webhookURL, cfg.webhookMaxConnections, handlers.AllowedUpdates)
	case "info":
		info, err := api.GetWebhookInfo(ctx)
		if err != nil {
			return fmt.Errorf("getWebhookInfo: %w", err)
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		url := info.URL
		if url == "" {
			url = "(none: long polling)"
		}
		fmt.Fprintf(w, "url\t%s\n", url)
		fmt.Fprintf(w, "pending updates\t%d\n", info.PendingUpdateCount)
		fmt.Fprintf(w, "max connections\t%d\n", info.MaxConnections)
		fmt.Fprintf(w, "allowed updates\t%v\n", info.AllowedUpdates)
		if info.LastErrorMessage != "" {
			fmt.Fprintf(w, "last error\t%s (%s)\n", info.LastErrorMessage, info.LastErrorDate.Format(time.RFC3339))
		} else {
			fmt.Fprintf(w, "last error\tnone\n")
		}
		return w.Flush()
	case "delete":
		if err := api.DeleteWebhook(ctx, false); err != nil {
			return fmt.Errorf("deleteWebhook: %w", err)
		}
		fmt.Fprintln(out, "webhook deleted; pending updates are kept for long polling")
	default:
		return fmt.Errorf("usage: bangban webhook set|info|delete")
	}
	return nil
}

// deadLettersCommand is "bangban deadletters list|show|replay|drop".
func deadLettersCommand(ctx context.Context, cfg config, out io.Writer) error {
	const use = "usage: bangban deadletters list [LIMIT] | show ID | replay ID | drop ID"
	if len(cfg.args) == 0 {
		return fmt.Errorf(use)
	}
	if cfg.redisURL == "" {
		return fmt.Errorf("REDIS_URL is required: dead letters live in Redis")
	}
	rdb, blocking, err := store.Dial(cfg.redisURL, cfg.redisMode, 0)
	if err != nil {
		return err
	}
	defer rdb.Close()
	defer blocking.Close()
	st := store.New(rdb, blocking, cfg.redisPrefix, cfg.queueShards)
	op, args := cfg.args[0], cfg.args[1:]
	if op == "list" {
		limit := 50
		if len(args) == 1 {
			if limit, err = strconv.Atoi(args[0]); err != nil || limit <= 0 {
				return fmt.Errorf("LIMIT must be a positive integer")
			}
		}
		dls, err := st.DeadLetters(ctx, limit)
		if err != nil {
			return err
		}
		if len(dls) == 0 {
			fmt.Fprintln(out, "no dead letters")
			return nil
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tFAILED AT\tUPDATE\tCHAT\tFAILURES\tERROR")
		for _, d := range dls {
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%.80s\n", d.ID, d.FailedAt.Format(time.RFC3339), d.UpdateID, d.ChatID, d.Failures, d.Error)
		}
		return w.Flush()
	}
	if len(args) != 1 {
		return fmt.Errorf(use)
	}
	id := args[0]
	switch op {
	case "show":
		d, err := st.DeadLetter(ctx, id)
		if err != nil {
			return err
		}
		b, _ := json.MarshalIndent(toAPI(d), "", "  ")
		fmt.Fprintln(out, string(b))
	case "replay":
		if err := st.Replay(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(out, "dead letter %s queued again\n", id)
	case "drop":
		if err := st.Drop(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(out, "dead letter %s dropped\n", id)
	default:
		return fmt.Errorf(use)
	}
	return nil
}
