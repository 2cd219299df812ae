package account

import (
	"encoding/json"
	"hash/maphash"
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
//
// An entry keeps a 64-bit hash of its bytes, not a copy: every signed-in
// WebSocket holds a session here, and the copy was a tenth of an idle
// connection's heap. The hash is seeded at random per process, so no one
// can choose bytes that collide with another version of a session; two
// versions colliding by chance is a 2^-64 event per request.
type sessionMemo struct {
	mu sync.RWMutex
	m  map[string]*sessionMemoEntry
}

type sessionMemoEntry struct {
	sum uint64 // maphash of the bytes cs was decoded from
	cs  cachedSession
}

var sessionMemoSeed = maphash.MakeSeed()

const sessionMemoMax = 100_000

func (m *sessionMemo) decode(key string, raw []byte) (cachedSession, error) {
	m.mu.RLock()
	e := m.m[key]
	m.mu.RUnlock()
	sum := maphash.Bytes(sessionMemoSeed, raw)
	if e != nil && e.sum == sum {
		return e.cs, nil
	}
	var cs cachedSession
	if err := json.Unmarshal(raw, &cs); err != nil {
		return cs, err
	}
	e = &sessionMemoEntry{sum: sum, cs: cs}
	m.mu.Lock()
	if m.m == nil || len(m.m) >= sessionMemoMax {
		m.m = make(map[string]*sessionMemoEntry)
	}
	m.m[key] = e
	m.mu.Unlock()
	return cs, nil
}
