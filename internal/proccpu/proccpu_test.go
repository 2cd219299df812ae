//go:build unix

package proccpu_test

import (
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/proccpu"
)

// TestUsedGrowsWithWork fails when the reading does not move with CPU
// work done between two readings (a reader that returns a constant).
func TestUsedGrowsWithWork(t *testing.T) {
	before, ok := proccpu.Used()
	if !ok {
		t.Fatal("Used: not ok on a unix system")
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	x := uint64(1)
	for time.Now().Before(deadline) {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	after := proccpu.Now()
	if got := after - before; got < 20*time.Millisecond {
		t.Fatalf("50 ms of busy work read as %v of CPU (x=%d)", got, x)
	}
}
