package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRun runs the benchmark briefly, so that it keeps working; the figures mean nothing.
func TestRun(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server on PATH")
	}
	var out bytes.Buffer
	c := config{duration: 200 * time.Millisecond, conns: 4, rounds: 1, redisBin: "redis-server"}
	if err := run(context.Background(), c, &out); err != nil {
		t.Fatalf("run(%+v): %v\n%s", c, err, out.String())
	}
	for _, want := range []string{"bare gin", "intake", "intake/bare:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("run(%+v) printed\n%s\nwant a line with %q", c, out.String(), want)
		}
	}
}
