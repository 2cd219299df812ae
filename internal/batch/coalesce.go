package batch

import (
	"context"
	"sync"
)

// Coalescer merges the lookups of concurrent requests (not of one request,
// as Loader does) into shared fetches: while a fetch is under way, the keys
// asked for meanwhile are gathered and fetched together by the next one.
// It remembers nothing, and a caller never joins a fetch that had already
// started when it called, so what Load returns was read after Load began:
// a caller sees every write that finished before it asked. Under no
// concurrency each Load is one fetch of its own key, without waiting.
type Coalescer[K comparable, V any] struct {
	fetch    Fetch[K, V]
	maxBatch int
	parallel int // fetches under way at most

	mu      sync.Mutex
	running int
	// queue holds the crossings still gathering or waiting for a place,
	// oldest first; it is empty while fewer than parallel fetches run.
	queue []*crossing[K, V]
}

// crossing is one fetch shared by the callers that gathered for it.
type crossing[K comparable, V any] struct {
	ctx  context.Context // the first caller's, without its cancellation
	keys []K
	seen map[K]bool
	got  map[K]V
	err  error
	done chan struct{}
}

// NewCoalescer returns a coalescer running at most parallel fetches at once
// (default 1), each of at most maxBatch keys (default 500).
func NewCoalescer[K comparable, V any](fetch Fetch[K, V], maxBatch, parallel int) *Coalescer[K, V] {
	if maxBatch <= 0 {
		maxBatch = 500
	}
	if parallel <= 0 {
		parallel = 1
	}
	return &Coalescer[K, V]{fetch: fetch, maxBatch: maxBatch, parallel: parallel}
}

// Load returns key's value, fetched by a fetch that started after the call.
func (c *Coalescer[K, V]) Load(ctx context.Context, key K) (V, bool, error) {
	c.mu.Lock()
	var x *crossing[K, V]
	if n := len(c.queue); n > 0 && len(c.queue[n-1].keys) < c.maxBatch {
		x = c.queue[n-1]
	} else {
		x = &crossing[K, V]{ctx: context.WithoutCancel(ctx), seen: map[K]bool{}, done: make(chan struct{})}
		c.queue = append(c.queue, x)
	}
	if !x.seen[key] {
		x.seen[key] = true
		x.keys = append(x.keys, key)
	}
	// A place is free only while the queue was empty, so x is the only
	// crossing in it.
	start := c.running < c.parallel
	if start {
		c.running++
		c.queue = c.queue[:0]
	}
	c.mu.Unlock()
	if start {
		go c.run(x) // so that this caller, too, stops waiting when ctx ends
	}
	select {
	case <-x.done:
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
	if x.err != nil {
		var zero V
		return zero, false, x.err
	}
	v, ok := x.got[key]
	return v, ok, nil
}

// run fetches x, then each crossing that gathered meanwhile, oldest first,
// until none waits.
func (c *Coalescer[K, V]) run(x *crossing[K, V]) {
	for x != nil {
		x.got, x.err = c.fetch(x.ctx, x.keys)
		close(x.done)
		c.mu.Lock()
		if len(c.queue) > 0 {
			x = c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
		} else {
			x = nil
			c.running--
		}
		c.mu.Unlock()
	}
}

// Waiting is how many distinct keys are gathered for fetches not yet
// started (for tests and figures).
func (c *Coalescer[K, V]) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, x := range c.queue {
		n += len(x.keys)
	}
	return n
}
