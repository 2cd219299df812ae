package demo

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/plazahq/plaza/internal/music"
)

// The demo's stand-in recording (it has no real ones to ship): a WAV file
// that browsers play, of a quiet 440 Hz blip on every beat at 120 BPM.
// 16-bit PCM, mono, 8 kHz: 16 KB a second.
const (
	wavRate    = 8000
	wavSeconds = 8
)

// demoWAV makes the stand-in: a RIFF/WAVE header (PCM format chunk, data
// chunk) followed by the samples, little-endian.
func demoWAV() []byte {
	n := wavRate * wavSeconds
	data := 2 * n
	b := make([]byte, 0, 44+data)
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+data))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)        // format chunk size
	b = binary.LittleEndian.AppendUint16(b, 1)         // PCM
	b = binary.LittleEndian.AppendUint16(b, 1)         // channels
	b = binary.LittleEndian.AppendUint32(b, wavRate)   // sample rate
	b = binary.LittleEndian.AppendUint32(b, wavRate*2) // bytes a second
	b = binary.LittleEndian.AppendUint16(b, 2)         // bytes a sample frame
	b = binary.LittleEndian.AppendUint16(b, 16)        // bits a sample
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(data))
	const beat = wavRate / 2 // 120 BPM
	for i := range n {
		t := float64(i%beat) / wavRate // seconds into the beat
		v := 0.0
		if t < 0.15 {
			// About -22 dBFS at the attack, gone within the beat.
			v = 0.08 * math.Exp(-t*25) * math.Sin(2*math.Pi*440*float64(i)/wavRate)
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(int16(math.Round(v*math.MaxInt16))))
	}
	return b
}

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
	asset, err := e.App.Media.Save(bytes.NewReader(demoWAV()))
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
