// Package benchproc holds what the benchmark programs share: a throwaway redis-server and
// the CPU time of a process.
package benchproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a redis-server process of this run, on a free loopback port, persisting
// nothing.
type Redis struct {
	cmd     *exec.Cmd
	Addr    string
	URL     string
	Version string
}

// StartRedis starts bin (a redis-server) and waits until it answers.
func StartRedis(bin string) (*Redis, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	rs := &Redis{cmd: cmd, Addr: "127.0.0.1:" + port, URL: "redis://127.0.0.1:" + port + "/0"}
	c := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer c.Close()
	for deadline := time.Now().Add(5 * time.Second); ; {
		info, err := c.Info(context.Background(), "server").Result()
		if err == nil {
			for l := range strings.SplitSeq(info, "\r\n") {
				if v, ok := strings.CutPrefix(l, "redis_version:"); ok {
					rs.Version = v
				}
			}
			return rs, nil
		}
		if time.Now().After(deadline) {
			rs.Stop()
			return nil, fmt.Errorf("redis-server on port %s did not answer: %w", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PID is the server's process id.
func (rs *Redis) PID() int { return rs.cmd.Process.Pid }

// Stop kills the server.
func (rs *Redis) Stop() {
	_ = rs.cmd.Process.Kill()
	_ = rs.cmd.Wait()
}

// CPU returns the user and system CPU time a process has used, from /proc (zero where
// there is no /proc).
func CPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name, which may hold spaces: utime and stime are the 12th
	// and 13th, in clock ticks (100 per second on Linux).
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}
