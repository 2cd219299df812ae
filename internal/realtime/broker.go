package realtime

import "context"

// Broker allocates each room's seq, keeps each room's recent history, and
// carries events to the hub of every instance.
type Broker interface {
	// Publish gives the event the room's next seq, records it in the
	// room's history and delivers it everywhere, this instance included.
	Publish(ctx context.Context, room, typ string, data []byte) (seq int64, err error)
	// Ephemeral delivers an event without seq or history (typing, presence).
	Ephemeral(ctx context.Context, room, typ string, data []byte) error
	// Control delivers a message to the hub of every instance, this one
	// included, and to no client: no seq, no history. A timeout is retried
	// (a control message may arrive twice; its handling is idempotent).
	Control(ctx context.Context, room, typ string, data []byte) error
	// Since returns the room's events after seq since, in order, and the
	// room's current seq. ok is false when the history no longer reaches
	// back to since+1: the client must resync.
	Since(ctx context.Context, room string, since int64) (events []Event, current int64, ok bool, err error)
	// Purge replaces each event in the room's history that is about the
	// subject with a PurgedType event of the same seq, on every instance,
	// and returns how many it replaced. Events published later are not
	// touched: publish the removal itself after purging.
	Purge(ctx context.Context, room string, about Subject) (n int, err error)
	// Start begins delivering events to deliver, in seq order per room.
	Start(deliver func(Event)) error
	// Stop ends delivery.
	Stop()
}
