package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/events"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Events implements events.Store.
type Events struct {
	db *sqldb.DB
	xp *XP
}

var _ events.Store = (*Events)(nil)

// NewEvents returns the events store on db; attendance XP goes through xp.
func NewEvents(db *sqldb.DB, xp *XP) *Events { return &Events{db: db, xp: xp} }

// eventCols reads an event with its counts (through idx_event_rsvps_status).
const eventCols = `e.id, e.owner_id, e.title, e.description, e.location, e.stream_url, e.starts_at, e.ends_at, e.capacity,
	(SELECT COUNT(*) FROM event_rsvps r WHERE r.event_id = e.id AND r.status = 'going'),
	(SELECT COUNT(*) FROM event_rsvps r WHERE r.event_id = e.id AND r.status = 'waitlisted'),
	e.created_at, e.updated_at`

func scanEvent(sc interface{ Scan(...any) error }) (events.Event, error) {
	var e events.Event
	var starts, ends, created, updated int64
	var capacity sql.NullInt64
	err := sc.Scan(&e.ID, &e.OwnerID, &e.Title, &e.Description, &e.Location, &e.StreamURL, &starts, &ends, &capacity,
		&e.Going, &e.Waitlisted, &created, &updated)
	e.StartsAt, e.EndsAt, e.CreatedAt, e.UpdatedAt = fromMS(starts), fromMS(ends), fromMS(created), fromMS(updated)
	if capacity.Valid {
		c := int(capacity.Int64)
		e.Capacity = &c
	}
	return e, err
}

func nullCapacity(c *int) any {
	if c == nil {
		return nil
	}
	return *c
}

// CreateEvent inserts an event and its scheduled jobs.
func (s *Events) CreateEvent(ctx context.Context, e events.Event, ob events.Outbox) (events.Event, error) {
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO events (owner_id, title, description, location, stream_url, starts_at, ends_at, capacity, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.OwnerID, e.Title, e.Description, e.Location, e.StreamURL,
			ms(e.StartsAt), ms(e.EndsAt), nullCapacity(e.Capacity), ms(e.CreatedAt), ms(e.CreatedAt))
		if err != nil {
			return err
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		e, err = s.lockEvent(ctx, tx, e.ID)
		if err != nil {
			return err
		}
		return jobs.InsertTx(ctx, tx, s.db.Dialect, e.CreatedAt, ob.Scheduled(e)...)
	})
	return e, err
}

