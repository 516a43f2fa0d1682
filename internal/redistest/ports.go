package redistest

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Server ports are drawn from 10000-19999 and a cluster node's bus port is
// port+10000, so the two sets never overlap and both stay below the kernel's
// ephemeral range (32768 and up on Linux), where an outgoing connection could
// take a port while its server is down for a restart.
const (
	portLow     = 10000
	portHigh    = 20000
	busOffset   = 10000
	portRetries = 200
)

// freePort returns a port on 127.0.0.1 that nothing listens on now (and,
// with bus, whose cluster bus port is free too), reserved for this process
// until release is called. Another program may still bind it before the
// server does, so callers retry on errAddrInUse.
func freePort(bus bool) (port int, release func(), err error) {
	for range portRetries {
		port := portLow + rand.IntN(portHigh-portLow)
		if !portFree(port) || (bus && !portFree(port+busOffset)) {
			continue
		}
		if release, ok := reserve(port); ok {
			return port, release, nil
		}
	}
	return 0, nil, fmt.Errorf("no free port in %d-%d after %d tries", portLow, portHigh-1, portRetries)
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// reserve claims port with a lock file holding this process's id, so that
// while a test's server is down for a restart no other test, in this binary
// or in another package's running beside it, starts a server on its port.
// A lock file whose process has died is taken over.
func reserve(port int) (release func(), ok bool) {
	dir := filepath.Join(os.TempDir(), "redistest-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, false
	}
	path := filepath.Join(dir, strconv.Itoa(port))
	for range 2 {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			_, werr := f.WriteString(strconv.Itoa(os.Getpid()))
			if cerr := f.Close(); werr != nil || cerr != nil {
				os.Remove(path)
				return nil, false
			}
			return func() { os.Remove(path) }, true
		}
		if !errors.Is(err, fs.ErrExist) || lockHeld(path) {
			return nil, false
		}
		os.Remove(path)
	}
	return nil, false
}

// lockHeld reports whether the process named in the lock file at path is
// alive. A file still being written counts as held.
func lockHeld(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil || pid <= 0 {
		return true
	}
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
