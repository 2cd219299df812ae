package loadtest

import (
	"context"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/events"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestPrepareMakesEvents: prepare leaves upcoming events for the mix's
// events read, with the first users going to them.
func TestPrepareMakesEvents(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p, err := Prepare(ctx, db, 5, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != prepEvents {
			t.Fatalf("prepared %d events, want %d", len(p.Events), prepEvents)
		}
		es := sqlstore.NewEvents(db, nil)
		list, err := es.Events(ctx, events.Range{From: time.Now(), Limit: events.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		upcoming := map[int64]bool{}
		for _, e := range list {
			upcoming[e.ID] = true
		}
		for _, id := range p.Events {
			if !upcoming[id] {
				t.Fatalf("prepared event %d is not in the upcoming list", id)
			}
		}
		for i, u := range p.Users {
			mine, err := es.MyRSVPs(ctx, u.ID, p.Events)
			if err != nil {
				t.Fatal(err)
			}
			if st := mine[p.Events[i%len(p.Events)]]; len(mine) != 1 || st.Status != events.Going {
				t.Fatalf("user %d's RSVPs %v, want going to one event", u.ID, mine)
			}
		}
	})
}

func TestParseMixLeaderboard(t *testing.T) {
	if DefaultMix.Leaderboard <= 0 {
		t.Fatal("the default mix reads no leaderboard")
	}
	m, err := ParseMix("leaderboard=30s")
	if err != nil || m.Leaderboard != 30*time.Second || m.Events != DefaultMix.Events {
		t.Fatalf("leaderboard=30s: %+v %v", m, err)
	}
	if m, err := ParseMix("leaderboard=off"); err != nil || m.Leaderboard != 0 {
		t.Fatalf("leaderboard=off: %+v %v", m, err)
	}
	if _, err := ParseMix("leaderbored=1m"); err == nil {
		t.Fatal("an unknown action accepted")
	}
}
