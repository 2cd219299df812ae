//go:build unix

package proccpu

import (
	"syscall"
	"time"
)

// Used is the CPU time (user and system) this process has used so far,
// from getrusage; ok is false when the call fails.
func Used() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
