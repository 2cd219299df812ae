// Package netfault is a TCP forwarder for tests and benchmarks that can
// fail on demand: placed between Plaza and a real MySQL or Redis server, it
// simulates losing that server (Cut: connections reset, nothing listens) or
// the server hanging (Blackhole: connections stay open, nothing answers)
// while Plaza runs.
package netfault

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards connections from Addr to a target.
type Proxy struct {
	t      testing.TB // nil outside tests
	target string
	mu     sync.Mutex
	ln     net.Listener
	addr   string
	conns  []net.Conn
	held   chan struct{} // non-nil while black-holed; closed to release
}

// New starts a proxy to target on a free loopback port; it is cut when the
// test ends.
func New(t testing.TB, target string) *Proxy {
	p, err := Listen(target)
	if err != nil {
		t.Fatal(err)
	}
	p.t = t
	t.Cleanup(p.Cut)
	return p
}

// Listen starts a proxy to target on a free loopback port; the caller
// calls Cut when done.
func Listen(target string) (*Proxy, error) {
	p := &Proxy{target: target}
	return p, p.listen("127.0.0.1:0")
}

// Addr is where clients connect.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

func (p *Proxy) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
	return nil
}

// pipe copies src to dst; while the proxy is black-holed, what it read is
// held back (as a network partition holds TCP segments) and delivered when
// it is released.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			held := p.held
			p.mu.Unlock()
			if held != nil {
				<-held
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Blackhole keeps every connection open, and accepts new ones, but
// delivers nothing in either direction until Release or Cut: the server
// seems to hang, as one that is frozen or partitioned away does.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = make(chan struct{})
	}
}

// Release ends a Blackhole: what was held back is delivered.
func (p *Proxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// Cut closes the listener and every connection: the server is gone.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// Restore listens again on the same address after a Cut.
func (p *Proxy) Restore() {
	if err := p.listen(p.Addr()); err != nil {
		if p.t != nil {
			p.t.Fatal(err)
		}
		panic("netfault: " + err.Error())
	}
}
