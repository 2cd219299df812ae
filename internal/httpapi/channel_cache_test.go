package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestChannelEditReachesEveryInstance: the channel lookup behind every
// read of and post to a channel is cached; an admin's edit on instance A
// is honoured by instance B, whose cache holds the channel, as soon as the
// invalidation arrives (MariaDB + Redis, two instances): made private, B
// stops serving it to a non-member; archived, B refuses posts; and
// reopened, B serves and takes posts again.
func TestChannelEditReachesEveryInstance(t *testing.T) {
	rc, prefix := redistest.Open(t)
	rc2, _ := redistest.Open(t)
	db := sqldbtest.OpenMySQL(t, sqldb.Config{})
	a := newEnv(t, db, withRedis(rc), withEnv("PLAZA_REDIS_PREFIX", prefix, "PLAZA_RATE_STRICT", "off", "PLAZA_RATE_API", "off"))
	b := newEnv(t, db, withRedis(rc2), withEnv("PLAZA_REDIS_PREFIX", prefix, "PLAZA_JOB_WORKERS", "0", "PLAZA_RATE_STRICT", "off", "PLAZA_RATE_API", "off"))
	adminTok, _ := a.admin("chief")
	a.signup("alice")
	tok, _ := b.login("alice", pw, "")
	var ch channel
	a.must(201, a.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
	msgs := fmt.Sprintf("/api/community/channels/%d/messages", ch.ID)
	edit := fmt.Sprintf("/api/admin/channels/%d", ch.ID)
	// B caches the channel (and its pages).
	b.must(201, b.do("POST", msgs, map[string]string{"body": "hi"}, tok))
	b.must(200, b.do("GET", msgs, nil, tok))
	b.must(200, b.do("GET", msgs+"?limit=5", nil, tok))

	within := func(what string, want int, do func() resp) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for {
			r := do()
			if r.status == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: instance B still answers %d %s, want %d", what, r.status, r.body, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	a.must(200, a.do("PATCH", edit, map[string]any{"archived": true}, adminTok))
	within("archived", 409, func() resp { return b.do("POST", msgs, map[string]string{"body": "late"}, tok) })
	a.must(200, a.do("PATCH", edit, map[string]any{"archived": false, "private": true}, adminTok))
	within("made private", 404, func() resp { return b.do("GET", msgs, nil, tok) })
	b.must(404, b.do("POST", msgs, map[string]string{"body": "sneak"}, tok))
	a.must(200, a.do("PATCH", edit, map[string]any{"private": false}, adminTok))
	within("public again", 200, func() resp { return b.do("GET", msgs, nil, tok) })
	b.must(201, b.do("POST", msgs, map[string]string{"body": "back"}, tok))
}
