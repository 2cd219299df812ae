package demo_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/app/apptest"
	"github.com/plazahq/plaza/internal/demo"
	"github.com/plazahq/plaza/internal/media"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// seed builds the services as seed-demo does (no job workers: what the
// seed enqueues waits for a server) and seeds db.
func seed(t *testing.T, db *sqldb.DB) *demo.Env {
	t.Helper()
	a := apptest.New(t, db)
	e := &demo.Env{App: a, DB: db}
	if err := demo.Run(context.Background(), e, false); err != nil {
		t.Fatal(err)
	}
	return e
}

// The First Words pin exists before anyone posts, so the members whose
// first message earns the first-message achievement get the pin with it,
// through the award (serials 1..n in award order), not by hand.
func TestSeedAwardsThePin(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := seed(t, db)
		ctx := context.Background()
		pin := e.Collectibles[0]
		if pin.Name != "First Words pin" || pin.AchievementID == nil {
			t.Fatalf("first collectible %+v: want the First Words pin, granted by an achievement", pin)
		}
		var earned, held, minSerial, maxSerial, distinct, bySource, before int64
		if err := db.Read().QueryRow(ctx, []any{&earned}, `SELECT COUNT(*) FROM user_achievements WHERE achievement_id = ?`, *pin.AchievementID); err != nil {
			t.Fatal(err)
		}
		var lo, hi sql.NullInt64
		if err := db.Read().QueryRow(ctx, []any{&held, &lo, &hi, &distinct, &bySource},
			`SELECT COUNT(*), MIN(serial), MAX(serial), COUNT(DISTINCT serial), COALESCE(SUM(CASE WHEN source = 'achievement' THEN 1 ELSE 0 END), 0)
			FROM user_collectibles WHERE collectible_id = ?`, pin.ID); err != nil {
			t.Fatal(err)
		}
		minSerial, maxSerial = lo.Int64, hi.Int64
		if earned == 0 || held == 0 {
			t.Fatalf("%d users earned the first-message achievement, %d hold the pin: want some", earned, held)
		}
		if held != earned || bySource != held {
			t.Errorf("%d users earned the achievement, %d hold the pin (%d through the achievement): want all of them, through it", earned, held, bySource)
		}
		if minSerial != 1 || maxSerial != held || distinct != held {
			t.Errorf("pin serials %d..%d (%d distinct) for %d holders: want 1..%d", minSerial, maxSerial, distinct, held, held)
		}
		// Every holder got it with their award, which followed the pin.
		if err := db.Read().QueryRow(ctx, []any{&before},
			`SELECT COUNT(*) FROM user_achievements ua JOIN collectibles c ON c.achievement_id = ua.achievement_id
			WHERE c.id = ? AND ua.awarded_at < c.created_at`, pin.ID); err != nil {
			t.Fatal(err)
		}
		if before != 0 {
			t.Errorf("%d awards of the first-message achievement precede the pin", before)
		}
	})
}

// The mixes' audio is a small PCM WAV file whose header agrees with its
// length (a browser plays it), stored as an upload of type audio/wave.
func TestSeedMixAudio(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	e := seed(t, db)
	var path string
	var n int
	if err := db.Read().QueryRow(context.Background(), []any{&path, &n}, `SELECT MIN(audio_path), COUNT(DISTINCT audio_path) FROM mixes`); err != nil {
		t.Fatal(err)
	}
	if n != 1 || !strings.HasPrefix(path, "/uploads/audio/") || !strings.HasSuffix(path, ".wav") {
		t.Fatalf("mixes' audio %q (%d files): want one /uploads/audio/....wav", path, n)
	}
	b, err := os.ReadFile(filepath.Join(e.App.Media.Dir(), strings.TrimPrefix(path, "/uploads/")))
	if err != nil {
		t.Fatal(err)
	}
	if ct := media.Sniff(b); ct != "audio/wave" {
		t.Errorf("sniffed %s, want audio/wave", ct)
	}
	le := binary.LittleEndian
	if len(b) < 44 || len(b) > 1<<20 || string(b[:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("%d bytes, header %q: want a WAV file under 1 MiB", len(b), b[:min(len(b), 44)])
	}
	format, channels, rate, byteRate, align, bits := le.Uint16(b[20:]), le.Uint16(b[22:]), le.Uint32(b[24:]), le.Uint32(b[28:]), le.Uint16(b[32:]), le.Uint16(b[34:])
	if format != 1 || channels != 1 || bits != 16 || align != 2 || byteRate != 2*rate || rate < 8000 {
		t.Errorf("format %d, %d channels, %d Hz, %d B/s, align %d, %d bits: want 16-bit PCM mono", format, channels, rate, byteRate, align, bits)
	}
	data := le.Uint32(b[40:])
	if int(le.Uint32(b[4:])) != len(b)-8 || int(data) != len(b)-44 || data/byteRate < 2 {
		t.Errorf("RIFF size %d, data %d, file %d bytes: want sizes that agree, seconds of sound", le.Uint32(b[4:]), data, len(b))
	}
	var loud bool
	for i := 44; i+1 < len(b); i += 2 {
		loud = loud || int16(le.Uint16(b[i:])) != 0
	}
	if !loud {
		t.Error("the audio is all silence")
	}
}
