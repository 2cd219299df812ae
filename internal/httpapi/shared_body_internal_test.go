package httpapi

import (
	"bytes"
	"fmt"
	"testing"
)

// TestSharedBodiesCompressOncePerContent: the same bytes (even in another
// slice) find the same kept entry and compressed form; other bytes, of
// the same length too, never do; past the bound it starts again.
func TestSharedBodiesCompressOncePerContent(t *testing.T) {
	s, err := newSharedBodies()
	if err != nil {
		t.Fatal(err)
	}
	a := bytes.Repeat([]byte(`{"items":[1,2,3]}`), 100)
	e1 := s.entry(a)
	gz := e1.gzipOf(&s.gzip)
	if e2 := s.entry(bytes.Clone(a)); e2 != e1 || &e2.gzipOf(&s.gzip)[0] != &gz[0] {
		t.Fatal("the same bytes were compressed again")
	}
	b := bytes.Clone(a)
	b[5] = 'X'
	if s.entry(b) == e1 {
		t.Fatal("changed bytes found the old entry")
	}
	for i := range sharedBodiesMax {
		s.entry(fmt.Appendf(nil, "body %d", i))
	}
	if n := len(s.m); n > sharedBodiesMax {
		t.Fatalf("%d entries kept, at most %d", n, sharedBodiesMax)
	}
}
