package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// The publisher's posts share one connection: a post that closed its
// answer unread opened a connection for every message, and each of them
// (a handshake, an accept, a goroutine on either side) was counted in the
// delivery latency.
func TestPostsShareAConnection(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":1,"body":"t=1"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for range 5 {
		status, err := post(client, srv.URL, "token", `{"body":"t=1"}`)
		if err != nil || status != http.StatusCreated {
			t.Fatalf("post: %d, %v", status, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 posts opened %d connections, want 1", n)
	}
}
