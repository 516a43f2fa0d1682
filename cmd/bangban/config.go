package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/webhook"
)

// config is everything bangban reads from its environment and flags (DESIGN §1).
// It holds secrets: print it only through String or LogValue, which redact them.
type config struct {
	botToken    string
	botAPIURL   string
	botUsername string // without the leading @; empty means "ask getMe"
	webhookURL  string
	// webhookSecrets are all accepted secret tokens; the first is given to setWebhook.
	webhookSecrets []string
	listenAddr     string

	redisURL          string
	redisMode         string // auto, single, cluster or sentinel, as given
	redisPrefix       string
	redisWaitReplicas int
	queueShards       int

	staffChatID int64 // 0 only in playground mode
	adminIDs    []int64
	adminToken  string

	broadcastRate int
	broadcastPaid bool

	contentDir string // empty means the embedded demo content
	location   *time.Location
	logLevel   slog.Level
	logFormat  string // json or text

	deadletterAfter int
	leaseTTL        time.Duration
	checkInWindow   time.Duration
	// ticketsMaxOpen caps a user's open tickets; staffShowNames signs answers with names.
	ticketsMaxOpen int
	staffShowNames bool
	// redisCheckSlots fails every script or transaction whose keys span hash slots.
	redisCheckSlots       bool
	webhookMaxConnections int
	// pprofAddr is the loopback address of the Go profiler; empty means off.
	pprofAddr string

	// ephemeral allows the embedded in-process Redis with a real token.
	ephemeral bool
	// forcePolling starts long polling even while Telegram has a webhook set.
	forcePolling bool

	// args are the arguments left after the flags (a subcommand's operands).
	args []string
}

// playground reports whether bangban runs without a token, against its in-process
// emulation of Telegram.
func (c config) playground() bool { return c.botToken == "" }

// webhookMode reports whether Telegram delivers updates by webhook rather than to
// a long-polling loop.
func (c config) webhookMode() bool { return c.botToken != "" && c.webhookURL != "" }

// resolvedRedisMode is the mode REDIS_MODE=auto stands for with this REDIS_URL:
// master_name means Sentinel, addr means a cluster, else a single server.
func (c config) resolvedRedisMode() string {
	if c.redisMode != "auto" {
		return c.redisMode
	}
	u, err := url.Parse(c.redisURL)
	switch {
	case err != nil:
		return "single"
	case u.Query().Has("master_name"):
		return "sentinel"
	case u.Query().Has("addr"):
		return "cluster"
	}
	return "single"
}

// setting is one environment variable and its flag.
type setting struct {
	env   string
	def   string
	usage string
	// boolean settings take no value on the command line (--broadcast-paid).
	boolean bool
}

// settings follow DESIGN §1's table, plus knobs of the foundation issues.
var settings = []setting{
	{env: "BOT_TOKEN", usage: "Telegram bot token; unset runs the local playground"},
	{env: "BOT_API_URL", def: "https://api.telegram.org", usage: "Bot API server base URL, without a trailing slash"},
	{env: "BOT_USERNAME", usage: "the bot's username for deep links (default: from getMe)"},
	{env: "WEBHOOK_URL", usage: "public HTTPS URL ending in " + webhook.WebhookPath + "; unset means long polling"},
	{env: "WEBHOOK_SECRET", usage: "webhook secret token; comma-separated during rotation, the first one is registered"},
	{env: "LISTEN_ADDR", def: ":8080", usage: "HTTP listen address (playground: 127.0.0.1:8080)"},
	{env: "REDIS_URL", usage: "redis://host:port/db, or the cluster (?addr=) or sentinel (?master_name=) form; unset means an embedded store that keeps nothing"},
	{env: "REDIS_MODE", def: "auto", usage: "auto, single, cluster or sentinel"},
	{env: "REDIS_PREFIX", def: "bangban", usage: "key prefix, so that several districts can share one Redis"},
	{env: "REDIS_WAIT_REPLICAS", def: "0", usage: "replicas that must acknowledge an update before intake answers 200"},
	{env: "QUEUE_SHARDS", def: "64", usage: "number of update shards; fixed once stored in Redis"},
	{env: "STAFF_CHAT_ID", usage: "staff supergroup id; required outside the playground"},
	{env: "ADMIN_IDS", usage: "comma-separated Telegram user ids allowed to broadcast and export"},
	{env: "ADMIN_TOKEN", usage: "bearer token of the admin HTTP API; unset closes it"},
	{env: "BROADCAST_RATE", def: "25", usage: "bulk messages per second (at most 30 unless paid)"},
	{env: "BROADCAST_PAID", def: "false", usage: "use paid broadcasts, up to 1000 messages per second", boolean: true},
	{env: "CONTENT_DIR", usage: "folder of points, categories, policies, answers and texts (default: embedded demo content)"},
	{env: "TZ", def: "Asia/Shanghai", usage: "time zone of opening hours, working hours and schedules"},
	{env: "LOG_LEVEL", def: "info", usage: "debug, info, warn or error"},
	{env: "LOG_FORMAT", def: "json", usage: "json or text"},
	{env: "DEADLETTER_AFTER", def: "5", usage: "failures after which an update becomes a dead letter"},
	{env: "WEBHOOK_MAX_CONNECTIONS", def: "40", usage: "max_connections given to setWebhook (1-100)"},
	{env: "REDIS_CHECK_SLOTS", def: "false", usage: "debug: refuse any script or MULTI whose keys span Redis Cluster hash slots", boolean: true},
	{env: "LEASE_TTL", def: "5s", usage: "how long a stalled replica keeps its shards before another takes them over"},
	{env: "CHECKIN_WINDOW", def: "2h", usage: "a second check-in at the same point within this window is the same visit"},
	{env: "TICKETS_MAX_OPEN", def: "3", usage: "open service requests a user may have at once (1-20)"},
	{env: "STAFF_SHOW_NAMES", def: "false", usage: "sign staff answers with the staff member's first name instead of \"Staff\"", boolean: true},
	{env: "PPROF_ADDR", usage: "debug: serve Go's profiler (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060; unset: off"},
}

