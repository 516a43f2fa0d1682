// Command loadgen is a cheap end-to-end harness for bangban in one process: a minimal fake
// Bot API (plain net/http, reading only chat_id, message_id and callback_query_id) and an
// open-loop load generator. Chats arrive at rate/4 per second; each sends /start, /lang,
// taps English on the picker, then /help, pace after the previous step's first reply, to
// POST /telegram/webhook. Latency of a step is from the start of its POST to the arrival at
// the fake of the bot's first Bot API call for it: the fake counts each chat's calls, and
// the scenario fixes which call is the first reply to which step (see scenario).
//
// It waits for the bot's setWebhook, for -pids-file (name=pid,… whose CPU it reports) and
// for -ready to answer 200, then runs the stages, stopping after the first whose p99
// passes -slo or which has errors, and prints one table row per stage. bench/e2e-cheap.sh
// starts Redis and the bot around it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type config struct {
	api, url, secret, ready, pidsFile, cpuProfile, run, table string
	rates                                                     []int
	stage, pace, slo, timeout, startTimeout                   time.Duration
	header                                                    bool
}

func main() {
	var c config
	var rates string
	flag.StringVar(&c.api, "api", "127.0.0.1:8081", "listen address of the fake Bot API")
	flag.StringVar(&c.url, "url", "http://127.0.0.1:8080/telegram/webhook", "the bot's webhook URL")
	flag.StringVar(&c.secret, "secret", "", "X-Telegram-Bot-Api-Secret-Token")
	flag.StringVar(&c.ready, "ready", "", "URL that must answer 200 before the first stage (the bot's /readyz)")
	flag.StringVar(&c.pidsFile, "pids-file", "", "file holding name=pid,… of the processes whose CPU to report; waited for")
	flag.StringVar(&rates, "rates", "300,600,1000,1500,2000,3000", "offered updates/s per stage")
	flag.DurationVar(&c.stage, "stage", 10*time.Second, "arrivals per stage; the stage ends when its chats finish")
	flag.DurationVar(&c.pace, "pace", 1100*time.Millisecond, "time from a step's first reply to the chat's next step")
	flag.DurationVar(&c.slo, "slo", 100*time.Millisecond, "stop after the first stage whose p99 exceeds this")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long a step waits for its first reply")
	flag.DurationVar(&c.startTimeout, "start-timeout", time.Minute, "how long to wait for the bot to start")
	flag.StringVar(&c.run, "run", "1", "label of the run in the table")
	flag.BoolVar(&c.header, "header", true, "print the table header")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile here")
	flag.StringVar(&c.table, "table", "", "also write the table rows to this file")
	flag.Parse()
	for r := range strings.SplitSeq(rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			fatalf("bad rate %q", r)
		}
		c.rates = append(c.rates, n)
	}
	if err := run(c); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(1)
}

func run(c config) error {
	nchats := 16
	for _, r := range c.rates {
		nchats += int(float64(r)/float64(len(scenario))*c.stage.Seconds()) + 2
	}
	// Chat ids vary between runs so that a reused Redis would show up as odd replies.
	base := 5_000_000 + time.Now().Unix()%1000*100_000
	f := newFakeAPI(base, nchats)
	ln, err := net.Listen("tcp", c.api)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	deadline := time.Now().Add(c.startTimeout)
	select {
	case <-f.hooked:
	case <-time.After(time.Until(deadline)):
		return fmt.Errorf("the bot did not call setWebhook within %s", c.startTimeout)
	}
	pids, err := readPids(c.pidsFile, deadline)
	if err != nil {
		return err
	}
	if c.ready != "" {
		if err := waitReady(c.ready, deadline); err != nil {
			return err
		}
	}
	time.Sleep(500 * time.Millisecond) // let the shard workers settle

	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second,
		DisableCompression: true}
	g := &gen{f: f, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: c.url,
		pace: c.pace, timeout: c.timeout}
	if c.secret != "" {
		g.secret = []string{c.secret}
	}
	g.msgID.Store(1)

	if c.cpuProfile != "" {
		pf, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}

	out := io.Writer(os.Stdout)
	if c.table != "" {
		tf, err := os.Create(c.table)
		if err != nil {
			return err
		}
		defer tf.Close()
		out = io.MultiWriter(os.Stdout, tf)
	}
	if c.header {
		fmt.Fprintln(out, "| run | offered/s | achieved/s | updates | p50 ms | p99 ms | max ms | errors | API calls/upd | bot CPU-ms/upd | Redis | harness | bot peak RSS |")
		fmt.Fprintln(out, "|----:|------:|------:|------:|------:|------:|------:|----:|----:|-----:|-----:|-----:|------:|")
	}
	var all int
	for _, rate := range c.rates {
		st, err := g.stage(rate, c.stage)
		if err != nil {
			return err
		}
		lats := st.lats
		slices.Sort(lats)
		n := len(lats)
		upd := float64(max(n, 1))
		all += n
		cpu := func(name string) string {
			d, ok := st.cpu[name]
			if !ok {
				return "—"
			}
			return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000/upd)
		}
		rss := "—"
		if p, ok := pids["bot"]; ok {
			rss = fmt.Sprintf("%d MiB", peakRSS(p)>>20)
		}
		fmt.Fprintf(out, "| %s | %d | %.0f | %d | %.1f | %s | %.1f | %d | %.2f | %s | %s | %s | %s |\n",
			c.run, rate, float64(st.posted)/c.stage.Seconds(), n, ms(pct(lats, 50)), p99Cell(pct(lats, 99), c.slo),
			ms(pct(lats, 100)), st.errors(), float64(st.calls)/upd, cpu("bot"), cpu("redis"), cpu("harness"), rss)
		if st.firstErr != "" {
			fmt.Fprintf(os.Stderr, "# run %s, %d/s: %d post errors, %d without reply, %d without button; first: %s\n",
				c.run, rate, st.postErrs, st.noReply, st.noButton, st.firstErr)
		}
		if st.errors() > 0 || pct(lats, 99) > c.slo {
			break
		}
	}
	var calls []string
	for m, n := range f.counts() {
		calls = append(calls, fmt.Sprintf("%s=%d", m, n))
	}
	slices.Sort(calls)
	fmt.Fprintf(os.Stderr, "# run %s: %d updates, Bot API calls %s, calls for unknown chats %d\n",
		c.run, all, strings.Join(calls, " "), f.foreign.Load())
	return nil
}

