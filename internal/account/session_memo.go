package account

import (
	"bytes"
	"encoding/json"
	"sync"
)

// sessionMemo keeps the decoded form of cached session entries, so a warm
// request compares the cached bytes with the ones it decoded last time
// instead of decoding JSON again (which had been most of a signed-in
// read's cost over an anonymous one). The bytes stay the source of truth:
// an entry is used only while the cache returns exactly the bytes it was
// decoded from, so invalidation, expiry and other instances' writes work
// as before. It holds at most sessionMemoMax entries; past that it starts
// again empty (a full reset is cheaper than tracking recency, and costs
// each active session one decode).
type sessionMemo struct {
	mu sync.RWMutex
	m  map[string]*sessionMemoEntry
}

type sessionMemoEntry struct {
	raw []byte
	cs  cachedSession
}

const sessionMemoMax = 100_000

func (m *sessionMemo) decode(key string, raw []byte) (cachedSession, error) {
	m.mu.RLock()
	e := m.m[key]
	m.mu.RUnlock()
	if e != nil && bytes.Equal(e.raw, raw) {
		return e.cs, nil
	}
	var cs cachedSession
	if err := json.Unmarshal(raw, &cs); err != nil {
		return cs, err
	}
	e = &sessionMemoEntry{raw: bytes.Clone(raw), cs: cs}
	m.mu.Lock()
	if m.m == nil || len(m.m) >= sessionMemoMax {
		m.m = make(map[string]*sessionMemoEntry)
	}
	m.m[key] = e
	m.mu.Unlock()
	return cs, nil
}
