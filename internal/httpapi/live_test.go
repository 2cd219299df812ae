package httpapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func TestNowPlaying(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		userTok, _ := e.signup("ear")
		djTok, dj := e.withRole("dj_eve", account.RoleCreator)
		otherTok, other := e.withRole("dj_fox", account.RoleCreator)
		art := e.uploadURL(djTok, "art.png", pngBytes)

		get := func() music.NowPlayingView {
			t.Helper()
			var v music.NowPlayingView
			e.must(200, e.do("GET", "/api/live/now-playing", nil, "")).json(&v)
			return v
		}
		if v := get(); v.Live || v.DJ != nil || v.Track != nil || v.StartedAt != nil || v.Listeners != 0 {
			t.Fatalf("initial %+v", v)
		}
		var raw map[string]any
		e.must(200, e.do("GET", "/api/live/now-playing", nil, "")).json(&raw)
		for _, k := range []string{"live", "dj", "track", "startedAt", "listeners"} {
			if _, ok := raw[k]; !ok {
				t.Fatalf("field %s missing: %v", k, raw)
			}
		}

		// A listener in the live room: any signed-in user may join it.
		ws := e.connect(userTok)
		if f := ws.subscribe("live-stream", nil); f.Op != "subscribed" {
			t.Fatalf("subscribe live-stream: %+v", f)
		}
		deadline := time.Now().Add(5 * time.Second)
		for get().Listeners != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("listeners %d, want 1", get().Listeners)
			}
			time.Sleep(50 * time.Millisecond)
		}

		track := map[string]any{"title": "Energy Flash", "artist": "Joey Beltram", "artworkUrl": art}
		put := map[string]any{"live": true, "track": track}
		e.must(401, e.do("PUT", "/api/live/now-playing", put, ""))
		e.must(403, e.do("PUT", "/api/live/now-playing", put, userTok))
		for name, body := range map[string]any{
			"no live":             map[string]any{"track": track},
			"track while offline": map[string]any{"live": false, "track": track},
			"empty title":         map[string]any{"live": true, "track": map[string]any{"title": " ", "artist": "x"}},
			"foreign artwork":     map[string]any{"live": true, "track": map[string]any{"title": "x", "artworkUrl": "https://elsewhere.example/a.png"}},
			"audio as artwork":    map[string]any{"live": true, "track": map[string]any{"title": "x", "artworkUrl": e.uploadURL(djTok, "a.mp3", mp3Bytes)}},
			"live as a string":    map[string]any{"live": "yes"},
		} {
			if r := e.do("PUT", "/api/live/now-playing", body, djTok); r.status != 422 {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}
		if v := get(); v.Live {
			t.Fatalf("a refused PUT changed the state: %+v", v)
		}

		var v music.NowPlayingView
		e.must(200, e.do("PUT", "/api/live/now-playing", put, djTok)).json(&v)
		if !v.Live || v.DJ == nil || v.DJ.ID != dj.ID || v.Track == nil || v.Track.Title != "Energy Flash" || v.Track.ArtworkURL != art || v.StartedAt == nil {
			t.Fatalf("PUT answered %+v", v)
		}
		f := ws.next("presence")
		var pushed music.NowPlayingView
		json.Unmarshal(f.Data, &pushed)
		if f.Room != "live-stream" || f.Type != "now-playing.updated" || pushed.Track == nil || pushed.Track.Title != "Energy Flash" || pushed.DJ.Username != "dj_eve" {
			t.Fatalf("pushed %+v %s", f, f.Data)
		}
		if g := get(); !g.Live || g.Track == nil || g.Track.Artist != "Joey Beltram" || g.Listeners != 1 || !g.StartedAt.Equal(*v.StartedAt) {
			t.Fatalf("GET after PUT (cache dropped?): %+v", g)
		}

		// Another creator takes over with a new track, then goes off air.
		e.must(200, e.do("PUT", "/api/live/now-playing", map[string]any{"live": true, "track": map[string]any{"title": "Acid Tracks", "artist": "Phuture"}}, otherTok))
		if f := ws.next("presence"); f.Type != "now-playing.updated" {
			t.Fatalf("second push %+v", f)
		}
		e.must(200, e.do("PUT", "/api/live/now-playing", map[string]any{"live": false, "track": nil}, otherTok)).json(&v)
		if v.Live || v.DJ != nil || v.Track != nil || v.StartedAt != nil {
			t.Fatalf("off air %+v", v)
		}
		if g := get(); g.Live {
			t.Fatalf("GET off air %+v", g)
		}

		type history struct {
			Items      []music.PlayedTrackView
			NextCursor string
		}
		var h history
		e.must(200, e.do("GET", "/api/live/history?limit=1", nil, "")).json(&h)
		if len(h.Items) != 1 || h.Items[0].Title != "Acid Tracks" || h.Items[0].DJ == nil || h.Items[0].DJ.ID != other.ID || h.NextCursor == "" {
			t.Fatalf("history page 1 %+v", h)
		}
		e.must(200, e.do("GET", "/api/live/history?limit=1&before="+h.NextCursor, nil, "")).json(&h)
		if len(h.Items) != 1 || h.Items[0].Title != "Energy Flash" || h.Items[0].ArtworkURL != art {
			t.Fatalf("history page 2 %+v", h)
		}
		e.must(200, e.do("GET", "/api/live/history?before="+time.Now().Format("20060102"), nil, "")).json(&h)
		for _, q := range []string{"?limit=0", "?before=x", "?before=-1"} {
			e.must(422, e.do("GET", "/api/live/history"+q, nil, ""))
		}
	})
}
