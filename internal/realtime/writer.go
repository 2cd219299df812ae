package realtime

import (
	"encoding/binary"
	"sync"
)

// Writing frames to a connection.
//
// gws's WriteAsync costs, per frame and per subscriber: a closure, a task
// on the connection's queue (a goroutine started when the queue was
// idle), the frame header built into a pooled buffer with the payload
// copied in and checked for UTF-8 again, and one write syscall. At 10,000
// users that was most of the server's CPU. Here a room's event is framed
// once (wireFrame, shared by every subscriber), a connection's frames
// wait in its outbox, and one writer task, queued on gws's per-connection
// queue when the outbox goes from empty to not empty, writes everything
// queued by the time it runs in one Write: one syscall for the batch.
// Frames keep their order (one outbox, one writer at a time); control
// frames gws writes itself (pongs, close) may fall between two batches,
// never inside one, as each Write on a socket is whole.

// wireFrame returns payload framed as an unmasked, final WebSocket text
// frame, as a server sends it (RFC 6455 5.2).
func wireFrame(payload []byte) []byte {
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
	b[0] = 0x81 // FIN, text
	return append(b, payload...)
}

// batchBuf holds a batch of frames copied into one buffer for one Write.
var batchBuf = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBatch: larger buffers are left to the collector, so one burst
// does not keep its memory.
const maxPooledBatch = 256 << 10

// enqueue adds a framed message to the outbox and queues the writer if it
// is not queued already. Callers hold c.mu (frames of one connection are
// queued in order) and have counted the frame in c.queued.
func (c *client) enqueue(wire []byte) {
	c.outMu.Lock()
	c.out = append(c.out, wire)
	start := !c.writing
	c.writing = true
	c.outMu.Unlock()
	if start {
		c.socket.Async(c.flushOut)
	}
}

// flushOut is the writer: it runs on gws's write queue (one at a time per
// connection, in order with the close frames queued there) and writes what
// the outbox holds, batch after batch, until it finds it empty.
func (c *client) flushOut() {
	for {
		c.outMu.Lock()
		batch := c.out
		c.out = nil
		if len(batch) == 0 {
			c.writing = false
			c.outMu.Unlock()
			return
		}
		c.outMu.Unlock()
		err := c.writeBatch(batch)
		c.hub.writes.Add(1)
		c.queued.Add(-int64(len(batch)))
		if err != nil {
			c.socket.NetConn().Close()
			c.outMu.Lock()
			c.queued.Add(-int64(len(c.out)))
			c.out, c.writing = nil, false
			c.outMu.Unlock()
			return
		}
	}
}

// writeBatch writes frames with one Write.
func (c *client) writeBatch(batch [][]byte) error {
	conn := c.socket.NetConn()
	if len(batch) == 1 {
		_, err := conn.Write(batch[0])
		return err
	}
	bp := batchBuf.Get().(*[]byte)
	b := (*bp)[:0]
	for _, f := range batch {
		b = append(b, f...)
	}
	_, err := conn.Write(b)
	if cap(b) <= maxPooledBatch {
		*bp = b[:0]
		batchBuf.Put(bp)
	}
	return err
}
