//go:build !unix

package connlimit

import "errors"

// FileLimit is unknown on this system.
func FileLimit() (uint64, error) {
	return 0, errors.New("the open-file limit is not readable on this system")
}
