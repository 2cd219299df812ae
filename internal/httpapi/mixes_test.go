package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// mp3Bytes starts with an MPEG audio frame header, which is what uploads
// sniff for MP3.
var mp3Bytes = append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 600)...)

// withRole signs up name and gives the account role, as an admin would.
func (e *env) withRole(name string, role account.Role) (string, account.User) {
	e.t.Helper()
	tok, u := e.signup(name)
	if _, err := e.db.Write().Exec(context.Background(), `UPDATE users SET role = ? WHERE id = ?`, string(role), u.ID); err != nil {
		e.t.Fatal(err)
	}
	e.cache.InvalidateTag(context.Background(), account.UserTag(u.ID))
	u.Role = role
	return tok, u
}

// uploadURL uploads data and returns its URL.
func (e *env) uploadURL(tok, name string, data []byte) string {
	e.t.Helper()
	var up struct{ URL string }
	e.must(201, e.upload(tok, "file", name, data)).json(&up)
	return up.URL
}

type mixList struct {
	Items      []music.MixView
	NextCursor string
}

func (e *env) mixes(query, tok string) mixList {
	e.t.Helper()
	var l mixList
	e.must(200, e.do("GET", "/api/mixes"+query, nil, tok)).json(&l)
	return l
}

func ids(l mixList) string {
	var s []string
	for _, m := range l.Items {
		s = append(s, fmt.Sprint(m.ID))
	}
	return strings.Join(s, ",")
}

