package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // TZ checks must not depend on the test machine's zoneinfo

	"github.com/google/go-cmp/cmp"
)

const testToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// env turns a map into a getenv function.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// production is a complete, valid webhook-mode environment; cases change one thing.
func production() map[string]string {
	return map[string]string{
		"BOT_TOKEN":      testToken,
		"WEBHOOK_URL":    "https://bot.nanta.example/telegram/webhook",
		"WEBHOOK_SECRET": "new_secret-2,old_secret-1",
		"REDIS_URL":      "redis://:hunter2@redis:6379/0",
		"STAFF_CHAT_ID":  "-1001234567890",
		"ADMIN_IDS":      "11, 22",
		"ADMIN_TOKEN":    "admin-token-0123456789",
	}
}

func TestLoadConfigPlaygroundDefaults(t *testing.T) {
	c, err := loadConfig(nil, env(nil))
	if err != nil {
		t.Fatalf("loadConfig with an empty environment: %v", err)
	}
	got := map[string]any{
		"playground": c.playground(), "webhook": c.webhookMode(), "listen": c.listenAddr,
		"api": c.botAPIURL, "mode": c.redisMode, "resolved": c.resolvedRedisMode(), "prefix": c.redisPrefix,
		"wait": c.redisWaitReplicas, "shards": c.queueShards, "rate": c.broadcastRate, "paid": c.broadcastPaid,
		"tz": c.location.String(), "level": c.logLevel, "format": c.logFormat,
		"deadletter": c.deadletterAfter, "maxconn": c.webhookMaxConnections, "lease": c.leaseTTL,
	}
	want := map[string]any{
		"playground": true, "webhook": false, "listen": "127.0.0.1:8080",
		"api": "https://api.telegram.org", "mode": "auto", "resolved": "single", "prefix": "bangban",
		"wait": 0, "shards": 64, "rate": 25, "paid": false,
		"tz": "Asia/Shanghai", "level": slog.LevelInfo, "format": "json",
		"deadletter": 5, "maxconn": 40, "lease": 5 * time.Second,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("playground defaults (-want +got):\n%s", diff)
	}
}

func TestLoadConfigProduction(t *testing.T) {
	c, err := loadConfig([]string{"webhook", "info"}, env(production()))
	if err != nil {
		t.Fatalf("loadConfig(production): %v", err)
	}
	if c.playground() || !c.webhookMode() || c.listenAddr != ":8080" || c.staffChatID != -1001234567890 {
		t.Errorf("production: playground %v webhook %v listen %q staff %d", c.playground(), c.webhookMode(), c.listenAddr, c.staffChatID)
	}
	if diff := cmp.Diff([]string{"new_secret-2", "old_secret-1"}, c.webhookSecrets); diff != "" {
		t.Errorf("webhook secrets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{11, 22}, c.adminIDs); diff != "" {
		t.Errorf("admin ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"webhook", "info"}, c.args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
}

func TestLoadConfigListenAddr(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "playground", want: "127.0.0.1:8080"},
		{name: "playground, env", env: map[string]string{"LISTEN_ADDR": ":9000"}, want: ":9000"},
		{name: "playground, flag", args: []string{"--listen-addr", ":8080"}, want: ":8080"},
		{name: "token", env: map[string]string{"BOT_TOKEN": testToken, "STAFF_CHAT_ID": "-1"}, args: []string{"--ephemeral"}, want: ":8080"},
	}
	for _, tt := range tests {
		c, err := loadConfig(tt.args, env(tt.env))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if c.listenAddr != tt.want {
			t.Errorf("%s: listen address %q, want %q", tt.name, c.listenAddr, tt.want)
		}
	}
}

func TestLoadConfigFlagsOverrideEnv(t *testing.T) {
	e := production()
	e["QUEUE_SHARDS"] = "8"
	e["LOG_LEVEL"] = "error"
	e["BROADCAST_RATE"] = "100"
	e["BROADCAST_PAID"] = "true"
	c, err := loadConfig([]string{
		"--queue-shards=16", "--log-level", "debug", "--bot-api-url", "http://127.0.0.1:8081",
		"--webhook-secret", "only_one", "--broadcast-paid=false", "--broadcast-rate=30", "--tz=UTC",
	}, env(e))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	got := []any{c.queueShards, c.logLevel, c.botAPIURL, c.webhookSecrets, c.broadcastPaid, c.broadcastRate, c.location.String(), c.redisURL}
	want := []any{16, slog.LevelDebug, "http://127.0.0.1:8081", []string{"only_one"}, false, 30, "UTC", "redis://:hunter2@redis:6379/0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags over env (-want +got):\n%s", diff)
	}
	c, err = loadConfig([]string{"--broadcast-paid", "--broadcast-rate", "500"}, env(production()))
	if err != nil || !c.broadcastPaid || c.broadcastRate != 500 {
		t.Errorf("--broadcast-paid as a bare flag: paid %v rate %d err %v", c.broadcastPaid, c.broadcastRate, err)
	}
}