// lockEvent reads an event inside tx, holding its row lock on MySQL (the
// SQLite writer is exclusive already) so that RSVP writes serialise.
func (s *Events) lockEvent(ctx context.Context, tx *sql.Tx, id int64) (events.Event, error) {
	if s.db.Dialect == sqldb.MySQL {
		// Lock the bare row first: FOR UPDATE on the query with
		// subqueries would lock the counted RSVP rows too.
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM events WHERE id = ? FOR UPDATE`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return events.Event{}, notFound("event")
		}
		if err != nil {
			return events.Event{}, err
		}
	}
	e, err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events e WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, notFound("event")
	}
	return e, err
}

// Event returns one event.
func (s *Events) Event(ctx context.Context, id int64) (events.Event, error) {
	var e events.Event
	found := false
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var err error
		e, err = scanEvent(rows)
		found = true
		return err
	}, `SELECT `+eventCols+` FROM events e WHERE e.id = ?`, id)
	if err == nil && !found {
		return e, notFound("event")
	}
	return e, err
}

// Events lists the events overlapping r, by start. An event lasts at most
// events.MaxDuration, so the scan of idx_events_starts starts that long
// before r.From.
func (s *Events) Events(ctx context.Context, r events.Range) ([]events.Event, error) {
	q := `SELECT ` + eventCols + ` FROM events e WHERE e.starts_at >= ? AND e.ends_at > ?`
	args := []any{ms(r.From.Add(-events.MaxDuration)), ms(r.From)}
	if !r.To.IsZero() {
		q += ` AND e.starts_at < ?`
		args = append(args, ms(r.To))
	}
	if r.AfterID > 0 {
		q += ` AND (e.starts_at > ? OR (e.starts_at = ? AND e.id > ?))`
		args = append(args, ms(r.AfterStart), ms(r.AfterStart), r.AfterID)
	}
	q += ` ORDER BY e.starts_at, e.id LIMIT ?`
	args = append(args, r.Limit)
	out := []events.Event{}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		e, err := scanEvent(rows)
		out = append(out, e)
		return err
	}, q, args...)
	return out, err
}

// UpdateEvent changes an event, schedules its reminder again when its start
// moved, and fills places a larger capacity opened, in one transaction.
func (s *Events) UpdateEvent(ctx context.Context, id int64, p events.Patch, now time.Time, ob events.Outbox) (events.Event, []int64, error) {
	var e events.Event
	var promoted []int64
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		promoted = nil
		before, err := s.lockEvent(ctx, tx, id)
		if err != nil {
			return err
		}
		after := before
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&after.Title, p.Title)
		set(&after.Description, p.Description)
		set(&after.Location, p.Location)
		set(&after.StreamURL, p.StreamURL)
		if p.StartsAt != nil {
			after.StartsAt = *p.StartsAt
		}
		if p.EndsAt != nil {
			after.EndsAt = *p.EndsAt
		}
		if p.SetCapacity {
			after.Capacity = p.Capacity
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET title = ?, description = ?, location = ?, stream_url = ?, starts_at = ?, ends_at = ?,
			capacity = ?, updated_at = ? WHERE id = ?`, after.Title, after.Description, after.Location, after.StreamURL,
			ms(after.StartsAt), ms(after.EndsAt), nullCapacity(after.Capacity), ms(now), id); err != nil {
			return err
		}
		if promoted, err = s.fill(ctx, tx, after, now, ob); err != nil {
			return err
		}
		if e, err = s.lockEvent(ctx, tx, id); err != nil {
			return err
		}
		if ms(after.StartsAt) != ms(before.StartsAt) {
			return jobs.InsertTx(ctx, tx, s.db.Dialect, now, ob.Scheduled(e)...)
		}
		return nil
	})
	return e, promoted, err
}

