package cache

import (
	"context"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"
)

type memEntry struct {
	tag string
	ver int64
	val []byte
	ttl time.Duration
}

// Memory is the in-process backend: an otter (W-TinyLFU) cache bounded by
// the bytes it holds, with per-entry TTLs.
type Memory struct {
	entries *otter.Cache[string, memEntry]
	tags    *otter.Cache[string, int64]
}

// NewMemory returns a backend holding at most maxBytes of keys and values.
func NewMemory(maxBytes uint64) (*Memory, error) {
	entries, err := otter.New(&otter.Options[string, memEntry]{
		MaximumWeight: maxBytes,
		Weigher: func(k string, e memEntry) uint32 {
			return uint32(min(len(k)+len(e.tag)+len(e.val)+64, 1<<31))
		},
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, memEntry]) time.Duration { return e.Value.ttl }),
	})
	if err != nil {
		return nil, err
	}
	tags, err := otter.New(&otter.Options[string, int64]{
		MaximumSize:      1 << 20,
		ExpiryCalculator: otter.ExpiryWriting[string, int64](tagTTL),
	})
	if err != nil {
		return nil, err
	}
	return &Memory{entries: entries, tags: tags}, nil
}

// Name is "memory".
func (m *Memory) Name() string { return "memory" }

// Get returns a current entry.
func (m *Memory) Get(_ context.Context, key, tag string) ([]byte, bool, error) {
	e, ok := m.entries.GetIfPresent(key)
	if !ok || e.tag != tag {
		return nil, false, nil
	}
	if tag != "" {
		if v, _ := m.tags.GetIfPresent(tag); v != e.ver {
			m.entries.Invalidate(key)
			return nil, false, nil
		}
	}
	return e.val, true, nil
}

// TagVersion returns tag's version.
func (m *Memory) TagVersion(_ context.Context, tag string) (int64, error) {
	v, _ := m.tags.GetIfPresent(tag)
	return v, nil
}

// Set stores an entry.
func (m *Memory) Set(_ context.Context, key, tag string, ver int64, val []byte, ttl time.Duration) error {
	m.entries.Set(key, memEntry{tag: tag, ver: ver, val: val, ttl: ttl})
	return nil
}

// Delete removes keys.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	for _, k := range keys {
		m.entries.Invalidate(k)
	}
	return nil
}

// InvalidateTag moves tag to a new version.
func (m *Memory) InvalidateTag(_ context.Context, tag string) error {
	m.tags.Set(tag, newVersion())
	return nil
}

// DeletePrefix removes every key starting with prefix. It walks the whole
// cache, so it is for operators (admin flush), not for request paths, which
// invalidate by tag.
func (m *Memory) DeletePrefix(_ context.Context, prefix string) (int, error) {
	n := 0
	for k := range m.entries.Keys() {
		if strings.HasPrefix(k, prefix) {
			m.entries.Invalidate(k)
			n++
		}
	}
	return n, nil
}

// Flush removes everything.
func (m *Memory) Flush() {
	m.entries.InvalidateAll()
	m.tags.InvalidateAll()
}

// Len is the number of entries.
func (m *Memory) Len() int { return m.entries.EstimatedSize() }