// stageResult is a stage's stats plus what it cost.
type stageResult struct {
	*stageStats
	calls int64                    // Bot API calls during the stage
	cpu   map[string]time.Duration // CPU per process during the stage
}

var procs map[string]int // name → pid, from -pids-file

// stage offers rate updates/s for d (chats arrive at rate/4 per second) and returns when
// every chat that arrived has finished.
func (g *gen) stage(rate int, d time.Duration) (stageResult, error) {
	st := &stageStats{lats: make([]time.Duration, 0, int(float64(rate)*d.Seconds())+8)}
	interval := time.Duration(float64(time.Second) * float64(len(scenario)) / float64(rate))
	cpu0 := cpuNow()
	calls0 := g.f.total()
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; ; i++ {
		at := t0.Add(time.Duration(i) * interval)
		if at.Sub(t0) >= d {
			break
		}
		time.Sleep(time.Until(at))
		if err := g.start(st, &wg); err != nil {
			wg.Wait()
			return stageResult{}, err
		}
	}
	wg.Wait()
	cpu1 := cpuNow()
	r := stageResult{stageStats: st, calls: g.f.total() - calls0, cpu: map[string]time.Duration{}}
	for name, v := range cpu1 {
		r.cpu[name] = v - cpu0[name]
	}
	return r, nil
}

// cpuNow returns the CPU time (user + system) used so far by each process of -pids-file
// and by this one ("harness").
func cpuNow() map[string]time.Duration {
	m := map[string]time.Duration{}
	for name, pid := range procs {
		if t, ok := procCPU(pid); ok {
			m[name] = t
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m["harness"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return m
}

// procCPU reads utime + stime of pid from /proc (in clock ticks of 10 ms).
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, false
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond, true
}

// peakRSS returns VmHWM of pid in bytes.
func peakRSS(pid int) int64 {
	fh, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// readPids waits for path (name=pid,…) to exist and sets procs from it.
func readPids(path string, deadline time.Time) (map[string]int, error) {
	procs = map[string]int{}
	if path == "" {
		return procs, nil
	}
	for {
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), "\n") {
			for kv := range strings.SplitSeq(strings.TrimSpace(string(b)), ",") {
				name, p, ok := strings.Cut(kv, "=")
				pid, err := strconv.Atoi(p)
				if !ok || err != nil {
					return nil, fmt.Errorf("%s: bad entry %q", path, kv)
				}
				procs[name] = pid
			}
			return procs, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s did not appear", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitReady(url string, deadline time.Time) error {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if err == nil && resp.StatusCode == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready", url)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pct returns the p-th percentile of sorted d (nearest rank).
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(p/100*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// p99Cell shows a p99 over the SLO in bold.
func p99Cell(d, slo time.Duration) string {
	if d > slo {
		return fmt.Sprintf("**%.1f**", ms(d))
	}
	return fmt.Sprintf("%.1f", ms(d))
}
