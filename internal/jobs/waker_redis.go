package jobs

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisWaker publishes and hears "new jobs" on one Redis channel, so an
// idle worker on any instance starts a job as soon as it is enqueued.
type RedisWaker struct {
	c       *redis.Client
	channel string
}

// NewRedisWaker uses the channel <prefix>jobs:wake.
func NewRedisWaker(c *redis.Client, prefix string) *RedisWaker {
	return &RedisWaker{c: c, channel: prefix + "jobs:wake"}
}

// Wake tells every instance that jobs are waiting.
func (w *RedisWaker) Wake(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 100*time.Millisecond)
	defer cancel()
	return w.c.Publish(ctx, w.channel, "1").Err()
}

// Listen calls wake for every wake-up until ctx ends. The subscription
// reconnects by itself; meanwhile the workers poll.
func (w *RedisWaker) Listen(ctx context.Context, wake func()) {
	ps := w.c.Subscribe(ctx, w.channel)
	defer ps.Close()
	ch := ps.Channel(redis.WithChannelHealthCheckInterval(5 * time.Second))
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			wake()
		}
	}
}
