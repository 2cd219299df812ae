package realtime

import (
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// A fan-out allocates per event, not per delivery: a connection's outbox
// keeps its array from write to write, and the chunks handed to the
// writers are reused. Garbage made per delivery brought a collection
// every few seconds at 50,000 deliveries a second, and a collection
// slows every delivery it overlaps.
func TestFanoutAllocatesPerEventNotPerDelivery(t *testing.T) {
	const conns, events = 64, 100
	h := NewHub(Config{}, NewMemoryBroker(10, nil), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(h.shutdown)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var read atomic.Int64 // bytes every reader got
	for i := range conns {
		dialed, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dialed.Close() })
		go func() {
			b := make([]byte, 4096)
			for {
				n, err := dialed.Read(b)
				read.Add(int64(n))
				if err != nil {
					return
				}
			}
		}()
		accepted, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { accepted.Close() })
		raw, err := accepted.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		c := &client{hub: h, raw: raw, rooms: map[string]*sub{}}
		c.user.ID = int64(i + 1)
		h.join("chat", c, &sub{})
	}

	frames := make([][]byte, 2*events)
	for i := range frames {
		frames[i] = []byte(`{"op":"event","room":"chat","seq":` + strconv.Itoa(i+1) + `,"type":"shout.created","data":{}}`)
	}
	var want int64
	publish := func(i int) { // one event, then wait until every connection read it
		h.deliver(Event{Room: "chat", Seq: int64(i + 1), Type: "shout.created", Frame: frames[i]})
		want += int64(conns * len(wireFrame(frames[i])))
		for deadline := time.Now().Add(10 * time.Second); read.Load() < want; {
			if time.Now().After(deadline) {
				t.Fatalf("readers got %d of %d bytes", read.Load(), want)
			}
			runtime.Gosched()
		}
	}
	for i := range events { // warm up: outboxes, chunks, goroutines
		publish(i)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := events; i < 2*events; i++ {
		publish(i)
	}
	runtime.ReadMemStats(&after)
	perDelivery := float64(after.Mallocs-before.Mallocs) / (events * conns)
	// An event's own allocations (its framed bytes, its walk) spread over
	// 64 deliveries come to a few hundredths; one per delivery is a leak.
	t.Logf("%.3f allocations per delivery", perDelivery)
	if perDelivery > 0.25 {
		t.Fatalf("%.2f allocations per delivery (%d for %d events to %d connections), want well under 1",
			perDelivery, after.Mallocs-before.Mallocs, events, conns)
	}
}

// The keepalive's sweep lists the connections in the array of the sweep
// before: twice a second, a new list of every connection was garbage.
func TestSweepAllocatesNothing(t *testing.T) {
	h := &Hub{conns: map[*client]struct{}{}, cfg: Config{}}
	h.cfg.defaults()
	for range 100 {
		c := &client{hub: h}
		c.lastSeen.Store(time.Now().UnixNano())
		h.conns[c] = struct{}{}
	}
	var buf []*client
	buf = h.sweep(time.Now(), buf)
	if n := testing.AllocsPerRun(10, func() { buf = h.sweep(time.Now(), buf) }); n != 0 {
		t.Fatalf("a sweep allocated %.0f times, want 0", n)
	}
}
