package realtime_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/realtime"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/redis/go-redis/v9"
)

// presenceReads counts the presence reads (ZRANGE) a client sends.
type presenceReads struct{ n atomic.Int64 }

func (h *presenceReads) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *presenceReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "zrange" {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *presenceReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// countedClient is a second client to the test Redis whose presence reads
// are counted.
func countedClient(t *testing.T, rc *redis.Client) (*redis.Client, *presenceReads) {
	c := redis.NewClient(rc.Options())
	t.Cleanup(func() { c.Close() })
	reads := &presenceReads{}
	c.AddHook(reads)
	return c, reads
}

// A burst of subscribes to one room reads its shared presence from Redis
// once per onlineTTL, not once each: reading a room costs Redis O(members),
// so n arrivals would cost O(n²).
func TestOnlineIsReadOncePerTTL(t *testing.T) {
	rc, prefix := redistest.Open(t)
	ctx := context.Background()
	a := realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet())
	bc, reads := countedClient(t, rc)
	b := realtime.NewRedisBroker(bc, prefix, 50, time.Hour, quiet())
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	b.SetOnlineClockForTest(func() time.Time { return time.Unix(0, clock.Load()) })

	room := "chat"
	if err := a.Present(ctx, room, "a", []int64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := b.Present(ctx, room, "b", []int64{2, 3}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids, n, err := b.Online(ctx, room, 100)
			slices.Sort(ids)
			if err != nil || n != 3 || !slices.Equal(ids, []int64{1, 2, 3}) {
				errs <- fmt.Sprintf("Online = %v, %d, %v; want [1 2 3], 3", ids, n, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if got := reads.n.Load(); got != 1 {
		t.Fatalf("50 concurrent Online calls read Redis %d times, want 1", got)
	}

	// Within the TTL a user arriving on the other instance is not read yet.
	if err := a.Present(ctx, room, "a", []int64{4}); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := b.Online(ctx, room, 100); n != 3 || reads.n.Load() != 1 {
		t.Fatalf("within the TTL: %d online after %d reads, want 3 after 1", n, reads.n.Load())
	}
	// Fewer ids than kept: cut, the count whole.
	if ids, n, _ := b.Online(ctx, room, 1); len(ids) != 1 || n != 3 {
		t.Fatalf("Online(max 1) = %v, %d", ids, n)
	}
	if ids, n, _ := b.Online(ctx, room, 0); len(ids) != 0 || n != 3 {
		t.Fatalf("Online(max 0) = %v, %d", ids, n)
	}
	// Once it has passed, the next call reads again.
	clock.Add(int64(realtime.OnlineTTLForTest))
	ids, n, err := b.Online(ctx, room, 100)
	slices.Sort(ids)
	if err != nil || n != 4 || !slices.Equal(ids, []int64{1, 2, 3, 4}) || reads.n.Load() != 2 {
		t.Fatalf("after the TTL: %v, %d, %v after %d reads; want [1 2 3 4], 4 after 2", ids, n, err, reads.n.Load())
	}
	// A room not asked about before is read at once.
	if err := a.Present(ctx, "channel:9", "a", []int64{7}); err != nil {
		t.Fatal(err)
	}
	if ids, n, _ := b.Online(ctx, "channel:9", 100); n != 1 || !slices.Equal(ids, []int64{7}) || reads.n.Load() != 3 {
		t.Fatalf("another room: %v, %d after %d reads", ids, n, reads.n.Load())
	}
}

// A subscribe to the user's own room (made for every connection) answers
// without an online list, so it does not read shared presence at all.
func TestOwnRoomSubscribeReadsNoPresence(t *testing.T) {
	rc, prefix := redistest.Open(t)
	bc, reads := countedClient(t, rc)
	h := realtime.NewHub(realtime.Config{}, realtime.NewRedisBroker(bc, prefix, 50, time.Hour, quiet()), allowAll{}, quiet())
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Serve(w, r, realtime.Identity{User: account.User{ID: 5}})
	}))
	t.Cleanup(srv.Close)
	c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// subscribed sends a subscribe to room and reads until n subscribed
	// frames for it have arrived.
	subscribed := func(room string, n int) {
		t.Helper()
		c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"subscribe","room":"`+room+`"}`))
		for n > 0 {
			_, msg, err := c.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(msg), `"op":"subscribed","room":"`+room+`"`) {
				n--
			}
		}
	}
	// Entered at connect, and answered again: both answers are in once
	// the connect's entry has finished.
	subscribed("user:5", 2)
	if n := reads.n.Load(); n != 0 {
		t.Fatalf("entering the own room read presence %d times", n)
	}
	subscribed("live-stream", 1)
	if n := reads.n.Load(); n != 1 {
		t.Fatalf("a shared room's subscribe read presence %d times, want 1", n)
	}
}
