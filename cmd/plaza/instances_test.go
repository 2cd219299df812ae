package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// instance is a running `plaza serve`.
type instance struct {
	base string
	stop func() // cancels serve and waits for it to return; runs once, also at cleanup
}

func startInstance(t *testing.T, env map[string]string) *instance {
	t.Helper()
	addr := freeAddr(t)
	e := map[string]string{"PLAZA_ADDR": addr, "PLAZA_DATA_DIR": t.TempDir(), "PLAZA_LOG_LEVEL": "error", "PLAZA_HASH_CONCURRENCY": "2"}
	for k, v := range env {
		e[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	var errOut bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, envMap(e), nil, io.Discard, &errOut) }()
	base := "http://" + addr
	waitHealth(t, base, func(h health) bool { return h.Status != "" })
	var once sync.Once
	in := &instance{base: base, stop: func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve %s: %v\n%s", addr, err, errOut.String())
				}
			case <-time.After(20 * time.Second):
				t.Errorf("serve %s did not stop", addr)
			}
		})
	}}
	t.Cleanup(in.stop)
	return in
}

func (in *instance) call(t *testing.T, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, in.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

type wsFrame struct {
	Op   string
	Room string
	Seq  int64
	Type string
}

func wsConnect(t *testing.T, in *instance, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.base, "http")+"/api/ws?token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// readUntil returns the first frame matching ok.
func readUntil(t *testing.T, c *websocket.Conn, ok func(wsFrame) bool) wsFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		var f wsFrame
		json.Unmarshal(b, &f)
		if ok(f) {
			return f
		}
	}
}

// TestTwoInstances runs two servers on one MariaDB and one Redis: a message
// posted through A reaches a client of B with the same seq, a client
// reconnecting to B with since gets what it missed, and a logout through A
// closes the session's socket on B.
func TestTwoInstances(t *testing.T) {
	dbURL := sqldbtest.CreateMySQLDatabase(t)
	redisURL := redistest.URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	env := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "PLAZA_REDIS_PREFIX": "plaza-test-" + hex.EncodeToString(b) + ":"}
	direct, _ := redistest.Open(t)
	t.Cleanup(func() { // the instances' keys
		ctx := context.Background()
		iter := direct.Scan(ctx, 0, env["PLAZA_REDIS_PREFIX"]+"*", 1000).Iterator()
		for iter.Next(ctx) {
			direct.Del(ctx, iter.Val())
		}
	})

	// Both start at once: the migration lock keeps them from migrating twice.
	starts := make(chan *instance, 2)
	for range 2 {
		go func() { starts <- startInstance(t, env) }()
	}
	a, bb := <-starts, <-starts

	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "create", "--email", "op@example.com", "--username", "ops", "--password", "an admin passphrase"},
		envMap(env), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	a.call(t, "POST", "/api/auth/login", "", map[string]string{"login": "ops", "password": "an admin passphrase"}, &login)
	var ch struct{ ID int64 }
	if code := a.call(t, "POST", "/api/community/channels", login.Token, map[string]any{"name": "Lobby"}, &ch); code != 201 {
		t.Fatalf("create channel: %d", code)
	}
	room := fmt.Sprintf("channel:%d", ch.ID)
	subscribe := func(c *websocket.Conn, since *int64) wsFrame {
		m := map[string]any{"op": "subscribe", "room": room}
		if since != nil {
			m["since"] = *since
		}
		msg, _ := json.Marshal(m)
		c.Write(context.Background(), websocket.MessageText, msg)
		return readUntil(t, c, func(f wsFrame) bool { return f.Op == "subscribed" && f.Room == room })
	}
	onA, onB := wsConnect(t, a, login.Token), wsConnect(t, bb, login.Token)
	subscribe(onA, nil)
	subscribe(onB, nil)

	post := func(body string) {
		if code := a.call(t, "POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), login.Token, map[string]string{"body": body}, nil); code != 201 {
			t.Fatalf("post: %d", code)
		}
	}
	isMessage := func(f wsFrame) bool { return f.Op == "event" && f.Type == "message.created" }
	post("across")
	fa, fb := readUntil(t, onA, isMessage), readUntil(t, onB, isMessage)
	if fa.Seq == 0 || fa.Seq != fb.Seq {
		t.Fatalf("seq on A %d, on B %d", fa.Seq, fb.Seq)
	}

	// B's client goes away, misses two, comes back to B with since.
	onB.Close(websocket.StatusNormalClosure, "")
	post("missed 1")
	post("missed 2")
	onB = wsConnect(t, bb, login.Token)
	since := fb.Seq
	if f := subscribe(onB, &since); f.Seq != since+2 {
		t.Fatalf("resubscribed at seq %d, want %d", f.Seq, since+2)
	}
	for want := since + 1; want <= since+2; want++ {
		if f := readUntil(t, onB, isMessage); f.Seq != want {
			t.Fatalf("replayed seq %d, want %d", f.Seq, want)
		}
	}

	// Logging out through A closes the session's WebSocket on B.
	if code := a.call(t, "POST", "/api/auth/logout", login.Token, nil, nil); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := onB.Read(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != 4003 {
				t.Fatalf("B's socket after logout on A: %v (close %d), want close 4003", err, code)
			}
			break
		}
	}
}
