//go:build !unix

package loadtest

import "time"

// ownCPU is not read on this system: the report leaves the generator's
// cost out.
func ownCPU() (time.Duration, bool) { return 0, false }
