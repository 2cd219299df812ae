package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Music implements music.Store.
type Music struct {
	db *sqldb.DB
	xp *XP
}

var _ music.Store = (*Music)(nil)

// NewMusic returns the music store on db; xp is the ledger that plays'
// XP is written to (nil: the default levels).
func NewMusic(db *sqldb.DB, xp *XP) *Music {
	if xp == nil {
		xp = NewXP(db, nil)
	}
	return &Music{db: db, xp: xp}
}

const mixCols = `m.id, m.creator_id, m.title, m.genres, m.duration_sec, m.audio_path, m.cover_path, m.plays, m.likes, m.created_at, m.updated_at`

func scanMix(sc interface{ Scan(...any) error }) (music.Mix, error) {
	var m music.Mix
	var genres string
	var created, updated int64
	err := sc.Scan(&m.ID, &m.CreatorID, &m.Title, &genres, &m.DurationSec, &m.AudioPath, &m.CoverPath, &m.Plays, &m.Likes, &created, &updated)
	m.Genres = splitGenres(genres)
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return m, err
}

func splitGenres(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func insertGenres(ctx context.Context, tx *sql.Tx, mixID int64, genres []string) error {
	for _, g := range genres {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mix_genres (mix_id, genre) VALUES (?, ?)`, mixID, g); err != nil {
			return err
		}
	}
	return nil
}

// CreateMix inserts a mix and its genres.
func (s *Music) CreateMix(ctx context.Context, m music.Mix) (music.Mix, error) {
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO mixes (creator_id, title, genres, duration_sec, audio_path, cover_path, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.CreatorID, m.Title, strings.Join(m.Genres, ","), m.DurationSec, m.AudioPath, m.CoverPath,
			ms(m.CreatedAt), ms(m.UpdatedAt))
		if err != nil {
			return err
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := achievementCheckTx(ctx, tx, s.db, m.CreatedAt, m.CreatorID); err != nil { // mix achievements
			return err
		}
		return insertGenres(ctx, tx, m.ID, m.Genres)
	})
	m.CreatedAt, m.UpdatedAt = fromMS(ms(m.CreatedAt)), fromMS(ms(m.UpdatedAt))
	m.Plays, m.Likes = 0, 0
	return m, err
}

// Mix returns one mix.
func (s *Music) Mix(ctx context.Context, id int64) (music.Mix, error) {
	var m music.Mix
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var err error
		m, err = scanMix(rows)
		return err
	}, `SELECT `+mixCols+` FROM mixes m WHERE m.id = ?`, id)
	if err == nil && m.ID == 0 {
		return m, notFound("mix")
	}
	return m, err
}

// MixCreator returns the mix's creator, and false when it does not exist.
func (s *Music) MixCreator(ctx context.Context, id int64) (int64, bool, error) {
	var creator int64
	err := s.db.Read().QueryRow(ctx, []any{&creator}, `SELECT creator_id FROM mixes WHERE id = ?`, id)
	if sqldb.IsNotFound(err) {
		return 0, false, nil
	}
	return creator, err == nil, err
}

// Mixes pages mixes. Recent walks the primary key (or, by genre,
// mix_genres (genre, mix_id); by creator, (creator_id, id)) newest first;
// popular walks (plays, id) downward, from the cursor's (plays, id).
func (s *Music) Mixes(ctx context.Context, q music.Query) ([]music.Mix, error) {
	var where []string
	var args []any
	from := `mixes m`
	if q.Genre != "" {
		from = `mix_genres g JOIN mixes m ON m.id = g.mix_id`
		where = append(where, `g.genre = ?`)
		args = append(args, q.Genre)
	}
	if q.Creator != 0 {
		where = append(where, `m.creator_id = ?`)
		args = append(args, q.Creator)
	}
	order := `m.id DESC`
	if q.Sort == music.SortPopular {
		order = `m.plays DESC, m.id DESC`
		if q.After.ID != 0 {
			where = append(where, `(m.plays < ? OR (m.plays = ? AND m.id < ?))`)
			args = append(args, q.After.Plays, q.After.Plays, q.After.ID)
		}
	} else if q.After.ID != 0 {
		where = append(where, `m.id < ?`)
		args = append(args, q.After.ID)
	}
	query := `SELECT ` + mixCols + ` FROM ` + from
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY ` + order + ` LIMIT ?`
	args = append(args, q.Limit)
	out := []music.Mix{}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		m, err := scanMix(rows)
		out = append(out, m)
		return err
	}, query, args...)
	return out, err
}

