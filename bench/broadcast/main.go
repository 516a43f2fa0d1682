// Command broadcast benchmarks the broadcast engine (issue 7): the real bangban binary, on
// a redis-server of its own, sends one broadcast over the admin API to -n recipients at
// -rate messages per second (paid mode) against the strict fake Bot API, and reports the
// achieved rate as a percentage of the configured one, the peak sliding second, Redis
// memory per recipient and the sender's CPU per message.
//
//	go run ./bench/broadcast -n 100000 -rate 1000
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/bench/internal/benchproc"
	"github.com/nanta-district/bangban/internal/telegramtest"
)

type config struct {
	n        int
	rate     int
	bin      string
	redisBin string
	timeout  time.Duration
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 100000, "recipients")
	flag.IntVar(&c.rate, "rate", 1000, "BROADCAST_RATE (paid mode)")
	flag.StringVar(&c.bin, "bin", "", "bangban binary (default: built from ./cmd/bangban)")
	flag.StringVar(&c.redisBin, "redis-server", "redis-server", "redis-server binary")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up after")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "broadcast bench:", err)
		os.Exit(1)
	}
}

const (
	token      = "123456:bench-token-not-a-secret-at-all-0123"
	adminToken = "bench-admin"
	staffChat  = -1001234567890
)

// result is what one run measured.
type result struct {
	n, sent          int
	elapsed          time.Duration // first to last call
	peak             int           // most calls in a sliding second
	memCreated       int64         // used_memory growth once the broadcast was created
	memDone          int64         // used_memory growth once it was done
	keyBytes         int64         // MEMORY USAGE of the recipients' keys once done
	botCPU, redisCPU time.Duration
}

func run(ctx context.Context, c config, out io.Writer) error {
	dir, err := os.MkdirTemp("", "bangban-bench-broadcast")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if c.bin == "" {
		c.bin = filepath.Join(dir, "bangban")
		if b, err := exec.Command("go", "build", "-o", c.bin, "./cmd/bangban").CombinedOutput(); err != nil {
			return fmt.Errorf("build bangban: %v\n%s", err, b)
		}
	}
	rs, err := benchproc.StartRedis(c.redisBin)
	if err != nil {
		return err
	}
	defer rs.Stop()
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()

	api := telegramtest.New(telegramtest.WithCallLimit(1000))
	defer api.Close()
	api.AddChat(telegramtest.Chat{ID: staffChat, Type: "supergroup", Title: "staff", BotStatus: "administrator"})
	calls, stopCalls := api.Subscribe()
	defer stopCalls()
	times := make(chan []time.Time, 1)
	go func() {
		var ts []time.Time
		for call := range calls {
			if call.Method == "sendMessage" {
				ts = append(ts, call.Time)
			}
		}
		times <- ts
	}()

	bot, addr, err := startBot(c, rs.URL, api.URL())
	if err != nil {
		return err
	}
	defer func() { _ = bot.Process.Kill(); _ = bot.Wait() }()

	mem0, err := usedMemory(ctx, rdb)
	if err != nil {
		return err
	}
	recipients := make([]int64, c.n)
	for i := range recipients {
		recipients[i] = 5_000_000_000 + int64(i)
	}
	cpu0, rcpu0 := benchproc.CPU(bot.Process.Pid), benchproc.CPU(rs.PID())
	var created struct{ ID string }
	if err := admin(ctx, http.MethodPost, addr, "/api/broadcasts",
		map[string]any{"text": "政策通知: policy notice", "recipients": recipients}, &created); err != nil {
		return err
	}
	memCreated, err := usedMemory(ctx, rdb)
	if err != nil {
		return err
	}
	for {
		var b struct {
			State string
			Sent  int
		}
		if err := admin(ctx, http.MethodGet, addr, "/api/broadcasts/"+created.ID, nil, &b); err != nil {
			return err
		}
		if b.State == "done" {
			break
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return fmt.Errorf("broadcast not done: %w", err)
		}
	}
	r := result{n: c.n, botCPU: benchproc.CPU(bot.Process.Pid) - cpu0, redisCPU: benchproc.CPU(rs.PID()) - rcpu0}
	memDone, err := usedMemory(ctx, rdb)
	if err != nil {
		return err
	}
	r.memCreated, r.memDone = memCreated-mem0, memDone-mem0
	keys, err := rdb.Keys(ctx, "{bangban:b:"+created.ID+"}:*").Result()
	if err != nil {
		return err
	}
	for _, k := range keys {
		n, err := rdb.MemoryUsage(ctx, k, 0).Result()
		if err != nil {
			return err
		}
		r.keyBytes += n
	}
	stopCalls()
	ts := <-times
	r.sent = len(ts)
	if len(ts) > 1 {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		r.elapsed = ts[len(ts)-1].Sub(ts[0])
		r.peak = peakPerSecond(ts)
	}
	report(out, c, rs.Version, r)
	return nil
}

