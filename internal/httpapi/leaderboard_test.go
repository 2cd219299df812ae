package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

type boardView struct {
	Period string
	Items  []struct {
		Rank int
		XP   int64
		User struct {
			ID       int64
			Username string
			Level    int
		}
	}
	Me *struct {
		Rank int
		XP   int64
	}
	UpdatedAt *string
}

// TestLeaderboard posts messages (each awards XP in the message's
// transaction) and reads the boards: the award shows in the next read,
// ties go to who got there first, around=me centres the page, bad
// queries are 422, and the admin rebuild finds and fixes drift.
func TestLeaderboard(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("boss")
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
		msgs := fmt.Sprintf("/api/community/channels/%d/messages", ch.ID)
		post := func(tok string, n int) {
			for i := range n {
				e.must(201, e.do("POST", msgs, map[string]string{"body": fmt.Sprint("hello ", i)}, tok))
			}
		}
		ana, _ := e.signup("anna")
		ben, benU := e.signup("ben")
		cy, _ := e.signup("cyra")
		var v boardView
		e.must(200, e.do("GET", "/api/leaderboard", nil, "")).json(&v)
		if v.Period != "7d" || len(v.Items) != 0 || v.Me != nil {
			t.Fatalf("empty board = %+v", v)
		}
		post(ana, 3)
		post(ben, 3)
		post(cy, 5)
		e.must(200, e.do("GET", "/api/leaderboard?period=all&limit=10", nil, ben)).json(&v)
		got := []string{}
		for _, it := range v.Items {
			got = append(got, fmt.Sprintf("%d:%s:%d", it.Rank, it.User.Username, it.XP))
		}
		if fmt.Sprint(got) != "[1:cyra:5 2:anna:3 3:ben:3]" || v.Me == nil || v.Me.Rank != 3 || v.Me.XP != 3 || v.UpdatedAt == nil {
			t.Fatalf("board = %v me %+v", got, v.Me)
		}
		if v.Items[0].User.Level != 2 {
			t.Errorf("cyra level on the board = %d, want 2", v.Items[0].User.Level)
		}
		// One more message moves ben ahead of ana at once.
		post(ben, 1)
		e.must(200, e.do("GET", "/api/leaderboard?period=week&limit=1&around=me", nil, ben)).json(&v)
		if len(v.Items) != 1 || v.Items[0].User.ID != benU.ID || v.Items[0].Rank != 2 || v.Me.Rank != 2 || v.Me.XP != 4 {
			t.Fatalf("around=me after an award = %+v", v)
		}
		e.must(200, e.do("GET", "/api/leaderboard?period=month&around=me", nil, "")).json(&v)
		if v.Period != "30d" || v.Me != nil || len(v.Items) != 3 || v.Items[0].Rank != 1 {
			t.Errorf("anonymous around=me = %+v", v)
		}
		for _, q := range []string{"period=year", "limit=0", "limit=101", "limit=x", "around=you"} {
			if r := e.do("GET", "/api/leaderboard?"+q, nil, ""); r.status != 422 {
				t.Errorf("?%s: %d %s, want 422", q, r.status, r.body)
			}
		}

		// Drift: a stored total changed behind the ledger's back.
		if _, err := e.db.Write().Exec(context.Background(), `UPDATE users SET xp = 99, level = 5 WHERE id = ?`, benU.ID); err != nil {
			t.Fatal(err)
		}
		e.must(403, e.do("POST", "/api/admin/xp/rebuild", nil, ben))
		var rep struct {
			Checked            int
			Fixed              bool
			LeaderboardRebuilt bool
			Drifted            []struct {
				UserID             int64
				StoredXP, LedgerXP int64
				StoredLevel, Level int
			}
		}
		e.must(200, e.do("POST", "/api/admin/xp/rebuild?dryRun=true", nil, adminTok)).json(&rep)
		if rep.Checked != 4 || rep.Fixed || len(rep.Drifted) != 1 || rep.Drifted[0].StoredXP != 99 || rep.Drifted[0].LedgerXP != 4 {
			t.Fatalf("dry run = %+v", rep)
		}
		if rows := e.auditLog(adminTok, "&action=xp.rebuild").Items; len(rows) != 0 {
			t.Fatalf("a dry run was audited: %+v", rows)
		}
		e.must(422, e.do("POST", "/api/admin/xp/rebuild", map[string]string{"reason": strings.Repeat("x", 501)}, adminTok))
		e.must(200, e.do("POST", "/api/admin/xp/rebuild", map[string]string{"reason": "ledger drift"}, adminTok)).json(&rep)
		if !rep.Fixed || !rep.LeaderboardRebuilt || len(rep.Drifted) != 1 || rep.Drifted[0].Level != 1 {
			t.Fatalf("rebuild = %+v", rep)
		}
		rows := e.auditLog(adminTok, "&action=xp.rebuild").Items
		if len(rows) != 1 || rows[0].Reason != "ledger drift" || rows[0].Actor.ID == 0 || rows[0].Target.Kind != "xp" ||
			fmt.Sprint(rows[0].Before) != fmt.Sprintf("map[drifted:1 users:[map[level:5 userId:%d xp:99]]]", benU.ID) ||
			fmt.Sprint(rows[0].After) != fmt.Sprintf("map[drifted:1 users:[map[level:1 userId:%d xp:4]]]", benU.ID) {
			t.Fatalf("rebuild's audit record: %+v", rows)
		}
		e.must(200, e.do("POST", "/api/admin/xp/rebuild", nil, adminTok)).json(&rep)
		if len(rep.Drifted) != 0 {
			t.Errorf("drift after the fix: %+v", rep.Drifted)
		}
		if rows := e.auditLog(adminTok, "&action=xp.rebuild").Items; len(rows) != 2 || fmt.Sprint(rows[0].After) != "map[drifted:0 users:[]]" {
			t.Fatalf("a rebuild that found no drift: %+v", rows)
		}
		e.must(200, e.do("GET", "/api/leaderboard?period=all", nil, ben)).json(&v)
		if len(v.Items) != 3 || v.Me.Rank != 2 || v.Items[1].User.Level != 1 {
			t.Errorf("board after the rebuild = %+v", v)
		}
		e.must(422, e.do("POST", "/api/admin/xp/rebuild?dryRun=maybe", nil, adminTok))
	})
}
