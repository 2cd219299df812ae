package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// principal is one caller of the matrix.
type principal struct {
	name string
	rank int // 0 anonymous, 1 user, 2 creator, 3 moderator, 4 admin
	tok  string
}

var rankOf = map[string]int{"public": 0, "optional": 0, "signedIn": 1, "verified": 1, "creator": 2, "moderator": 3, "admin": 4}

// TestAuthorizationMatrix calls every route of the route table as
// anonymous, a user, a creator, a moderator and an admin, and checks the
// answer against what the table declares: below the access level, 401
// (anonymous) or 403; at or above it, past the gate. Routes that act on one
// owned resource are called on a resource the creator owns and checked
// against their declared ownership: the owner and (ownerOrModerator)
// moderators succeed, another user gets 403, or (ownerOnly) everyone else
// gets 404. A route missing a fixture for its path, or acting on one
// resource without a declared ownership, fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	ai, _ := stubAI(t, 0) // the AI provider, as in TestAIRequests
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("AI_BASE_URL", ai.URL+"/v1", "AI_API_KEY", "k3y", "AI_MODEL", "tiny", "PLAZA_RATE_API", "off", "PLAZA_RATE_STRICT", "off",
		"PLAZA_RATE_AI", "off", "PLAZA_RATE_PAYMENT", "off", "PLAZA_RATE_LOGIN", "off"))
	ctx := context.Background()
	adminTok, _ := e.admin("matrix_admin")
	modTok, _ := e.withRole("matrix_mod", account.RoleModerator)
	creatorTok, _ := e.withRole("matrix_owner", account.RoleCreator)
	userTok, user := e.signup("matrix_user")
	_, friend := e.signup("matrix_friend")
	people := []principal{{"anonymous", 0, ""}, {"user", 1, userTok}, {"creator", 2, creatorTok}, {"moderator", 3, modTok}, {"admin", 4, adminTok}}

	// Fixtures; the creator owns what can be owned.
	id := func(r resp) int64 {
		var v struct{ ID int64 }
		r.json(&v)
		return v.ID
	}
	channel := id(e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Matrix"}, adminTok)))
	message := func() int64 {
		return id(e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", channel), map[string]string{"body": "mine"}, creatorTok)))
	}
	shout := id(e.must(201, e.do("POST", "/api/shouts", map[string]string{"body": "hey"}, creatorTok)))
	thread := id(e.must(201, e.do("POST", "/api/messages/threads", map[string]any{"userId": friend.ID}, creatorTok)))
	aiReq := id(e.must(202, e.do("POST", "/api/ai/requests", map[string]string{"kind": "chat", "input": "hi"}, creatorTok)))
	audio := e.uploadURL(creatorTok, "set.mp3", mp3Bytes)
	mix := func() int64 {
		return id(e.must(201, e.do("POST", "/api/mixes", map[string]any{"title": "Set", "genres": []string{"house"}, "durationSec": 60, "audioUrl": audio}, creatorTok)))
	}
	event := func() int64 {
		return id(e.must(201, e.do("POST", "/api/events", e.newEvent(48*time.Hour, 5), creatorTok)))
	}
	course := e.buildCourse(adminTok, map[string]any{"title": "Matrix course", "slug": "matrix"}, []map[string]any{{"title": "L1", "body": "x", "preview": true}, {"title": "L2", "body": "y"}})
	session := func() int64 {
		tok, _ := e.login("matrix_owner", pw, "")
		var l struct{ Items []account.Session }
		e.must(200, e.do("GET", "/api/auth/sessions", nil, tok)).json(&l)
		for _, s := range l.Items {
			if s.Current {
				return s.ID
			}
		}
		t.Fatal("no current session")
		return 0
	}
	e.must(202, e.do("POST", "/api/contact", map[string]string{"name": "Pat", "email": "pat@example.com", "message": "Hello"}, ""))
	var inbox struct{ Items []struct{ ID int64 } }
	e.must(200, e.do("GET", "/api/admin/contact-messages", nil, adminTok)).json(&inbox)
	if err := e.jobs.Enqueue(ctx, jobs.Must("matrix.kind", map[string]int{"x": 1})); err != nil {
		t.Fatal(err)
	}
	var jl struct{ Items []jobs.Job }
	e.must(200, e.do("GET", "/api/admin/jobs?kind=matrix.kind", nil, adminTok)).json(&jl)

	_, victim := e.signup("matrix_victim") // bans and unbans act on an account no principal uses
	report := id(e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "shout", "targetId": shout, "reason": "spam"}, userTok)))
	collectible := id(e.must(201, e.do("POST", "/api/admin/collectibles", map[string]any{"slug": "matrix-badge", "name": "Matrix badge",
		"rarity": "common", "supply": 100, "priceCredits": 5}, adminTok)))

	// fixture gives a path parameter's value for a pattern; fresh
	// resources for owned routes, since their owner may delete them.
	fixed := func(v int64) func() int64 { return func() int64 { return v } }
	fixtures := []struct {
		prefix string
		params map[string]func() int64
	}{
		{"/api/auth/sessions/", map[string]func() int64{"id": session}},
		{"/api/users/", map[string]func() int64{"id": fixed(user.ID)}},
		{"/api/admin/users/{id}/ban", map[string]func() int64{"id": fixed(victim.ID)}},
		{"/api/admin/users/{id}/unban", map[string]func() int64{"id": fixed(victim.ID)}},
		{"/api/admin/users/", map[string]func() int64{"id": fixed(user.ID)}},
		{"/api/admin/reports/", map[string]func() int64{"id": fixed(report)}},
		{"/api/admin/channels/", map[string]func() int64{"id": fixed(channel)}},
		{"/api/admin/achievements/", map[string]func() int64{"id": fixed(1)}},
		{"/api/admin/collectibles/", map[string]func() int64{"id": fixed(collectible)}},
		{"/api/collectibles/", map[string]func() int64{"id": fixed(collectible)}},
		{"/api/admin/wallets/", map[string]func() int64{"userId": fixed(user.ID)}},
		{"/api/community/channels/", map[string]func() int64{"id": fixed(channel), "userId": fixed(friend.ID)}},
		{"/api/community/messages/", map[string]func() int64{"id": message}},
		{"/api/messages/threads/", map[string]func() int64{"id": fixed(thread)}},
		{"/api/shouts/", map[string]func() int64{"id": fixed(shout)}},
		{"/api/admin/contact-messages/", map[string]func() int64{"id": fixed(inbox.Items[0].ID)}},
		{"/api/ai/requests/", map[string]func() int64{"id": fixed(aiReq)}},
		{"/api/admin/jobs/", map[string]func() int64{"id": fixed(jl.Items[0].ID)}},
		{"/api/mixes/", map[string]func() int64{"id": mix}},
		{"/api/courses/", map[string]func() int64{"id": fixed(course.id), "lessonId": fixed(course.lessons[0])}},
		{"/api/admin/courses/", map[string]func() int64{"id": fixed(course.id)}},
		{"/api/admin/modules/", map[string]func() int64{"id": fixed(course.modules[0])}},
		{"/api/admin/lessons/", map[string]func() int64{"id": fixed(course.lessons[1])}},
		{"/api/events/", map[string]func() int64{"id": event}},
		{"/uploads/", nil},
	}
	// Bodies for owned routes, valid so that only ownership decides.
	bodies := map[string]any{
		"PATCH /api/community/messages/{id}":       map[string]string{"body": "edited"},
		"POST /api/messages/threads/{id}/messages": map[string]string{"body": "hi"},
		"PATCH /api/mixes/{id}":                    map[string]string{"title": "Renamed"},
		"PATCH /api/events/{id}":                   map[string]string{"title": "Renamed"},
		"POST /api/events/{id}/attended":           map[string]any{"userIds": []int64{friend.ID}},
		"POST /api/events/{id}/rsvp":               map[string]string{"status": "interested"},
	}
	param := regexp.MustCompile(`\{(\w+)\}`)
	path := func(rt httpapi.RouteAccess) string {
		for _, f := range fixtures {
			if !strings.HasPrefix(rt.Pattern, f.prefix) {
				continue
			}
			return param.ReplaceAllStringFunc(rt.Pattern, func(p string) string {
				name := p[1 : len(p)-1]
				switch name {
				case "emoji":
					return url.PathEscape("🔥")
				case "kind", "shard", "file":
					return "x"
				}
				fx, ok := f.params[name]
				if !ok {
					t.Fatalf("%s %s: no fixture for {%s}: add one to the matrix test", rt.Method, rt.Pattern, name)
				}
				return fmt.Sprint(fx())
			})
		}
		if rt.ActsOnOne() {
			t.Fatalf("%s %s: no fixture for its path: add one to the matrix test", rt.Method, rt.Pattern)
		}
		return rt.Pattern
	}
	skip := map[string]string{
		"POST /api/auth/logout": "ends the caller's session; checked below with a session of its own",
	}

	for _, rt := range httpapi.Routes() {
		key := rt.Method + " " + rt.Pattern
		need, ok := rankOf[rt.Access]
		if !ok {
			t.Fatalf("%s: unknown access level %q", key, rt.Access)
		}
		if rt.ActsOnOne() && need >= 1 && need <= 2 && rt.Owner == "" {
			t.Errorf("%s acts on one resource: declare its ownership in owned (access.go)", key)
			continue
		}
		if why, ok := skip[key]; ok {
			t.Logf("%s: %s", key, why)
			continue
		}
		for _, p := range people {
			target := path(rt)
			r := e.do(rt.Method, target, bodies[key], p.tok)
			allowedByRole := p.rank >= need
			switch {
			case !allowedByRole && p.rank == 0:
				if r.status != 401 {
					t.Errorf("%s as %s: %d, want 401: %.200s", key, p.name, r.status, r.body)
				}
			case !allowedByRole:
				if r.status != 403 {
					t.Errorf("%s as %s: %d, want 403: %.200s", key, p.name, r.status, r.body)
				}
			case rt.Owner != "" && rt.Owner != "anyone":
				isOwner := p.name == "creator"
				ok := isOwner || (rt.Owner == "ownerOrModerator" && p.rank >= 3) || (rt.Owner == "ownerOrAdminHidden" && p.rank >= 4)
				denied := map[string]int{"ownerOrModerator": 403, "ownerOnly": 403, "ownerHidden": 404, "ownerOrAdminHidden": 404}[rt.Owner]
				switch {
				case denied == 0:
					t.Errorf("%s: unknown ownership %q", key, rt.Owner)
				case ok && (r.status == 401 || r.status == 403 || r.status == 404):
					t.Errorf("%s as %s (owner %v): %d, want past the gate: %.200s", key, p.name, isOwner, r.status, r.body)
				case !ok && r.status != denied:
					t.Errorf("%s as %s, not the owner: %d, want %d: %.200s", key, p.name, r.status, denied, r.body)
				}
			default:
				if r.status == 401 || r.status == 403 {
					t.Errorf("%s as %s: %d, want past the gate: %.200s", key, p.name, r.status, r.body)
				}
			}
		}
	}
	// Logout, with sessions of their own.
	e.must(401, e.do("POST", "/api/auth/logout", nil, ""))
	for _, name := range []string{"matrix_user", "matrix_owner", "matrix_mod", "matrix_admin"} {
		tok, _ := e.login(name, pw, "")
		e.must(204, e.do("POST", "/api/auth/logout", nil, tok))
	}
}
