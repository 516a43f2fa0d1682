package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPlayground drives the playground page in headless Chromium against the real
// binary in playground mode: a worker scans a point's QR link, registers and checks in by
// tapping buttons, sends a service request; staff answer it in the ticket's topic; the
// answer shows in the worker's chat. Without Chromium it is skipped, unless
// BANGBAN_TEST_REQUIRE_BROWSER=1 (CI) makes that a failure. On failure it saves a
// screenshot of the page in the test's artifact directory (go test -artifacts keeps it).
func TestBrowserPlayground(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test runs the binary and Chromium")
	}
	chrome := chromiumPath()
	if chrome == "" {
		if os.Getenv("BANGBAN_TEST_REQUIRE_BROWSER") == "1" {
			t.Fatal("BANGBAN_TEST_REQUIRE_BROWSER=1 but no chromium on PATH (Debian: apt-get install chromium)")
		}
		t.Skip("no chromium on PATH (Debian: apt-get install chromium); BANGBAN_TEST_REQUIRE_BROWSER=1 makes this a failure")
	}
	url := startPlayground(t)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1100, 800))...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	// The first action starts the browser, which lives as long as the context it ran on:
	// run it on the browser's context, not on a step's shorter one.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, browser)
		}
	})

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	user := func(css string) chromedp.CSS { return chromedp.CSS("#user-pane " + css) }
	staff := func(css string) chromedp.CSS { return chromedp.CSS("#staff-pane " + css) }
	button := func(pane, data string) chromedp.CSS {
		return chromedp.CSS(fmt.Sprintf(`#%s-pane button[data-cb=%q]`, pane, data))
	}
	// having selects the elements matching css whose text contains text.
	having := func(css, text string) chromedp.JSPath {
		return chromedp.JSPath(fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(e => e.textContent.includes(%q))`, css, text))
	}

	start := time.Now()
	do("open the page", chromedp.Navigate(url), chromedp.WaitVisible(user(".composer input.text")))
	do("scan the QR link of point nt-p03",
		chromedp.SendKeys(user("input.scan"), "https://t.me/bangban_bot?start=cp_nt-p03"),
		chromedp.Click(user(".scanbtn")))
	do("agree to the privacy notice", chromedp.Click(button("user", "consent:yes")))
	do("pick a role", chromedp.Click(button("user", "role:rider")))
	do("keep the Telegram name", chromedp.Click(button("user", "reg:tgname")))
	do("share the phone number", chromedp.Click(user(`.replykb button[data-kind="contact"]`)))
	do("see the check-in", chromedp.WaitVisible(chromedp.JSPath(`(() => {
		const msgs = [...document.querySelectorAll("#user-pane .msg")];
		const shared = msgs.findIndex(m => m.querySelector(".contact"));
		return shared < 0 ? [] : msgs.slice(shared + 1).filter(m => m.matches(".in") && m.textContent.includes("签到"));
	})()`)))

	do("ask for a policy in inline mode and open the card it offers",
		chromedp.SetValue(user(".composer input.text"), "@bangban_bot 工伤"), chromedp.Click(user(".composer .send")),
		chromedp.Click(user(".popup button[data-inline]")),
		chromedp.WaitVisible(having("#user-pane .msg.out", "/start pol_")),
		chromedp.WaitVisible(chromedp.JSPath(`(() => {
			const msgs = [...document.querySelectorAll("#user-pane .msg")];
			const asked = msgs.findLastIndex(m => m.matches(".out") && m.textContent.includes("/start pol_"));
			return asked < 0 ? [] : msgs.slice(asked + 1).filter(m => m.matches(".in"));
		})()`)))

	do("send /request from the command menu",
		chromedp.Click(user(".composer .menu")), chromedp.Click(user(`.popup button[data-command="request"]`)))
	do("pick the repair category", chromedp.Click(button("user", "rq:c:repair")))
	const problem, answer = "店门口的路灯坏了 (browser test)", "明天上午派人去修 (browser test)"
	do("describe the problem", chromedp.SetValue(user(".composer input.text"), problem), chromedp.Click(user(".composer .send")),
		chromedp.WaitVisible(having("#user-pane .msg.out", problem)))
	do("submit the request", chromedp.Click(having("#user-pane .replykb button", "✅")))

	do("open the ticket's topic in the staff group",
		chromedp.Click(staff(".topics .chip.topic")),
		chromedp.WaitVisible(having("#staff-pane .msg", problem)))
	do("take the ticket on its card", chromedp.Click(staff(`button[data-cb^="dk:t:"]`)))
	do("answer in the topic", chromedp.SetValue(staff(".composer input.text"), answer), chromedp.Click(staff(".composer .send")))
	do("see the answer in the worker's chat", chromedp.WaitVisible(having("#user-pane .msg.in", answer)))

	do("switch panes on a phone-sized window",
		chromedp.EmulateViewport(390, 800), chromedp.Click(chromedp.CSS(`header .tabs button[data-show="staff"]`)),
		chromedp.WaitVisible(staff(".composer")), chromedp.WaitNotVisible(user(".composer")))
	t.Logf("browser scenario took %v", time.Since(start).Round(time.Millisecond))
}

// chromiumPath returns the Chromium to drive, or "" when there is none.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// startPlayground runs the binary in playground mode (no token, embedded store) and
// returns the page's URL.
func startPlayground(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(binary)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "BOT_TOKEN" && name != "REDIS_URL" && name != "LISTEN_ADDR" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LISTEN_ADDR=127.0.0.1:0", "LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs strings.Builder
	addrc, done := make(chan string, 1), make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		re := regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	log := func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("playground log:\n%s", log())
		}
	})
	select {
	case addr := <-addrc:
		return "http://" + addr + "/"
	case <-done:
		t.Fatalf("playground exited before listening:\n%s", log())
	case <-time.After(20 * time.Second):
		t.Fatalf("playground did not start listening:\n%s", log())
	}
	return ""
}

// screenshot saves the page as it is into the test's artifact directory.
func screenshot(t *testing.T, browser context.Context) {
	ctx, cancel := context.WithTimeout(browser, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	path := filepath.Join(t.ArtifactDir(), "playground.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	t.Logf("screenshot of the page: %s", path)
}
