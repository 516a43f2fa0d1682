// Command bangban runs the district service centre's Telegram assistant: the webhook or
// long-polling intake, the shard workers and the sender, or (without BOT_TOKEN) the local
// playground. Subcommands manage the webhook and dead letters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // TZ must work on minimal images without /usr/share/zoneinfo.
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, strings.TrimPrefix(err.Error(), flag.ErrHelp.Error()+"\n"))
			return
		}
		fmt.Fprintln(os.Stderr, "bangban:", err)
		os.Exit(1)
	}
}

const usage = `usage: bangban [flags] [command]

commands:
  serve                                  run the bot (the default)
  webhook set|info|delete                manage the Telegram webhook
  deadletters list|show ID|replay ID|drop ID
                                         inspect and resolve updates that kept failing
  qr --point ID [-o FILE] | --all DIR    write printable check-in posters (bangban qr -h)
  content check|export DIR               validate CONTENT_DIR, or write the demo content to DIR

Every flag mirrors an environment variable (--bot-token = BOT_TOKEN); bangban -h lists them.`

// run is main without the process: tests call it with their own environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	if cmd == "qr" {
		// Posters need none of the service's settings: qr reads its own few.
		return qrCommand(ctx, args, getenv, stdout, stderr)
	}
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return fmt.Errorf("%w\n%s\n\n%s", flag.ErrHelp, usage, strings.TrimPrefix(err.Error(), flag.ErrHelp.Error()+"\n"))
		}
		return fmt.Errorf("configuration:\n%w", err)
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, stdout, stderr)
	case "webhook":
		return webhookCommand(ctx, cfg, stdout)
	case "deadletters":
		return deadLettersCommand(ctx, cfg, stdout)
	case "content":
		return contentCommand(cfg, stdout)
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}
