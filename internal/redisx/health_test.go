package redisx_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/redisx"
	"github.com/plazahq/plaza/internal/redisx/redistest"
)

func TestHealth(t *testing.T) {
	h := redisx.NewHealth()
	if !h.Up() {
		t.Fatal("a new Health is down")
	}
	if down, _ := h.Down(); down {
		t.Fatal("Down while up")
	}
	if !h.Fail(errors.New("first")) {
		t.Fatal("the first failure did not take Redis down")
	}
	if h.Fail(errors.New("second")) {
		t.Fatal("a second failure reported taking Redis down again")
	}
	if down, msg := h.Down(); !down || msg != "second" {
		t.Fatalf("Down = %v %q", down, msg)
	}

	// Watch marks Redis up only once recovery succeeds.
	rc, _ := redistest.Open(t)
	var calls atomic.Int32
	var between atomic.Value // what Down said when recovery ran again
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		h.Watch(stop, rc, time.Second, func(context.Context) error {
			if calls.Add(1) == 1 {
				return errors.New("not caught up")
			}
			down, msg := h.Down()
			between.Store([2]any{down, msg})
			return nil
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !h.Up() {
		if time.Now().After(deadline) {
			t.Fatal("Watch never marked Redis up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("recover ran %d times, want 2", n)
	}
	if got := between.Load(); got != ([2]any{true, "not caught up"}) {
		t.Fatalf("after a failed recovery: Down = %v", got)
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return when stopped")
	}
}
