package cache

import (
	"context"
	"encoding/json"
)

// Getter is the part of a Cache that GetOverlaid needs; services name it in
// their own narrower Cache interfaces.
type Getter interface {
	Get(ctx context.Context, tier Tier, key, tag string, load func(context.Context) ([]byte, error)) ([]byte, error)
}

// GetOverlaid is a cached list or item shared by every caller with the
// caller's own fields laid over it (their RSVP, their like): the value is
// read from the cache (built by load and stored as JSON on a miss), decoded
// once, and handed to over, which sets the caller's fields (in one query,
// for a list). over nil (an anonymous caller) leaves the value as cached.
// Errors from load and over come back unchanged.
func GetOverlaid[T any](ctx context.Context, c Getter, tier Tier, key, tag string,
	load func(context.Context) (T, error), over func(context.Context, *T) error) (T, error) {
	var v T
	raw, err := c.Get(ctx, tier, key, tag, encoded(load))
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, err
	}
	if over != nil {
		err = over(ctx, &v)
	}
	return v, err
}

// GetOverlaidJSON is GetOverlaid encoded, for a handler that writes the
// bytes: without over, the cached bytes themselves, with no decoding.
func GetOverlaidJSON[T any](ctx context.Context, c Getter, tier Tier, key, tag string,
	load func(context.Context) (T, error), over func(context.Context, *T) error) ([]byte, error) {
	if over == nil {
		return c.Get(ctx, tier, key, tag, encoded(load))
	}
	v, err := GetOverlaid(ctx, c, tier, key, tag, load, over)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func encoded[T any](load func(context.Context) (T, error)) func(context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		v, err := load(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	}
}
