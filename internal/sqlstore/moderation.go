package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/moderation"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Moderation implements moderation.Store. Each action appends its audit
// record in its own transaction.
type Moderation struct {
	db    *sqldb.DB
	xp    *XP
	audit *Audit
}

var _ moderation.Store = (*Moderation)(nil)

// NewModeration returns the moderation store.
func NewModeration(db *sqldb.DB, xp *XP, log *Audit) *Moderation {
	return &Moderation{db: db, xp: xp, audit: log}
}

// likePrefix is a LIKE pattern matching strings that start with p ('!'
// escapes the pattern's own characters).
func likePrefix(p string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(p) + "%"
}

// notBanned is the SQL condition "no ban holds at ?".
const notBanned = `(banned_at IS NULL OR (banned_until IS NOT NULL AND banned_until <= ?))`

// Users pages the admins' user list, newest first.
func (s *Moderation) Users(ctx context.Context, f moderation.UserFilter, now time.Time) ([]moderation.AdminUser, error) {
	where := []string{"id < ?"}
	before := f.Before
	if before <= 0 {
		before = 1<<63 - 1
	}
	args := []any{before}
	if f.Q != "" {
		p := likePrefix(strings.ToLower(f.Q))
		where = append(where, `(username_key LIKE ? ESCAPE '!' OR email LIKE ? ESCAPE '!')`)
		args = append(args, p, p)
	}
	if f.Role != "" {
		where = append(where, "role = ?")
		args = append(args, string(f.Role))
	}
	switch f.Status {
	case account.StatusBanned:
		where = append(where, "NOT "+notBanned)
		args = append(args, ms(now))
	case account.StatusUnverified:
		where = append(where, notBanned+" AND email_verified_at IS NULL")
		args = append(args, ms(now))
	case account.StatusActive:
		where = append(where, notBanned+" AND email_verified_at IS NOT NULL")
		args = append(args, ms(now))
	}
	args = append(args, f.Limit)
	out := []moderation.AdminUser{}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var r userRow
		if err := rows.Scan(r.dest()...); err != nil {
			return err
		}
		u := r.user()
		out = append(out, moderation.AdminUser{User: u, Status: u.StatusAt(now)})
		return nil
	}, `SELECT `+userCols+` FROM users WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, args...)
	return out, err
}

// UserDetail reads a user with their counts and when they were last seen.
func (s *Moderation) UserDetail(ctx context.Context, id int64, now time.Time) (moderation.UserDetail, error) {
	var d moderation.UserDetail
	var r userRow
	var bannedAt sql.NullInt64
	err := s.db.Fresh().QueryRow(ctx, append(r.dest(), &bannedAt), `SELECT `+userCols+`, banned_at FROM users WHERE id = ?`, id)
	if sqldb.IsNotFound(err) {
		return d, notFound("user")
	}
	if err != nil {
		return d, err
	}
	u := r.user()
	d.AdminUser = moderation.AdminUser{User: u, Status: u.StatusAt(now)}
	if u.BannedAt(now) {
		at, _ := nullMS(bannedAt)
		d.Ban = &moderation.BanView{Reason: u.BanReason, Until: u.BannedUntil, At: at}
	}
	var seen sql.NullInt64
	c := &d.Counts
	err = s.db.Fresh().QueryRow(ctx, []any{&seen, &c.Sessions, &c.Messages, &c.Shouts, &c.Mixes, &c.Events,
		&c.ReportsFiled, &c.ReportsAgainst, &c.OpenReports, &c.ContentRemovals}, `SELECT
		(SELECT MAX(last_seen_at) FROM sessions WHERE user_id = ?),
		(SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?),
		(SELECT COUNT(*) FROM messages WHERE sender_id = ? AND deleted_at IS NULL),
		(SELECT COUNT(*) FROM shouts WHERE user_id = ?),
		(SELECT COUNT(*) FROM mixes WHERE creator_id = ?),
		(SELECT COUNT(*) FROM events WHERE owner_id = ?),
		(SELECT COUNT(*) FROM reports WHERE reporter_id = ?),
		(SELECT COUNT(*) FROM reports WHERE author_id = ?),
		(SELECT COUNT(*) FROM reports WHERE author_id = ? AND status = 'open'),
		(SELECT COUNT(*) FROM (SELECT DISTINCT target_kind, target_id FROM reports WHERE author_id = ? AND resolution = 'remove') x)`,
		id, id, ms(now), id, id, id, id, id, id, id, id)
	if err != nil {
		return d, err
	}
	if t, ok := nullMS(seen); ok {
		d.LastSeenAt = &t
	}
	return d, nil
}

// banState is what the audit log records of a user's ban.
type banState struct {
	Banned bool       `json:"banned"`
	Reason string     `json:"reason,omitempty"`
	Until  *time.Time `json:"until,omitempty"`
}

func banOf(u account.User, now time.Time) banState {
	if !u.BannedAt(now) {
		return banState{}
	}
	return banState{Banned: true, Reason: u.BanReason, Until: u.BannedUntil}
}

// lockUser locks the admins' rows, then user id's (the order SetRole
// takes), and returns the user and how many admins would be left
// unbanned without them.
func (s *Moderation) lockUser(ctx context.Context, tx *sql.Tx, id int64, now time.Time) (account.User, int, error) {
	others := 0
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var a int64
		var until sql.NullInt64
		var banned sql.NullInt64
		if err := rows.Scan(&a, &banned, &until); err != nil {
			return err
		}
		u := account.User{Banned: banned.Valid}
		if t, ok := nullMS(until); ok {
			u.BannedUntil = &t
		}
		if a != id && !u.BannedAt(now) {
			others++
		}
		return nil
	}, `SELECT id, banned_at, banned_until FROM users WHERE role = ? ORDER BY id`+forUpdate(s.db), string(account.RoleAdmin))
	if err != nil {
		return account.User{}, 0, err
	}
	var r userRow
	err = tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`+forUpdate(s.db), id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return account.User{}, 0, notFound("user")
	}
	return r.user(), others, err
}

