package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nanta-district/bangban/internal/redistest"
	"github.com/nanta-district/bangban/internal/telegramtest"
)

// The end-to-end tests run the real binary against a real redis-server and the strict
// fake Bot API, and drive it as Telegram does: each chat's updates one after another,
// each re-sent until it is answered 200.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bangban-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bangban")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build bangban: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	testSecret = "e2e-secret_1"
	staffChat  = -1001234567890
)

// world is one Redis deployment, one fake Telegram and the bot processes sharing them.
type world struct {
	t *testing.T
	// redis is the server of a single-server world, nil on a cluster or Sentinel.
	redis    *redistest.Server
	cluster  *redistest.ClusterGroup
	sentinel *redistest.SentinelGroup
	url      string
	rdb      redis.UniversalClient
	api      *telegramtest.Server
	prefix   string
}

// Redis deployments the end-to-end suite runs on.
const (
	single   = "single"
	cluster  = "cluster"
	sentinel = "sentinel"
)

var topologies = []string{single, cluster, sentinel}

// forEachTopology runs test as a subtest on every Redis deployment.
func forEachTopology(t *testing.T, test func(t *testing.T, w *world)) {
	for _, topo := range topologies {
		t.Run(topo, func(t *testing.T) { test(t, newWorldOn(t, topo)) })
	}
}

func newWorld(t *testing.T, opts ...redistest.Option) *world {
	t.Helper()
	return newWorldOn(t, single, opts...)
}

func newWorldOn(t *testing.T, topo string, opts ...redistest.Option) *world {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test runs the binary")
	}
	w := &world{t: t, prefix: redistest.Prefix(t)}
	switch topo {
	case single:
		w.redis = redistest.Single(t, opts...)
		w.url, w.rdb = w.redis.URL(), w.redis.Client()
	case cluster:
		w.cluster = redistest.Cluster(t)
		w.url, w.rdb = w.cluster.URL(), w.cluster.Client()
	case sentinel:
		w.sentinel = redistest.Sentinel(t)
		w.url, w.rdb = w.sentinel.URL(), w.sentinel.Client()
	}
	w.api = telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(w.api.Close)
	w.api.AddChat(telegramtest.Chat{ID: staffChat, Type: "supergroup", Title: "staff", IsForum: true,
		BotStatus: "administrator", CanManageTopics: true, CanDeleteMessages: true})
	return w
}

// proc is one running bot process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

// env is the environment of a bot process of this world.
func (w *world) env() []string {
	return append(os.Environ(),
		"BOT_TOKEN="+testToken, "BOT_API_URL="+w.api.URL(),
		"WEBHOOK_URL=https://bot.example.com/telegram/webhook", "WEBHOOK_SECRET="+testSecret,
		"STAFF_CHAT_ID="+fmt.Sprint(staffChat), "REDIS_URL="+w.url, "REDIS_PREFIX="+w.prefix,
		"LISTEN_ADDR=127.0.0.1:0", "QUEUE_SHARDS=8", "LEASE_TTL=1s", "LOG_LEVEL=info", "REDIS_CHECK_SLOTS=true")
}

func (w *world) start(extra ...string) *proc {
	w.t.Helper()
	cmd := exec.Command(binary)
	cmd.Env = append(w.env(), extra...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		re := regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.Write(sc.Bytes())
			p.logs.WriteByte('\n')
			p.mu.Unlock()
			if m := re.FindSubmatch(sc.Bytes()); m != nil {
				addrc <- string(m[1])
			}
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	w.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if w.t.Failed() {
			w.t.Logf("bot %d log:\n%s", cmd.Process.Pid, p.log())
		}
	})
	select {
	case p.addr = <-addrc:
	case <-p.done:
		w.t.Fatalf("bot exited before listening:\n%s", p.log())
	case <-time.After(20 * time.Second):
		w.t.Fatalf("bot did not start listening:\n%s", p.log())
	}
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func (p *proc) signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

var client = &http.Client{Timeout: 5 * time.Second}

