package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestPostAchievementChecksShareAWindow: a quiet user's post is checked
// at once; the posts that follow within PostCheckWindow of the last check
// share one check at the window's end (the later ones coalesce into it),
// so steady posting is checked once a window; after a quiet window a post
// is checked at once again. Every post leaves a check due at most one
// window after it. Both engines.
func TestPostAchievementChecksShareAWindow(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		u := mkUsers(t, db, "checks", 1)[0]
		comm := sqlstore.NewCommunity(db, nil, gamification.Rules{}) // no XP: a level-up enqueues a check of its own
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "checks", Name: "Checks", CreatedAt: t0}, u)
		if err != nil {
			t.Fatal(err)
		}
		post := func(at time.Duration) {
			t.Helper()
			if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u, Body: "hi", CreatedAt: t0.Add(at)}, nil); err != nil {
				t.Fatal(err)
			}
		}
		// take is a worker taking the waiting checks: their keys are
		// released (jobs.Kind.Coalesce), so a later post enqueues anew.
		take := func() {
			t.Helper()
			if _, err := db.Write().Exec(ctx, `UPDATE jobs SET state = 'running', unique_key = NULL WHERE kind = ? AND state = 'available'`, achievements.CheckKind); err != nil {
				t.Fatal(err)
			}
		}
		w := sqlstore.PostCheckWindow
		post(0) // quiet user: at once
		take()
		post(100 * time.Millisecond) // within the window of that check: at its end
		post(200 * time.Millisecond) // coalesces into that one
		take()
		post(w + 500*time.Millisecond) // within the window after the last check: at its end
		post(w + 600*time.Millisecond) // coalesces
		take()
		post(4 * w) // quiet for a window: at once
		var due []time.Duration
		err = db.Write().Query(ctx, func(rows *sql.Rows) error {
			var at int64
			err := rows.Scan(&at)
			due = append(due, time.UnixMilli(at).Sub(t0))
			return err
		}, `SELECT run_at FROM jobs WHERE kind = ? ORDER BY id`, achievements.CheckKind)
		if err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{0, w, 2 * w, 4 * w}
		if diff := cmp.Diff(want, due); diff != "" {
			t.Errorf("checks due (-want +got):\n%s", diff)
		}
	})
}