// DeleteEvent removes an event; its RSVPs and attendance go with it.
func (s *Events) DeleteEvent(ctx context.Context, id int64) error {
	return s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockEvent(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM event_attendance WHERE event_id = ?`, `DELETE FROM event_rsvps WHERE event_id = ?`, `DELETE FROM events WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// fill promotes waitlisted members, first come first served, while e has
// room, enqueueing their mails. e must be locked by tx.
func (s *Events) fill(ctx context.Context, tx *sql.Tx, e events.Event, now time.Time, ob events.Outbox) ([]int64, error) {
	var going int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM event_rsvps WHERE event_id = ? AND status = 'going'`, e.ID).Scan(&going); err != nil {
		return nil, err
	}
	room := -1 // unlimited
	if e.Capacity != nil {
		room = *e.Capacity - going
		if room <= 0 {
			return nil, nil
		}
	}
	q := `SELECT r.user_id, u.username, u.email FROM event_rsvps r JOIN users u ON u.id = r.user_id
		WHERE r.event_id = ? AND r.status = 'waitlisted' ORDER BY r.wait_seq`
	args := []any{e.ID}
	if room > 0 {
		q += ` LIMIT ?`
		args = append(args, room)
	}
	var members []events.Member
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var m events.Member
		err := rows.Scan(&m.UserID, &m.Username, &m.Email)
		members = append(members, m)
		return err
	}, q, args...)
	if err != nil || len(members) == 0 {
		return nil, err
	}
	ids := make([]int64, len(members))
	var outbox []jobs.Job
	for i, m := range members {
		ids[i] = m.UserID
		outbox = append(outbox, ob.Promoted(e, m)...)
	}
	args = []any{ms(now), e.ID}
	for _, id := range ids {
		args = append(args, id)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE event_rsvps SET status = 'going', wait_seq = 0, updated_at = ?
		WHERE event_id = ? AND user_id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
		return nil, err
	}
	return ids, jobs.InsertTx(ctx, tx, s.db.Dialect, now, outbox...)
}

// waitPosition is the 1-based place of the ticket seq in e's waitlist.
func waitPosition(ctx context.Context, tx *sql.Tx, eventID, seq int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM event_rsvps WHERE event_id = ? AND status = 'waitlisted' AND wait_seq <= ?`, eventID, seq).Scan(&n)
	return n, err
}

// RSVP records an answer under the event's lock.
func (s *Events) RSVP(ctx context.Context, eventID, userID int64, want events.Status, now time.Time, ob events.Outbox) (events.RSVPResult, error) {
	var res events.RSVPResult
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res = events.RSVPResult{}
		e, err := s.lockEvent(ctx, tx, eventID)
		if err != nil {
			return err
		}
		var cur events.Status
		var seq int64
		err = tx.QueryRowContext(ctx, `SELECT status, wait_seq FROM event_rsvps WHERE event_id = ? AND user_id = ?`, eventID, userID).Scan(&cur, &seq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		exists := err == nil
		next, nextSeq := want, int64(0)
		switch {
		case want == events.Going && (cur == events.Going || cur == events.Waitlisted):
			next, nextSeq = cur, seq // already in, or already queued: keep the place
		case want == events.Going && (e.Full() || e.Waitlisted > 0):
			// Full, or places a moment ago freed are the waitlist's.
			next = events.Waitlisted
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(wait_seq), 0) + 1 FROM event_rsvps WHERE event_id = ? AND status = 'waitlisted'`,
				eventID).Scan(&nextSeq); err != nil {
				return err
			}
		}
		if !exists {
			_, err = tx.ExecContext(ctx, `INSERT INTO event_rsvps (event_id, user_id, status, wait_seq, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				eventID, userID, string(next), nextSeq, ms(now), ms(now))
		} else if next != cur || nextSeq != seq {
			_, err = tx.ExecContext(ctx, `UPDATE event_rsvps SET status = ?, wait_seq = ?, updated_at = ? WHERE event_id = ? AND user_id = ?`,
				string(next), nextSeq, ms(now), eventID, userID)
		}
		if err != nil {
			return err
		}
		res.Status = next
		if next == events.Waitlisted {
			if res.Position, err = waitPosition(ctx, tx, eventID, nextSeq); err != nil {
				return err
			}
		}
		if cur == events.Going && next != events.Going {
			res.Promoted, err = s.fill(ctx, tx, e, now, ob)
		}
		return err
	})
	return res, err
}

// MyRSVPs returns one user's answers to some events in one query, a
// waitlisted answer with its place (the waitlisted tickets up to its own,
// counted through the (event_id, status, wait_seq) index).
func (s *Events) MyRSVPs(ctx context.Context, userID int64, eventIDs []int64) (map[int64]events.MyRSVP, error) {
	out := map[int64]events.MyRSVP{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	err := queryIDs(ctx, s.db.Fresh(), func(rows *sql.Rows) error {
		var id int64
		var m events.MyRSVP
		err := rows.Scan(&id, &m.Status, &m.Position)
		out[id] = m
		return err
	}, `SELECT r.event_id, r.status, CASE WHEN r.status = 'waitlisted' THEN (SELECT COUNT(*) FROM event_rsvps w
		WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.wait_seq <= r.wait_seq) ELSE 0 END
		FROM event_rsvps r WHERE r.user_id = ? AND r.event_id IN (`+inIDs+`)`, []any{userID}, eventIDs)
	return out, err
}

// statusRank orders attendees as events.Status.Rank does.
const statusRank = `CASE r.status WHEN 'going' THEN 1 WHEN 'waitlisted' THEN 2 WHEN 'interested' THEN 3 ELSE 4 END`

// Attendees pages an event's RSVPs; waitlisted positions are their rank.
func (s *Events) Attendees(ctx context.Context, eventID int64, p events.AttendeePage) ([]events.Attendee, error) {
	out := []events.Attendee{}
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var a events.Attendee
		var st string
		var pos, updated int64
		var attended int
		err := rows.Scan(&a.UserID, &st, &a.WaitSeq, &pos, &attended, &updated)
		a.Status, a.Position, a.Attended, a.UpdatedAt = events.Status(st), int(pos), attended > 0, fromMS(updated)
		out = append(out, a)
		return err
	}, `SELECT r.user_id, r.status, r.wait_seq,
			CASE WHEN r.status = 'waitlisted' THEN (SELECT COUNT(*) FROM event_rsvps w WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.wait_seq <= r.wait_seq) ELSE 0 END,
			(SELECT COUNT(*) FROM event_attendance a WHERE a.event_id = r.event_id AND a.user_id = r.user_id),
			r.updated_at
		FROM event_rsvps r WHERE r.event_id = ? AND (`+statusRank+` > ? OR (`+statusRank+` = ? AND (r.wait_seq > ? OR (r.wait_seq = ? AND r.user_id > ?))))
		ORDER BY `+statusRank+`, r.wait_seq, r.user_id LIMIT ?`,
		eventID, p.AfterRank, p.AfterRank, p.AfterSeq, p.AfterSeq, p.AfterUser, p.Limit)
	return out, err
}

