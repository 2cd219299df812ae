package realtime

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"sync"
	"time"
)

const memoryShards = 64

// MemoryBroker is the in-process broker: one instance, no Redis.
type MemoryBroker struct {
	history int
	now     func() time.Time
	seed    maphash.Seed
	shards  [memoryShards]struct {
		mu    sync.Mutex
		rooms map[string]*roomLog
	}
	mu      sync.RWMutex
	deliver func(Event)
}

// roomLog is a room's seq and the ring of its last events.
type roomLog struct {
	mu    sync.Mutex
	seq   int64
	ring  []Event
	start int // index of the oldest event in ring
}

// NewMemoryBroker keeps the last history events of each room.
func NewMemoryBroker(history int, now func() time.Time) *MemoryBroker {
	if now == nil {
		now = time.Now
	}
	b := &MemoryBroker{history: history, now: now, seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].rooms = map[string]*roomLog{}
	}
	return b
}

func (b *MemoryBroker) room(name string) *roomLog {
	s := &b.shards[maphash.String(b.seed, name)%memoryShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[name]
	if r == nil {
		r = &roomLog{}
		s.rooms[name] = r
	}
	return r
}

// existing returns a room's log, nil if nothing was ever published or
// observed there: reading a room (every connection reads its user room's
// history on connect) does not give it a log it would keep.
func (b *MemoryBroker) existing(name string) *roomLog {
	s := &b.shards[maphash.String(b.seed, name)%memoryShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[name]
}

// Start sets the delivery function.
func (b *MemoryBroker) Start(deliver func(Event)) error {
	b.mu.Lock()
	b.deliver = deliver
	b.mu.Unlock()
	return nil
}

// Stop stops delivery.
func (b *MemoryBroker) Stop() { b.Start(nil) }

func (b *MemoryBroker) send(e Event) {
	b.mu.RLock()
	d := b.deliver
	b.mu.RUnlock()
	if d != nil {
		d(e)
	}
}

// Publish assigns the next seq and delivers. Delivery happens under the
// room's lock so events reach the hub in seq order; the hub never blocks.
func (b *MemoryBroker) Publish(_ context.Context, room, typ string, data []byte) (int64, error) {
	head, tail := frameParts(room, typ, json.RawMessage(data), b.now())
	r := b.room(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	e := Event{Room: room, Seq: r.seq, Type: typ, Frame: buildFrame(head, r.seq, tail)}
	r.append(e, b.history)
	b.send(e)
	return e.Seq, nil
}

// Observe records an event published elsewhere (another instance, via the
// Redis broker) so that a fallback to this broker continues its seq.
func (b *MemoryBroker) Observe(e Event) {
	r := b.room(e.Room)
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Seq > r.seq {
		r.seq = e.Seq
		r.append(e, b.history)
	}
}

// Seq returns a room's current seq.
func (b *MemoryBroker) Seq(room string) int64 {
	r := b.existing(room)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

func (r *roomLog) append(e Event, max int) {
	if max <= 0 {
		return
	}
	if len(r.ring) < max {
		r.ring = append(r.ring, e)
		return
	}
	r.ring[r.start] = e
	r.start = (r.start + 1) % max
}

// Purge replaces the events of the room's ring that are about the subject
// with tombstones.
func (b *MemoryBroker) Purge(_ context.Context, room string, about Subject) (int, error) {
	return len(b.purge(room, func(e Event) bool { return about.matches(e.Frame) })), nil
}

// purge tombstones the ring's events that match and returns their seqs.
func (b *MemoryBroker) purge(room string, match func(Event) bool) []int64 {
	r := b.room(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	var seqs []int64
	now := b.now()
	for i, e := range r.ring {
		if e.Type != PurgedType && match(e) {
			r.ring[i] = tombstone(room, e.Seq, now)
			seqs = append(seqs, e.Seq)
		}
	}
	return seqs
}

// Ephemeral delivers without seq or history.
func (b *MemoryBroker) Ephemeral(_ context.Context, room, typ string, data []byte) error {
	head, tail := frameParts(room, typ, json.RawMessage(data), b.now())
	b.send(Event{Room: room, Type: typ, Frame: buildFrame(head, 0, tail)})
	return nil
}

// Control delivers a message to this instance's hub.
func (b *MemoryBroker) Control(_ context.Context, room, typ string, data []byte) error {
	b.send(Event{Room: room, Type: typ, Frame: controlFrame(room, typ, data), Control: true})
	return nil
}

// Since returns the events after since from the ring.
func (b *MemoryBroker) Since(_ context.Context, room string, since int64) ([]Event, int64, bool, error) {
	r := b.existing(room)
	if r == nil {
		return nil, 0, true, nil // as a log at seq 0 answers
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if since >= r.seq {
		return nil, r.seq, true, nil
	}
	n := len(r.ring)
	if n == 0 {
		return nil, r.seq, false, nil
	}
	oldest := r.ring[r.start].Seq
	if since+1 < oldest {
		return nil, r.seq, false, nil
	}
	var out []Event
	for i := range n {
		e := r.ring[(r.start+i)%n]
		if e.Seq > since {
			out = append(out, e)
		}
	}
	return out, r.seq, true, nil
}