// flagName is the flag of an environment variable: BOT_TOKEN → bot-token.
func flagName(env string) string { return strings.ToLower(strings.ReplaceAll(env, "_", "-")) }

// settingFlag writes a flag's value over the environment's. String reports the
// table's default, never the value: flag prints it in the usage text, and the value
// may be a secret taken from the environment.
type settingFlag struct {
	s    *setting
	vals map[string]string
}

func (f settingFlag) String() string {
	if f.s == nil {
		return ""
	}
	return f.s.def
}

func (f settingFlag) Set(v string) error { f.vals[f.s.env] = v; return nil }

func (f settingFlag) IsBoolFlag() bool { return f.s != nil && f.s.boolean }

var (
	botTokenRE    = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{30,}$`)
	secretRE      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	botUsernameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{4,31}$`)
)

// loadConfig reads the configuration from getenv and the flags in args; a flag wins
// over its variable. It checks everything and returns every problem, one line each,
// joined in one error. A -h or bad flag returns an error wrapping flag.ErrHelp or the
// flag error, followed by the usage text.
func loadConfig(args []string, getenv func(string) string) (config, error) {
	vals := make(map[string]string, len(settings))
	explicit := make(map[string]bool, len(settings))
	envOfFlag := make(map[string]string, len(settings))
	fs := flag.NewFlagSet("bangban", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for i := range settings {
		s := &settings[i]
		vals[s.env] = s.def
		if v := getenv(s.env); v != "" {
			vals[s.env] = v
			explicit[s.env] = true
		}
		envOfFlag[flagName(s.env)] = s.env
		fs.Var(settingFlag{s: s, vals: vals}, flagName(s.env), s.usage+" ($"+s.env+")")
	}
	var c config
	fs.BoolVar(&c.ephemeral, "ephemeral", false, "with a real BOT_TOKEN and no REDIS_URL, run on the embedded store, which keeps nothing")
	fs.BoolVar(&c.forcePolling, "force-polling", false, "long-poll even while Telegram has a webhook set (takes that webhook's updates)")
	if err := fs.Parse(args); err != nil {
		var usage strings.Builder
		fs.SetOutput(&usage)
		fs.PrintDefaults()
		return config{}, fmt.Errorf("%w\nflags:\n%s", err, usage.String())
	}
	fs.Visit(func(f *flag.Flag) { explicit[envOfFlag[f.Name]] = true })
	c.args = fs.Args()

	var problems []error
	bad := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }

	c.botToken, c.botAPIURL, c.botUsername = checkBot(vals, bad)

	c.webhookURL = vals["WEBHOOK_URL"]
	if c.webhookURL != "" {
		checkWebhookURL(c.webhookURL, c.botToken != "", bad)
	}
	if v := vals["WEBHOOK_SECRET"]; v != "" {
		for s := range strings.SplitSeq(v, ",") {
			c.webhookSecrets = append(c.webhookSecrets, strings.TrimSpace(s))
		}
		for _, s := range c.webhookSecrets {
			if !secretRE.MatchString(s) {
				bad("WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")
				break
			}
		}
	} else if c.webhookURL != "" {
		bad("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
	}

	c.listenAddr = vals["LISTEN_ADDR"]
	if !explicit["LISTEN_ADDR"] && c.playground() {
		// The playground talks to anyone who can reach it: keep it on this machine.
		c.listenAddr = "127.0.0.1:8080"
	}
	if _, port, err := net.SplitHostPort(c.listenAddr); err != nil || !validPort(port) {
		bad("LISTEN_ADDR must be host:port, e.g. :8080")
	}
	if c.pprofAddr = vals["PPROF_ADDR"]; c.pprofAddr != "" && !loopback(c.pprofAddr) {
		// The profiler shows command lines and memory and costs CPU on demand: never public.
		bad("PPROF_ADDR must be a loopback host:port, e.g. 127.0.0.1:6060")
	}

	c.redisURL = vals["REDIS_URL"]
	c.redisMode = vals["REDIS_MODE"]
	modeOK := true
	switch c.redisMode {
	case "auto", "single", "cluster", "sentinel":
	default:
		modeOK = false
		bad("REDIS_MODE must be one of auto, single, cluster, sentinel")
	}
	switch {
	case c.redisURL == "" && c.botToken != "" && !c.ephemeral:
		bad("REDIS_URL is unset: with a real BOT_TOKEN the embedded store needs --ephemeral")
	case c.redisURL != "" && c.ephemeral:
		bad("--ephemeral and REDIS_URL exclude each other: unset one")
	case c.redisURL != "" && modeOK:
		if err := checkRedisURL(c.redisURL, c.resolvedRedisMode()); err != nil {
			problems = append(problems, err)
		}
	}
	c.redisPrefix = vals["REDIS_PREFIX"]
	if c.redisPrefix == "" || strings.ContainsAny(c.redisPrefix, "{}") {
		// Braces would change the hash tag that keeps a shard's keys in one slot.
		bad("REDIS_PREFIX must be non-empty and must not contain { or }")
	}
	if n, err := strconv.Atoi(vals["REDIS_WAIT_REPLICAS"]); err != nil || n < 0 {
		bad("REDIS_WAIT_REPLICAS must be a whole number, 0 or more")
	} else {
		c.redisWaitReplicas = n
	}
	if n, err := strconv.Atoi(vals["QUEUE_SHARDS"]); err != nil || n < 1 || n > 1024 {
		bad("QUEUE_SHARDS must be between 1 and 1024")
	} else {
		c.queueShards = n
	}

	switch v := vals["STAFF_CHAT_ID"]; {
	case v == "" && c.botToken != "":
		bad("STAFF_CHAT_ID is required when BOT_TOKEN is set")
	case v != "":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			bad("STAFF_CHAT_ID must be an integer")
		}
		c.staffChatID = n
	}
	if v := vals["ADMIN_IDS"]; v != "" {
		for s := range strings.SplitSeq(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				bad("ADMIN_IDS must be comma-separated integers")
				c.adminIDs = nil
				break
			}
			c.adminIDs = append(c.adminIDs, id)
		}
	}
	c.adminToken = vals["ADMIN_TOKEN"]

	paid, err := strconv.ParseBool(vals["BROADCAST_PAID"])
	if err != nil {
		bad("BROADCAST_PAID must be true or false")
	}
	c.broadcastPaid = paid
	switch n, err := strconv.Atoi(vals["BROADCAST_RATE"]); {
	case err != nil || n < 1:
		bad("BROADCAST_RATE must be a whole number of messages per second, 1 or more")
	case n > 1000:
		bad("BROADCAST_RATE must be at most 1000")
	case n > 30 && !paid:
		bad("BROADCAST_RATE above 30 needs BROADCAST_PAID=true")
	default:
		c.broadcastRate = n
	}

	c.contentDir = checkContentDir(vals, bad)
	if loc, err := time.LoadLocation(vals["TZ"]); err != nil {
		bad("TZ: unknown time zone %q", vals["TZ"])
	} else {
		c.location = loc
	}
	switch strings.ToLower(vals["LOG_LEVEL"]) {
	case "debug":
		c.logLevel = slog.LevelDebug
	case "info":
		c.logLevel = slog.LevelInfo
	case "warn":
		c.logLevel = slog.LevelWarn
	case "error":
		c.logLevel = slog.LevelError
	default:
		bad("LOG_LEVEL must be debug, info, warn or error")
	}
	c.logFormat = strings.ToLower(vals["LOG_FORMAT"])
	if c.logFormat != "json" && c.logFormat != "text" {
		bad("LOG_FORMAT must be json or text")
	}

	if n, err := strconv.Atoi(vals["DEADLETTER_AFTER"]); err != nil || n < 1 {
		bad("DEADLETTER_AFTER must be a whole number, 1 or more")
	} else {
		c.deadletterAfter = n
	}
	if n, err := strconv.Atoi(vals["WEBHOOK_MAX_CONNECTIONS"]); err != nil || n < 1 || n > 100 {
		bad("WEBHOOK_MAX_CONNECTIONS must be between 1 and 100")
	} else {
		c.webhookMaxConnections = n
	}
	if v, err := strconv.ParseBool(vals["REDIS_CHECK_SLOTS"]); err != nil {
		bad("REDIS_CHECK_SLOTS must be true or false")
	} else {
		c.redisCheckSlots = v
	}
	if d, err := time.ParseDuration(vals["LEASE_TTL"]); err != nil || d < 300*time.Millisecond || d > time.Minute {
		bad("LEASE_TTL must be a duration between 300ms and 1m")
	} else {
		c.leaseTTL = d
	}
	if d, err := time.ParseDuration(vals["CHECKIN_WINDOW"]); err != nil || d < 0 || d > 7*24*time.Hour {
		bad("CHECKIN_WINDOW must be a duration between 0s and 168h")
	} else {
		c.checkInWindow = d
	}
	if n, err := strconv.Atoi(vals["TICKETS_MAX_OPEN"]); err != nil || n < 1 || n > 20 {
		bad("TICKETS_MAX_OPEN must be a whole number from 1 to 20")
	} else {
		c.ticketsMaxOpen = n
	}
	if b, err := strconv.ParseBool(vals["STAFF_SHOW_NAMES"]); err != nil {
		bad("STAFF_SHOW_NAMES must be true or false")
	} else {
		c.staffShowNames = b
	}
	if c.forcePolling && c.webhookMode() {
		bad("--force-polling is for long polling, but WEBHOOK_URL is set")
	}

	if len(problems) > 0 {
		return config{}, errors.Join(problems...)
	}
	return c, nil
}

