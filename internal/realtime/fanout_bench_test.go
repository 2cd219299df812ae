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
func BenchmarkFanoutCPU(b *testing.B) {
	const conns = 500
	broker := realtime.NewMemoryBroker(1000, nil)
	hub := realtime.NewHub(realtime.Config{SendQueue: 4096}, broker, allowAll{}, quiet())
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
	for i := range b.N {
		broker.Publish(ctx, "chat", "message.created", payload)
		if i%10 == 9 {
			time.Sleep(2 * time.Millisecond) // ~a few hundred msg/s, not one burst
		}
	}
	want := int64(b.N) * conns
	deadline := time.Now().Add(2 * time.Minute)
	for got.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	if got.Load() < want {
		b.Fatalf("delivered %d of %d", got.Load(), want)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(want), "cpu-µs/delivery")
	b.ReportMetric(0, "ns/op")
	_ = fmt.Sprint()
}
