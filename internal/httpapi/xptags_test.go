package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestXPAwardKeepsTheSession: a post's XP award that leaves the level as
// it was drops what shows the author's xp (/me answers the new xp at once)
// but not their cached session, so their next request is no session
// reload; the award that moves the level drops the session too, and the
// level (and whatever else changed in the account row) is read afresh.
// The session's copy of the account row shows in a post's author.
func TestXPAwardKeepsTheSession(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("keeper")
		tok, u := e.signup("xena")
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Levels"}, adminTok)).json(&ch)
		type author struct {
			DisplayName string
			Level       int
		}
		post := func(i int) author {
			var m struct{ Author author }
			e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]any{"body": fmt.Sprintf("post %d", i)}, tok)).json(&m)
			return m.Author
		}
		me := func() (xp int64, level int) {
			var m struct {
				XP    int64
				Level int
			}
			e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&m)
			return m.XP, m.Level
		}

		first := post(1) // 1 xp, level 1; the session is cached
		if xp, lvl := me(); xp != 1 || lvl != 1 {
			t.Fatalf("/me after one post: xp %d level %d, want 1 and 1", xp, lvl)
		}
		// Changed behind the service's back: only a session reload shows it.
		if _, err := db.Write().Exec(context.Background(), `UPDATE users SET display_name = 'Renamed' WHERE id = ?`, u.ID); err != nil {
			t.Fatal(err)
		}
		for i := 2; i <= 4; i++ { // xp 2-4: still level 1
			if a := post(i); a.DisplayName != first.DisplayName || a.Level != 1 {
				t.Fatalf("post %d by %+v: the award of post %d reloaded the session", i, a, i-1)
			}
		}
		if xp, _ := me(); xp != 4 {
			t.Fatalf("/me shows xp %d after four posts, want 4", xp)
		}
		if a := post(5); a.Level != 2 { // xp 5: level 2, the session is dropped after the commit
			t.Fatalf("the post reaching level 2 shows level %d", a.Level)
		}
		if a := post(6); a.DisplayName != "Renamed" || a.Level != 2 {
			t.Fatalf("after a level-up the session was not reloaded: author %+v", a)
		}
	})
}