func post(addr, secret string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/telegram/webhook", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func message(updateID, chat int64, text string) []byte {
	u := map[string]any{"update_id": updateID, "message": map[string]any{
		"message_id": updateID % 1_000_000, "date": time.Now().Unix(), "text": text,
		"from": map[string]any{"id": chat, "is_bot": false, "first_name": "Li", "language_code": "zh-hans"},
		"chat": map[string]any{"id": chat, "type": "private", "first_name": "Li"},
	}}
	if strings.HasPrefix(text, "/") {
		u["message"].(map[string]any)["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(text)}}
	}
	b, _ := json.Marshal(u)
	return b
}

// targets is the set of bot addresses a simulated Telegram may deliver to.
type targets struct {
	mu    sync.Mutex
	addrs []string
	n     atomic.Uint64
	codes sync.Map // status code -> *atomic.Int64
}

func (tg *targets) set(addrs ...string) {
	tg.mu.Lock()
	tg.addrs = addrs
	tg.mu.Unlock()
}

// deliver posts body until a bot answers 200, like Telegram; it counts every status.
func (tg *targets) deliver(ctx context.Context, body []byte) error {
	for ctx.Err() == nil {
		tg.mu.Lock()
		addr := tg.addrs[int(tg.n.Add(1))%len(tg.addrs)]
		tg.mu.Unlock()
		code, err := post(addr, testSecret, body)
		if err == nil {
			c, _ := tg.codes.LoadOrStore(code, new(atomic.Int64))
			c.(*atomic.Int64).Add(1)
			if code == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ctx.Err()
}

func (tg *targets) count(code int) int64 {
	if c, ok := tg.codes.Load(code); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// script is what each chat sends; every step's reply depends on the state the steps
// before it left, so a lost, doubled or reordered update shows in the replies.
var script = []string{"/lang", "/cancel", "/help", "/cancel"}

// replies returns the text of every message the bot sent to chat, in order.
func (w *world) replies(chat int64) []string { return repliesIn(w.api.Calls(), chat) }

// repliesIn returns the texts of the messages sent to chat among calls, in order.
func repliesIn(calls []telegramtest.Call, chat int64) []string {
	var out []string
	for _, c := range calls {
		if c.ChatID == chat && c.Method == "sendMessage" && c.Status == http.StatusOK {
			out = append(out, c.Params["text"])
		}
	}
	return out
}

// collapse removes adjacent repeats: the re-sends of replies whose first attempt's
// outcome was unknowable.
func collapse(s []string) (out []string, repeats int) {
	for i, v := range s {
		if i > 0 && v == s[i-1] {
			repeats++
			continue
		}
		out = append(out, v)
	}
	return out, repeats
}

// load runs chats, each sending rounds × script through tg, calling midway once half of
// all updates were answered 200. It returns the expected replies of one chat, learned
// from a reference chat run first.
func (w *world) load(tg *targets, chats, rounds int, midway func()) []string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var steps []string
	for range rounds {
		steps = append(steps, script...)
	}
	var id atomic.Int64
	id.Store(time.Now().UnixMilli() % 1_000_000_000)
	ref := int64(9_000_000)
	for _, text := range steps {
		// Count the replies before posting: the bot may answer before deliver returns, and
		// counting afterwards would wait for a reply to an update not yet sent.
		n := len(w.replies(ref))
		if err := tg.deliver(ctx, message(id.Add(1), ref, text)); err != nil {
			w.t.Fatal(err)
		}
		w.waitReplies(ctx, ref, n+1)
	}
	want := w.replies(ref)
	if len(want) != len(steps) {
		w.t.Fatalf("reference chat got %d replies to %d updates", len(want), len(steps))
	}

	total := int64(chats * len(steps))
	var acked atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for c := range chats {
		chat := int64(1_000_000 + c)
		wg.Go(func() {
			for _, text := range steps {
				if err := tg.deliver(ctx, message(id.Add(1), chat, text)); err != nil {
					w.t.Error(err)
					return
				}
				if acked.Add(1) >= total/2 {
					once.Do(midway)
				}
			}
		})
	}
	wg.Wait()
	for c := range chats {
		w.waitInOrder(ctx, int64(1_000_000+c), want)
	}
	return want
}

// inOrder returns how many of want appear in got in order, other replies (re-sends)
// skipped.
func inOrder(got, want []string) int {
	i := 0
	for _, r := range got {
		if i < len(want) && r == want[i] {
			i++
		}
	}
	return i
}

// waitInOrder waits until chat has received every reply of want, in order; counting
// replies alone would stop early when a re-sent reply stands in for a late one.
func (w *world) waitInOrder(ctx context.Context, chat int64, want []string) {
	w.t.Helper()
	err := w.api.WaitFor(ctx, func(calls []telegramtest.Call) bool {
		return inOrder(repliesIn(calls, chat), want) == len(want)
	})
	if err != nil {
		got := w.replies(chat)
		w.t.Fatalf("chat %d: %d of %d replies arrived in order: %v\ngot  %q\nwant %q", chat, inOrder(got, want), len(want), err, got, want)
	}
}

func (w *world) waitReplies(ctx context.Context, chat int64, n int) {
	w.t.Helper()
	err := w.api.WaitFor(ctx, func(calls []telegramtest.Call) bool {
		return len(repliesIn(calls, chat)) >= n
	})
	if err != nil {
		w.t.Fatalf("chat %d: waiting for %d replies, have %d: %v", chat, n, len(w.replies(chat)), err)
	}
}

// check asserts every chat got exactly the reference replies, in order, allowing at most
// maxRepeats re-sends in all.
func (w *world) check(chats int, want []string, maxRepeats int) {
	w.t.Helper()
	time.Sleep(300 * time.Millisecond) // let late duplicates, if any, arrive
	repeats := 0
	for c := range chats {
		chat := int64(1_000_000 + c)
		got, r := collapse(w.replies(chat))
		repeats += r
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			w.t.Errorf("chat %d replies (collapsed) = %d messages, want %d:\ngot  %q\nwant %q", chat, len(got), len(want), got, want)
		}
	}
	if repeats > maxRepeats {
		w.t.Errorf("%d replies were sent twice, want at most %d (only ambiguous attempts)", repeats, maxRepeats)
	}
}

// checkLate is check for a replica frozen mid-send: a call it had started before the
// freeze may reach Telegram when it thaws, after its successor re-sent that reply and went
// on. Every chat's replies must then hold the reference replies in order, and each extra
// one must repeat an earlier reply; at most maxRepeats extras in all.
func (w *world) checkLate(chats int, want []string, maxRepeats int) {
	w.t.Helper()
	time.Sleep(300 * time.Millisecond)
	extra := 0
	for c := range chats {
		chat := int64(1_000_000 + c)
		got := w.replies(chat)
		seen := map[string]bool{}
		i := 0
		for _, r := range got {
			switch {
			case i < len(want) && r == want[i]:
				i++
			case seen[r]:
				extra++
			default:
				w.t.Errorf("chat %d: reply %q out of order\ngot  %q\nwant %q", chat, r, got, want)
			}
			seen[r] = true
		}
		if i != len(want) {
			w.t.Errorf("chat %d: only %d of %d replies arrived in order\ngot  %q\nwant %q", chat, i, len(want), got, want)
		}
	}
	if extra > maxRepeats {
		w.t.Errorf("%d replies were sent twice, want at most %d (the frozen replica's calls in flight)", extra, maxRepeats)
	}
}

func TestKillNineMidLoad(t *testing.T) {
	forEachTopology(t, testKillNineMidLoad)
}

func testKillNineMidLoad(t *testing.T, w *world) {
	p := w.start()
	tg := &targets{}
	tg.set(p.addr)
	const chats = 30
	want := w.load(tg, chats, 3, func() {
		p.kill()
		p = w.start()
		tg.set(p.addr)
	})
	// A kill can interrupt at most the sender's in-flight calls (16 workers).
	w.check(chats, want, 16)
}

func TestTwoReplicasKillOne(t *testing.T) {
	forEachTopology(t, testTwoReplicasKillOne)
}

func testTwoReplicasKillOne(t *testing.T, w *world) {
	a, b := w.start(), w.start()
	tg := &targets{}
	tg.set(a.addr, b.addr)
	const chats = 30
	want := w.load(tg, chats, 3, func() {
		tg.set(b.addr)
		a.kill()
	})
	w.check(chats, want, 16)
}

func TestStalledReplicaCommitsNothing(t *testing.T) {
	forEachTopology(t, testStalledReplicaCommitsNothing)
}

func testStalledReplicaCommitsNothing(t *testing.T, w *world) {
	a, b := w.start(), w.start()
	tg := &targets{}
	tg.set(b.addr)
	const chats = 20
	want := w.load(tg, chats, 3, func() {
		a.signal(syscall.SIGSTOP)
		time.Sleep(2500 * time.Millisecond) // past LEASE_TTL: b takes a's shards
		a.signal(syscall.SIGCONT)
		tg.set(a.addr, b.addr)
	})
	w.checkLate(chats, want, 16)
	if !strings.Contains(a.log(), "shard lease lost") {
		t.Errorf("stalled replica did not notice it lost its leases; log:\n%s", a.log())
	}
}

func TestRedisRestartMidLoad(t *testing.T) {
	w := newWorld(t, redistest.Restartable())
	p := w.start()
	tg := &targets{}
	tg.set(p.addr)
	const chats = 20
	want := w.load(tg, chats, 3, func() {
		w.redis.Stop()
		// Intake must refuse, not accept, while Redis is down. go-redis retries a refused
		// dial with backoff, so the first 503 comes after a few seconds. A chat of its own
		// keeps posting meanwhile, so the check does not depend on the load still running
		// (a fast bot can have taken every other update before Redis went away).
		ctx, cancel := context.WithCancel(context.Background())
		probe := make(chan struct{})
		go func() {
			defer close(probe)
			tg.deliver(ctx, message(time.Now().UnixMilli()%1_000_000_000+5_000_000_000, 8_000_000, "/help"))
		}()
		deadline := time.Now().Add(15 * time.Second)
		for tg.count(http.StatusServiceUnavailable) == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		w.redis.Start()
		<-probe
		cancel()
	})
	if tg.count(http.StatusServiceUnavailable) == 0 {
		t.Error("no 503 was answered while Redis was down")
	}
	w.check(chats, want, 16)
}
