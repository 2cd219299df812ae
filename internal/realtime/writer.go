package realtime

import (
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// Writing frames to a connection.
//
// A room's event is framed once (wireFrame) and the framed bytes are
// shared by every subscriber. A connection's frames wait in its outbox;
// when the outbox goes from empty to not empty the connection is "ready",
// and a fan-out hands all the connections it made ready to the hub's
// writers in a few slices (one channel send per writeChunk connections,
// not a goroutine or a task per delivery). A writer takes a connection's
// whole outbox and writes it in one non-blocking write: one syscall for
// the batch. A socket whose kernel buffer is full (a slow reader) does not
// hold the writer up: what it did not take goes to a goroutine of that
// connection's own, which waits on the socket and keeps writing the
// outbox until it is empty. Frames keep their order: one outbox, and one
// writer at a time per connection (c.writing). Every frame the server
// writes goes through the outbox, pongs, pings and close frames included,
// so nothing can fall into a batch a writer left half written.
//
// An ephemeral event's frame (typing, presence: no seq, no history) does
// not make a connection ready. It waits in the outbox for the
// connection's next write, whatever makes it, and otherwise for the
// hub's writeLater, at most EphemeralDelay after it was queued: on a
// busy instance most go out in a write that was happening anyway, and
// those that do not share one timer and one hand-off to the writers.

// wireFrame returns payload framed as an unmasked, final WebSocket text
// frame, as a server sends it (RFC 6455 5.2).
func wireFrame(payload []byte) []byte { return frameOf(0x1, payload) }

// frameOf frames payload as an unmasked, final frame with opcode op.
func frameOf(op byte, payload []byte) []byte {
	n := len(payload)
	var b []byte
	switch {
	case n < 126:
		b = make([]byte, 2, 2+n)
		b[1] = byte(n)
	case n < 1<<16:
		b = make([]byte, 4, 4+n)
		b[1] = 126
		binary.BigEndian.PutUint16(b[2:], uint16(n))
	default:
		b = make([]byte, 10, 10+n)
		b[1] = 127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
	}
	b[0] = 0x80 | op // FIN
	return append(b, payload...)
}

// pingFrame is the keepalive's ping, the same bytes for every connection.
var pingFrame = frameOf(0x9, nil)

// batchBuf holds a batch of frames copied into one buffer for one write.
var batchBuf = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBatch: larger buffers are left to the collector, so one burst
// does not keep its memory.
const maxPooledBatch = 256 << 10

// writeChunk is how many ready connections one hand-off to the writers
// carries.
const writeChunk = 128

// freeChunks is how many written chunks the hub keeps for reuse (64 KB).
const freeChunks = 64

// readyList collects the connections a fan-out made ready and hands them
// to the writers a full chunk at a time (flush hands over the rest). Nil:
// start each writer at once.
type readyList struct {
	h  *Hub
	cs []*client // the chunk being filled; the writers' once handed over
}

func (l *readyList) add(c *client) {
	if l.cs == nil {
		l.cs = l.h.chunk()
	}
	l.cs = append(l.cs, c)
	if len(l.cs) == writeChunk {
		l.flush()
	}
}

// flush hands what was collected to the writers.
func (l *readyList) flush() {
	if len(l.cs) > 0 {
		l.h.dispatch(l.cs)
	}
	l.cs = nil
}

// enqueue adds a framed message to the outbox and, if no writer has the
// connection, makes it ready: into ready when a fan-out is collecting,
// else handed to the writers at once. Data frames' callers hold c.mu (so
// one connection's frames are queued in order) and have counted the frame
// in c.queued.
func (c *client) enqueue(wire []byte, ready *readyList) {
	c.outMu.Lock()
	c.out = append(c.out, wire)
	start := !c.writing
	c.writing = true
	c.outMu.Unlock()
	if !start {
		return
	}
	if ready != nil {
		ready.add(c)
		return
	}
	c.hub.dispatch([]*client{c})
}

// enqueueLater adds a frame that can wait (writeWire) to the outbox. If no
// writer has the connection and it is not listed yet, it is listed for
// the hub's next writeLater.
func (c *client) enqueueLater(wire []byte) {
	c.outMu.Lock()
	c.out = append(c.out, wire)
	list := !c.writing && !c.listed
	if list {
		c.listed = true
	}
	c.outMu.Unlock()
	if list {
		c.hub.writeLaterFor(c)
	}
}

// writeLaterFor lists c for writeLater, arming it when c is the first.
func (h *Hub) writeLaterFor(c *client) {
	h.laterMu.Lock()
	h.later = append(h.later, c)
	first := len(h.later) == 1
	h.laterMu.Unlock()
	if first {
		time.AfterFunc(h.cfg.EphemeralDelay, h.writeLater)
	}
}

// writeLater hands the listed connections whose frames are still waiting
// (no write took them meanwhile) to the writers.
func (h *Hub) writeLater() {
	h.laterMu.Lock()
	cs := h.later
	h.later = nil
	h.laterMu.Unlock()
	ready := cs[:0]
	for _, c := range cs {
		c.outMu.Lock()
		c.listed = false
		start := !c.writing && len(c.out) > 0
		if start {
			c.writing = true
		}
		c.outMu.Unlock()
		if start {
			ready = append(ready, c)
		}
	}
	h.dispatch(ready)
}

// writeControl queues a control frame (ping, pong): not counted against
// the send queue, and dropped once the connection is closing.
func (c *client) writeControl(frame []byte) {
	if c.closed.Load() {
		return
	}
	c.queued.Add(1)
	c.enqueue(frame, nil)
}

// ping queues the keepalive's ping, which can wait like an ephemeral
// frame: the idle timeout is far longer than EphemeralDelay.
func (c *client) ping() {
	if c.closed.Load() {
		return
	}
	c.queued.Add(1)
	if c.hub.cfg.EphemeralDelay > 0 {
		c.enqueueLater(pingFrame)
		return
	}
	c.enqueue(pingFrame, nil)
}

// dispatch hands ready connections to the writers (in chunks of
// writeChunk); when they are all busy, or gone, a goroutine writes the
// chunk instead, so a fan-out never waits on a socket. The writers own
// cs from then on: its array may carry a later fan-out's chunk.
func (h *Hub) dispatch(cs []*client) {
	for len(cs) > 0 {
		n := min(len(cs), writeChunk)
		chunk := cs[:n]
		cs = cs[n:]
		select {
		case h.ready <- chunk:
		default:
			go func() {
				w := newNBWriter(h)
				w.writeAll(chunk)
			}()
		}
	}
}

// chunk returns an empty chunk for a fan-out to fill: one the writers
// are done with when there is one, so a fan-out allocates none.
func (h *Hub) chunk() []*client {
	select {
	case cs := <-h.free:
		return cs
	default:
		return make([]*client, 0, writeChunk)
	}
}

// recycle keeps a written chunk for the next fan-out (h.chunk).
func (h *Hub) recycle(cs []*client) {
	if cap(cs) != writeChunk {
		return // not a fan-out's: left to the collector
	}
	clear(cs)
	select {
	case h.free <- cs[:0]:
	default:
	}
}

// runWriter is one of the hub's writers.
func (h *Hub) runWriter() {
	defer h.wg.Done()
	w := newNBWriter(h)
	for {
		select {
		case cs := <-h.ready:
			w.writeAll(cs)
		case <-h.stop:
			for { // what was handed over before the stop is still written
				select {
				case cs := <-h.ready:
					w.writeAll(cs)
				default:
					return
				}
			}
		}
	}
}

// writers is how many goroutines write for a hub: enough that one core's
// share is never idle while another is in a syscall.
func writers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// writeAll writes the outboxes of a chunk of ready connections, then
// counts its writes and hands the chunk back for reuse.
func (w *nbWriter) writeAll(cs []*client) {
	for _, c := range cs {
		c.flushReady(w)
	}
	// Counted once a chunk: one shared counter bumped by every write of
	// every writer was a cache line passed between the cores per delivery.
	w.h.writes.Add(w.writes)
	w.writes = 0
	w.h.recycle(cs)
}

// takeOut takes the outbox, leaving the previous batch's slice (cleared)
// in its place so queueing does not allocate. An empty outbox ends the
// writer's turn (c.writing false), or starts the close frame kick asked
// for; the batch just written stays as the outbox, so the connection's
// next frame is queued without allocating either (a fan-out of one frame
// per connection made a slice per delivery).
func (c *client) takeOut(prev [][]byte) [][]byte {
	clear(prev)
	if cap(prev) > 64 {
		prev = nil
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	batch := c.out
	if len(batch) == 0 {
		if c.out == nil {
			c.out = prev[:0]
		}
		c.writing = false
		if c.closeCode != 0 && !c.closeSent {
			c.closeSent = true
			c.writing = true // the close below is this writer's last write
			go c.writeCloseFrame()
		}
		return nil
	}
	c.out = prev[:0]
	return batch
}

// flushReady writes the outbox without ever blocking: each batch in one
// non-blocking write (through w); a socket that takes only part of one
// hands the rest to flushSlow.
func (c *client) flushReady(w *nbWriter) {
	raw := c.raw
	if raw == nil {
		go c.flushSlow(nil, nil)
		return
	}
	var batch [][]byte
	for {
		batch = c.takeOut(batch)
		if batch == nil {
			return
		}
		b, pooled := join(batch)
		n, err := w.write(raw, b)
		if err == nil && n < len(b) {
			rest := append([]byte(nil), b[n:]...)
			release(b, pooled)
			go c.flushSlow(rest, batch)
			return
		}
		release(b, pooled)
		w.writes++
		if !c.wrote(batch, err) {
			return
		}
	}
}

// flushSlow is the writer of a connection whose socket is full: rest (what
// the last write left of batch) first, then the outbox, batch after batch,
// each in one blocking Write, until it is empty.
func (c *client) flushSlow(rest []byte, batch [][]byte) {
	conn := c.socket.NetConn()
	if rest != nil {
		_, err := conn.Write(rest)
		c.hub.writes.Add(1)
		if !c.wrote(batch, err) {
			return
		}
	}
	for {
		batch = c.takeOut(batch)
		if batch == nil {
			return
		}
		b, pooled := join(batch)
		_, err := conn.Write(b)
		release(b, pooled)
		c.hub.writes.Add(1)
		if !c.wrote(batch, err) {
			return
		}
	}
}

// wrote accounts for a written batch and reports whether to go on; a
// failed write closes the connection and empties the outbox.
func (c *client) wrote(batch [][]byte, err error) bool {
	c.queued.Add(-int64(len(batch)))
	if err == nil {
		return true
	}
	c.socket.NetConn().Close()
	c.outMu.Lock()
	c.queued.Add(-int64(len(c.out)))
	c.out, c.writing = nil, false
	c.outMu.Unlock()
	return false
}

// writeCloseFrame writes the close frame kick asked for, after everything
// queued before it.
func (c *client) writeCloseFrame() {
	c.socket.WriteClose(c.closeCode, []byte(c.closeReason))
	c.outMu.Lock()
	c.writing = false
	c.outMu.Unlock()
}

// join returns the batch as one buffer: the frame itself when there is
// one (shared, never written to), else the frames copied into a pooled
// buffer.
func join(batch [][]byte) (b []byte, pooled *[]byte) {
	if len(batch) == 1 {
		return batch[0], nil
	}
	bp := batchBuf.Get().(*[]byte)
	b = (*bp)[:0]
	for _, f := range batch {
		b = append(b, f...)
	}
	return b, bp
}

func release(b []byte, bp *[]byte) {
	if bp != nil && cap(b) <= maxPooledBatch {
		*bp = b[:0]
		batchBuf.Put(bp)
	}
}

// nbWriter writes to sockets without blocking. It is reused from write
// to write (one per writer goroutine), so a write allocates nothing: a
// closure passed to RawConn.Write escapes, and was one allocation per
// delivery.
type nbWriter struct {
	h      *Hub
	b      []byte
	n      int
	err    error
	fn     func(fd uintptr) bool // w.do, bound once
	writes int64                 // of the chunk being written, not yet in h.writes
}

func newNBWriter(h *Hub) *nbWriter {
	w := &nbWriter{h: h}
	w.fn = w.do
	return w
}

// write writes as much of b as the socket takes now.
func (w *nbWriter) write(raw syscall.RawConn, b []byte) (n int, err error) {
	w.b, w.n, w.err = b, 0, nil
	cerr := raw.Write(w.fn)
	n, err = w.n, w.err
	w.b = nil
	if err == nil && cerr != nil {
		err = cerr
	}
	if errors.Is(err, net.ErrClosed) {
		err = net.ErrClosed
	}
	return n, err
}

func (w *nbWriter) do(fd uintptr) bool {
	for w.n < len(w.b) {
		m, e := syscall.Write(int(fd), w.b[w.n:])
		if m > 0 {
			w.n += m
		}
		switch {
		case e == syscall.EINTR:
		case e == syscall.EAGAIN:
			return true
		case e != nil:
			w.err = e
			return true
		case m <= 0:
			w.err = errors.New("realtime: write returned 0")
			return true
		}
	}
	return true
}
