//go:build unix

package connlimit

import "syscall"

// FileLimit raises the soft open-file limit to the hard one (Go does this
// at start on Linux too; other systems may not) and returns it.
func FileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		raised := rl
		raised.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			rl = raised
		}
	}
	return uint64(rl.Cur), nil
}