func TestLoadConfigProblems(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string // over production(); "" unsets
		args []string
		want string
	}{
		{name: "secret missing", set: map[string]string{"WEBHOOK_SECRET": ""}, want: "WEBHOOK_SECRET is required when WEBHOOK_URL is set"},
		{name: "http webhook", set: map[string]string{"WEBHOOK_URL": "http://bot.example/telegram/webhook"}, want: "WEBHOOK_URL must use https"},
		{name: "webhook port", set: map[string]string{"WEBHOOK_URL": "https://bot.example:8080/telegram/webhook"}, want: "WEBHOOK_URL must use port 443, 80, 88 or 8443"},
		{name: "webhook path", set: map[string]string{"WEBHOOK_URL": "https://bot.example/hook"}, want: "WEBHOOK_URL must end in /telegram/webhook"},
		{name: "webhook relative", set: map[string]string{"WEBHOOK_URL": "/telegram/webhook"}, want: "WEBHOOK_URL must be an absolute https URL"},
		{name: "webhook in playground", set: map[string]string{"BOT_TOKEN": "", "STAFF_CHAT_ID": "", "REDIS_URL": ""}, want: "WEBHOOK_URL needs BOT_TOKEN: the playground has no webhook"},
		{name: "secret charset", set: map[string]string{"WEBHOOK_SECRET": "good,bad secret"}, want: "WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -"},
		{name: "secret empty item", set: map[string]string{"WEBHOOK_SECRET": "good,"}, want: "WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -"},
		{name: "secret too long", set: map[string]string{"WEBHOOK_SECRET": strings.Repeat("a", 257)}, want: "WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -"},
		{name: "api slash", set: map[string]string{"BOT_API_URL": "https://api.telegram.org/"}, want: "BOT_API_URL must not end with a slash"},
		{name: "api scheme", set: map[string]string{"BOT_API_URL": "api.telegram.org"}, want: "BOT_API_URL must be an http or https URL"},
		{name: "token shape", set: map[string]string{"BOT_TOKEN": "12345:short"}, want: "BOT_TOKEN must look like 123456789:AAF… (digits, a colon, then 30 or more of A-Z a-z 0-9 _ -)"},
		{name: "username", set: map[string]string{"BOT_USERNAME": "@a-b"}, want: "BOT_USERNAME must be 5-32 characters of A-Z a-z 0-9 _, starting with a letter"},
		{name: "listen", set: map[string]string{"LISTEN_ADDR": "8080"}, want: "LISTEN_ADDR must be host:port, e.g. :8080"},
		{name: "redis mode", set: map[string]string{"REDIS_MODE": "replica"}, want: "REDIS_MODE must be one of auto, single, cluster, sentinel"},
		{name: "redis unset", set: map[string]string{"REDIS_URL": ""}, want: "REDIS_URL is unset: with a real BOT_TOKEN the embedded store needs --ephemeral"},
		{name: "redis and ephemeral", args: []string{"--ephemeral"}, want: "--ephemeral and REDIS_URL exclude each other: unset one"},
		{name: "redis scheme", set: map[string]string{"REDIS_URL": "http://redis:6379"}, want: "REDIS_URL must start with redis:// or rediss://"},
		{name: "redis bad url", set: map[string]string{"REDIS_URL": "redis://:hunter2@redis:port"}, want: "REDIS_URL is not a valid URL"},
		{name: "redis db", set: map[string]string{"REDIS_URL": "redis://:hunter2@redis:6379/x"}, want: `REDIS_URL (single mode): redis: invalid database number: "x"`},
		{name: "redis single with addr", set: map[string]string{"REDIS_URL": "redis://r1:6379?addr=r2:6379", "REDIS_MODE": "single"}, want: "REDIS_URL (single mode): redis: unexpected option: addr"},
		{name: "sentinel without master", set: map[string]string{"REDIS_URL": "redis://s1:26379", "REDIS_MODE": "sentinel"}, want: "REDIS_URL (sentinel mode): the sentinel form needs ?master_name="},
		{name: "prefix braces", set: map[string]string{"REDIS_PREFIX": "a{b}"}, want: "REDIS_PREFIX must be non-empty and must not contain { or }"},
		{name: "wait replicas", set: map[string]string{"REDIS_WAIT_REPLICAS": "-1"}, want: "REDIS_WAIT_REPLICAS must be a whole number, 0 or more"},
		{name: "shards zero", set: map[string]string{"QUEUE_SHARDS": "0"}, want: "QUEUE_SHARDS must be between 1 and 1024"},
		{name: "shards big", set: map[string]string{"QUEUE_SHARDS": "1025"}, want: "QUEUE_SHARDS must be between 1 and 1024"},
		{name: "staff missing", set: map[string]string{"STAFF_CHAT_ID": ""}, want: "STAFF_CHAT_ID is required when BOT_TOKEN is set"},
		{name: "staff not int", set: map[string]string{"STAFF_CHAT_ID": "@staff"}, want: "STAFF_CHAT_ID must be an integer"},
		{name: "admin ids", set: map[string]string{"ADMIN_IDS": "1,two"}, want: "ADMIN_IDS must be comma-separated integers"},
		{name: "rate unpaid", set: map[string]string{"BROADCAST_RATE": "31"}, want: "BROADCAST_RATE above 30 needs BROADCAST_PAID=true"},
		{name: "rate paid max", set: map[string]string{"BROADCAST_RATE": "1001", "BROADCAST_PAID": "true"}, want: "BROADCAST_RATE must be at most 1000"},
		{name: "rate zero", set: map[string]string{"BROADCAST_RATE": "0"}, want: "BROADCAST_RATE must be a whole number of messages per second, 1 or more"},
		{name: "paid", set: map[string]string{"BROADCAST_PAID": "yes"}, want: "BROADCAST_PAID must be true or false"},
		{name: "content dir", set: map[string]string{"CONTENT_DIR": "/nonexistent/content"}, want: `CONTENT_DIR "/nonexistent/content" is not a directory`},
		{name: "tz", set: map[string]string{"TZ": "Mars/Olympus"}, want: `TZ: unknown time zone "Mars/Olympus"`},
		{name: "log level", set: map[string]string{"LOG_LEVEL": "trace"}, want: "LOG_LEVEL must be debug, info, warn or error"},
		{name: "log format", set: map[string]string{"LOG_FORMAT": "logfmt"}, want: "LOG_FORMAT must be json or text"},
		{name: "deadletter", set: map[string]string{"DEADLETTER_AFTER": "0"}, want: "DEADLETTER_AFTER must be a whole number, 1 or more"},
		{name: "max connections", set: map[string]string{"WEBHOOK_MAX_CONNECTIONS": "101"}, want: "WEBHOOK_MAX_CONNECTIONS must be between 1 and 100"},
		{name: "lease ttl", set: map[string]string{"LEASE_TTL": "10ms"}, want: "LEASE_TTL must be a duration between 300ms and 1m"},
		{name: "force polling with webhook", args: []string{"--force-polling"}, want: "--force-polling is for long polling, but WEBHOOK_URL is set"},
		{name: "pprof on every interface", set: map[string]string{"PPROF_ADDR": ":6060"}, want: "PPROF_ADDR must be a loopback host:port, e.g. 127.0.0.1:6060"},
		{name: "pprof public host", set: map[string]string{"PPROF_ADDR": "10.0.0.5:6060"}, want: "PPROF_ADDR must be a loopback host:port, e.g. 127.0.0.1:6060"},
		{name: "pprof no port", set: map[string]string{"PPROF_ADDR": "127.0.0.1"}, want: "PPROF_ADDR must be a loopback host:port, e.g. 127.0.0.1:6060"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := production()
			for k, v := range tt.set {
				e[k] = v
			}
			_, err := loadConfig(tt.args, env(e))
			if err == nil {
				t.Fatalf("loadConfig(%v, %v) succeeded, want %q", tt.args, tt.set, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("loadConfig(%v, %v) error:\n%s\nwant exactly:\n%s", tt.args, tt.set, got, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the Redis password", err)
			}
		})
	}
}

