package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/broadcast"
	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/handlers"
	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/outbox"
	"github.com/nanta-district/bangban/playground"
	"github.com/nanta-district/bangban/poller"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/tgapi"
	"github.com/nanta-district/bangban/webhook"
	"github.com/nanta-district/bangban/worker"
)

// playgroundToken is the token the bot uses against its in-process fake Bot API.
const playgroundToken = "1000000001:playground-local-token-not-a-secret"

// playgroundStaffChat is the staff supergroup of the playground.
const playgroundStaffChat = -1001000000001

func newLogger(cfg config, w io.Writer) *slog.Logger {
	o := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "text" {
		return slog.New(slog.NewTextHandler(w, o))
	}
	return slog.New(slog.NewJSONHandler(w, o))
}

// openRedis connects to REDIS_URL, or starts the embedded engine when it is unset. close
// releases everything it opened.
func openRedis(cfg config, log *slog.Logger) (rdb, blocking redis.UniversalClient, close func(), err error) {
	if cfg.redisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return nil, nil, nil, fmt.Errorf("start embedded store: %w", err)
		}
		log.Warn("REDIS_URL is unset: using an embedded in-process store. NOTHING PERSISTS: every queued update, session and profile is lost when the process stops. Set REDIS_URL for real use.")
		rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
		blocking = redis.NewClient(&redis.Options{Addr: mr.Addr(), PoolSize: cfg.queueShards + 2, PipelinePoolSize: -1})
		return rdb, blocking, func() { rdb.Close(); blocking.Close(); mr.Close() }, nil
	}
	rdb, blocking, err = store.Dial(cfg.redisURL, cfg.redisMode, cfg.queueShards)
	if err != nil {
		return nil, nil, nil, err
	}
	return rdb, blocking, func() { rdb.Close(); blocking.Close() }, nil
}

// replicaName identifies this process in leases and consumer groups.
func replicaName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()%1e6)
}