// UpdateMix applies a patch.
func (s *Music) UpdateMix(ctx context.Context, id int64, p music.MixPatch, now time.Time) (music.Mix, error) {
	var m music.Mix
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		set := []string{`updated_at = ?`}
		args := []any{ms(now)}
		add := func(col string, v any) {
			set = append(set, col+` = ?`)
			args = append(args, v)
		}
		if p.Title != nil {
			add(`title`, *p.Title)
		}
		if p.Genres != nil {
			add(`genres`, strings.Join(p.Genres, ","))
		}
		if p.DurationSec != nil {
			add(`duration_sec`, *p.DurationSec)
		}
		if p.AudioPath != nil {
			add(`audio_path`, *p.AudioPath)
		}
		if p.CoverPath != nil {
			add(`cover_path`, *p.CoverPath)
		}
		res, err := tx.ExecContext(ctx, `UPDATE mixes SET `+strings.Join(set, `, `)+` WHERE id = ?`, append(args, id)...)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return notFound("mix")
		}
		if p.Genres != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM mix_genres WHERE mix_id = ?`, id); err != nil {
				return err
			}
			if err := insertGenres(ctx, tx, id, p.Genres); err != nil {
				return err
			}
		}
		m, err = scanMix(tx.QueryRowContext(ctx, `SELECT `+mixCols+` FROM mixes m WHERE m.id = ?`, id))
		return err
	})
	return m, err
}

// DeleteMix deletes a mix; its genres and likes go with it.
func (s *Music) DeleteMix(ctx context.Context, id int64) error {
	return s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		// Children first: the foreign keys cascade on both engines, but
		// deleting them explicitly does not depend on it.
		for _, q := range []string{`DELETE FROM mix_genres WHERE mix_id = ?`, `DELETE FROM mix_likes WHERE mix_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM mixes WHERE id = ?`, id)
		if err == nil && affected(res) == 0 {
			return notFound("mix")
		}
		return err
	})
}

// likeTx locks the mix's row (so its count moves with the like rows),
// runs change, and returns the like count after it.
func (s *Music) likeTx(ctx context.Context, mixID int64, change func(tx *sql.Tx) (delta int64, err error)) (int64, error) {
	var likes int64
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT likes FROM mixes WHERE id = ?`+forUpdate(s.db), mixID).Scan(&likes)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("mix")
		}
		if err != nil {
			return err
		}
		delta, err := change(tx)
		if err != nil || delta == 0 {
			return err
		}
		likes += delta
		_, err = tx.ExecContext(ctx, `UPDATE mixes SET likes = ? WHERE id = ?`, likes, mixID)
		return err
	})
	return likes, err
}

// Like records a like once.
func (s *Music) Like(ctx context.Context, mixID, userID int64, now time.Time) (int64, error) {
	return s.likeTx(ctx, mixID, func(tx *sql.Tx) (int64, error) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM mix_likes WHERE mix_id = ? AND user_id = ?`, mixID, userID).Scan(&n); err != nil || n > 0 {
			return 0, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO mix_likes (mix_id, user_id, created_at) VALUES (?, ?, ?)`, mixID, userID, ms(now))
		return 1, err
	})
}

