package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestProfilerAddr: PPROF_ADDR accepts only loopback addresses, and is off by default.
func TestProfilerAddr(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060"} {
		e := production()
		e["PPROF_ADDR"] = addr
		c, err := loadConfig(nil, env(e))
		if err != nil || c.pprofAddr != addr {
			t.Errorf("PPROF_ADDR=%s: pprofAddr %q, %v", addr, c.pprofAddr, err)
		}
	}
	if c, err := loadConfig(nil, env(production())); err != nil || c.pprofAddr != "" {
		t.Errorf("default pprofAddr %q, %v; want off", c.pprofAddr, err)
	}
}

// TestProfilerServes: the profiler answers on its own listener, refuses a taken address
// with a clear error, and stops with the returned function.
func TestProfilerServes(t *testing.T) {
	ln, stop, err := startProfiler("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + ln + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "bangban") {
		t.Errorf("GET /debug/pprof/cmdline = %d %q; want 200 and this process's command line", resp.StatusCode, body)
	}
	if _, _, err := startProfiler(ln, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "PPROF_ADDR: listen on "+ln) {
		t.Errorf("a second profiler on %s: %v; want a PPROF_ADDR listen error", ln, err)
	}
	stop()
	if _, err := http.Get("http://" + ln + "/debug/pprof/cmdline"); err == nil {
		t.Error("the profiler still answers after stop")
	}
}
