package demo

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/plazahq/plaza/internal/music"
)

// silentMP3 is a short MPEG audio frame: enough for the uploads check to
// take it as audio (the demo has no real recordings to ship).
var silentMP3 = append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 600)...)

var mixTitles = []struct {
	title  string
	genres []string
	mins   int
}{
	{"Sunset on the Rooftop", []string{"house", "deep-house"}, 62}, {"Friday Live #12", []string{"techno"}, 95},
	{"Slow Morning", []string{"ambient"}, 48}, {"Afro Roots Vol. 3", []string{"afro-house"}, 74},
	{"Warehouse Memories", []string{"techno"}, 88}, {"Late Night Drive", []string{"deep-house"}, 57},
	{"Garden Party Disco", []string{"disco"}, 66}, {"Low Tide", []string{"ambient", "downtempo"}, 43},
	{"Peak Time", []string{"techno"}, 71},
}

// seedMixes publishes mixes by the creators, with likes, and plays by other
// listeners that the play counter flushes (the creators' play XP).
func seedMixes(ctx context.Context, e *Env) error {
	asset, err := e.App.Media.Save(bytes.NewReader(silentMP3))
	if err != nil {
		return err
	}
	audio := e.App.URLs.URL(asset.Path)
	likes, plays := 0, 0
	for i, m := range mixTitles {
		by := e.Creators[i%len(e.Creators)]
		genres := []string{}
		for _, g := range m.genres {
			if _, ok := music.NormalizeGenre(g); ok {
				genres = append(genres, g)
			}
		}
		v, err := e.App.Music.Create(ctx, by, music.MixInput{Title: m.title, Genres: genres, DurationSec: m.mins * 60, AudioURL: audio})
		if err != nil {
			return fmt.Errorf("mix %q: %w", m.title, err)
		}
		e.Mixes = append(e.Mixes, v.ID)
		for _, u := range e.Users {
			if u.ID == by.ID {
				continue
			}
			if e.Rnd.IntN(3) > 0 {
				if err := e.App.Music.Play(ctx, v.ID, "u:"+strconv.FormatInt(u.ID, 10)); err != nil {
					return err
				}
				plays++
			}
			if e.Rnd.IntN(4) == 0 {
				if _, err := e.App.Music.SetLike(ctx, u, v.ID, true); err != nil {
					return err
				}
				likes++
			}
		}
	}
	// The counter writes plays (and the creators' XP) in its flush.
	if err := e.App.Plays.Flush(ctx); err != nil {
		return err
	}
	e.Progress("%d mixes, %d plays, %d likes", len(e.Mixes), plays, likes)
	return nil
}
