// Package musictest is the conformance suite every music.Store passes.
package musictest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/music"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Exercise checks s. users holds at least three existing user ids; the
// store must hold no mixes yet.
func Exercise(t *testing.T, s music.Store, users []int64) {
	ctx := context.Background()
	a, b, c := users[0], users[1], users[2]
	mk := func(creator int64, title string, genres ...string) music.Mix {
		t.Helper()
		m, err := s.CreateMix(ctx, music.Mix{CreatorID: creator, Title: title, Genres: genres, DurationSec: 3600,
			AudioPath: "/uploads/audio/ab/" + title + ".mp3", CoverPath: "", CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ids := func(ms []music.Mix) []int64 {
		out := []int64{}
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	list := func(q music.Query) []int64 {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 50
		}
		if q.Sort == "" {
			q.Sort = music.SortRecent
		}
		ms, err := s.Mixes(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return ids(ms)
	}

	m1 := mk(a, "one", "house", "techno")
	m2 := mk(b, "two", "techno")
	m3 := mk(a, "three", "ambient")
	m4 := mk(b, "four", "house")

	t.Run("CreateAndRead", func(t *testing.T) {
		got, err := s.Mix(ctx, m1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(m1, got); diff != "" {
			t.Fatalf("Mix (-created +read):\n%s", diff)
		}
		if _, err := s.Mix(ctx, 1<<40); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("missing mix: %v", err)
		}
		if creator, ok, err := s.MixCreator(ctx, m2.ID); !ok || err != nil || creator != b {
			t.Fatalf("MixCreator = %d %v %v, want %d", creator, ok, err, b)
		}
		if _, ok, err := s.MixCreator(ctx, 1<<40); ok || err != nil {
			t.Fatalf("MixCreator(missing) = %v %v", ok, err)
		}
	})

	t.Run("Lists", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			q    music.Query
			want []int64
		}{
			{"recent", music.Query{}, []int64{m4.ID, m3.ID, m2.ID, m1.ID}},
			{"by creator", music.Query{Creator: a}, []int64{m3.ID, m1.ID}},
			{"by genre", music.Query{Genre: "house"}, []int64{m4.ID, m1.ID}},
			{"by genre and creator", music.Query{Genre: "techno", Creator: b}, []int64{m2.ID}},
			{"unknown genre", music.Query{Genre: "polka"}, []int64{}},
			{"page", music.Query{Limit: 2}, []int64{m4.ID, m3.ID}},
			{"after", music.Query{After: music.Cursor{ID: m3.ID}, Limit: 2}, []int64{m2.ID, m1.ID}},
			{"popular, no plays: newest first", music.Query{Sort: music.SortPopular}, []int64{m4.ID, m3.ID, m2.ID, m1.ID}},
		} {
			if diff := cmp.Diff(tc.want, list(tc.q)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}
	})

	t.Run("PlaysAndPopular", func(t *testing.T) {
		// Flushes from several instances at once: every delta lands.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := s.AddPlays(ctx, music.PlayFlush{Deltas: map[int64]int64{m1.ID: 5, m2.ID: 1, m3.ID: 5}, At: now}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		r, err := s.AddPlays(ctx, music.PlayFlush{Deltas: map[int64]int64{m2.ID: 2, 1 << 40: 7, m4.ID: 0}, At: now})
		if err != nil || r.Rows != 1 || len(r.XP) != 0 {
			t.Fatalf("AddPlays with a missing mix and a zero delta = %+v %v, want 1 row", r, err)
		}
		for id, want := range map[int64]int64{m1.ID: 40, m2.ID: 10, m3.ID: 40, m4.ID: 0} {
			m, err := s.Mix(ctx, id)
			if err != nil || m.Plays != want {
				t.Errorf("mix %d plays %d %v, want %d", id, m.Plays, err, want)
			}
		}
		if diff := cmp.Diff([]int64{m3.ID, m1.ID, m2.ID, m4.ID}, list(music.Query{Sort: music.SortPopular})); diff != "" {
			t.Errorf("popular (-want +got):\n%s", diff)
		}
		// Paging through a tie: (40, m3) then (40, m1).
		first := list(music.Query{Sort: music.SortPopular, Limit: 1})
		next := list(music.Query{Sort: music.SortPopular, Limit: 2, After: music.Cursor{Plays: 40, ID: first[0]}})
		if diff := cmp.Diff([]int64{m1.ID, m2.ID}, next); diff != "" {
			t.Errorf("popular after the first (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int64{m1.ID, m4.ID}, list(music.Query{Sort: music.SortPopular, Genre: "house"})); diff != "" {
			t.Errorf("popular house (-want +got):\n%s", diff)
		}
	})

	t.Run("PlayXP", func(t *testing.T) {
		// c has no mixes of their own here; the awards are what the store
		// is asked for, whoever's plays they were.
		flush := func(at time.Time, limit int64, refs ...string) music.PlayXPResult {
			t.Helper()
			r, err := s.AddPlays(ctx, music.PlayFlush{XP: []music.PlayXP{{Creator: c, Refs: refs}}, Amount: 2, DailyCap: limit, At: at})
			if err != nil {
				t.Fatal(err)
			}
			return r.XP[c]
		}
		r := flush(now, 10, "play:1:t.1", "play:1:t.2")
		if r.Awarded != 4 || r.Capped {
			t.Fatalf("two plays: %+v, want 4 XP awarded, not capped", r)
		}
		before := r.XP
		// The same refs again (a retried flush): nothing more.
		if r := flush(now, 10, "play:1:t.1", "play:1:t.2"); r.Awarded != 0 || r.XP != before {
			t.Fatalf("a retried flush: %+v, want nothing awarded", r)
		}
		// Past the cap: 6 left of 10, so three refs of 2 and the rest nothing.
		if r := flush(now, 10, "play:1:t.2", "play:1:t.3", "play:1:t.4", "play:1:t.5", "play:1:t.6"); r.Awarded != 6 || !r.Capped || r.XP != before+6 {
			t.Fatalf("to the cap: %+v, want 6 awarded and capped", r)
		}
		if r := flush(now.Add(time.Hour), 10, "play:1:t.7"); r.Awarded != 0 || !r.Capped {
			t.Fatalf("at the cap: %+v", r)
		}
		// A cap not a multiple of the amount cuts the last award.
		if r := flush(now.Add(24*time.Hour), 3, "play:1:t.8", "play:1:t.9"); r.Awarded != 3 || !r.Capped {
			t.Fatalf("a cut award: %+v, want 3 awarded", r)
		}
		// The next UTC day, and no cap at all.
		if r := flush(now.Add(48*time.Hour), 0, "play:1:t.10", "play:1:t.11", "play:1:t.12"); r.Awarded != 6 || r.Capped {
			t.Fatalf("no cap: %+v", r)
		}
		// A creator whose account is gone gets nothing, and the flush does
		// not fail for it.
		res, err := s.AddPlays(ctx, music.PlayFlush{Deltas: map[int64]int64{1 << 40: 1}, XP: []music.PlayXP{{Creator: 1 << 40, Refs: []string{"play:1:t.1"}}},
			Amount: 1, At: now})
		if err != nil || res.Rows != 0 || res.XP[1<<40].Awarded != 0 {
			t.Fatalf("an unknown creator: %+v %v", res, err)
		}
	})

	t.Run("Update", func(t *testing.T) {
		title, dur, cover := "four (remastered)", 1800, "/uploads/image/cd/x.png"
		later := now.Add(time.Hour)
		m, err := s.UpdateMix(ctx, m4.ID, music.MixPatch{Title: &title, Genres: []string{"techno", "dub"}, DurationSec: &dur, CoverPath: &cover}, later)
		if err != nil {
			t.Fatal(err)
		}
		if m.Title != title || m.DurationSec != dur || m.CoverPath != cover || m.AudioPath != m4.AudioPath || !m.UpdatedAt.Equal(later) ||
			!cmp.Equal(m.Genres, []string{"techno", "dub"}) {
			t.Fatalf("updated %+v", m)
		}
		if got := list(music.Query{Genre: "house"}); !cmp.Equal(got, []int64{m1.ID}) {
			t.Errorf("house after the genre change: %v", got)
		}
		if got := list(music.Query{Genre: "dub"}); !cmp.Equal(got, []int64{m4.ID}) {
			t.Errorf("dub after the genre change: %v", got)
		}
		if _, err := s.UpdateMix(ctx, 1<<40, music.MixPatch{Title: &title}, later); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("update missing: %v", err)
		}
	})

	t.Run("Likes", func(t *testing.T) {
		like := func(user int64, want int64) {
			t.Helper()
			n, err := s.Like(ctx, m1.ID, user, now)
			if err != nil || n != want {
				t.Fatalf("Like by %d = %d %v, want %d", user, n, err, want)
			}
		}
		like(b, 1)
		like(b, 1) // twice: nothing changes
		like(c, 2)
		liked, err := s.LikedAmong(ctx, b, []int64{m1.ID, m2.ID, m3.ID})
		if err != nil || !cmp.Equal(liked, map[int64]bool{m1.ID: true}) {
			t.Fatalf("LikedAmong = %v %v", liked, err)
		}
		if n, err := s.Unlike(ctx, m1.ID, b); err != nil || n != 1 {
			t.Fatalf("Unlike = %d %v", n, err)
		}
		if n, err := s.Unlike(ctx, m1.ID, b); err != nil || n != 1 {
			t.Fatalf("Unlike twice = %d %v", n, err)
		}
		if m, _ := s.Mix(ctx, m1.ID); m.Likes != 1 {
			t.Fatalf("likes %d", m.Likes)
		}
		if _, err := s.Like(ctx, 1<<40, b, now); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("like missing: %v", err)
		}
		if _, err := s.Unlike(ctx, 1<<40, b); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unlike missing: %v", err)
		}
		// Concurrent likes by many users of one mix: the count is exact.
		var wg sync.WaitGroup
		for _, u := range users {
			wg.Go(func() {
				if _, err := s.Like(ctx, m2.ID, u, now); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if m, _ := s.Mix(ctx, m2.ID); m.Likes != int64(len(users)) {
			t.Fatalf("likes after concurrent likes: %d, want %d", m.Likes, len(users))
		}
	})

	t.Run("Delete", func(t *testing.T) {
		if err := s.DeleteMix(ctx, m1.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteMix(ctx, m1.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		if _, err := s.Mix(ctx, m1.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("deleted mix: %v", err)
		}
		if got := list(music.Query{Genre: "techno"}); !cmp.Equal(got, []int64{m4.ID, m2.ID}) {
			t.Errorf("techno after the delete: %v", got)
		}
		if liked, _ := s.LikedAmong(ctx, c, []int64{m1.ID}); len(liked) != 0 {
			t.Errorf("likes of a deleted mix remain: %v", liked)
		}
	})

	t.Run("NowPlaying", func(t *testing.T) {
		np, err := s.NowPlaying(ctx)
		if err != nil || np.Live || np.Track != nil || np.DJID != 0 || np.StartedAt != nil {
			t.Fatalf("initial %+v %v", np, err)
		}
		at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
		set := func(np music.NowPlaying) music.NowPlaying {
			t.Helper()
			got, err := s.SetNowPlaying(ctx, np)
			if err != nil {
				t.Fatal(err)
			}
			read, err := s.NowPlaying(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, read); diff != "" {
				t.Fatalf("stored vs read (-set +read):\n%s", diff)
			}
			return got
		}
		trackA := &music.Track{Title: "Strings of Life", Artist: "Rhythim Is Rhythim", ArtworkPath: "/uploads/image/ab/a.png"}
		trackB := &music.Track{Title: "Spastik", Artist: "Plastikman"}
		got := set(music.NowPlaying{Live: true, DJID: a, Track: trackA, StartedAt: at(0), UpdatedAt: now})
		if !got.Live || got.DJID != a || *got.Track != *trackA || !got.StartedAt.Equal(now) {
			t.Fatalf("on air: %+v", got)
		}
		// The same track again keeps its start and is not a new entry.
		got = set(music.NowPlaying{Live: true, DJID: a, Track: trackA, StartedAt: at(time.Minute), UpdatedAt: now.Add(time.Minute)})
		if !got.StartedAt.Equal(now) {
			t.Fatalf("same track restarted: %+v", got)
		}
		set(music.NowPlaying{Live: true, DJID: a, Track: trackB, StartedAt: at(2 * time.Minute), UpdatedAt: now.Add(2 * time.Minute)})
		set(music.NowPlaying{Live: true, DJID: b, Track: trackB, StartedAt: at(3 * time.Minute), UpdatedAt: now.Add(3 * time.Minute)}) // another DJ
		set(music.NowPlaying{Live: true, DJID: b, StartedAt: at(4 * time.Minute), UpdatedAt: now.Add(4 * time.Minute)})                // no track
		got = set(music.NowPlaying{UpdatedAt: now.Add(5 * time.Minute)})
		if got.Live || got.DJID != 0 || got.Track != nil || got.StartedAt != nil {
			t.Fatalf("off air: %+v", got)
		}
		h, err := s.History(ctx, 0, 2)
		if err != nil || len(h) != 2 {
			t.Fatalf("history %+v %v", h, err)
		}
		if h[0].DJID != b || h[0].Track != *trackB || !h[0].StartedAt.Equal(now.Add(3*time.Minute)) || h[1].DJID != a || h[1].Track != *trackB {
			t.Fatalf("history page 1: %+v", h)
		}
		h, err = s.History(ctx, h[1].ID, 2)
		if err != nil || len(h) != 1 || h[0].Track != *trackA || h[0].DJID != a {
			t.Fatalf("history page 2: %+v %v", h, err)
		}
	})
}
