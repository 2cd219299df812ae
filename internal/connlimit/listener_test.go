package connlimit

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// accepted is a server that accepts on a guarded listener and keeps every
// connection it gets until the test closes it.
type accepted struct {
	ln    *Listener
	mu    sync.Mutex
	conns []net.Conn
}

func serveGuarded(t *testing.T, cfg Config) *accepted {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &accepted{ln: NewListener(inner, cfg)}
	go func() {
		for {
			c, err := a.ln.Accept()
			if err != nil {
				return
			}
			a.mu.Lock()
			a.conns = append(a.conns, c)
			a.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		a.ln.Close()
		a.mu.Lock()
		for _, c := range a.conns {
			c.Close()
		}
		a.mu.Unlock()
	})
	return a
}

func (a *accepted) take(t *testing.T, n int) []net.Conn {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		if len(a.conns) >= n {
			out := append([]net.Conn(nil), a.conns...)
			a.mu.Unlock()
			return out
		}
		a.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("server accepted fewer than %d connections", n)
	return nil
}

// served dials and waits until the server has accepted n connections in
// all.
func (a *accepted) served(t *testing.T, n int) {
	t.Helper()
	c, err := net.Dial("tcp", a.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	a.take(t, n)
}

// refused dials and checks that the server answers 503 overloaded and
// closes (or resets) the connection without accepting it.
func (a *accepted) refused(t *testing.T) {
	t.Helper()
	c, err := net.Dial("tcp", a.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection past the limit served")
	}
	if err == nil {
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusServiceUnavailable || !bytes.Contains(body, []byte(`"overloaded"`)) || res.Header.Get("Retry-After") == "" {
			t.Fatalf("refusal: %d %s %v", res.StatusCode, body, res.Header)
		}
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("refused connection left open")
		}
	}
}

func TestPerAddrCapRefusesTheExcessAndFreesSlotsOnClose(t *testing.T) {
	var logs bytes.Buffer
	a := serveGuarded(t, Config{PerAddr: 3, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := range 3 {
		a.served(t, i+1)
	}
	for range 3 {
		a.refused(t)
	}
	if st := a.ln.Stats(); st.Open != 3 || st.RefusedPerAddr != 3 {
		t.Fatalf("stats %+v", st)
	}
	if n := strings.Count(logs.String(), "connection cap"); n != 1 {
		t.Fatalf("logged %d times for one episode:\n%s", n, logs.String())
	}
	// The server closing one frees its slot.
	a.take(t, 3)[0].Close()
	a.served(t, 4)
}

func TestExemptAddressesHaveNoPerAddrCap(t *testing.T) {
	a := serveGuarded(t, Config{PerAddr: 2, Exempt: func(a netip.Addr) bool { return a.IsLoopback() }})
	for i := range 6 {
		a.served(t, i+1)
	}
}

// Past Max-Band new connections are restricted; past Max they are refused.
// The episode is logged once, and its end once.
func TestMaxAndPriorityBand(t *testing.T) {
	var logs bytes.Buffer
	a := serveGuarded(t, Config{Max: 10, Band: 4, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := range 10 {
		a.served(t, i+1)
	}
	conns := a.take(t, 10)
	for i, c := range conns {
		want := i >= 6
		if got := Restricted(ConnContext(context.Background(), c)); got != want {
			t.Errorf("connection %d restricted=%v, want %v", i+1, got, want)
		}
	}
	for range 5 {
		a.refused(t)
	}
	st := a.ln.Stats()
	if st.Open != 10 || st.RefusedFull != 5 || st.AcceptedLimited != 4 {
		t.Fatalf("stats %+v", st)
	}
	if n := strings.Count(logs.String(), "near the open-file limit"); n != 1 {
		t.Fatalf("episode start logged %d times:\n%s", n, logs.String())
	}
	for _, c := range conns {
		c.Close()
		c.Close() // a second close frees nothing more
	}
	if st := a.ln.Stats(); st.Open != 0 {
		t.Fatalf("open %d after closing all", st.Open)
	}
	if n := strings.Count(logs.String(), "back under"); n != 1 {
		t.Fatalf("episode end logged %d times:\n%s", n, logs.String())
	}
}

// A connection in the band cannot be held by a client that sends nothing:
// its reads end at BandTimeout even if the server asks for longer.
func TestBandConnectionsMustSendQuickly(t *testing.T) {
	a := serveGuarded(t, Config{Max: 4, Band: 2, BandTimeout: 200 * time.Millisecond})
	for i := range 3 {
		a.served(t, i+1)
	}
	conns := a.take(t, 3)
	plain, band := conns[1], conns[2]
	if !Restricted(ConnContext(context.Background(), band)) || Restricted(ConnContext(context.Background(), plain)) {
		t.Fatal("wrong connections restricted")
	}
	band.SetReadDeadline(time.Now().Add(time.Hour))
	band.SetDeadline(time.Time{})
	start := time.Now()
	_, err := band.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() || time.Since(start) > 2*time.Second {
		t.Fatalf("band read: %v after %v", err, time.Since(start))
	}
	plain.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	start = time.Now()
	plain.Read(make([]byte, 1))
	if time.Since(start) < 250*time.Millisecond {
		t.Fatal("a plain connection's deadline was shortened")
	}
}

func TestBudget(t *testing.T) {
	for _, c := range []struct {
		nofile          uint64
		want            int
		conns, wantBand int
	}{
		{20000, 0, 18976, 512},
		{1024, 0, 922, 46},
		{256, 0, 192, 9},
		{20000, 40, 40, 8},
		{20000, 6, 6, 3},
		{1 << 62, 0, 1<<30 - 1024, 512},
	} {
		conns, band := Budget(c.nofile, c.want)
		if conns != c.conns || band != c.wantBand {
			t.Errorf("Budget(%d, %d) = %d, %d; want %d, %d", c.nofile, c.want, conns, band, c.conns, c.wantBand)
		}
	}
}

func TestFileLimitIsReadable(t *testing.T) {
	n, err := FileLimit()
	if err != nil || n < 64 {
		t.Fatalf("FileLimit() = %d, %v", n, err)
	}
}

// TestAcceptedConnsKeepTheirSocket: a connection from the listener still
// hands out its socket (syscall.Conn), which the realtime writers need to
// write without blocking; behind a wrapper without it every WebSocket
// write took the slow path.
func TestAcceptedConnsKeepTheirSocket(t *testing.T) {
	a := serveGuarded(t, Config{})
	a.served(t, 1)
	sc, ok := a.take(t, 1)[0].(syscall.Conn)
	if !ok {
		t.Fatal("an accepted connection is not a syscall.Conn")
	}
	raw, err := sc.SyscallConn()
	if err != nil || raw == nil {
		t.Fatalf("SyscallConn: %v, %v", raw, err)
	}
	var fd uintptr
	if err := raw.Control(func(f uintptr) { fd = f }); err != nil || fd == 0 {
		t.Fatalf("Control: fd %d, %v", fd, err)
	}
}
