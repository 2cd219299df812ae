// Package batch turns many lookups by key into one query: a Loader, made per
// request, collects the keys a response needs (the authors of 50 messages,
// the wallets of a leaderboard page) and fetches them together, remembering
// what it fetched for the rest of the request.
package batch

import (
	"context"
	"sync"
	"time"
)

// Fetch loads the values of keys; keys without a value are simply absent.
type Fetch[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// Loader batches and memoizes lookups for one request.
type Loader[K comparable, V any] struct {
	fetch    Fetch[K, V]
	maxBatch int
	wait     time.Duration

	mu      sync.Mutex
	memo    map[K]V
	known   map[K]bool // fetched, with or without a value
	pending *round[K, V]
	// inflight names the round that fetches each key not yet known, so a
	// caller that comes while that fetch runs waits for it instead of
	// fetching the key again.
	inflight map[K]*round[K, V]
}

type round[K comparable, V any] struct {
	keys    []K
	started bool
	done    chan struct{}
	err     error
}

// New returns a loader; maxBatch caps the keys of one fetch (one SQL IN
// list), wait is how long Load gathers concurrent callers before fetching.
func New[K comparable, V any](fetch Fetch[K, V], maxBatch int, wait time.Duration) *Loader[K, V] {
	if maxBatch <= 0 {
		maxBatch = 500
	}
	if wait <= 0 {
		wait = time.Millisecond
	}
	return &Loader[K, V]{fetch: fetch, maxBatch: maxBatch, wait: wait, memo: map[K]V{}, known: map[K]bool{}, inflight: map[K]*round[K, V]{}}
}

// LoadMany returns the values of keys, fetching the unknown ones in as few
// fetches as maxBatch allows (one, for any list of a sane page size).
func (l *Loader[K, V]) LoadMany(ctx context.Context, keys []K) (map[K]V, error) {
	l.mu.Lock()
	var missing []K
	seen := map[K]bool{}
	for _, k := range keys {
		if !l.known[k] && !seen[k] {
			seen[k] = true
			missing = append(missing, k)
		}
	}
	l.mu.Unlock()
	for start := 0; start < len(missing); start += l.maxBatch {
		chunk := missing[start:min(start+l.maxBatch, len(missing))]
		got, err := l.fetch(ctx, chunk)
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.store(chunk, got)
		l.mu.Unlock()
	}
	out := make(map[K]V, len(keys))
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if v, ok := l.memo[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// store records a fetch's results; l.mu is held.
func (l *Loader[K, V]) store(keys []K, got map[K]V) {
	for _, k := range keys {
		l.known[k] = true
		if v, ok := got[k]; ok {
			l.memo[k] = v
		}
	}
}

// Load returns one value. Callers that ask within the same short window
// (goroutines rendering parts of one response) share a single fetch.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, bool, error) {
	l.mu.Lock()
	if l.known[key] {
		v, ok := l.memo[key]
		l.mu.Unlock()
		return v, ok, nil
	}
	r, full := l.inflight[key], false
	if r == nil {
		if r = l.pending; r == nil {
			r = &round[K, V]{done: make(chan struct{})}
			l.pending = r
			time.AfterFunc(l.wait, func() { l.run(ctx, r) })
		}
		r.keys = append(r.keys, key)
		l.inflight[key] = r
		if full = len(r.keys) >= l.maxBatch; full {
			l.pending = nil
		}
	}
	l.mu.Unlock()
	if full {
		l.run(ctx, r)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
	if r.err != nil {
		var zero V
		return zero, false, r.err
	}
	l.mu.Lock()
	v, ok := l.memo[key]
	l.mu.Unlock()
	return v, ok, nil
}

// run fetches a round once, whichever of the timer or a full batch comes first.
func (l *Loader[K, V]) run(ctx context.Context, r *round[K, V]) {
	l.mu.Lock()
	if l.pending == r {
		l.pending = nil
	}
	if r.started {
		l.mu.Unlock()
		return
	}
	r.started = true
	keys := r.keys
	l.mu.Unlock()
	got, err := l.fetch(ctx, keys)
	l.mu.Lock()
	if err == nil {
		l.store(keys, got)
	}
	for _, k := range keys {
		if l.inflight[k] == r {
			delete(l.inflight, k)
		}
	}
	r.err = err
	l.mu.Unlock()
	close(r.done)
}
