package httpapi

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/zlib"
)

// compressMinSize: below this, compression costs more than it saves.
const compressMinSize = 1024

// compressible says which content types are worth compressing: text and
// JSON yes; images, audio, video and archives (already compressed) never.
func compressible(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(ct))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	switch {
	case strings.HasPrefix(ct, "text/"), ct == "application/json", strings.HasSuffix(ct, "+json"),
		ct == "application/javascript", ct == "application/xml", strings.HasSuffix(ct, "+xml"),
		ct == "image/svg+xml", ct == "application/openmetrics-text":
		return true
	}
	return false
}

// withCompression answers with zstd or gzip (klauspost's gzhttp: content
// negotiation with q-values, minimum size, Vary, ETag suffixes) and, for
// clients that accept only deflate, with zlib-wrapped deflate.
func withCompression(next http.Handler) (http.Handler, error) {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(compressMinSize), gzhttp.ContentTypeFilter(compressible))
	if err != nil {
		return nil, err
	}
	gz := wrap(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r) // a WebSocket handshake: nothing to compress
			return
		}
		if ae := r.Header.Get("Accept-Encoding"); acceptsOnlyDeflate(ae) {
			dw := &deflateWriter{ResponseWriter: w}
			defer dw.close()
			next.ServeHTTP(dw, r)
			return
		}
		gz.ServeHTTP(w, r)
	}), nil
}

// acceptsOnlyDeflate reports whether the client takes deflate but neither
// gzip nor zstd (which gzhttp handles).
func acceptsOnlyDeflate(ae string) bool {
	deflate := false
	for part := range strings.SplitSeq(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		switch name {
		case "gzip", "zstd", "*":
			return false
		case "deflate":
			deflate = true
		}
	}
	return deflate
}

// deflateWriter buffers the start of a response to decide, by size and
// content type, whether to compress it.
type deflateWriter struct {
	http.ResponseWriter
	status  int
	buf     []byte
	decided bool
	zw      *zlib.Writer
}

func (d *deflateWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

func (d *deflateWriter) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	if !d.decided {
		d.buf = append(d.buf, p...)
		if len(d.buf) < compressMinSize {
			return len(p), nil
		}
		if err := d.decide(); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if d.zw != nil {
		return d.zw.Write(p)
	}
	return d.ResponseWriter.Write(p)
}

// decide sends the headers and the buffered bytes, compressed or not.
func (d *deflateWriter) decide() error {
	d.decided = true
	h := d.ResponseWriter.Header()
	h.Add("Vary", "Accept-Encoding")
	if d.status == 0 {
		d.status = http.StatusOK
	}
	if len(d.buf) >= compressMinSize && h.Get("Content-Encoding") == "" && compressible(h.Get("Content-Type")) &&
		d.status != http.StatusNoContent && d.status != http.StatusNotModified {
		h.Set("Content-Encoding", "deflate")
		h.Del("Content-Length")
		h.Del("Accept-Ranges")
		d.ResponseWriter.WriteHeader(d.status)
		d.zw = zlibWriters.Get().(*zlib.Writer)
		d.zw.Reset(d.ResponseWriter)
		_, err := d.zw.Write(d.buf)
		return err
	}
	d.ResponseWriter.WriteHeader(d.status)
	if len(d.buf) > 0 {
		_, err := d.ResponseWriter.Write(d.buf)
		return err
	}
	return nil
}

func (d *deflateWriter) close() {
	if !d.decided {
		if d.status == 0 && len(d.buf) == 0 {
			return // the handler wrote nothing: let the server send its default
		}
		d.decide()
	}
	if d.zw != nil {
		d.zw.Close()
		zlibWriters.Put(d.zw)
		d.zw = nil
	}
}

// zlibWriters reuses deflate state (about 1 MiB each) across responses.
var zlibWriters = sync.Pool{New: func() any {
	zw, _ := zlib.NewWriterLevel(io.Discard, zlib.DefaultCompression)
	return zw
}}

func (d *deflateWriter) Flush() {
	if !d.decided {
		d.decide()
	}
	if d.zw != nil {
		d.zw.Flush()
	}
	if f, ok := d.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (d *deflateWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(d.ResponseWriter).Hijack()
}

func (d *deflateWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
