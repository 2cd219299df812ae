package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func TestAdminSetsRoles(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, admin := e.admin("chief")
		tok, u := e.signup("rowan")
		path := fmt.Sprintf("/api/admin/users/%d", u.ID)
		role := func(tok string) account.Role {
			var me account.User
			e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&me)
			return me.Role
		}
		if role(tok) != account.RoleUser { // also caches rowan's session and profile
			t.Fatal("new user is not a plain user")
		}

		e.must(401, e.do("PATCH", path, map[string]string{"role": "admin"}, ""))
		e.must(403, e.do("PATCH", path, map[string]string{"role": "admin"}, tok))
		e.must(422, e.do("PATCH", path, map[string]string{"role": "overlord"}, adminTok))
		e.must(422, e.do("PATCH", path, map[string]string{}, adminTok))
		e.must(400, e.do("PATCH", path, map[string]any{"role": "creator", "banned": true}, adminTok))
		e.must(404, e.do("PATCH", "/api/admin/users/99999999", map[string]string{"role": "creator"}, adminTok))
		e.must(404, e.do("PATCH", "/api/admin/users/abc", map[string]string{"role": "creator"}, adminTok))
		if role(tok) != account.RoleUser {
			t.Fatal("refused requests changed the role")
		}

		var got account.User
		e.must(200, e.do("PATCH", path, map[string]string{"role": "creator"}, adminTok)).json(&got)
		if got.ID != u.ID || got.Role != account.RoleCreator {
			t.Fatalf("PATCH answered %+v", got)
		}
		// The open session sees it at its next request.
		if r := role(tok); r != account.RoleCreator {
			t.Fatalf("rowan's session still says %s", r)
		}
		e.must(403, e.do("GET", "/api/admin/jobs/stats", nil, tok))
		e.must(200, e.do("PATCH", path, map[string]string{"role": "admin"}, adminTok))
		e.must(200, e.do("GET", "/api/admin/jobs/stats", nil, tok))

		// Two admins: either may step down, but not the last one.
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/admin/users/%d", admin.ID), map[string]string{"role": "moderator"}, adminTok))
		e.must(403, e.do("PATCH", path, map[string]string{"role": "user"}, adminTok)) // chief is no longer an admin
		r := e.must(409, e.do("PATCH", path, map[string]string{"role": "user"}, tok))
		if r.code() != "conflict" {
			t.Fatalf("last admin demoting themselves: %s", r.body)
		}
		if role(tok) != account.RoleAdmin {
			t.Fatal("the refused demotion took effect")
		}
	})
}
