package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/queue"
)

func TestWebhookContract(t *testing.T) {
	w := newWorld(t, redistest.Restartable())
	p := w.start()
	ok := message(501, 77, "/start")
	tests := []struct {
		name   string
		secret string
		body   []byte
		want   int
	}{
		{"wrong secret", "nope", ok, http.StatusUnauthorized},
		{"no secret", "", ok, http.StatusUnauthorized},
		{"over 1 MiB", testSecret, append([]byte(`{"update_id":1,"x":"`), bytes.Repeat([]byte("a"), 1<<20)...), http.StatusRequestEntityTooLarge},
		{"not JSON", testSecret, []byte("update_id=1"), http.StatusBadRequest},
		{"no update_id", testSecret, []byte(`{"message":{}}`), http.StatusBadRequest},
		{"string update_id", testSecret, []byte(`{"update_id":"1"}`), http.StatusBadRequest},
		{"first delivery", testSecret, ok, http.StatusOK},
		{"duplicate", testSecret, ok, http.StatusOK},
		{"no chat (inline query)", testSecret, []byte(`{"update_id":502,"inline_query":{"id":"1","from":{"id":77,"is_bot":false,"first_name":"Li"},"query":"社保","offset":""}}`), http.StatusOK},
	}
	for _, tt := range tests {
		got, err := post(p.addr, tt.secret, tt.body)
		if err != nil || got != tt.want {
			t.Errorf("%s: POST = %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
	// The duplicate had no effect of its own: one welcome and one privacy notice.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w.waitReplies(ctx, 77, 2)
	time.Sleep(300 * time.Millisecond)
	if n := len(w.replies(77)); n != 2 {
		t.Errorf("chat 77 got %d replies to a /start delivered twice, want 2 (welcome, privacy notice)", n)
	}

	resp, err := client.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`bangban_updates_received_total{source="webhook"} 2`, `bangban_updates_duplicate_total 1`,
		`bangban_updates_rejected_total{reason="secret"} 2`, `bangban_updates_rejected_total{reason="too_large"} 1`,
		`bangban_sends_total{method="sendMessage",outcome="ok"}`, `bangban_shards_held 8`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	w.redis.Stop()
	if got, err := post(p.addr, testSecret, message(503, 77, "/help")); err != nil || got != http.StatusServiceUnavailable {
		t.Errorf("with Redis down: POST = %d, %v; want 503", got, err)
	}
	if code := getStatus(t, "http://"+p.addr+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("with Redis down: /readyz = %d, want 503", code)
	}
	if code := getStatus(t, "http://"+p.addr+"/healthz"); code != http.StatusOK {
		t.Errorf("with Redis down: /healthz = %d, want 200", code)
	}
	w.redis.Start()
	if err := (&targets{addrs: []string{p.addr}}).deliver(ctx, message(503, 77, "/help")); err != nil {
		t.Fatal(err)
	}
	w.waitReplies(ctx, 77, 2)
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestWebhookRegisteredAtStart(t *testing.T) {
	w := newWorld(t)
	w.start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.api.Wait(ctx, "setWebhook", 1); err != nil {
		t.Fatalf("setWebhook was not called: %v", err)
	}
	hook := w.api.Webhook()
	if hook.URL != "https://bot.example.com/telegram/webhook" || hook.SecretToken != testSecret || hook.MaxConnections != 40 {
		t.Errorf("webhook = %+v, want our URL, secret and max_connections 40", hook)
	}
	if strings.Join(hook.AllowedUpdates, ",") != "message,callback_query,inline_query,my_chat_member" {
		t.Errorf("allowed_updates = %v, want every kind the bot handles", hook.AllowedUpdates)
	}
	// The workers' menu in private chats, the staff commands in the staff chat only.
	staffScope := fmt.Sprintf(`{"type":"chat","chat_id":%d}`, staffChat)
	for _, lang := range []string{"zh", "en", ""} {
		if cmds := w.api.Commands(`{"type":"all_private_chats"}`, lang); !bytes.Contains(cmds, []byte(`"checkin"`)) {
			t.Errorf("private commands for %q = %s, want the workers' menu", lang, cmds)
		}
		if cmds := w.api.Commands(staffScope, lang); !bytes.Contains(cmds, []byte(`"stats"`)) || bytes.Contains(cmds, []byte(`"checkin"`)) {
			t.Errorf("staff chat commands for %q = %s, want the staff menu", lang, cmds)
		}
	}
}

func TestGracefulShutdownReleasesLeases(t *testing.T) {
	forEachTopology(t, testGracefulShutdownReleasesLeases)
}

func testGracefulShutdownReleasesLeases(t *testing.T, w *world) {
	p := w.start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := (&targets{addrs: []string{p.addr}}).deliver(ctx, message(601, 88, "/start")); err != nil {
		t.Fatal(err)
	}
	w.waitReplies(ctx, 88, 1)
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("bot did not stop within 10 s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	for shard := range 8 {
		key := "{" + w.prefix + ":s0" + string(rune('0'+shard)) + "}:lease"
		if n, err := w.rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
			t.Errorf("lease %s still held after shutdown (%v)", key, err)
		}
	}
}

func TestLongPolling(t *testing.T) {
	forEachTopology(t, testLongPolling)
}

func testLongPolling(t *testing.T, w *world) {
	if _, err := w.api.PushUpdate(message(701, 99, "/start")); err != nil {
		t.Fatal(err)
	}
	p := w.start("WEBHOOK_URL=", "WEBHOOK_SECRET=")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	w.waitReplies(ctx, 99, 1)
	if _, err := w.api.PushUpdate(message(702, 99, "/help")); err != nil {
		t.Fatal(err)
	}
	w.waitReplies(ctx, 99, 2)
	for w.api.PendingUpdates() != 0 {
		if ctx.Err() != nil {
			t.Fatalf("pending updates at Telegram = %d, want 0 (confirmed by the next offset)", w.api.PendingUpdates())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(p.log(), "webhook registered") {
		t.Error("a polling bot registered a webhook")
	}
	// The stored offset moves past what was queued, so a restart does not re-queue it.
	off, err := w.rdb.Get(ctx, "{"+w.prefix+":g}:poller:offset").Int64()
	if err != nil || off != 703 {
		t.Errorf("stored poll offset = %d, %v; want 703", off, err)
	}
}

func TestPollingRefusedWhileWebhookSet(t *testing.T) {
	w := newWorld(t)
	w.start() // registers the webhook
	cmd := exec.Command(binary)
	cmd.Env = append(w.env(), "WEBHOOK_URL=", "WEBHOOK_SECRET=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("bangban polled while a webhook was set; output:\n%s", out)
	}
	if !strings.Contains(string(out), "refusing to long-poll") || !strings.Contains(string(out), "--force-polling") {
		t.Errorf("output does not explain the refusal and the way out:\n%s", out)
	}
	if w.api.Webhook().URL == "" {
		t.Error("the refused start deleted the webhook")
	}
}

func TestDeadLetterCommands(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rdb := w.rdb
	// A dead letter as the worker leaves it: shard 0's dead-letter stream.
	id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "{" + w.prefix + ":s00}:dead", Values: []any{
		"sid", "1-0", "u", "42", "c", "7", "k", string(queue.KindTelegram), "r", `{"update_id":42}`, "err", "boom", "n", "5",
	}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(binary, append([]string{"deadletters"}, args...)...)
		cmd.Env = w.env()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("list")
	if err != nil || !strings.Contains(out, "0."+id) || !strings.Contains(out, "boom") {
		t.Errorf("deadletters list = %q, %v; want the letter", out, err)
	}
	out, err = run("show", "0."+id)
	var shown map[string]any
	if err != nil || json.Unmarshal([]byte(out), &shown) != nil || shown["update_id"] != float64(42) {
		t.Errorf("deadletters show = %q, %v", out, err)
	}
	if out, err := run("replay", "0."+id); err != nil {
		t.Errorf("deadletters replay = %q, %v", out, err)
	}
	if n, _ := rdb.XLen(ctx, "{"+w.prefix+":s00}:q").Result(); n != 1 {
		t.Errorf("after replay the shard stream has %d entries, want 1", n)
	}
	if out, err := run("drop", "0."+id); err == nil || !strings.Contains(out, "not found") {
		t.Errorf("drop of a replayed letter = %q, %v; want a not-found error", out, err)
	}
}