// Unlike removes a like, if there is one.
func (s *Music) Unlike(ctx context.Context, mixID, userID int64) (int64, error) {
	return s.likeTx(ctx, mixID, func(tx *sql.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM mix_likes WHERE mix_id = ? AND user_id = ?`, mixID, userID)
		if err != nil {
			return 0, err
		}
		return -affected(res), nil
	})
}

// LikedAmong returns which of mixIDs the user likes.
func (s *Music) LikedAmong(ctx context.Context, userID int64, mixIDs []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(mixIDs) == 0 {
		return out, nil
	}
	err := queryIDs(ctx, s.db.Fresh(), func(rows *sql.Rows) error {
		var id int64
		err := rows.Scan(&id)
		out[id] = true
		return err
	}, `SELECT mix_id FROM mix_likes WHERE user_id = ? AND mix_id IN (`+inIDs+`)`, []any{userID}, mixIDs)
	return out, err
}

// playsChunk is how many mixes one flush statement updates.
const playsChunk = 500

// AddPlays adds the deltas and makes the XP awards in one transaction:
// one UPDATE per 500 mixes, in id order, then each creator's awards in
// creator id order (so two instances flushing at once lock rows in the
// same order and never deadlock).
func (s *Music) AddPlays(ctx context.Context, f music.PlayFlush) (music.PlayFlushResult, error) {
	ids := make([]int64, 0, len(f.Deltas))
	for id, d := range f.Deltas {
		if d != 0 {
			ids = append(ids, id)
		}
	}
	xp := slices.Clone(f.XP)
	slices.SortFunc(xp, func(a, b music.PlayXP) int { return cmp.Compare(a.Creator, b.Creator) })
	var out music.PlayFlushResult
	if len(ids) == 0 && len(xp) == 0 {
		return out, nil
	}
	slices.Sort(ids)
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		out = music.PlayFlushResult{}
		for chunk := range slices.Chunk(ids, playsChunk) {
			var b strings.Builder
			args := make([]any, 0, 3*len(chunk))
			b.WriteString(`UPDATE mixes SET plays = plays + CASE id`)
			for _, id := range chunk {
				b.WriteString(` WHEN ? THEN ?`)
				args = append(args, id, f.Deltas[id])
			}
			b.WriteString(` ELSE 0 END WHERE id IN (` + placeholders(len(chunk)) + `)`)
			for _, id := range chunk {
				args = append(args, id)
			}
			res, err := tx.ExecContext(ctx, b.String(), args...)
			if err != nil {
				return err
			}
			out.Rows += int(affected(res))
		}
		for _, x := range xp {
			r, capped, err := s.xp.AwardManyTx(ctx, tx, f.At, x.Creator, gamification.ReasonPlay, f.Amount, f.DailyCap, x.Refs)
			if err != nil {
				return err
			}
			if out.XP == nil {
				out.XP = make(map[int64]music.PlayXPResult, len(xp))
			}
			out.XP[x.Creator] = music.PlayXPResult{Result: r, Capped: capped}
		}
		return nil
	})
	return out, err
}

// ---- now playing ----

const nowPlayingID = 1

// NowPlaying reads the live state.
func (s *Music) NowPlaying(ctx context.Context) (music.NowPlaying, error) {
	var np music.NowPlaying
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var err error
		np, err = scanNowPlaying(rows)
		return err
	}, `SELECT live, dj_id, title, artist, artwork_path, has_track, started_at, updated_at FROM now_playing WHERE id = ?`, nowPlayingID)
	return np, err
}

func scanNowPlaying(sc interface{ Scan(...any) error }) (music.NowPlaying, error) {
	var np music.NowPlaying
	var dj, started sql.NullInt64
	var hasTrack bool
	var t music.Track
	var updated int64
	err := sc.Scan(&np.Live, &dj, &t.Title, &t.Artist, &t.ArtworkPath, &hasTrack, &started, &updated)
	np.DJID = dj.Int64
	if hasTrack {
		np.Track = &t
	}
	if at, ok := nullMS(started); ok {
		np.StartedAt = &at
	}
	np.UpdatedAt = fromMS(updated)
	return np, err
}

func sameTrack(a, b music.NowPlaying) bool {
	return a.Live && b.Live && a.DJID == b.DJID && a.Track != nil && b.Track != nil && *a.Track == *b.Track
}

// SetNowPlaying stores the state; a new track keeps its start time only
// if it is the one already on air, and otherwise joins the history.
func (s *Music) SetNowPlaying(ctx context.Context, np music.NowPlaying) (music.NowPlaying, error) {
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		// The row exists from the migration on; locking it orders
		// concurrent changes.
		cur, err := scanNowPlaying(tx.QueryRowContext(ctx, `SELECT live, dj_id, title, artist, artwork_path, has_track, started_at, updated_at
			FROM now_playing WHERE id = ?`+forUpdate(s.db), nowPlayingID))
		if err != nil {
			return err
		}
		if sameTrack(cur, np) {
			np.StartedAt = cur.StartedAt
		} else if np.Live && np.Track != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO now_playing_history (dj_id, title, artist, artwork_path, started_at) VALUES (?, ?, ?, ?, ?)`,
				np.DJID, np.Track.Title, np.Track.Artist, np.Track.ArtworkPath, ms(*np.StartedAt)); err != nil {
				return err
			}
		}
		var dj, started sql.NullInt64
		t := music.Track{}
		if np.Live {
			dj = sql.NullInt64{Int64: np.DJID, Valid: true}
		}
		if np.StartedAt != nil {
			started = sql.NullInt64{Int64: ms(*np.StartedAt), Valid: true}
		}
		if np.Track != nil {
			t = *np.Track
		}
		_, err = tx.ExecContext(ctx, `UPDATE now_playing SET live = ?, dj_id = ?, title = ?, artist = ?, artwork_path = ?, has_track = ?,
			started_at = ?, updated_at = ? WHERE id = ?`, np.Live, dj, t.Title, t.Artist, t.ArtworkPath, np.Track != nil, started, ms(np.UpdatedAt), nowPlayingID)
		return err
	})
	if err != nil {
		return music.NowPlaying{}, err
	}
	np.UpdatedAt = fromMS(ms(np.UpdatedAt))
	if np.StartedAt != nil {
		at := fromMS(ms(*np.StartedAt))
		np.StartedAt = &at
	}
	return np, nil
}

// History pages the on-air history, newest first.
func (s *Music) History(ctx context.Context, before int64, limit int) ([]music.PlayedTrack, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	out := []music.PlayedTrack{}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var p music.PlayedTrack
		var dj sql.NullInt64
		var started int64
		err := rows.Scan(&p.ID, &dj, &p.Track.Title, &p.Track.Artist, &p.Track.ArtworkPath, &started)
		p.DJID, p.StartedAt = dj.Int64, fromMS(started)
		out = append(out, p)
		return err
	}, `SELECT id, dj_id, title, artist, artwork_path, started_at FROM now_playing_history WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit)
	return out, err
}
