package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestTwoInstancesMusic runs two servers on one MariaDB and one Redis: the
// same listener playing a mix through both counts once, and the live
// room's listeners are counted on both instances.
func TestTwoInstancesMusic(t *testing.T) {
	dbURL := sqldbtest.CreateMySQLDatabase(t)
	redisURL := redistest.URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	env := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "PLAZA_REDIS_PREFIX": "plaza-test-" + hex.EncodeToString(b) + ":"}
	direct, _ := redistest.Open(t)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := direct.Scan(ctx, 0, env["PLAZA_REDIS_PREFIX"]+"*", 1000).Iterator()
		for iter.Next(ctx) {
			direct.Del(ctx, iter.Val())
		}
	})
	a := startInstance(t, env)
	bb := startInstance(t, env)

	tokens := make([]string, 2)
	for i, name := range []string{"deejay", "listener"} {
		if err := run(context.Background(), []string{"admin", "create", "--email", name + "@example.com", "--username", name, "--password", "an admin passphrase"},
			envMap(env), nil, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		var login struct{ Token string }
		a.call(t, "POST", "/api/auth/login", "", map[string]string{"login": name, "password": "an admin passphrase"}, &login)
		tokens[i] = login.Token
	}

	// An audio upload on A (uploads live in each instance's data dir) and
	// a mix made of it.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "set.mp3")
	fw.Write(append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 600)...))
	mw.Close()
	req, _ := http.NewRequest("POST", a.base+"/api/uploads", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tokens[0])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ URL string }
	json.NewDecoder(res.Body).Decode(&up)
	res.Body.Close()
	var mix struct{ ID int64 }
	if code := a.call(t, "POST", "/api/mixes", tokens[0], map[string]any{"title": "Shared", "genres": []string{"techno"}, "durationSec": 60, "audioUrl": up.URL}, &mix); code != 201 {
		t.Fatalf("create mix: %d", code)
	}

	// The same listeners through both instances: counted once each.
	for range 3 {
		for _, in := range []*instance{a, bb} {
			for _, tok := range []string{"", tokens[1]} {
				if code := in.call(t, "POST", fmt.Sprintf("/api/mixes/%d/plays", mix.ID), tok, nil, nil); code != 202 {
					t.Fatalf("play: %d", code)
				}
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got struct{ Plays int64 }
		bb.call(t, "GET", fmt.Sprintf("/api/mixes/%d", mix.ID), "", nil, &got)
		if got.Plays == 2 {
			break
		}
		if time.Now().After(deadline) || got.Plays > 2 {
			t.Fatalf("plays %d, want 2 (one anonymous listener, one user, over two instances)", got.Plays)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// One listener on each instance: both count, wherever it is asked.
	for i, in := range []*instance{a, bb} {
		c := wsConnect(t, in, tokens[i])
		msg, _ := json.Marshal(map[string]any{"op": "subscribe", "room": "live-stream"})
		c.Write(context.Background(), websocket.MessageText, msg)
		readUntil(t, c, func(f wsFrame) bool { return f.Op == "subscribed" && f.Room == "live-stream" })
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		var np struct{ Listeners int }
		a.call(t, "GET", "/api/live/now-playing", "", nil, &np)
		if np.Listeners == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listeners %d, want 2", np.Listeners)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
