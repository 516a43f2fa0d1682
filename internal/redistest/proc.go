package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// errAddrInUse means the server could not bind its port, which another
// process took after freePort found it free.
var errAddrInUse = errors.New("address already in use")

// proc is one redis-server process. Its port and directory stay fixed across
// restarts, so AOF files and a cluster's nodes.conf survive them.
type proc struct {
	bin  string
	dir  string
	conf string   // config file passed first, for sentinels; may be empty
	args []string // arguments after --port, --bind and --dir
	bus  bool     // needs port+10000 free for the cluster bus
	port int
	// release frees the port's reservation once the server is gone for good.
	release func()

	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has exited
}

func (p *proc) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

func (p *proc) logPath() string { return filepath.Join(p.dir, "redis.log") }

// startFree picks a free port and starts the server on it, picking another
// port when a different process took the first one in between.
func (p *proc) startFree() error {
	var err error
	for range 5 {
		if p.port, p.release, err = freePort(p.bus); err != nil {
			return err
		}
		if err = p.start(); !errors.Is(err, errAddrInUse) {
			return err
		}
		p.release()
		p.release = nil
	}
	return err
}

// close kills the server and gives its port back; it is the cleanup of
// every proc.
func (p *proc) close() {
	p.kill()
	if p.release != nil {
		p.release()
	}
}

// start runs the server on p.port and waits until it answers PING.
func (p *proc) start() error {
	if p.running() {
		return fmt.Errorf("redis-server on %s is already running", p.addr())
	}
	logf, err := os.OpenFile(p.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logf.Close()
	// Earlier runs share the log; only this run's lines tell why it failed.
	var logStart int64
	if fi, err := logf.Stat(); err == nil {
		logStart = fi.Size()
	}
	var args []string
	if p.conf != "" {
		args = append(args, p.conf)
	}
	args = append(args, "--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--dir", p.dir)
	args = append(args, p.args...)
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = p.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.bin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	if err := p.waitReady(logStart); err != nil {
		p.kill()
		return err
	}
	return nil
}

// waitReady polls PING until it succeeds, the process exits or startTimeout
// passes. A server still loading its AOF answers LOADING and is waited for.
func (p *proc) waitReady(logStart int64) error {
	c := quickClient(p.addr())
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-p.done:
			if b, err := os.ReadFile(p.logPath()); err == nil && int64(len(b)) >= logStart &&
				bytes.Contains(b[logStart:], []byte("Address already in use")) {
				return fmt.Errorf("redis-server on %s: %w", p.addr(), errAddrInUse)
			}
			return fmt.Errorf("redis-server on %s exited at start\nlog tail (%s):\n%s", p.addr(), p.logPath(), p.logTail())
		default:
		}
		err := p.ping(c)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s not ready after %v: %w\nlog tail (%s):\n%s", p.addr(), startTimeout, err, p.logPath(), p.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping dials first, so that a server not yet listening costs no go-redis
// dial retries and no log line from its pool. A short timeout keeps the
// loop noticing an exited process quickly; a slow answer is just retried.
func (p *proc) ping(c *redis.Client) error {
	conn, err := net.DialTimeout("tcp", p.addr(), 500*time.Millisecond)
	if err != nil {
		return err
	}
	conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	return c.Ping(ctx).Err()
}

// running reports whether the process has been started and not yet exited.
func (p *proc) running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to exit; it does nothing when
// the process is not running, so it is safe as a cleanup.
func (p *proc) kill() {
	if !p.running() {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
}

// stop shuts the server down with SHUTDOWN, which flushes the AOF, and waits
// for the process to exit; after 10 s it kills it and reports an error.
func (p *proc) stop() error {
	if !p.running() {
		return nil
	}
	c := quickClient(p.addr())
	// SHUTDOWN answers only by closing the connection, so its error says
	// nothing; the exit of the process is what counts.
	c.Shutdown(context.Background())
	c.Close()
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		p.kill()
		return fmt.Errorf("redis-server on %s ignored SHUTDOWN for 10s; killed it\nlog tail:\n%s", p.addr(), p.logTail())
	}
}

// logTail returns the last lines of the server's log, for error messages.
func (p *proc) logTail() string {
	b, err := os.ReadFile(p.logPath())
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
