//go:build !linux

package redistest

import "os/exec"

// setProcAttr does nothing where the kernel cannot tie a child's life to its
// parent; cleanups still stop the servers of tests that end normally.
func setProcAttr(*exec.Cmd) {}
