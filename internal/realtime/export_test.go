package realtime

import (
	"context"
	"time"
)

// ParseFrameForTest exposes the decoder of frames read back from Redis.
func ParseFrameForTest(b []byte) (room string, seq int64, typ string, ok bool) {
	e, ok := parseFrame(b)
	return e.Room, e.Seq, e.Type, ok
}

// PublishAsForTest publishes under a given publication id, as a retry does.
func (b *RedisBroker) PublishAsForTest(ctx context.Context, room, typ string, data []byte, id string) (int64, error) {
	return b.publish(ctx, room, typ, data, id)
}

// HoldWritesForTest stops the writes to user's connections until release
// is called: frames queue in their outboxes meanwhile.
// A connection still writing (the join's reply, on a busy machine) is
// waited for, up to a few seconds, so that every one of them is held.
func (h *Hub) HoldWritesForTest(user int64) (release func()) {
	var held []*client
	for _, c := range h.snapshot() {
		if c.user.ID != user {
			continue
		}
		for deadline := time.Now().Add(5 * time.Second); ; {
			c.outMu.Lock()
			idle := !c.writing
			if idle { // no writer will start until release
				c.writing = true
				held = append(held, c)
			}
			c.outMu.Unlock()
			if idle || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	return func() { h.dispatch(held) }
}

// LocalSinceForTest reads the copy of the history this instance keeps for
// a Redis outage.
func (b *RedisBroker) LocalSinceForTest(room string, since int64) ([]Event, int64, bool) {
	evs, cur, ok, _ := b.local.Since(context.Background(), room, since)
	return evs, cur, ok
}

// SetOnlineClockForTest replaces the clock that ages the broker's online
// memo; call it before the broker is used.
func (b *RedisBroker) SetOnlineClockForTest(now func() time.Time) { b.online.now = now }

// OnlineTTLForTest is how long an online list is answered from memory.
const OnlineTTLForTest = onlineTTL
