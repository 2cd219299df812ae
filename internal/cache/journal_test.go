package cache

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/plazahq/plaza/internal/redisx/redistest"
)

func TestJournal(t *testing.T) {
	var j journal
	if !j.empty() || j.holds("k", "t") {
		t.Fatal("a new journal holds something")
	}
	j.add("k", []string{"page:1"})
	j.add("t", []string{"user:1", "user:2"})
	for _, c := range []struct {
		key, tag string
		want     bool
	}{
		{"page:1", "", true},
		{"page:2", "user:2", true},
		{"page:2", "user:3", false},
		{"page:2", "", false},
	} {
		if got := j.holds(c.key, c.tag); got != c.want {
			t.Errorf("holds(%q, %q) = %v, want %v", c.key, c.tag, got, c.want)
		}
	}
	if !j.holdsTag([]string{"user:9", "user:1"}) || j.holdsTag([]string{"user:9"}) {
		t.Error("holdsTag")
	}

	// A replay is under way when user:1 is missed again: the replay may
	// have reached Redis before that write, so user:1 stays for the next.
	s := j.snapshot()
	j.add("t", []string{"user:1"})
	j.done(s)
	if j.holds("page:1", "") || j.holds("x", "user:2") || !j.holds("x", "user:1") {
		t.Fatalf("after the replay: keys %v tags %v", j.keys, j.tags)
	}
	j.done(j.snapshot())
	if !j.empty() {
		t.Fatal("not empty after replaying everything")
	}

	// Past maxJournal every read holds off Redis until a new generation.
	for i := range maxJournal + 1 {
		j.add("k", []string{fmt.Sprint("k", i)})
	}
	if !j.overflow || !j.holds("anything", "") || !j.holdsTag([]string{"any"}) {
		t.Fatal("overflow does not hold every read")
	}
	if len(j.keys) != 0 {
		t.Fatalf("overflow kept %d keys", len(j.keys))
	}
}

// Replay against the real Redis: missed invalidations are applied and
// broadcast; too many start a new generation instead.
func TestReplay(t *testing.T) {
	ctx := context.Background()
	rc, prefix := redistest.Open(t)
	c, err := New(ctx, Config{Prefix: prefix}, rc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	load := func(v string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) { return []byte(v), nil }
	}
	c.Get(ctx, Long, "a", "", load("a1"))
	c.Get(ctx, Long, "b", "user:1", load("b1"))
	c.Get(ctx, Long, "c", "user:2", load("c1"))
	c.missed.add("k", []string{"a"})
	c.missed.add("t", []string{"user:1"})
	if err := c.replay(ctx); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"a": false, "b": false, "c": true} {
		tag := map[string]string{"a": "", "b": "user:1", "c": "user:2"}[key]
		if _, ok, err := c.remote.Get(ctx, key, tag); err != nil || ok != want {
			t.Errorf("Redis holds %s: %v (err %v), want %v", key, ok, err, want)
		}
	}
	if !c.missed.empty() || c.replayed.Load() != 2 {
		t.Fatalf("after replay: empty %v, replayed %d", c.missed.empty(), c.replayed.Load())
	}

	gen := c.remote.gen.Load()
	for i := range maxJournal + 1 {
		c.missed.add("k", []string{fmt.Sprint("k", i)})
	}
	if err := c.replay(ctx); err != nil {
		t.Fatal(err)
	}
	if c.remote.gen.Load() == gen || !c.missed.empty() {
		t.Fatalf("overflow: generation %d -> %d, journal empty %v", gen, c.remote.gen.Load(), c.missed.empty())
	}
	if _, ok, _ := c.remote.Get(ctx, "c", "user:2"); ok {
		t.Fatal("the new generation still holds c")
	}
}
