package httpapi

import (
	"bytes"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// sharedBodies keeps the compressed forms of JSON bodies that many
// requests send byte for byte (the newest page of a channel: every
// reader gets the same bytes until the next post), so each is compressed
// once rather than once per request. Entries are found by the body's
// content (hash, then compared in full), so a body that changed is never
// answered with an old compressed form. It holds at most
// sharedBodiesMax entries of at most sharedBodyMaxLen bytes; past that it
// starts again empty.
type sharedBodies struct {
	seed maphash.Seed
	zstd *zstd.Encoder
	gzip sync.Pool // *gzip.Writer: each holds a compressor's tables (about 1 MB)

	mu sync.Mutex
	m  map[uint64]*sharedBody
}

type sharedBody struct {
	body []byte // without the trailing newline writeRaw adds

	gzOnce, zstOnce sync.Once // each form is made on first use
	gz, zst         []byte
}

const (
	sharedBodiesMax  = 512
	sharedBodyMaxLen = 256 << 10

	// sharedGzipLevel is the fastest level, not gzhttp's default: a
	// shared body is compressed again whenever it changes (the newest
	// page after every post: about as often as it is read under load),
	// and on a page of 50 messages (BenchmarkSharedGzipLevel) it costs
	// about half the default's CPU (57 against 110 µs) for 5% more bytes
	// (3,365 against 3,198 of 19,268).
	sharedGzipLevel = gzip.BestSpeed
)

func newSharedBodies() (*sharedBodies, error) {
	// As gzhttp compresses zstd (withCompression): the fastest level.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return nil, err
	}
	return &sharedBodies{seed: maphash.MakeSeed(), zstd: enc, m: map[uint64]*sharedBody{}}, nil
}

// entry returns body's entry, adding one if it has none.
func (s *sharedBodies) entry(body []byte) *sharedBody {
	h := maphash.Bytes(s.seed, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[h]; e != nil && bytes.Equal(e.body, body) {
		return e
	}
	if len(s.m) >= sharedBodiesMax {
		s.m = map[uint64]*sharedBody{}
	}
	e := &sharedBody{body: bytes.Clone(body)}
	s.m[h] = e
	return e
}

func (e *sharedBody) gzipOf(pool *sync.Pool) []byte {
	e.gzOnce.Do(func() {
		var b bytes.Buffer
		b.Grow(len(e.body)/3 + 64)
		zw, _ := pool.Get().(*gzip.Writer)
		if zw == nil {
			zw, _ = gzip.NewWriterLevel(&b, sharedGzipLevel)
		} else {
			zw.Reset(&b)
		}
		zw.Write(e.body)
		zw.Write([]byte{'\n'})
		zw.Close()
		pool.Put(zw)
		e.gz = b.Bytes()
	})
	return e.gz
}

func (e *sharedBody) zstdOf(enc *zstd.Encoder) []byte {
	e.zstOnce.Do(func() {
		e.zst = enc.EncodeAll(append(bytes.Clone(e.body), '\n'), nil)
	})
	return e.zst
}

// writeShared is writeRaw (status 200) for a body that many requests
// send as it is: compressed as withCompression would, but from the
// compressed form kept for these bytes. A client that takes neither gzip
// nor zstd, a small body, or a HEAD request goes the usual way.
func (s *Server) writeShared(w http.ResponseWriter, r *http.Request, body []byte) {
	enc := ""
	if r.Method == http.MethodGet && len(body)+1 >= compressMinSize && len(body) <= sharedBodyMaxLen {
		enc = sharedEncoding(r.Header.Get("Accept-Encoding"))
	}
	if enc == "" {
		writeRaw(w, http.StatusOK, body)
		return
	}
	e := s.shared.entry(body)
	var out []byte
	if enc == "zstd" {
		out = e.zstdOf(s.shared.zstd)
	} else {
		out = e.gzipOf(&s.shared.gzip)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Encoding", enc) // withCompression passes an encoded body through
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// sharedEncoding is the coding withCompression's gzhttp would choose for
// accept: zstd or gzip, whichever has the higher q-value, zstd on a tie;
// "" for neither (deflate alone is withCompression's own, and left to it).
func sharedEncoding(accept string) string {
	if accept == "" || acceptsOnlyDeflate(accept) {
		return ""
	}
	gz, zs := codingQ(accept, "gzip"), codingQ(accept, "zstd")
	switch {
	case zs > 0 && zs >= gz:
		return "zstd"
	case gz > 0:
		return "gzip"
	}
	return ""
}

// codingQ is the q-value accept gives coding (0 when it is not named).
func codingQ(accept, coding string) float64 {
	for part := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 {
					return 0
				}
				q = min(f, 1)
			}
		}
		return q
	}
	return 0
}