func report(out io.Writer, c config, version string, r result) {
	rate := float64(r.sent-1) / r.elapsed.Seconds()
	fmt.Fprintf(out, "broadcast of %d recipients at BROADCAST_RATE=%d (paid), redis-server %s\n", r.n, c.rate, version)
	fmt.Fprintf(out, "  sent %d in %.1f s: %.1f/s = %.1f%% of the configured rate; peak sliding second %d (bound %d)\n",
		r.sent, r.elapsed.Seconds(), rate, 100*rate/float64(c.rate), r.peak, c.rate+1)
	fmt.Fprintf(out, "  redis memory per recipient: %.1f B created, %.1f B done (used_memory); keys of the broadcast %.1f B (MEMORY USAGE)\n",
		float64(r.memCreated)/float64(r.n), float64(r.memDone)/float64(r.n), float64(r.keyBytes)/float64(r.n))
	fmt.Fprintf(out, "  CPU per message: sender %.3f ms, redis-server %.3f ms\n",
		ms(r.botCPU)/float64(r.n), ms(r.redisCPU)/float64(r.n))
}

// peakPerSecond returns the most calls within any half-open second [t, t+1s) of sorted ts.
func peakPerSecond(ts []time.Time) int {
	peak, j := 0, 0
	for i := range ts {
		for !ts[j].Add(time.Second).After(ts[i]) {
			j++
		}
		peak = max(peak, i-j+1)
	}
	return peak
}

func startBot(c config, redisURL, apiURL string) (*exec.Cmd, string, error) {
	cmd := exec.Command(c.bin)
	cmd.Env = append(os.Environ(), "BOT_TOKEN="+token, "BOT_API_URL="+apiURL,
		"WEBHOOK_URL=https://bot.example.com/telegram/webhook", "WEBHOOK_SECRET=bench-secret",
		"STAFF_CHAT_ID="+strconv.Itoa(staffChat), "REDIS_URL="+redisURL,
		"ADMIN_TOKEN="+adminToken, "BROADCAST_RATE="+strconv.Itoa(c.rate), "BROADCAST_PAID=true", "LOG_LEVEL=warn")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", err
	}
	// With LOG_LEVEL=warn the address is not logged: pick the port here, wait for /readyz.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd.Env = append(cmd.Env, "LISTEN_ADDR="+addr)
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	logs := make(chan string, 1)
	go func() {
		var b bytes.Buffer
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`"level":"(WARN|ERROR)"|^bangban|^[A-Z_]+ `)
		for sc.Scan() {
			if re.Match(sc.Bytes()) && b.Len() < 1<<16 {
				b.Write(sc.Bytes())
				b.WriteByte('\n')
			}
		}
		logs <- b.String()
	}()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, addr, nil
			}
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, "", fmt.Errorf("bangban did not become ready:\n%s", <-logs)
}

func admin(ctx context.Context, method, addr, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for l := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("no used_memory in INFO memory")
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