// banTx bans id in tx: the ban, every session revoked, the audit record.
// by is who bans; a moderator (not an admin) may ban only users below
// moderator.
func (s *Moderation) banTx(ctx context.Context, tx *sql.Tx, actor audit.Actor, byRole account.Role, id int64, b moderation.Ban, why string, now time.Time) (account.User, error) {
	u, others, err := s.lockUser(ctx, tx, id, now)
	if err != nil {
		return u, err
	}
	if byRole != account.RoleAdmin && u.Role.AtLeast(account.RoleModerator) {
		return u, apperr.New(apperr.Forbidden, "only an admin may ban a moderator or an admin")
	}
	if u.Role == account.RoleAdmin && others == 0 {
		return u, &apperr.Error{Code: apperr.Conflict, Message: "this is the last admin; make another admin first"}
	}
	before := banOf(u, now)
	var until sql.NullInt64
	if b.Until != nil {
		until = sql.NullInt64{Int64: ms(*b.Until), Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET banned_at = ?, ban_reason = ?, banned_until = ?, updated_at = ? WHERE id = ?`,
		ms(now), b.Reason, until, ms(now), id); err != nil {
		return u, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, ms(now), id); err != nil {
		return u, err
	}
	var r userRow
	if err := tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id).Scan(r.dest()...); err != nil {
		return u, err
	}
	u = r.user()
	_, err = s.audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, Action: "user.ban", TargetKind: "user", TargetID: id,
		Before: before, After: banOf(u, now), Reason: why})
	return u, err
}

// Ban bans a user (admins).
func (s *Moderation) Ban(ctx context.Context, actor audit.Actor, id int64, b moderation.Ban, now time.Time) (account.User, error) {
	var u account.User
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = s.banTx(ctx, tx, actor, account.RoleAdmin, id, b, b.Reason, now)
		return err
	})
	return u, err
}

// Unban lifts a ban that holds.
func (s *Moderation) Unban(ctx context.Context, actor audit.Actor, id int64, reason string, now time.Time) (account.User, error) {
	var u account.User
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var r userRow
		err := tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`+forUpdate(s.db), id).Scan(r.dest()...)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		}
		if err != nil {
			return err
		}
		u = r.user()
		if !u.BannedAt(now) {
			return apperr.New(apperr.Conflict, "this user is not banned")
		}
		before := banOf(u, now)
		if _, err := tx.ExecContext(ctx, `UPDATE users SET banned_at = NULL, ban_reason = '', banned_until = NULL, updated_at = ? WHERE id = ?`,
			ms(now), id); err != nil {
			return err
		}
		u.Banned, u.BanReason, u.BannedUntil = false, "", nil
		_, err = s.audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, Action: "user.unban", TargetKind: "user", TargetID: id,
			Before: before, After: banState{}, Reason: reason})
		return err
	})
	return u, err
}

