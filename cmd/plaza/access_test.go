package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestTwoInstancesRemovedMember: a member removed from a private channel
// through instance A stops receiving the channel's events on instance B
// (told by an unsubscribed frame), while a member still in it keeps
// receiving them there.
func TestTwoInstancesRemovedMember(t *testing.T) {
	dbURL := sqldbtest.CreateMySQLDatabase(t)
	redisURL := redistest.URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	dataDir := t.TempDir() // shared, so either instance's mail is found
	env := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "PLAZA_REDIS_PREFIX": "plaza-test-" + hex.EncodeToString(b) + ":",
		"PLAZA_DATA_DIR": dataDir}
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

	if err := run(context.Background(), []string{"admin", "create", "--email", "op@example.com", "--username", "ops", "--password", "an admin passphrase"},
		envMap(env), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var admin struct{ Token string }
	a.call(t, "POST", "/api/auth/login", "", map[string]string{"login": "ops", "password": "an admin passphrase"}, &admin)
	codeRE := regexp.MustCompile(`verification code is (\d{6})`)
	signup := func(name string) (string, int64) {
		email := name + "@example.com"
		if code := a.call(t, "POST", "/api/auth/register", "", map[string]string{"email": email, "username": name, "password": "correct horse battery"}, nil); code != 201 {
			t.Fatalf("register %s: %d", name, code)
		}
		var code string
		for deadline := time.Now().Add(10 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			files, _ := filepath.Glob(filepath.Join(dataDir, "mail", "*-"+email+".eml"))
			for _, f := range files {
				if body, err := os.ReadFile(f); err == nil {
					if m := codeRE.FindSubmatch(body); m != nil {
						code = string(m[1])
					}
				}
			}
		}
		if code == "" {
			t.Fatalf("no verification mail for %s", email)
		}
		var login struct {
			Token string
			User  struct{ ID int64 }
		}
		a.call(t, "POST", "/api/auth/signup-verification", "", map[string]string{"email": email, "code": code}, nil)
		if c := a.call(t, "POST", "/api/auth/login", "", map[string]string{"login": name, "password": "correct horse battery"}, &login); c != 200 {
			t.Fatalf("login %s: %d", name, c)
		}
		return login.Token, login.User.ID
	}
	amyTok, amy := signup("amy")
	bobTok, bob := signup("bob")

	var ch struct{ ID int64 }
	if code := a.call(t, "POST", "/api/community/channels", admin.Token, map[string]any{"name": "Staff", "private": true}, &ch); code != 201 {
		t.Fatalf("create channel: %d", code)
	}
	members := fmt.Sprintf("/api/community/channels/%d/members", ch.ID)
	for _, u := range []int64{amy, bob} {
		if code := a.call(t, "POST", members, admin.Token, map[string]int64{"userId": u}, nil); code != 204 {
			t.Fatalf("add member: %d", code)
		}
	}
	room := fmt.Sprintf("channel:%d", ch.ID)
	send := func(c *websocket.Conn, v any) {
		msg, _ := json.Marshal(v)
		if err := c.Write(context.Background(), websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
	}
	onAmy, onBob := wsConnect(t, bb, amyTok), wsConnect(t, bb, bobTok)
	for _, c := range []*websocket.Conn{onAmy, onBob} {
		send(c, map[string]string{"op": "subscribe", "room": room})
		readUntil(t, c, func(f wsFrame) bool { return f.Op == "subscribed" && f.Room == room })
	}

	if code := a.call(t, "DELETE", fmt.Sprintf("%s/%d", members, amy), admin.Token, nil, nil); code != 204 {
		t.Fatalf("remove member: %d", code)
	}
	if code := a.call(t, "POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), admin.Token, map[string]string{"body": "amy has left"}, nil); code != 201 {
		t.Fatalf("post: %d", code)
	}
	isMessage := func(f wsFrame) bool { return f.Op == "event" && f.Type == "message.created" }
	readUntil(t, onBob, isMessage)
	var told bool
	send(onAmy, map[string]string{"op": "ping"})
	readUntil(t, onAmy, func(f wsFrame) bool {
		if isMessage(f) {
			t.Fatalf("amy received the channel's message after her removal")
		}
		if f.Op == "unsubscribed" && f.Room == room {
			told = true
		}
		return f.Op == "pong"
	})
	if !told {
		// The removal's re-authorization crosses Redis like the post; it
		// may still be on its way if the ping overtook it.
		readUntil(t, onAmy, func(f wsFrame) bool {
			if isMessage(f) {
				t.Fatalf("amy received the channel's message after her removal")
			}
			return f.Op == "unsubscribed" && f.Room == room
		})
	}
}