func TestLoadConfigAllProblemsAtOnce(t *testing.T) {
	_, err := loadConfig(nil, env(map[string]string{
		"BOT_TOKEN":    testToken,
		"WEBHOOK_URL":  "http://bot.example:81/hook",
		"QUEUE_SHARDS": "x",
		"LOG_FORMAT":   "xml",
	}))
	want := []string{
		"WEBHOOK_URL must use https",
		"WEBHOOK_URL must use port 443, 80, 88 or 8443",
		"WEBHOOK_URL must end in /telegram/webhook",
		"WEBHOOK_SECRET is required when WEBHOOK_URL is set",
		"REDIS_URL is unset: with a real BOT_TOKEN the embedded store needs --ephemeral",
		"QUEUE_SHARDS must be between 1 and 1024",
		"STAFF_CHAT_ID is required when BOT_TOKEN is set",
		"LOG_FORMAT must be json or text",
	}
	if err == nil {
		t.Fatal("loadConfig succeeded with eight problems")
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestLoadConfigRedisModes(t *testing.T) {
	tests := []struct{ url, mode, want string }{
		{"redis://r:6379/0", "auto", "single"},
		{"redis://r1:6379?addr=r2:6379&addr=r3:6379", "auto", "cluster"},
		{"redis://:sentinelpw@s1:26379?master_name=main&addr=s2:26379&password=masterpw", "auto", "sentinel"},
		{"redis://r1:6379", "cluster", "cluster"},
	}
	for _, tt := range tests {
		e := production()
		e["REDIS_URL"], e["REDIS_MODE"] = tt.url, tt.mode
		c, err := loadConfig(nil, env(e))
		if err != nil {
			t.Errorf("REDIS_URL %s, REDIS_MODE %s: %v", tt.url, tt.mode, err)
			continue
		}
		if got := c.resolvedRedisMode(); got != tt.want {
			t.Errorf("REDIS_URL %s, REDIS_MODE %s: resolved %q, want %q", tt.url, tt.mode, got, tt.want)
		}
	}
}

func TestLoadConfigHelp(t *testing.T) {
	e := production()
	_, err := loadConfig([]string{"-h"}, env(e))
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("loadConfig(-h) = %v, want flag.ErrHelp", err)
	}
	for _, s := range []string{"-bot-token", "$WEBHOOK_SECRET", "-ephemeral"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("usage text lacks %q:\n%s", s, err)
		}
	}
	for _, secret := range []string{"AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "new_secret-2", "hunter2", "admin-token-0123456789"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("usage text shows the secret %q from the environment", secret)
		}
	}
	if _, err := loadConfig([]string{"--no-such-flag"}, env(e)); err == nil || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("loadConfig(--no-such-flag) = %v, want an error naming the flag", err)
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	e := production()
	e["REDIS_URL"] = "redis://user:sentinelpw@s1:26379?master_name=main&password=masterpw"
	c, err := loadConfig(nil, env(e))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	slog.New(slog.NewJSONHandler(&log, nil)).Info("config", "config", c)
	slog.New(slog.NewTextHandler(&log, nil)).Info("config", "config", c)
	printed := strings.Join([]string{
		c.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v", &c), log.String(),
	}, "\n")
	for _, secret := range []string{"AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "new_secret-2", "old_secret-1", "sentinelpw", "masterpw", "admin-token-0123456789"} {
		if strings.Contains(printed, secret) {
			t.Errorf("printed config shows %q:\n%s", secret, printed)
		}
	}
	for _, visible := range []string{"bot_token=123456789:<redacted>", "admin_token=<redacted>", "redis://user:xxxxx@s1:26379", "webhook_url=https://bot.nanta.example/telegram/webhook"} {
		if !strings.Contains(c.String(), visible) {
			t.Errorf("String() lacks %q: %s", visible, c)
		}
	}
}
