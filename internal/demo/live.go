package demo

import (
	"context"

	"github.com/plazahq/plaza/internal/music"
)

// seedLive puts a creator on air with a short history of tracks.
func seedLive(ctx context.Context, e *Env) error {
	dj := e.Creators[0]
	tracks := []music.TrackInput{{Title: "Moonlight Avenue", Artist: "Kerri Chandler"}, {Title: "Strings of Life", Artist: "Derrick May"},
		{Title: "Pacific State", Artist: "808 State"}, {Title: "Teardrop", Artist: "Massive Attack"}}
	live := true
	for _, t := range tracks {
		if _, err := e.App.Music.SetNowPlaying(ctx, dj, music.NowPlayingInput{Live: &live, Track: &t}); err != nil {
			return err
		}
	}
	e.Progress("%s is live, %d tracks in the history", dj.Username, len(tracks))
	return nil
}
