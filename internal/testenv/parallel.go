package testenv

import (
	"sync"
	"testing"
)

// Parallel runs fn(0), ..., fn(n-1) in goroutines released together, so
// they contend as concurrent requests do, waits for all of them and fails
// t on any error.
func Parallel(t testing.TB, n int, fn func(i int) error) {
	t.Helper()
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- fn(i)
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
