package loadtest

import (
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestErrKind: failed requests are grouped by what they failed with, not
// by the address or URL inside the error, so one kind is one line.
func TestErrKind(t *testing.T) {
	reset := func(port string) error {
		return &url.Error{Op: "Post", URL: "http://127.0.0.1:" + port + "/api/x",
			Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	}
	if a, b := errKind(0, reset("1")), errKind(0, reset("2")); a != b || !strings.Contains(a, "connection reset") {
		t.Fatalf("two resets: %q, %q", a, b)
	}
	if k := errKind(503, nil); k != "HTTP 503" {
		t.Fatalf("a 503: %q", k)
	}
	if k := errKind(0, errors.New("boom")); k != "boom" {
		t.Fatalf("a plain error: %q", k)
	}

	r := &run{routes: map[string]*route{}, errKinds: map[string]int64{}, connects: newHist(), start: time.Now()}
	for i := range r.shards {
		r.shards[i].hist, r.shards[i].steady = newHist(), newHist()
	}
	now := time.Now()
	r.record("GET /a", now, 0, reset("1"))
	r.record("GET /b", now, 0, reset("2"))
	r.record("GET /a", now, 502, nil)
	r.record("GET /a", now, 200, nil)
	rep := r.report([]metrics{}, []metrics{})
	if len(rep.ErrorKinds) != 2 || rep.ErrorKinds["HTTP 502"] != 1 || rep.ErrorKinds[errKind(0, reset("9"))] != 2 || rep.All.Errors != 3 {
		t.Fatalf("kinds %v, errors %d", rep.ErrorKinds, rep.All.Errors)
	}
	var b strings.Builder
	rep.Print(&b)
	if !strings.Contains(b.String(), "Errors by kind: HTTP 502: 1; ") {
		t.Fatalf("report does not list the kinds:\n%s", b.String())
	}
}
