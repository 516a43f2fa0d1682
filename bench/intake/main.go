// Command intake measures the webhook intake over the network: updates per second and
// latency percentiles at a fixed number of keep-alive connections (Telegram's default
// max_connections is 40), through a real listener, the real gin engine and the real store
// on a redis-server of its own, beside a bare gin handler that does nothing, in the same
// run. Phases alternate (bare, intake, bare, intake…) so that noise from other work on the
// machine falls on both.
//
//	go run ./bench/intake -duration 10s -conns 40
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nanta-district/bangban/bench/internal/benchproc"
	"github.com/nanta-district/bangban/store"
	"github.com/nanta-district/bangban/webhook"
)

// secret is the webhook secret both targets are called with.
const secret = "bench-secret"

// shards is QUEUE_SHARDS' default.
const shards = 64

type config struct {
	duration time.Duration // measured time per phase
	warmup   time.Duration // unmeasured load before each phase
	conns    int
	rounds   int
	redisBin string
	profile  string // CPU profile of the intake phases
}

func main() {
	var c config
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "measured time of each phase")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured load before each phase")
	flag.IntVar(&c.conns, "conns", 40, "concurrent keep-alive connections")
	flag.IntVar(&c.rounds, "rounds", 2, "phases per target, alternating bare and intake")
	flag.StringVar(&c.redisBin, "redis-server", "redis-server", "redis-server binary")
	flag.StringVar(&c.profile, "cpuprofile", "", "write a CPU profile of the intake phases (server and load generator) to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "intake:", err)
		os.Exit(1)
	}
}

// result is what one target did over all its phases.
type result struct {
	name    string
	n       int
	errs    int
	elapsed time.Duration
	lat     []time.Duration
	cpu     time.Duration // redis-server CPU time during the phases
}

