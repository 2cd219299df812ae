// Package connlimit guards the accept loop: it caps the connections one
// client address may hold, keeps the connections of the whole process under
// its open-file limit, and marks connections accepted close to that limit so
// the transport can serve only the requests that must get through (health
// checks, admins) on them.
package connlimit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Config tunes a Listener. Zero values switch a limit off.
type Config struct {
	// Max is the number of open connections past which a new one is
	// refused right after accept.
	Max int
	// Band is the top part of Max kept for priority requests: a connection
	// accepted while Max-Band or more are open is marked restricted.
	Band int
	// BandTimeout is how long a connection accepted in the band may take to
	// send its request: the band must not be held by slow senders. Zero:
	// 5s.
	BandTimeout time.Duration
	// PerAddr caps the open connections of one client address.
	PerAddr int
	// Exempt reports addresses PerAddr does not apply to (loopback, trusted
	// proxies: every client behind them shares their address).
	Exempt func(netip.Addr) bool
	Log    *slog.Logger
}

// Stats are the listener's counters.
type Stats struct {
	Open            int
	Max             int
	RefusedFull     int64 // past Max
	RefusedPerAddr  int64 // past PerAddr
	AcceptedLimited int64 // accepted in the priority band
}

// Listener wraps a net.Listener with the limits of Config.
type Listener struct {
	net.Listener
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	open     int
	byAddr   map[netip.Addr]*addrState
	shedding bool // an overload episode is running (logged once)
	episode  int64
	stats    Stats
}

type addrState struct {
	open    int
	refused bool // refused since its count was last zero (logged once)
}

// NewListener wraps inner.
func NewListener(inner net.Listener, cfg Config) *Listener {
	if cfg.Band > cfg.Max/2 {
		cfg.Band = cfg.Max / 2
	}
	if cfg.BandTimeout <= 0 {
		cfg.BandTimeout = 5 * time.Second
	}
	if cfg.Exempt == nil {
		cfg.Exempt = func(netip.Addr) bool { return false }
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: inner, cfg: cfg, log: log, byAddr: map[netip.Addr]*addrState{}}
}

// refusal is what a refused client reads before the connection closes: a
// complete HTTP response in Plaza's error format, written without reading
// the request so that refusing costs next to nothing.
func refusal(msg string) []byte {
	body := `{"error":{"code":"overloaded","message":"` + msg + `"}}` + "\n"
	return []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n" +
		"Retry-After: 5\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

var (
	refuseFull    = refusal("the server is at its connection limit; retry shortly")
	refusePerAddr = refusal("too many connections from your address; close some and retry")
)

// Accept returns the next connection within the limits; the ones past a
// limit are answered 503 and closed here.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := peerAddr(c)
		gc, why := l.admit(c, addr)
		if gc != nil {
			return gc, nil
		}
		// A fresh socket's send buffer is empty, so this write does not
		// wait; the deadline is a guard, not a pause.
		c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		c.Write(why)
		c.Close()
	}
}

func (l *Listener) admit(c net.Conn, addr netip.Addr) (*conn, []byte) {
	l.mu.Lock()
	var logFull, logAddr bool
	defer func() {
		open := l.open
		l.mu.Unlock()
		if logFull {
			l.log.Warn("connections near the open-file limit: new ones are served only for /api/health and admins, or refused",
				"open", open, "max", l.cfg.Max, "priorityBand", l.cfg.Band)
		}
		if logAddr {
			l.log.Warn("client address at its connection cap; further connections refused until its count drops",
				"addr", addr.String(), "cap", l.cfg.PerAddr)
		}
	}()
	if l.cfg.Max > 0 && l.open >= l.cfg.Max {
		l.stats.RefusedFull++
		l.episode++
		logFull = !l.shedding
		l.shedding = true
		return nil, refuseFull
	}
	st := l.byAddr[addr]
	if l.cfg.PerAddr > 0 && addr.IsValid() && !l.cfg.Exempt(addr) && st != nil && st.open >= l.cfg.PerAddr {
		l.stats.RefusedPerAddr++
		logAddr = !st.refused
		st.refused = true
		return nil, refusePerAddr
	}
	if st == nil {
		st = &addrState{}
		l.byAddr[addr] = st
	}
	st.open++
	l.open++
	gc := &conn{Conn: c, l: l, addr: addr}
	if l.cfg.Max > 0 && l.open > l.cfg.Max-l.cfg.Band {
		gc.restricted = true
		gc.readBy = time.Now().Add(l.cfg.BandTimeout)
		c.SetReadDeadline(gc.readBy)
		l.stats.AcceptedLimited++
		l.episode++
		logFull = !l.shedding
		l.shedding = true
	}
	return gc, nil
}

func (l *Listener) release(c *conn) {
	l.mu.Lock()
	l.open--
	if st := l.byAddr[c.addr]; st != nil {
		if st.open--; st.open <= 0 {
			delete(l.byAddr, c.addr)
		}
	}
	// End the episode with some hysteresis, so a count hovering at the
	// mark does not log on every connection.
	var ended int64
	if l.shedding && l.open < (l.cfg.Max-l.cfg.Band)*9/10 {
		l.shedding = false
		ended, l.episode = l.episode, 0
	}
	open := l.open
	l.mu.Unlock()
	if ended > 0 {
		l.log.Info("connections back under the open-file limit", "open", open, "refusedOrRestricted", ended)
	}
}

// Stats returns the counters.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Open, s.Max = l.open, l.cfg.Max
	return s
}

func peerAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		a, _ := netip.AddrFromSlice(ta.IP)
		return a.Unmap()
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// conn gives its slot back when closed, once, whoever closes it (the HTTP
// server, or a WebSocket that hijacked it).
type conn struct {
	net.Conn
	l          *Listener
	addr       netip.Addr
	restricted bool
	readBy     time.Time // restricted: no read deadline later than this
	once       sync.Once
}

func (c *conn) clamp(t time.Time) time.Time {
	if c.restricted && (t.IsZero() || t.After(c.readBy)) {
		return c.readBy
	}
	return t
}

// SetReadDeadline and SetDeadline keep a restricted connection's reads
// within its band timeout, whatever the HTTP server asks for.
func (c *conn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clamp(t)) }

func (c *conn) SetDeadline(t time.Time) error {
	if !c.restricted {
		return c.Conn.SetDeadline(t)
	}
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(c.clamp(t))
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}

// CloseWrite keeps the HTTP server's graceful close (half-close, then wait).
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// SyscallConn hands the socket to code that writes it without blocking
// (the realtime writers); without it every WebSocket behind this listener
// would take the slow, goroutine-per-write path.
func (c *conn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// ReadFrom keeps sendfile for files served from disk.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

type restrictedKey struct{}

// ConnContext is for http.Server.ConnContext: it records in each request's
// context whether its connection was accepted in the priority band.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if gc, ok := c.(*conn); ok && gc.restricted {
		return context.WithValue(ctx, restrictedKey{}, true)
	}
	return ctx
}

// Restricted reports whether the request's connection was accepted in the
// priority band: only priority requests should be served on it.
func Restricted(ctx context.Context) bool {
	v, _ := ctx.Value(restrictedKey{}).(bool)
	return v
}