// targetAuthor finds a live target's author; reporter (when not 0) must be
// able to read it (a private channel's message: a member, or staff).
func targetAuthor(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, kind moderation.TargetKind, id, reporter int64) (int64, error) {
	var author int64
	var err error
	switch kind {
	case moderation.KindMessage:
		var private bool
		var channel int64
		err = q.QueryRowContext(ctx, `SELECT m.sender_id, m.channel_id, c.private FROM messages m JOIN channels c ON c.id = m.channel_id
			WHERE m.id = ? AND m.deleted_at IS NULL`, id).Scan(&author, &channel, &private)
		if err == nil && private && reporter != 0 {
			var ok int
			err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u WHERE u.id = ? AND (u.role IN ('moderator', 'admin')
				OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = ? AND cm.user_id = u.id))`, reporter, channel).Scan(&ok)
			if err == nil && ok == 0 {
				err = sql.ErrNoRows
			}
		}
	case moderation.KindShout:
		err = q.QueryRowContext(ctx, `SELECT user_id FROM shouts WHERE id = ?`, id).Scan(&author)
	case moderation.KindMix:
		err = q.QueryRowContext(ctx, `SELECT creator_id FROM mixes WHERE id = ?`, id).Scan(&author)
	case moderation.KindEvent:
		err = q.QueryRowContext(ctx, `SELECT owner_id FROM events WHERE id = ?`, id).Scan(&author)
	case moderation.KindUser:
		err = q.QueryRowContext(ctx, `SELECT id FROM users WHERE id = ?`, id).Scan(&author)
	default:
		return 0, apperr.Invalid(map[string]string{"targetKind": "is not reportable"})
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound(string(kind))
	}
	return author, err
}

const reportCols = `id, reporter_id, target_kind, target_id, author_id, reason, status, resolution, note, resolved_by, resolved_at, created_at`

func scanReport(sc interface{ Scan(...any) error }) (moderation.Report, error) {
	var r moderation.Report
	var kind string
	var by, at sql.NullInt64
	var created int64
	err := sc.Scan(&r.ID, &r.ReporterID, &kind, &r.TargetID, &r.AuthorID, &r.Reason, &r.Status, &r.Resolution, &r.Note, &by, &at, &created)
	r.TargetKind, r.CreatedAt = moderation.TargetKind(kind), fromMS(created)
	if by.Valid {
		r.ResolvedBy = &by.Int64
	}
	if t, ok := nullMS(at); ok {
		r.ResolvedAt = &t
	}
	return r, err
}

// Report files a report or returns the reporter's open one on the target.
func (s *Moderation) Report(ctx context.Context, nr moderation.NewReport) (moderation.Report, bool, error) {
	var rep moderation.Report
	created := false
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		open := func() error {
			var err error
			rep, err = scanReport(tx.QueryRowContext(ctx, `SELECT `+reportCols+` FROM reports
				WHERE reporter_id = ? AND target_kind = ? AND target_id = ? AND open_slot = 0`+forUpdate(s.db), nr.ReporterID, string(nr.Kind), nr.TargetID))
			return err
		}
		if err := open(); err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		author, err := targetAuthor(ctx, tx, nr.Kind, nr.TargetID, nr.ReporterID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO reports (reporter_id, target_kind, target_id, author_id, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, nr.ReporterID, string(nr.Kind), nr.TargetID, author, nr.Reason, ms(nr.At))
		if _, dup := sqldb.IsDuplicate(err); dup {
			return open() // filed at the same moment by the same reporter
		}
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		created = true
		rep = moderation.Report{ID: id, ReporterID: nr.ReporterID, TargetKind: nr.Kind, TargetID: nr.TargetID, AuthorID: author,
			Reason: nr.Reason, Status: "open", CreatedAt: fromMS(ms(nr.At))}
		return nil
	})
	return rep, created, err
}

// Queue pages the report groups of a status, oldest first.
func (s *Moderation) Queue(ctx context.Context, status string, after int64, limit int) ([]moderation.Group, error) {
	out := []moderation.Group{}
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var g moderation.Group
		var kind string
		var first, last int64
		if err := rows.Scan(&g.ReportID, &kind, &g.Target.ID, &g.Target.AuthorID, &g.Count, &first, &last, &g.Resolution); err != nil {
			return err
		}
		g.Target.Kind, g.FirstAt, g.LastAt, g.Status = moderation.TargetKind(kind), fromMS(first), fromMS(last), status
		g.Reasons = []moderation.ReasonItem{}
		out = append(out, g)
		return nil
	}, `SELECT MIN(id), target_kind, target_id, MAX(author_id), COUNT(*), MIN(created_at), MAX(created_at), MAX(resolution)
		FROM reports WHERE status = ? GROUP BY target_kind, target_id HAVING MIN(id) > ? ORDER BY MIN(id) LIMIT ?`, status, after, limit)
	if err != nil || len(out) == 0 {
		return out, err
	}
	idx := map[string]int{}
	var conds []string
	args := []any{status}
	for i, g := range out {
		idx[string(g.Target.Kind)+":"+strconv.FormatInt(g.Target.ID, 10)] = i
		conds = append(conds, "(target_kind = ? AND target_id = ?)")
		args = append(args, string(g.Target.Kind), g.Target.ID)
	}
	err = s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var it moderation.ReasonItem
		var kind string
		var target, created int64
		if err := rows.Scan(&it.ReportID, &it.ReporterID, &it.Reason, &created, &kind, &target); err != nil {
			return err
		}
		it.CreatedAt = fromMS(created)
		i := idx[kind+":"+strconv.FormatInt(target, 10)]
		if len(out[i].Reasons) < 100 {
			out[i].Reasons = append(out[i].Reasons, it)
		}
		return nil
	}, `SELECT id, reporter_id, reason, created_at, target_kind, target_id FROM reports
		WHERE status = ? AND (`+strings.Join(conds, " OR ")+`) ORDER BY id`, args...)
	return out, err
}

// Resolve resolves every open report on the target of r.ReportID, and
// acts: dismiss, remove the content (with its XP), or ban its author.
func (s *Moderation) Resolve(ctx context.Context, r moderation.Resolve) (moderation.Resolution, error) {
	var res moderation.Resolution
	actor := audit.Actor{ID: r.Actor.ID, IP: r.IP}
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res = moderation.Resolution{Action: r.Action}
		var kind, status string
		err := tx.QueryRowContext(ctx, `SELECT target_kind, target_id, author_id, status FROM reports WHERE id = ?`+forUpdate(s.db), r.ReportID).
			Scan(&kind, &res.Target.ID, &res.Target.AuthorID, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("report")
		}
		if err != nil {
			return err
		}
		res.Target.Kind = moderation.TargetKind(kind)
		if status != "open" {
			return apperr.New(apperr.Conflict, "this report was already resolved")
		}
		up, err := tx.ExecContext(ctx, `UPDATE reports SET status = 'resolved', open_slot = id, resolution = ?, note = ?, resolved_by = ?, resolved_at = ?
			WHERE target_kind = ? AND target_id = ? AND status = 'open'`, string(r.Action), r.Note, r.Actor.ID, ms(r.At), kind, res.Target.ID)
		if err != nil {
			return err
		}
		if res.Resolved = int(affected(up)); res.Resolved == 0 {
			return apperr.New(apperr.Conflict, "this report was already resolved")
		}
		switch r.Action {
		case moderation.Remove:
			if err := s.removeTx(ctx, tx, actor, r, &res); err != nil {
				return err
			}
		case moderation.BanAuthor:
			if res.Target.AuthorID == r.Actor.ID {
				return apperr.Invalid(map[string]string{"action": "you cannot ban yourself"})
			}
			reason := r.Note
			if reason == "" {
				reason = "banned after reports on " + kind + " " + strconv.FormatInt(res.Target.ID, 10)
			}
			u, err := s.banTx(ctx, tx, actor, r.Actor.Role, res.Target.AuthorID, moderation.Ban{Reason: reason}, r.Note, r.At)
			if err != nil {
				return err
			}
			res.Banned = &u
		}
		_, err = s.audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, Action: "report.resolve", TargetKind: kind, TargetID: res.Target.ID,
			Before: map[string]any{"status": "open", "reports": res.Resolved, "reportId": r.ReportID},
			After:  map[string]any{"status": "resolved", "action": r.Action, "xpRevoked": res.XPRevoked}, Reason: r.Note})
		return err
	})
	return res, err
}

// removeTx removes the reported content in tx and takes back its XP. Gone
// already: NotFound (and the caller's transaction rolls back whole).
func (s *Moderation) removeTx(ctx context.Context, tx *sql.Tx, actor audit.Actor, r moderation.Resolve, res *moderation.Resolution) error {
	id := res.Target.ID
	gone := func(what string) error {
		return apperr.New(apperr.NotFound, "the "+what+" was already deleted; dismiss the report instead")
	}
	var snapshot map[string]any
	switch res.Target.Kind {
	case moderation.KindUser:
		return apperr.Invalid(map[string]string{"action": "a user cannot be removed; use ban_author"})
	case moderation.KindMessage:
		var body string
		err := tx.QueryRowContext(ctx, `SELECT channel_id, body FROM messages WHERE id = ? AND deleted_at IS NULL`+forUpdate(s.db), id).Scan(&res.ChannelID, &body)
		if errors.Is(err, sql.ErrNoRows) {
			return gone("message")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET deleted_at = ? WHERE id = ?`, ms(r.At), id); err != nil {
			return err
		}
		snapshot = map[string]any{"channelId": res.ChannelID, "body": body}
	case moderation.KindShout:
		var body string
		err := tx.QueryRowContext(ctx, `SELECT body FROM shouts WHERE id = ?`+forUpdate(s.db), id).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return gone("shout")
		}
		if err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM reactions WHERE item_kind = 'shout' AND item_id = ?`, `DELETE FROM shouts WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		snapshot = map[string]any{"body": body}
	case moderation.KindMix:
		var title string
		err := tx.QueryRowContext(ctx, `SELECT title FROM mixes WHERE id = ?`+forUpdate(s.db), id).Scan(&title)
		if errors.Is(err, sql.ErrNoRows) {
			return gone("mix")
		}
		if err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM mix_genres WHERE mix_id = ?`, `DELETE FROM mix_likes WHERE mix_id = ?`, `DELETE FROM mixes WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		snapshot = map[string]any{"title": title}
	case moderation.KindEvent:
		var title string
		err := tx.QueryRowContext(ctx, `SELECT title FROM events WHERE id = ?`+forUpdate(s.db), id).Scan(&title)
		if errors.Is(err, sql.ErrNoRows) {
			return gone("event")
		}
		if err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM event_attendance WHERE event_id = ?`, `DELETE FROM event_rsvps WHERE event_id = ?`, `DELETE FROM events WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		snapshot = map[string]any{"title": title}
	default:
		return apperr.Invalid(map[string]string{"targetKind": "is not removable"})
	}
	ref := string(res.Target.Kind) + ":" + strconv.FormatInt(id, 10)
	var err error
	if res.XPRevoked, err = s.xp.RevokeTx(ctx, tx, r.At, res.Target.AuthorID, ref); err != nil {
		return err
	}
	snapshot["authorId"] = res.Target.AuthorID
	_, err = s.audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, Action: "content.remove", TargetKind: string(res.Target.Kind), TargetID: id,
		Before: snapshot, After: map[string]any{"removed": true, "xpRevoked": res.XPRevoked}, Reason: r.Note})
	return err
}