func (r result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func run(ctx context.Context, c config, out io.Writer) error {
	if c.conns < 1 || c.rounds < 1 || c.duration <= 0 {
		return errors.New("conns and rounds must be at least 1 and duration positive")
	}
	rs, err := benchproc.StartRedis(c.redisBin)
	if err != nil {
		return err
	}
	defer rs.Stop()
	rdb, blocking, err := store.Dial(rs.URL, "single", shards)
	if err != nil {
		return err
	}
	defer rdb.Close()
	defer blocking.Close()
	st := store.New(rdb, blocking, "bench", shards)

	gin.SetMode(gin.ReleaseMode)
	bare := gin.New()
	bare.POST(webhook.WebhookPath, func(c *gin.Context) { c.Status(http.StatusOK) })
	targets := []struct {
		name string
		h    http.Handler
	}{
		{"bare gin", bare},
		{"intake", webhook.New(webhook.Options{Intake: st, Secrets: []string{secret}})},
	}
	results := make([]result, len(targets))
	urls := make([]string, len(targets))
	for i, t := range targets {
		u, closeSrv, err := listen(t.h)
		if err != nil {
			return err
		}
		defer closeSrv()
		urls[i] = u + webhook.WebhookPath
		results[i].name = t.name
	}

	client := &http.Client{Transport: &http.Transport{
		MaxConnsPerHost: c.conns, MaxIdleConnsPerHost: c.conns, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()
	var prof *os.File
	if c.profile != "" {
		if prof, err = os.Create(c.profile); err != nil {
			return err
		}
		defer prof.Close()
	}
	for range c.rounds {
		for i := range targets {
			if c.warmup > 0 {
				if _, err := load(ctx, client, urls[i], c.conns, c.warmup); err != nil {
					return err
				}
			}
			profiled := prof != nil && targets[i].name == "intake"
			if profiled {
				if err := pprof.StartCPUProfile(prof); err != nil {
					return err
				}
			}
			cpu0 := benchproc.CPU(rs.PID())
			ph, err := load(ctx, client, urls[i], c.conns, c.duration)
			if profiled {
				pprof.StopCPUProfile()
				profiled, prof = false, nil // one profile per file: the first intake phase
			}
			if err != nil {
				return err
			}
			r := &results[i]
			r.cpu += benchproc.CPU(rs.PID()) - cpu0
			r.n += len(ph.lat)
			r.errs += ph.errs
			r.elapsed += ph.elapsed
			r.lat = append(r.lat, ph.lat...)
			// Keep every phase on an equally small Redis: no worker drains the streams here.
			if err := rdb.FlushDB(ctx).Err(); err != nil {
				return fmt.Errorf("flush redis: %w", err)
			}
		}
	}
	report(out, c, rs, results)
	for _, r := range results {
		if r.errs > 0 {
			return fmt.Errorf("%s: %d requests were not answered 200; the figures are not valid", r.name, r.errs)
		}
	}
	return nil
}

func report(out io.Writer, c config, rs *benchproc.Redis, results []result) {
	fmt.Fprintf(out, "intake over HTTP: %d connections, %d × %s per target (alternating), GOMAXPROCS=%d, %d CPUs, %s %s on 127.0.0.1\n",
		c.conns, c.rounds, c.duration, runtime.GOMAXPROCS(0), runtime.NumCPU(), c.redisBin, rs.Version)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tupdates/s\tp50 ms\tp99 ms\terrors\tredis CPU ms/update\t")
	for _, r := range results {
		slices.Sort(r.lat)
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%d\t%.3f\t\n", r.name, r.rate(),
			ms(percentile(r.lat, 50)), ms(percentile(r.lat, 99)), r.errs, ms(r.cpu)/float64(max(r.n, 1)))
	}
	tw.Flush()
	bare, in := results[0], results[1]
	fmt.Fprintf(out, "intake/bare: %.0f%% (target ≥ 60%%)\n", 100*in.rate()/bare.rate())
}

// phase is one measured load on one target.
type phase struct {
	lat     []time.Duration
	errs    int
	elapsed time.Duration
}

// nextUpdate numbers updates across phases and targets, so that none is a duplicate.
var nextUpdate atomic.Int64

// load keeps conns requests in flight against url for d and records each one's latency.
// A request answered with anything but 200 counts as an error.
func load(ctx context.Context, client *http.Client, url string, conns int, d time.Duration) (phase, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu    sync.Mutex
		ph    phase
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range conns {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 4096)
			errs := 0
			var body []byte
			var err error
			for ctx.Err() == nil {
				id := nextUpdate.Add(1)
				body = update(body[:0], id)
				t0 := time.Now()
				var ok bool
				ok, err = post(client, url, body)
				if err != nil {
					break
				}
				if ok {
					lat = append(lat, time.Since(t0))
				} else {
					errs++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			ph.lat = append(ph.lat, lat...)
			ph.errs += errs
			if err != nil && first == nil && ctx.Err() == nil {
				first = err
			}
		})
	}
	wg.Wait()
	ph.elapsed = time.Since(start)
	return ph, first
}

func post(client *http.Client, url string, body []byte) (ok bool, err error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SecretHeader, secret)
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// update appends a private-chat text message update, shaped like Telegram's, to b. Chats
// cycle through 10,000 ids so that every shard gets its share.
func update(b []byte, id int64) []byte {
	chat := strconv.AppendInt(nil, 5_000_000+id%10_000, 10)
	b = append(b, `{"update_id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"message":{"message_id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"from":{"id":`...)
	b = append(b, chat...)
	b = append(b, `,"is_bot":false,"first_name":"User","language_code":"zh-hans"},"chat":{"id":`...)
	b = append(b, chat...)
	b = append(b, `,"first_name":"User","type":"private"},"date":1764480000,"text":"/help","entities":[{"offset":0,"length":5,"type":"bot_command"}]}}`...)
	return b
}

// listen serves h on a loopback port the way cmd/bangban does and returns its base URL.
func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// percentile returns the nearest-rank p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
