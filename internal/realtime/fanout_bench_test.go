package realtime_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/realtime"
)

// BenchmarkFanoutCPU publishes events into one room of 500 real WebSocket
// connections (clients in this process, reading as they come) and reports
// the process's CPU time per delivery (server and clients: the clients'
// share is the same whatever the server does, so the ratio between two
// builds is a floor on the server's own). Uses only the public API, so
// the same file runs against an older build:
//
//	go test ./internal/realtime -run '^$' -bench FanoutCPU -benchtime 400x -count 3
func BenchmarkFanoutCPU(b *testing.B) { fanoutCPU(b, 500, 10) }

// BenchmarkFanoutCPUSaturated is the saturated case: one room of 1,000
// connections, events published back to back (the writers fall behind, so
// a connection's frames go out several to a write). Besides CPU per
// delivery it reports deliveries per second of wall time.
//
//	go test ./internal/realtime -run '^$' -bench FanoutCPUSaturated -benchtime 200x -count 3
func BenchmarkFanoutCPUSaturated(b *testing.B) { fanoutCPU(b, 1000, 0) }

// fanoutCPU publishes b.N events into one room of conns connections,
// pausing 2 ms after every burst events (0: no pause).
func fanoutCPU(b *testing.B, conns, burst int) {
	broker := realtime.NewMemoryBroker(1000, nil)
	hub := realtime.NewHub(realtime.Config{SendQueue: 1 << 16, MaxConns: 2 * conns}, broker, allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	var next atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, realtime.Identity{User: account.User{ID: next.Add(1)}})
	}))
	defer srv.Close()
	var got atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range conns {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		c.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe","room":"chat"}`))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, m, err := c.Read(ctx)
				if err != nil {
					return
				}
				if strings.Contains(string(m), `"message.created"`) {
					got.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	payload := []byte(`{"id":1,"channelId":1,"body":"` + strings.Repeat("hello ", 30) + `","author":{"id":7,"username":"someone","displayName":"Some One","avatarUrl":"","level":3},"reactions":[]}`)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		broker.Publish(ctx, "chat", "message.created", payload)
		if burst > 0 && i%burst == burst-1 {
			time.Sleep(2 * time.Millisecond) // ~a few hundred msg/s, not one burst
		}
	}
	want := int64(b.N) * int64(conns)
	deadline := time.Now().Add(2 * time.Minute)
	for got.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	wall := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	if got.Load() < want {
		b.Fatalf("delivered %d of %d", got.Load(), want)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(want), "cpu-µs/delivery")
	if burst == 0 {
		b.ReportMetric(float64(want)/wall.Seconds(), "deliveries/s")
	}
	b.ReportMetric(0, "ns/op")
	_ = fmt.Sprint()
}

// BenchmarkFanoutChatCPU is the chat shape of the 10,000-user step on a
// small scale: 20 rooms of 100 connections; each "post" is a typing event
// in a room and, 5 ms later, the message itself, posts spread over the
// rooms at a few hundred a second. It reports the process's CPU time per
// frame delivered (typing and messages; server and clients) and socket
// writes per frame (from Stats, when the build counts them).
//
//	go test ./internal/realtime -run '^$' -bench FanoutChatCPU -benchtime 300x -count 3
func BenchmarkFanoutChatCPU(b *testing.B) {
	const rooms, per = 20, 100
	broker := realtime.NewMemoryBroker(1000, nil)
	hub := realtime.NewHub(realtime.Config{SendQueue: 1 << 12, MaxConns: 2 * rooms * per}, broker, allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	var next atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, realtime.Identity{User: account.User{ID: next.Add(1)}})
	}))
	defer srv.Close()
	var frames atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range rooms * per {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		c.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"op":"subscribe","room":"channel:%d"}`, i%rooms+1)))
		go func() {
			for {
				_, m, err := c.Read(ctx)
				if err != nil {
					return
				}
				if strings.Contains(string(m), `"op":"event"`) {
					frames.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	payload := []byte(`{"id":1,"channelId":1,"body":"` + strings.Repeat("hello ", 30) + `","author":{"id":7,"username":"someone","displayName":"Some One","avatarUrl":"","level":3},"reactions":[]}`)
	var ru0, ru1 syscall.Rusage
	frames.Store(0)
	w0 := hub.Stats().Writes
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	var posts sync.WaitGroup
	for i := range b.N {
		room := fmt.Sprintf("channel:%d", i%rooms+1)
		broker.Ephemeral(ctx, room, "typing", []byte(fmt.Sprintf(`{"userId":%d}`, i)))
		posts.Add(1)
		time.AfterFunc(5*time.Millisecond, func() {
			defer posts.Done()
			broker.Publish(ctx, room, "message.created", payload)
		})
		time.Sleep(3 * time.Millisecond)
	}
	posts.Wait()
	want := int64(b.N) * 2 * per
	deadline := time.Now().Add(2 * time.Minute)
	for frames.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	if frames.Load() < want {
		b.Fatalf("delivered %d of %d frames", frames.Load(), want)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(want), "cpu-µs/frame")
	b.ReportMetric(float64(hub.Stats().Writes-w0)/float64(want), "writes/frame")
	b.ReportMetric(0, "ns/op")
}