// UpdateChannel applies an admin's edit to a channel.
func (s *Moderation) UpdateChannel(ctx context.Context, actor audit.Actor, id int64, p moderation.ChannelPatch, now time.Time) (community.Channel, community.Channel, error) {
	var before, after community.Channel
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var err error
		before, err = scanChannel(tx.QueryRowContext(ctx, `SELECT `+channelCols+` FROM channels WHERE id = ?`+forUpdate(s.db), id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("channel")
		}
		if err != nil {
			return err
		}
		after = before
		if p.Name != nil {
			after.Name = *p.Name
		}
		if p.Topic != nil {
			after.Topic = *p.Topic
		}
		if p.Private != nil {
			after.Private = *p.Private
		}
		archivedAt := sql.NullInt64{}
		if p.Archived != nil {
			after.Archived = *p.Archived
		}
		if after.Archived {
			archivedAt = sql.NullInt64{Int64: ms(now), Valid: true}
			if before.Archived {
				// keep when it was archived
				if err := tx.QueryRowContext(ctx, `SELECT archived_at FROM channels WHERE id = ?`, id).Scan(&archivedAt); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET name = ?, topic = ?, private = ?, archived_at = ?, updated_at = ? WHERE id = ?`,
			after.Name, after.Topic, after.Private, archivedAt, ms(now), id); err != nil {
			return err
		}
		_, err = s.audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, Action: "channel.update", TargetKind: "channel", TargetID: id,
			Before: before, After: after})
		return err
	})
	return before, after, err
}

// Stats counts users, activity, messages per day and open reports.
func (s *Moderation) Stats(ctx context.Context, now time.Time) (moderation.DBStats, error) {
	var st moderation.DBStats
	n := ms(now)
	err := s.db.Read().QueryRow(ctx, []any{&st.UsersTotal, &st.Active24h, &st.Active7d, &st.OpenReports, &st.BannedUsers, &st.UnverifiedUsers}, `SELECT
		(SELECT COUNT(*) FROM users),
		(SELECT COUNT(DISTINCT user_id) FROM sessions WHERE last_seen_at >= ?),
		(SELECT COUNT(DISTINCT user_id) FROM sessions WHERE last_seen_at >= ?),
		(SELECT COUNT(*) FROM reports WHERE status = 'open'),
		(SELECT COUNT(*) FROM users WHERE NOT `+notBanned+`),
		(SELECT COUNT(*) FROM users WHERE email_verified_at IS NULL)`,
		n-24*3600*1000, n-7*24*3600*1000, n)
	if err != nil {
		return st, err
	}
	const dayMS = 24 * 3600 * 1000
	day := "CAST(created_at / 86400000 AS INTEGER)"
	if s.db.Dialect == sqldb.MySQL {
		day = "created_at DIV 86400000"
	}
	from := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(moderation.StatsDays - 1))
	err = s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var d, c int64
		if err := rows.Scan(&d, &c); err != nil {
			return err
		}
		st.MessagesPerDay = append(st.MessagesPerDay, moderation.DayCount{Day: fromMS(d * dayMS).Format("2006-01-02"), Count: c})
		return nil
	}, `SELECT `+day+` AS d, COUNT(*) FROM messages WHERE created_at >= ? GROUP BY d`, ms(from))
	return st, err
}

// FlushRecorded records an admin's cache flush.
func (s *Moderation) FlushRecorded(ctx context.Context, actor audit.Actor, prefix string, entries int) error {
	_, err := s.audit.Append(ctx, audit.Entry{Actor: actor, Action: "cache.flush", TargetKind: "cache",
		After: map[string]any{"prefix": prefix, "entries": entries}})
	return err
}
