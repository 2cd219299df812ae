// Package proccpu reads the CPU time this process has used, for the
// reports that put cost beside latency: plaza loadtest's generator, the
// benchmarks' CPU per operation, wsbench's floors.
package proccpu

import "time"

// Now is the CPU time (user and system) this process has used so far, 0
// where the system does not say; a cost is the difference of two readings.
func Now() time.Duration {
	d, _ := Used()
	return d
}