func TestMixes(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		userTok, _ := e.signup("listener")
		djTok, dj := e.withRole("dj_ana", account.RoleCreator)
		otherTok, _ := e.withRole("dj_bo", account.RoleCreator)
		modTok, _ := e.withRole("mod_cy", account.RoleModerator)
		audio := e.uploadURL(djTok, "set.mp3", mp3Bytes)
		cover := e.uploadURL(djTok, "cover.png", pngBytes)
		body := func(mod func(m map[string]any)) map[string]any {
			m := map[string]any{"title": "  Sunrise Set ", "genres": []string{"Deep House", "techno", "TECHNO"}, "durationSec": 3600, "audioUrl": audio, "coverUrl": cover}
			if mod != nil {
				mod(m)
			}
			return m
		}

		// Who may publish.
		e.must(401, e.do("POST", "/api/mixes", body(nil), ""))
		e.must(403, e.do("POST", "/api/mixes", body(nil), userTok))

		// Bad input: 4xx, nothing stored.
		missing := "/uploads/audio/ab/ab" + strings.Repeat("0", 62) + ".mp3"
		for name, tc := range map[string]struct {
			body   any
			status int
		}{
			"other site's audio":   {body(func(m map[string]any) { m["audioUrl"] = "https://elsewhere.example/set.mp3" }), 422},
			"image as audio":       {body(func(m map[string]any) { m["audioUrl"] = cover }), 422},
			"audio as cover":       {body(func(m map[string]any) { m["coverUrl"] = audio }), 422},
			"no such upload":       {body(func(m map[string]any) { m["audioUrl"] = missing }), 422},
			"path traversal":       {body(func(m map[string]any) { m["audioUrl"] = "/uploads/audio/../../plaza.db" }), 422},
			"no audio":             {body(func(m map[string]any) { delete(m, "audioUrl") }), 422},
			"unknown genre":        {body(func(m map[string]any) { m["genres"] = []string{"polka"} }), 422},
			"no genre":             {body(func(m map[string]any) { m["genres"] = []string{} }), 422},
			"six genres":           {body(func(m map[string]any) { m["genres"] = []string{"house", "techno", "dub", "jazz", "funk", "soul"} }), 422},
			"empty title":          {body(func(m map[string]any) { m["title"] = "  " }), 422},
			"long title":           {body(func(m map[string]any) { m["title"] = strings.Repeat("x", 201) }), 422},
			"control in title":     {body(func(m map[string]any) { m["title"] = "a\x00b" }), 422},
			"zero duration":        {body(func(m map[string]any) { m["durationSec"] = 0 }), 422},
			"two-day duration":     {body(func(m map[string]any) { m["durationSec"] = 2 * 86400 }), 422},
			"duration as a string": {body(func(m map[string]any) { m["durationSec"] = "1h" }), 422},
			"unknown field":        {body(func(m map[string]any) { m["plays"] = 1e6 }), 400},
			"not JSON":             {`{"title":`, 400},
		} {
			if r := e.do("POST", "/api/mixes", tc.body, djTok); r.status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", name, r.status, tc.status, r.body)
			}
		}
		if l := e.mixes("", ""); len(l.Items) != 0 {
			t.Fatalf("refused mixes were stored: %+v", l.Items)
		}

		var m1 music.MixView
		e.must(201, e.do("POST", "/api/mixes", body(nil), djTok)).json(&m1)
		if m1.Title != "Sunrise Set" || strings.Join(m1.Genres, ",") != "deep-house,techno" || m1.AudioURL != audio || m1.CoverURL != cover ||
			m1.Creator.ID != dj.ID || m1.Creator.Username != "dj_ana" || m1.DurationSec != 3600 || m1.Plays != 0 || m1.Liked {
			t.Fatalf("created %+v", m1)
		}
		var m2, m3 music.MixView
		e.must(201, e.do("POST", "/api/mixes", body(func(m map[string]any) { m["title"] = "Late"; m["genres"] = []string{"dnb"}; delete(m, "coverUrl") }), otherTok)).json(&m2)
		if m2.CoverURL != "" || m2.Genres[0] != "drum-and-bass" {
			t.Fatalf("second mix %+v", m2)
		}
		e.must(201, e.do("POST", "/api/mixes", body(func(m map[string]any) { m["title"] = "Mod's"; m["genres"] = []string{"techno"} }), modTok)).json(&m3)

		// Lists.
		for q, want := range map[string]string{
			"":                                   fmt.Sprintf("%d,%d,%d", m3.ID, m2.ID, m1.ID),
			"?sort=recent&limit=2":               fmt.Sprintf("%d,%d", m3.ID, m2.ID),
			"?genre=Techno":                      fmt.Sprintf("%d,%d", m3.ID, m1.ID),
			"?genre=drum%20%26%20bass":           fmt.Sprint(m2.ID),
			fmt.Sprintf("?creator=%d", dj.ID):    fmt.Sprint(m1.ID),
			"?creator=999999":                    "",
			fmt.Sprintf("?before=%d", m2.ID):     fmt.Sprint(m1.ID),
			"?sort=popular":                      fmt.Sprintf("%d,%d,%d", m3.ID, m2.ID, m1.ID),
			"?genre=techno&sort=popular&limit=1": fmt.Sprint(m3.ID),
		} {
			if got := ids(e.mixes(q, "")); got != want {
				t.Errorf("GET /api/mixes%s = [%s], want [%s]", q, got, want)
			}
		}
		page := e.mixes("?limit=2", "")
		if page.NextCursor == "" || ids(e.mixes("?limit=2&before="+page.NextCursor, "")) != fmt.Sprint(m1.ID) {
			t.Fatalf("paging: %+v", page)
		}
		for _, q := range []string{"?sort=hot", "?genre=polka", "?creator=abc", "?creator=-1", "?limit=0", "?limit=x", "?before=abc", "?sort=popular&before=12"} {
			e.must(422, e.do("GET", "/api/mixes"+q, nil, ""))
		}
		if l := e.mixes("?limit=1000", ""); len(l.Items) != 3 {
			t.Fatalf("limit above 100 is capped, not refused: %d", len(l.Items))
		}

		// One mix.
		var got music.MixView
		e.must(200, e.do("GET", fmt.Sprintf("/api/mixes/%d", m1.ID), nil, "")).json(&got)
		if got.ID != m1.ID || got.Creator.Username != "dj_ana" {
			t.Fatalf("GET mix %+v", got)
		}
		for _, p := range []string{"/api/mixes/999999", "/api/mixes/abc", "/api/mixes/0", "/api/mixes/-3"} {
			e.must(404, e.do("GET", p, nil, ""))
		}

		// Edits: the owner or a moderator.
		path := fmt.Sprintf("/api/mixes/%d", m1.ID)
		e.must(403, e.do("PATCH", path, map[string]any{"title": "Mine now"}, otherTok))
		e.must(403, e.do("PATCH", path, map[string]any{"title": "Mine now"}, userTok))
		e.must(401, e.do("PATCH", path, map[string]any{"title": "Mine now"}, ""))
		e.must(422, e.do("PATCH", path, map[string]any{"genres": []string{"polka"}}, djTok))
		e.must(422, e.do("PATCH", path, map[string]any{"coverUrl": "https://elsewhere.example/c.png"}, djTok))
		e.must(404, e.do("PATCH", "/api/mixes/999999", map[string]any{"title": "x"}, djTok))
		e.must(200, e.do("GET", path, nil, "")).json(&got)
		if got.Title != "Sunrise Set" {
			t.Fatalf("a refused edit changed the mix: %+v", got)
		}
		e.must(200, e.do("PATCH", path, map[string]any{"title": "Sunrise Set (edit)", "genres": []string{"house"}, "coverUrl": ""}, djTok)).json(&got)
		if got.Title != "Sunrise Set (edit)" || strings.Join(got.Genres, ",") != "house" || got.CoverURL != "" || got.AudioURL != audio {
			t.Fatalf("edited %+v", got)
		}
		e.must(200, e.do("PATCH", path, map[string]any{"durationSec": 1800}, modTok)).json(&got)
		if got.DurationSec != 1800 {
			t.Fatalf("moderator edit %+v", got)
		}
		if l := e.mixes("?genre=house", ""); ids(l) != fmt.Sprint(m1.ID) || l.Items[0].Title != "Sunrise Set (edit)" {
			t.Fatalf("cached list not invalidated by the edit: %+v", l.Items)
		}

		// Likes: idempotent, the caller's laid over the cached list.
		like := path + "/like"
		var st music.LikeState
		e.must(401, e.do("PUT", like, nil, ""))
		// A like is a reaction: like the others, it waits for a verified
		// email, so throwaway accounts cannot pile likes on a mix.
		unverifiedTok, _ := e.registerOnly("ulla")
		for _, m := range []string{"PUT", "DELETE"} {
			if r := e.do(m, like, nil, unverifiedTok); r.status != 403 || r.code() != "verification_required" {
				t.Fatalf("unverified %s like: %d %s", m, r.status, r.body)
			}
		}
		e.must(200, e.do("PUT", like, nil, userTok)).json(&st)
		e.must(200, e.do("PUT", like, nil, userTok)).json(&st)
		if !st.Liked || st.Likes != 1 {
			t.Fatalf("like twice: %+v", st)
		}
		e.must(200, e.do("PUT", like, nil, otherTok)).json(&st)
		if st.Likes != 2 {
			t.Fatalf("second liker: %+v", st)
		}
		e.must(404, e.do("PUT", "/api/mixes/999999/like", nil, userTok))
		liked := func(tok string) bool {
			for _, m := range e.mixes("", tok).Items {
				if m.ID == m1.ID {
					return m.Liked
				}
			}
			t.Fatal("mix not listed")
			return false
		}
		if !liked(userTok) || liked(djTok) || liked("") {
			t.Fatal("liked is not per caller")
		}
		e.must(200, e.do("GET", path, nil, userTok)).json(&got)
		if !got.Liked || got.Likes != 2 {
			t.Fatalf("GET mix for the liker: %+v", got)
		}
		e.must(200, e.do("DELETE", like, nil, userTok)).json(&st)
		e.must(200, e.do("DELETE", like, nil, userTok)).json(&st)
		if st.Liked || st.Likes != 1 || liked(userTok) {
			t.Fatalf("unlike twice: %+v", st)
		}

		// Deletes: the owner or a moderator.
		p2 := fmt.Sprintf("/api/mixes/%d", m2.ID)
		e.must(403, e.do("DELETE", p2, nil, djTok))
		e.must(403, e.do("DELETE", p2, nil, userTok))
		e.must(204, e.do("DELETE", p2, nil, otherTok))
		e.must(404, e.do("DELETE", p2, nil, otherTok))
		e.must(404, e.do("GET", p2, nil, ""))
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/mixes/%d", m3.ID), nil, modTok))
		if got := ids(e.mixes("", "")); got != fmt.Sprint(m1.ID) {
			t.Fatalf("after deletes: [%s]", got)
		}
	})
}