// MarkAttended records attendance and awards its XP, users in id order
// (the order AwardTx locks their rows in) under the event's lock.
func (s *Events) MarkAttended(ctx context.Context, eventID int64, userIDs []int64, xp int64, now time.Time) ([]events.Attendance, error) {
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := []events.Attendance{}
	if len(ids) == 0 {
		return out, nil
	}
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		out = make([]events.Attendance, 0, len(ids))
		if _, err := s.lockEvent(ctx, tx, eventID); err != nil {
			return err
		}
		known := map[int64]bool{}
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var id int64
			err := rows.Scan(&id)
			known[id] = true
			return err
		}, `SELECT id FROM users WHERE id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
			return err
		}
		for _, id := range ids {
			if !known[id] {
				return apperr.Invalid(map[string]string{"userIds": "no user has id " + strconv.FormatInt(id, 10)})
			}
		}
		for _, id := range ids {
			_, err := tx.ExecContext(ctx, `INSERT INTO event_attendance (event_id, user_id, marked_at) VALUES (?, ?, ?)`, eventID, id, ms(now))
			if _, dup := sqldb.IsDuplicate(err); dup {
				err = nil // marked before; the ledger keeps the award single
			} else if err == nil {
				err = achievementCheckTx(ctx, tx, s.db, now, id) // attendance achievements
			}
			if err != nil {
				return err
			}
			var r gamification.Result
			if xp > 0 {
				r, err = s.xp.AwardTx(ctx, tx, now, gamification.Award{UserID: id, Amount: xp, Reason: gamification.ReasonAttendance,
					Ref: "event:" + strconv.FormatInt(eventID, 10)})
				if err != nil {
					return err
				}
			}
			out = append(out, events.Attendance{UserID: id, XPAwarded: r.Awarded})
		}
		return nil
	})
	return out, err
}

// Remind enqueues the reminder mails of an event's going members once per
// start time.
func (s *Events) Remind(ctx context.Context, eventID int64, startsAt, now time.Time, ob events.Outbox) ([]int64, error) {
	var ids []int64
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		ids = nil
		e, err := s.lockEvent(ctx, tx, eventID)
		if apperr.Is(err, apperr.NotFound) {
			return nil // deleted: nobody to remind
		}
		if err != nil {
			return err
		}
		var reminded sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT reminded_for FROM events WHERE id = ?`, eventID).Scan(&reminded); err != nil {
			return err
		}
		if ms(e.StartsAt) != ms(startsAt) || !now.Before(e.StartsAt) || (reminded.Valid && reminded.Int64 == ms(startsAt)) {
			return nil // moved (its own reminder is queued), started, or done
		}
		var members []events.Member
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var m events.Member
			err := rows.Scan(&m.UserID, &m.Username, &m.Email)
			members = append(members, m)
			return err
		}, `SELECT r.user_id, u.username, u.email FROM event_rsvps r JOIN users u ON u.id = r.user_id
			WHERE r.event_id = ? AND r.status = 'going' ORDER BY r.user_id`, eventID); err != nil {
			return err
		}
		var outbox []jobs.Job
		for _, m := range members {
			ids = append(ids, m.UserID)
			outbox = append(outbox, ob.Reminder(e, m)...)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET reminded_for = ? WHERE id = ?`, ms(startsAt), eventID); err != nil {
			return err
		}
		return jobs.InsertTx(ctx, tx, s.db.Dialect, now, outbox...)
	})
	return ids, err
}
