package cache_test

import (
	"context"
	"errors"
	"testing"

	"github.com/plazahq/plaza/internal/cache"
)

type page struct {
	Items []item `json:"items"`
}

type item struct {
	ID   int64 `json:"id"`
	Mine bool  `json:"mine"`
}

func TestGetOverlaid(t *testing.T) {
	ctx := context.Background()
	c, _ := cache.New(ctx, cache.Config{}, nil, quiet())
	loads := 0
	load := func(context.Context) (page, error) {
		loads++
		return page{Items: []item{{ID: 1}, {ID: 2}}}, nil
	}
	mine := func(id int64) func(context.Context, *page) error {
		return func(_ context.Context, p *page) error {
			for i := range p.Items {
				p.Items[i].Mine = p.Items[i].ID == id
			}
			return nil
		}
	}
	b, err := cache.GetOverlaidJSON(ctx, c, cache.Medium, "k", "t", load, nil)
	if err != nil || string(b) != `{"items":[{"id":1,"mine":false},{"id":2,"mine":false}]}` {
		t.Fatalf("anonymous: %s %v", b, err)
	}
	b, err = cache.GetOverlaidJSON(ctx, c, cache.Medium, "k", "t", load, mine(2))
	if err != nil || string(b) != `{"items":[{"id":1,"mine":false},{"id":2,"mine":true}]}` {
		t.Fatalf("overlaid: %s %v", b, err)
	}
	// The overlay did not reach the shared value.
	p, err := cache.GetOverlaid(ctx, c, cache.Medium, "k", "t", load, mine(1))
	if err != nil || !p.Items[0].Mine || p.Items[1].Mine {
		t.Fatalf("another caller: %+v %v", p, err)
	}
	if b, _ := cache.GetOverlaidJSON(ctx, c, cache.Medium, "k", "t", load, nil); string(b) != `{"items":[{"id":1,"mine":false},{"id":2,"mine":false}]}` {
		t.Fatalf("shared value changed by an overlay: %s", b)
	}
	if loads != 1 {
		t.Fatalf("loaded %d times, want once", loads)
	}
	boom := errors.New("boom")
	if _, err := cache.GetOverlaid(ctx, c, cache.Medium, "k", "t", load, func(context.Context, *page) error { return boom }); err != boom {
		t.Fatalf("overlay error: %v", err)
	}
	if _, err := cache.GetOverlaidJSON(ctx, c, cache.Medium, "k2", "t", func(context.Context) (page, error) { return page{}, boom }, nil); err != boom {
		t.Fatalf("load error: %v", err)
	}
}