func TestMixPlays(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_TRUSTED_PROXIES", "127.0.0.1"))
		userTok, _ := e.signup("fan")
		djTok, dj := e.withRole("dj_dee", account.RoleCreator)
		audio := e.uploadURL(djTok, "set.mp3", mp3Bytes)
		var mix music.MixView
		e.must(201, e.do("POST", "/api/mixes", map[string]any{"title": "Plays", "genres": []string{"house"}, "durationSec": 60, "audioUrl": audio}, djTok)).json(&mix)
		path := fmt.Sprintf("/api/mixes/%d/plays", mix.ID)
		play := func(tok, ip string) {
			t.Helper()
			e.must(202, e.do("POST", path, nil, tok, "X-Forwarded-For", ip))
		}
		// Warm the cached list, so the test also shows a flush drops it.
		if l := e.mixes("", ""); l.Items[0].Plays != 0 {
			t.Fatal("plays before any play")
		}
		e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d", dj.ID), nil, "")) // and the DJ's profile
		for range 3 {
			play("", "203.0.113.1") // one anonymous listener
			play("", "203.0.113.2") // another
			play(userTok, "203.0.113.1")
		}
		if n := e.plays.Stats().Counted; n != 3 {
			t.Fatalf("counted %d of 9 plays by 3 listeners, want 3", n)
		}
		waitPlays := func(want int64) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				l := e.mixes("", "")
				if l.Items[0].Plays == want {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("plays %d after 10 s, want %d", l.Items[0].Plays, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		waitPlays(3)
		e.clock.Advance(31 * time.Minute) // a new window for everyone
		play("", "203.0.113.1")
		play("", "203.0.113.1")
		waitPlays(4)
		play(djTok, "203.0.113.9") // the DJ's own play: a play, no XP
		waitPlays(5)
		var got music.MixView
		e.must(200, e.do("GET", fmt.Sprintf("/api/mixes/%d", mix.ID), nil, "")).json(&got)
		if got.Plays != 5 {
			t.Fatalf("GET mix plays %d", got.Plays)
		}
		// The DJ earned 1 XP per play by another listener, and the flush
		// dropped their cached profile.
		var ledger gamification.Ledger
		e.must(200, e.do("GET", "/api/users/me/xp", nil, djTok)).json(&ledger)
		var profile account.Profile
		e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d", dj.ID), nil, "")).json(&profile)
		if ledger.XP != 4 || len(ledger.Items) != 4 || ledger.Items[0].Reason != gamification.ReasonPlay || profile.XP != 4 {
			t.Fatalf("the DJ's ledger %+v, profile xp %d; want 4 plays of 1 XP", ledger, profile.XP)
		}
		e.must(404, e.do("POST", "/api/mixes/999999/plays", nil, ""))
		e.must(404, e.do("POST", "/api/mixes/abc/plays", nil, ""))
		e.must(401, e.do("POST", path, nil, "plz_bogus"))
		e.must(405, e.do("GET", path, nil, ""))
		if st := e.plays.Stats(); st.Accepted != 12 || st.Counted != 5 || st.XPAwarded != 4 {
			t.Fatalf("stats %+v", st)
		}
	})
}
