package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func findAchievement(t *testing.T, items []achievements.Achievement, slug string) achievements.Achievement {
	t.Helper()
	for _, a := range items {
		if a.Slug == slug {
			return a
		}
	}
	t.Fatalf("%s not in %+v", slug, items)
	return achievements.Achievement{}
}

// TestAchievementsAndCollectibles: a message posted is checked (in the
// post's transaction on SQLite, by the job queue on MySQL), which awards
// first-message once with its XP and the collectible it grants, and says
// so in the user's room; admins define, grant, create
// and edit (audited); bad input is a 4xx that changes nothing.
func TestAchievementsAndCollectibles(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_TEST_ACHIEVEMENT_RULES", "on"))
		adminTok, _ := e.admin("chief")
		tok, u := e.signup("achiever")
		otherTok, _ := e.signup("bystander")
		ws := e.connect(tok)

		var cat struct{ Items []achievements.Achievement }
		e.must(200, e.do("GET", "/api/achievements", nil, "")).json(&cat)
		if len(cat.Items) < 10 {
			t.Fatalf("catalog has %d achievements, want the 10 built-ins", len(cat.Items))
		}
		first := findAchievement(t, cat.Items, "first-message")

		var badge achievements.Collectible
		e.must(201, e.do("POST", "/api/admin/collectibles", map[string]any{"slug": "first-badge", "name": "First badge", "rarity": "rare",
			"supply": 1, "achievementId": first.ID}, adminTok)).json(&badge)
		if badge.Supply == nil || *badge.Supply != 1 || *badge.Remaining != 1 || *badge.AchievementID != first.ID || badge.PriceCredits != nil {
			t.Fatalf("created %+v", badge)
		}

		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Lobby"}, adminTok)).json(&ch)
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "hello"}, tok))
		for {
			f := ws.read()
			if f.Type != "achievement.awarded" {
				continue
			}
			var d struct {
				Achievement  achievements.Achievement
				XPAwarded    int64
				Collectibles []achievements.Owned
			}
			if err := json.Unmarshal(f.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.Achievement.ID != first.ID || d.XPAwarded != first.XP || len(d.Collectibles) != 1 || d.Collectibles[0].Serial != 1 ||
				d.Achievement.AwardedCount != 1 { // as the catalog lists it, this award counted
				t.Fatalf("achievement.awarded %s", f.Data)
			}
			break
		}
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "again"}, tok))

		var mine struct{ Items []achievements.Awarded }
		e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d/achievements", u.ID), nil, "")).json(&mine)
		if len(mine.Items) != 1 || mine.Items[0].Achievement.ID != first.ID {
			t.Fatalf("user achievements %+v", mine.Items)
		}
		var owned struct{ Items []achievements.Owned }
		e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d/collectibles", u.ID), nil, otherTok)).json(&owned)
		if len(owned.Items) != 1 || owned.Items[0].Serial != 1 || owned.Items[0].Collectible.ID != badge.ID {
			t.Fatalf("user collectibles %+v", owned.Items)
		}
		var colls struct{ Items []achievements.Collectible }
		e.must(200, e.do("GET", "/api/collectibles", nil, "")).json(&colls)
		if len(colls.Items) != 1 || *colls.Items[0].Remaining != 0 {
			t.Fatalf("collectibles %+v", colls.Items)
		}
		var ledger gamification.Ledger
		e.must(200, e.do("GET", "/api/users/me/xp", nil, tok)).json(&ledger)
		n := 0
		for _, it := range ledger.Items {
			if it.Reason == gamification.ReasonAchievement && it.Ref == fmt.Sprintf("achievement:%d", first.ID) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d achievement rows in the ledger: %+v", n, ledger.Items)
		}

		// awardedCount may lag by up to 5 minutes (the medium tier, whose
		// expiry runs on the wall clock: dropped here as it would expire).
		e.cache.Invalidate(context.Background(), "achievements:counts")
		e.must(200, e.do("GET", "/api/achievements", nil, "")).json(&cat)
		if got := findAchievement(t, cat.Items, "first-message").AwardedCount; got != 1 {
			t.Errorf("awardedCount once the counts expired = %d, want 1", got)
		}
		// A profile's achievements are the catalog's, counts included.
		e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d/achievements", u.ID), nil, "")).json(&mine)
		if len(mine.Items) != 1 || mine.Items[0].Achievement.AwardedCount != 1 {
			t.Errorf("user achievements' awardedCount: %+v, want 1 as the catalog says", mine.Items)
		}

		// Admin: define and grant by hand.
		var helper achievements.Achievement
		e.must(201, e.do("POST", "/api/admin/achievements", map[string]any{"slug": "helper", "name": "Helper", "rarity": "epic", "xp": 10,
			"description": "Helped out."}, adminTok)).json(&helper)
		grant := fmt.Sprintf("/api/admin/achievements/%d/grant", helper.ID)
		e.must(201, e.do("POST", grant, map[string]any{"userId": u.ID, "reason": "ran the meetup"}, adminTok))
		e.must(200, e.do("POST", grant, map[string]any{"userId": u.ID}, adminTok))
		e.must(403, e.do("POST", grant, map[string]any{"userId": u.ID}, otherTok))
		e.must(401, e.do("POST", "/api/admin/achievements", map[string]any{"slug": "x", "name": "x", "rarity": "rare"}, ""))
		e.must(404, e.do("POST", grant, map[string]any{"userId": 1 << 40}, adminTok))
		e.must(404, e.do("POST", "/api/admin/achievements/99999999/grant", map[string]any{"userId": u.ID}, adminTok))
		e.must(422, e.do("POST", grant, map[string]any{"userId": 0}, adminTok))
		e.must(409, e.do("POST", "/api/admin/achievements", map[string]any{"slug": "helper", "name": "Again", "rarity": "rare"}, adminTok))
		for _, bad := range []map[string]any{
			{"slug": "Bad Slug", "name": "x", "rarity": "rare"}, {"slug": "ok", "name": "", "rarity": "rare"},
			{"slug": "ok", "name": "x", "rarity": "mythic"}, {"slug": "ok", "name": "x", "rarity": "rare", "xp": -1},
			{"slug": "ok", "name": "x", "rarity": "rare", "xp": 1 << 40}, {"slug": "ok", "name": "x", "rarity": "rare", "rule": map[string]any{"kind": "karma", "count": 1}},
			{"slug": "ok", "name": "x", "rarity": "rare", "rule": map[string]any{"kind": "messages", "count": 0}},
			{"slug": "ok", "name": "x", "rarity": "rare", "iconUrl": "javascript:alert(1)"},
		} {
			e.must(422, e.do("POST", "/api/admin/achievements", bad, adminTok))
		}
		e.must(400, e.do("POST", "/api/admin/achievements", map[string]any{"slug": "ok", "name": "x", "rarity": "rare", "awardedCount": 5}, adminTok))

		// Admin: edit a collectible.
		path := fmt.Sprintf("/api/admin/collectibles/%d", badge.ID)
		e.must(422, e.do("PATCH", path, map[string]any{"supply": 0}, adminTok))
		var edited achievements.Collectible
		e.must(200, e.do("PATCH", path, map[string]any{"supply": nil, "priceCredits": 300, "name": "First badge (open)"}, adminTok)).json(&edited)
		if edited.Supply != nil || edited.Remaining != nil || *edited.PriceCredits != 300 || edited.Name != "First badge (open)" || *edited.AchievementID != first.ID {
			t.Fatalf("edited %+v", edited)
		}
		e.must(200, e.do("GET", "/api/collectibles", nil, "")).json(&colls)
		if colls.Items[0].Supply != nil || *colls.Items[0].PriceCredits != 300 {
			t.Errorf("catalog after the edit %+v", colls.Items[0])
		}
		e.must(404, e.do("PATCH", "/api/admin/collectibles/99999999", map[string]any{"name": "x"}, adminTok))
		e.must(422, e.do("PATCH", path, map[string]any{"rarity": "mythic"}, adminTok))
		e.must(400, e.do("PATCH", path, map[string]any{"minted": 0}, adminTok))
		e.must(403, e.do("PATCH", path, map[string]any{"name": "x"}, otherTok))
		e.must(422, e.do("POST", "/api/admin/collectibles", map[string]any{"slug": "neg", "name": "x", "rarity": "rare", "supply": -1}, adminTok))
		e.must(422, e.do("POST", "/api/admin/collectibles", map[string]any{"slug": "neg", "name": "x", "rarity": "rare", "achievementId": 99999999}, adminTok))
		e.must(404, e.do("GET", "/api/users/99999999/achievements", nil, ""))
		e.must(404, e.do("GET", "/api/users/abc/collectibles", nil, ""))

		// Every admin action is in the audit log.
		var audited int
		if err := db.Write().QueryRow(context.Background(), []any{&audited}, `SELECT COUNT(*) FROM audit_log WHERE action IN
			('achievement.create', 'achievement.grant', 'collectible.create', 'collectible.update')`); err != nil {
			t.Fatal(err)
		}
		if audited != 4 {
			t.Errorf("%d audit rows, want 4 (create collectible, define, grant, edit)", audited)
		}
	})
}