// checkWebhookURL applies Telegram's rules for webhook URLs and ours (the path).
func checkWebhookURL(v string, hasToken bool, bad func(string, ...any)) {
	if !hasToken {
		bad("WEBHOOK_URL needs BOT_TOKEN: the playground has no webhook")
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		bad("WEBHOOK_URL must be an absolute https URL")
		return
	}
	if u.Scheme != "https" {
		bad("WEBHOOK_URL must use https")
	}
	switch u.Port() {
	case "", "443", "80", "88", "8443":
	default:
		bad("WEBHOOK_URL must use port 443, 80, 88 or 8443")
	}
	if !strings.HasSuffix(u.Path, webhook.WebhookPath) {
		bad("WEBHOOK_URL must end in " + webhook.WebhookPath)
	}
}

// checkRedisURL parses the URL as the store will, in the given mode. It parses a
// redacted copy, so that no error message can carry a password.
func checkRedisURL(v, mode string) error {
	u, err := url.Parse(v)
	if err != nil {
		// url's own error quotes the whole URL, password included.
		return errors.New("REDIS_URL is not a valid URL")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return errors.New("REDIS_URL must start with redis:// or rediss://")
	}
	safe := redactRedisURL(v)
	switch mode {
	case "cluster":
		_, err = redis.ParseClusterURL(safe)
	case "sentinel":
		_, err = redis.ParseFailoverURL(safe)
		if err == nil && !u.Query().Has("master_name") {
			err = errors.New("the sentinel form needs ?master_name=")
		}
	default:
		_, err = redis.ParseURL(safe)
	}
	if err != nil {
		return fmt.Errorf("REDIS_URL (%s mode): %w", mode, err)
	}
	return nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// redacted stands in for a secret in printed configuration.
const redacted = "<redacted>"

// redactRedisURL hides the passwords of a Redis URL: the user info's (the server's, or
// the sentinels' in the sentinel form) and the master's ?password=.
func redactRedisURL(v string) string {
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil {
		return redacted
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// redactToken keeps a token's bot id, which is public, and hides the rest.
func redactToken(t string) string {
	if t == "" {
		return ""
	}
	if id, _, ok := strings.Cut(t, ":"); ok && id != "" && strings.Trim(id, "0123456789") == "" {
		return id + ":" + redacted
	}
	return redacted
}

func redactSet(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// LogValue shows the configuration with secrets redacted, for the start-up log line.
func (c config) LogValue() slog.Value {
	zone := ""
	if c.location != nil {
		zone = c.location.String()
	}
	return slog.GroupValue(
		slog.String("bot_token", redactToken(c.botToken)),
		slog.String("bot_api_url", c.botAPIURL),
		slog.String("bot_username", c.botUsername),
		slog.String("webhook_url", c.webhookURL),
		slog.Int("webhook_secrets", len(c.webhookSecrets)),
		slog.String("listen_addr", c.listenAddr),
		slog.String("redis_url", redactRedisURL(c.redisURL)),
		slog.String("redis_mode", c.redisMode),
		slog.String("redis_prefix", c.redisPrefix),
		slog.Int("redis_wait_replicas", c.redisWaitReplicas),
		slog.Int("queue_shards", c.queueShards),
		slog.Int64("staff_chat_id", c.staffChatID),
		slog.Any("admin_ids", c.adminIDs),
		slog.String("admin_token", redactSet(c.adminToken)),
		slog.Int("broadcast_rate", c.broadcastRate),
		slog.Bool("broadcast_paid", c.broadcastPaid),
		slog.Bool("redis_check_slots", c.redisCheckSlots),
		slog.String("content_dir", c.contentDir),
		slog.String("tz", zone),
		slog.String("log_level", c.logLevel.String()),
		slog.String("log_format", c.logFormat),
		slog.Int("deadletter_after", c.deadletterAfter),
		slog.Int("webhook_max_connections", c.webhookMaxConnections),
		slog.Duration("lease_ttl", c.leaseTTL),
		slog.Duration("checkin_window", c.checkInWindow),
		slog.Int("tickets_max_open", c.ticketsMaxOpen),
		slog.Bool("staff_show_names", c.staffShowNames),
		slog.String("pprof_addr", c.pprofAddr),
		slog.Bool("ephemeral", c.ephemeral),
		slog.Bool("force_polling", c.forcePolling),
	)
}

// String shows the configuration as key=value pairs with secrets redacted.
func (c config) String() string {
	var b strings.Builder
	for i, a := range c.LogValue().Group() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%v", a.Key, a.Value)
	}
	return b.String()
}

// GoString keeps %#v, which would otherwise print every field, to the redacted form.
func (c config) GoString() string { return "config{" + c.String() + "}" }

// checkBot reads and checks BOT_TOKEN, BOT_API_URL and BOT_USERNAME (without its "@"),
// for serve and for the commands that talk to Telegram or build its links.
func checkBot(vals map[string]string, bad func(string, ...any)) (token, apiURL, username string) {
	token = vals["BOT_TOKEN"]
	if token != "" && !botTokenRE.MatchString(token) {
		bad("BOT_TOKEN must look like 123456789:AAF… (digits, a colon, then 30 or more of A-Z a-z 0-9 _ -)")
	}
	apiURL = vals["BOT_API_URL"]
	if u, err := url.Parse(apiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("BOT_API_URL must be an http or https URL")
	} else if strings.HasSuffix(apiURL, "/") {
		bad("BOT_API_URL must not end with a slash")
	}
	username = strings.TrimPrefix(vals["BOT_USERNAME"], "@")
	if username != "" && !botUsernameRE.MatchString(username) {
		bad("BOT_USERNAME must be 5-32 characters of A-Z a-z 0-9 _, starting with a letter")
	}
	return token, apiURL, username
}

// checkContentDir reads CONTENT_DIR, which must be a directory when set.
func checkContentDir(vals map[string]string, bad func(string, ...any)) string {
	dir := vals["CONTENT_DIR"]
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			bad("CONTENT_DIR %q is not a directory", dir)
		}
	}
	return dir
}

// loopback reports whether addr is host:port with a valid port and a host that is a
// loopback IP or localhost.
func loopback(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !validPort(port) {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