// serve runs the bot until ctx is done, then shuts down gracefully: /readyz turns 503,
// intake drains, the updates in hand finish and the leases are released.
func serve(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	log.Info("starting bangban", "config", cfg)

	rdb, blocking, closeRedis, err := openRedis(cfg, log)
	if err != nil {
		return err
	}
	defer closeRedis()
	if cfg.redisCheckSlots {
		rdb.AddHook(store.SlotCheck{})
		blocking.AddHook(store.SlotCheck{})
	}
	st := store.New(rdb, blocking, cfg.redisPrefix, cfg.queueShards)
	st.WaitReplicas(cfg.redisWaitReplicas)
	startCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.Ping(startCtx); err != nil {
		return fmt.Errorf("redis is unreachable: %w", err)
	}
	if err := st.CheckShards(startCtx); err != nil {
		return err
	}

	token, apiURL, staffChat := cfg.botToken, cfg.botAPIURL, cfg.staffChatID
	var fake *telegramtest.Server
	if cfg.playground() {
		fake = telegramtest.New(telegramtest.WithCallLimit(5000))
		defer fake.Close()
		fake.AddChat(telegramtest.Chat{ID: playgroundStaffChat, Type: "supergroup", Title: "帮办 staff (playground)",
			IsForum: true, BotStatus: "administrator", CanManageTopics: true, CanDeleteMessages: true})
		token, apiURL, staffChat = playgroundToken, fake.URL(), playgroundStaffChat
	}
	var apiOpts []tgapi.Option
	if cfg.broadcastPaid {
		apiOpts = append(apiOpts, tgapi.WithPaidBroadcast())
	}
	api, err := tgapi.New(token, apiURL, apiOpts...)
	if err != nil {
		return err
	}
	check, checkErr := api.SelfCheck(startCtx, staffChat)
	if check.Username == "" && checkErr != nil {
		return fmt.Errorf("bot self-check: %w", checkErr)
	}
	logSelfCheck(log, check, checkErr)
	if check.MigrateToChatID != 0 {
		if err := st.RecordMigration(startCtx, staffChat, check.MigrateToChatID); err != nil {
			log.Warn("record staff chat migration", "err", err)
		}
	}
	username := cfg.botUsername
	if username == "" {
		username = check.Username
	}
	cnt, err := content.Load(cfg.contentDir)
	if err != nil {
		return fmt.Errorf("content: %w", err)
	}
	groups, forums := staffGroups(startCtx, log, api, cnt, staffChat, check)
	staffBC := staffBroadcasts{st: st, rate: float64(cfg.broadcastRate), log: log}
	hopts := []handlers.Option{handlers.WithAudience(staffBC, float64(cfg.broadcastRate), cfg.broadcastPaid)}
	if cfg.playground() && len(cfg.adminIDs) == 0 {
		// The simulated staff of the playground may try exports and broadcasts.
		hopts = append(hopts, handlers.WithStaffAdmins())
	}
	if cfg.broadcastPaid {
		staffBC.stars = api.StarBalance
	}
	h, err := handlers.New(append(hopts, handlers.WithUsername(username), handlers.WithLocation(cfg.location),
		handlers.WithContent(cnt), handlers.WithCheckInWindow(cfg.checkInWindow),
		handlers.WithStaff(groups, cfg.adminIDs), handlers.WithReader(st),
		handlers.WithDesk(handlers.DeskConfig{StaffChat: staffChat, Forums: forums, MaxOpen: cfg.ticketsMaxOpen,
			StaffNames: cfg.staffShowNames, Tickets: st}))...)
	if err != nil {
		return err
	}
	if staffBC.stopText, err = h.StopNoticesLabel(); err != nil {
		return err
	}
	if err := setCommands(startCtx, api, h, staffChat); err != nil {
		log.Warn("set bot commands", "err", err)
	}
	contentReloader, err := newReloader(startCtx, cfg.contentDir, cnt, h, st, log)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	replica := replicaName()
	var pool *worker.Pool
	sender := outbox.New(outbox.Options{Store: st, API: api, Logger: log, BroadcastRate: float64(cfg.broadcastRate),
		Valid: func(l store.Lease) bool { return pool.Valid(l) }, Broadcasts: staffBC.apply})
	pool = worker.New(worker.Options{Store: st, Handler: h, Sender: sender, Logger: log,
		Replica: replica, MaxFailures: cfg.deadletterAfter, LeaseTTL: cfg.leaseTTL})

	var shutting atomic.Bool
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	bcast := broadcast.New(broadcast.Options{Store: st, API: api, Logger: log, Rate: float64(cfg.broadcastRate),
		Eligible: staffBC.eligible, OnProgress: staffBC.progress})
	opts := webhook.Options{
		AdminToken:  cfg.adminToken,
		DeadLetters: deadLetters{st},
		Content:     contentReloader,
		Broadcasts:  broadcasts{st, float64(cfg.broadcastRate)},
		Logger:      log,
		Ready: func(ctx context.Context) (bool, map[string]any) {
			redisErr := st.Ping(ctx)
			d := map[string]any{
				"redis": errString(redisErr, "ok"), "workers": pool.Running(), "shards_held": pool.Held(),
				"shutting_down": shutting.Load(), "bot": "@" + check.Username, "mode": mode(cfg),
				"content": contentReloader.Info(),
				"staff_chat": map[string]any{"forum": check.StaffChatIsForum, "can_manage_topics": check.CanManageTopics,
					"can_delete_messages": check.CanDeleteMessages, "migrated_to": check.MigrateToChatID, "error": errString(checkErr, "")},
			}
			return redisErr == nil && pool.Running() && !shutting.Load(), d
		},
	}
	if cfg.webhookMode() {
		opts.Intake, opts.Secrets = st, cfg.webhookSecrets
	}
	if cfg.playground() {
		pg := playground.New(runCtx, st, fake, playgroundStaffChat, playground.WithPoints(cnt.Points))
		opts.Extra = pg.Mount
	}
	engine := webhook.New(opts)

	if cfg.pprofAddr != "" {
		_, stopProfiler, err := startProfiler(cfg.pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopProfiler()
	}
	ln, err := net.Listen("tcp", cfg.listenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.listenAddr, err)
	}
	srv := &http.Server{Handler: engine, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	log.Info("listening", "addr", ln.Addr().String(), "url", url)
	if cfg.playground() {
		fmt.Fprintf(stdout, "bangban playground: open %s/ (no Telegram token set; the bot talks to an in-process fake Telegram)\n", url)
		if !loopback(cfg.listenAddr) {
			log.Warn("the playground has staff and broadcast powers and listens beyond this machine", "addr", cfg.listenAddr)
		}
	}

	var wg sync.WaitGroup
	wg.Go(func() { _ = sender.Run(runCtx) })
	wg.Go(func() { _ = pool.Run(runCtx) })
	wg.Go(func() { _ = bcast.Run(runCtx) })
	wg.Go(func() { contentReloader.run(runCtx, hup) })
	wg.Go(func() { watchSLA(runCtx, log, st, h) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	switch {
	case cfg.webhookMode():
		if err := api.SetWebhook(startCtx, cfg.webhookURL, cfg.webhookSecrets[0], cfg.webhookMaxConnections, handlers.AllowedUpdates, false); err != nil {
			log.Error("setWebhook failed: Telegram will not deliver updates until it succeeds (bangban webhook set)", "err", err)
		} else {
			log.Info("webhook registered", "url", cfg.webhookURL)
		}
	case !cfg.playground():
		if err := preparePolling(startCtx, api, cfg.forcePolling, log); err != nil {
			shutdownNow(srv)
			stopRun()
			wg.Wait()
			return err
		}
		p := &poller.Poller{API: pollAPI{api}, Store: st, Parse: webhook.ParseUpdate, Logger: log,
			Replica: replica, LeaseTTL: cfg.leaseTTL, Timeout: 25 * time.Second}
		wg.Go(func() { _ = p.Run(runCtx) })
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopRun()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("shutting down: finishing the updates in hand and releasing leases")
	shutting.Store(true)
	drain, cancelDrain := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelDrain()
	if err := srv.Shutdown(drain); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopRun()
	wg.Wait()
	log.Info("stopped")
	return nil
}

func shutdownNow(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

func mode(cfg config) string {
	switch {
	case cfg.playground():
		return "playground"
	case cfg.webhookMode():
		return "webhook"
	}
	return "polling"
}

func errString(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

// staffGroups lists the staff groups (the default and those of request categories) and
// those of them that have forum topics, checking each category group as the default one
// was. Groups are read once: a reload that names a new group needs a restart to use it.
func staffGroups(ctx context.Context, log *slog.Logger, api *tgapi.Client, cnt *content.Content, staffChat int64, check tgapi.Check) (groups, forums []int64) {
	groups = cnt.Desk.Groups(staffChat)
	if check.StaffChatIsForum {
		forums = append(forums, staffChat)
	}
	for _, g := range groups[1:] {
		c, err := api.SelfCheck(ctx, g)
		if err != nil {
			log.Error("request category group check failed: the bot may not be a member", "chat", g, "err", err, "alert", true)
			continue
		}
		log.Info("request category group", "chat", g, "forum", c.StaffChatIsForum, "can_manage_topics", c.CanManageTopics)
		if c.StaffChatIsForum {
			forums = append(forums, g)
		}
	}
	return groups, forums
}

func logSelfCheck(log *slog.Logger, c tgapi.Check, err error) {
	log.Info("bot self-check", "username", c.Username, "inline_mode", c.SupportsInlineQueries,
		"staff_chat_forum", c.StaffChatIsForum, "can_manage_topics", c.CanManageTopics,
		"can_delete_messages", c.CanDeleteMessages)
	if err != nil {
		log.Error("staff chat check failed: the bot may not be a member of STAFF_CHAT_ID", "err", err, "alert", true)
	}
	if c.MigrateToChatID != 0 {
		log.Error("the staff group became a supergroup: set STAFF_CHAT_ID to the new id", "new_id", c.MigrateToChatID, "alert", true)
	}
}

// setCommands publishes the command menu in Chinese and English; English is also the
// default for every other language, matching the bot's own language guess.
func setCommands(ctx context.Context, api *tgapi.Client, h *handlers.Handler, staffChat int64) error {
	menus := []struct {
		chat  int64
		build func(string) ([]handlers.Command, error)
	}{{0, h.Commands}, {staffChat, h.StaffCommands}}
	for _, menu := range menus {
		for _, lang := range []struct{ locale, code string }{{"zh-CN", "zh"}, {"en", "en"}, {"en", ""}} {
			cmds, err := menu.build(lang.locale)
			if err != nil {
				return err
			}
			out := make([]tgapi.Command, len(cmds))
			for i, c := range cmds {
				out[i] = tgapi.Command{Command: c.Name, Description: c.Description}
			}
			if err := api.SetMyCommands(ctx, lang.code, out, menu.chat); err != nil {
				return err
			}
		}
	}
	return nil
}

// preparePolling refuses to poll while Telegram has a webhook set, unless forced: a
// staging copy with the production token must not take production offline.
func preparePolling(ctx context.Context, api *tgapi.Client, force bool, log *slog.Logger) error {
	info, err := api.GetWebhookInfo(ctx)
	if err != nil {
		return fmt.Errorf("getWebhookInfo: %w", err)
	}
	if info.URL == "" {
		return nil
	}
	if !force {
		return fmt.Errorf("Telegram delivers this bot's updates to the webhook %s; refusing to long-poll, which would take them from it. Set WEBHOOK_URL to run in webhook mode, or pass --force-polling to delete the webhook and poll", info.URL)
	}
	log.Warn("--force-polling: deleting the webhook", "url", info.URL)
	return api.DeleteWebhook(ctx, false)
}

// pollAPI adapts the client to the poller, asking for the kinds the bot handles.
type pollAPI struct{ c *tgapi.Client }

func (p pollAPI) GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]json.RawMessage, error) {
	return p.c.GetUpdates(ctx, offset, timeout, handlers.AllowedUpdates)
}

// deadLetters adapts the store to the admin API.
type deadLetters struct{ st *store.Store }

func (d deadLetters) List(ctx context.Context, limit int) ([]webhook.DeadLetter, error) {
	dls, err := d.st.DeadLetters(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]webhook.DeadLetter, len(dls))
	for i, dl := range dls {
		out[i] = toAPI(dl)
	}
	return out, nil
}

func (d deadLetters) Get(ctx context.Context, id string) (webhook.DeadLetter, error) {
	dl, err := d.st.DeadLetter(ctx, id)
	return toAPI(dl), notFound(err)
}

func (d deadLetters) Replay(ctx context.Context, id string) error {
	return notFound(d.st.Replay(ctx, id))
}
func (d deadLetters) Drop(ctx context.Context, id string) error { return notFound(d.st.Drop(ctx, id)) }

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", webhook.ErrNotFound, err)
	}
	return err
}

func toAPI(dl store.DeadLetter) webhook.DeadLetter {
	raw := dl.Raw
	if !json.Valid(raw) {
		raw, _ = json.Marshal(string(raw))
	}
	return webhook.DeadLetter{ID: dl.ID, UpdateID: dl.UpdateID, ChatID: dl.ChatID, Kind: dl.Kind,
		Error: dl.Error, Failures: dl.Failures, FailedAt: dl.FailedAt, Raw: raw}
}
