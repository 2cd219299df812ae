package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Community implements community.Store.
type Community struct {
	db    *sqldb.DB
	xp    *XP
	rules gamification.Rules
	// posts gathers concurrent message posts into shared transactions
	// (group commit): on a busy instance a post's commit, BEGIN and WAL
	// write were most of its cost, and each held the single writer.
	posts *sqldb.Group
	// checks spaces out the achievement checks that posts enqueue.
	checks *checkThrottle
	// streaks knows who already counts as active today (achievement_streak.go).
	streaks streakMemo
	// inline, when set, runs a post's achievement check in the post's own
	// transaction instead of queueing it (CheckInline).
	inline *inlineChecks
}

// inlineChecks is what CheckInline set.
type inlineChecks struct {
	store   *Achievements
	awarded func(context.Context, achievements.Granted)
}

// CheckInline makes a post whose achievement check is due at once (the
// author's first post in PostCheckWindow) evaluate the author's rules in
// its own transaction and award those met there, rather than queue a
// check: on SQLite the check's job (its insert, claim and completion) and
// the award's own transaction cost more than the check itself, and nearly
// every post of a new member makes one. awarded is called with each award
// after the post's commit (achievements.Service.Announce), and the post's
// XP result carries the level the awards reached (announce). Later posts
// in the window, and every other write that may meet a rule, still queue
// their check. Only SQLite takes it: on MySQL the award's locks (the
// user's achievements, a collectible's supply) would be held by a batch
// of posts, whose users it locks in arrival order.
func (s *Community) CheckInline(a *Achievements, awarded func(context.Context, achievements.Granted)) {
	if s.db.Dialect != sqldb.SQLite || a == nil || awarded == nil {
		return
	}
	s.inline = &inlineChecks{store: a, awarded: awarded}
}

// PostCheckWindow is how long the achievement check of a post may wait to
// share one run with the same author's later posts (achievement_throttle.go).
const PostCheckWindow = time.Second

var _ community.Store = (*Community)(nil)

// NewCommunity returns the community store on db. Messages and reactions
// award XP through xp (nil: a ledger with the default levels) by rules.
func NewCommunity(db *sqldb.DB, xp *XP, rules gamification.Rules) *Community {
	if xp == nil {
		xp = NewXP(db, nil)
	}
	s := &Community{db: db, xp: xp, rules: rules, posts: db.WriteGroup(64), checks: newCheckThrottle(PostCheckWindow)}
	if db.Dialect == sqldb.MySQL {
		// A post is a dozen round trips on MySQL; at 10,000 users on two
		// instances one batch at a time per instance left hundreds of
		// posts queued behind one connection.
		s.posts.SetRunners(postRunners)
	}
	return s
}

// postRunners is how many batches of posts run at once on MySQL.
const postRunners = 4

// before turns a page cursor into an id bound (0 means from the newest).
func before(p community.Page) int64 {
	if p.Before <= 0 {
		return 1<<63 - 1
	}
	return p.Before
}

// ---- channels ----

const channelCols = `id, slug, name, description, private, created_at, topic, archived_at`

func scanChannel(sc interface{ Scan(...any) error }) (community.Channel, error) {
	var c community.Channel
	var created int64
	var archived sql.NullInt64
	err := sc.Scan(&c.ID, &c.Slug, &c.Name, &c.Description, &c.Private, &created, &c.Topic, &archived)
	c.CreatedAt = fromMS(created)
	c.Archived = archived.Valid
	return c, err
}

// CreateChannel inserts a channel.
func (s *Community) CreateChannel(ctx context.Context, c community.Channel, creator int64) (community.Channel, error) {
	res, err := s.db.Write().Exec(ctx, `INSERT INTO channels (slug, name, description, private, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, c.Slug, c.Name, c.Description, c.Private, creator, ms(c.CreatedAt), ms(c.CreatedAt))
	if _, dup := sqldb.IsDuplicate(err); dup {
		return c, &apperr.Error{Code: apperr.Conflict, Message: "a channel with this slug exists", Fields: map[string]string{"slug": "is taken"}}
	}
	if err != nil {
		return c, err
	}
	c.ID, err = res.LastInsertId()
	c.CreatedAt = fromMS(ms(c.CreatedAt))
	return c, err
}

// Channel returns one channel. Every channel route checks access with it:
// the statement stays prepared.
func (s *Community) Channel(ctx context.Context, id int64) (community.Channel, error) {
	var c community.Channel
	err := s.db.Fresh().QueryPrepared(ctx, func(rows *sql.Rows) error {
		var err error
		c, err = scanChannel(rows)
		return err
	}, `SELECT `+channelCols+` FROM channels WHERE id = ?`, id)
	if err == nil && c.ID == 0 {
		return c, notFound("channel")
	}
	return c, err
}

// Channels pages the channels viewer may read, newest first.
func (s *Community) Channels(ctx context.Context, viewer int64, allPrivate bool, p community.Page) ([]community.Channel, error) {
	out := []community.Channel{}
	each := func(rows *sql.Rows) error {
		c, err := scanChannel(rows)
		out = append(out, c)
		return err
	}
	if allPrivate {
		return out, s.db.Read().Query(ctx, each, `SELECT `+channelCols+` FROM channels WHERE id < ? ORDER BY id DESC LIMIT ?`, before(p), p.Limit)
	}
	return out, s.db.Read().Query(ctx, each, `SELECT `+channelCols+` FROM channels c WHERE c.id < ? AND (c.private = 0
		OR EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = ?))
		ORDER BY c.id DESC LIMIT ?`, before(p), viewer, p.Limit)
}

// IsMember reports membership.
func (s *Community) IsMember(ctx context.Context, channelID, userID int64) (bool, error) {
	var n int
	err := s.db.Fresh().QueryPrepared(ctx, func(rows *sql.Rows) error { return rows.Scan(&n) },
		`SELECT COUNT(*) FROM channel_members WHERE channel_id = ? AND user_id = ?`, channelID, userID)
	return n > 0, err
}

// AddMember adds a member; adding one twice is not an error.
func (s *Community) AddMember(ctx context.Context, channelID, userID int64, now time.Time) error {
	_, err := s.db.Write().Exec(ctx, `INSERT INTO channel_members (channel_id, user_id, created_at) VALUES (?, ?, ?)`, channelID, userID, ms(now))
	if _, dup := sqldb.IsDuplicate(err); dup {
		return nil
	}
	return err
}

// RemoveMember removes a member.
func (s *Community) RemoveMember(ctx context.Context, channelID, userID int64) error {
	res, err := s.db.Write().Exec(ctx, `DELETE FROM channel_members WHERE channel_id = ? AND user_id = ?`, channelID, userID)
	if err == nil && affected(res) == 0 {
		return notFound("membership")
	}
	return err
}

// ---- messages ----

const messageCols = `id, channel_id, sender_id, body, created_at, edited_at, deleted_at`

func scanMessage(sc interface{ Scan(...any) error }) (community.Message, error) {
	var m community.Message
	var created int64
	var edited, deleted sql.NullInt64
	err := sc.Scan(&m.ID, &m.ChannelID, &m.SenderID, &m.Body, &created, &edited, &deleted)
	m.CreatedAt = fromMS(created)
	if t, ok := nullMS(edited); ok {
		m.EditedAt = &t
	}
	m.Deleted = deleted.Valid
	return m, err
}

// PostMessage inserts a message, its mentions, its jobs and its XP.
func (s *Community) PostMessage(ctx context.Context, m community.Message, mentioned []int64, outbox ...jobs.Job) (community.Message, gamification.Result, error) {
	var xp gamification.Result
	checkAt := s.checks.due(m.SenderID, m.CreatedAt) // message achievements, streak
	award, ok := s.rules.MessageAward(m.SenderID, 0)
	// A member who reached today's cap earns nothing more today: skip the
	// award (its lock, the ledger sum) rather than compute that again.
	ok = ok && !s.xp.CappedToday(m.SenderID, award.Reason, award.DailyCap, m.CreatedAt)
	day := dayOf(m.CreatedAt)
	active := !s.streaks.counted(m.SenderID, day)
	w := s.db.Write() // the statements are its prepared ones: posting is the hottest write
	// A post that writes only its message (and perhaps its achievement
	// check's job) sets no savepoint in a shared batch: the message's
	// INSERT happens whole or not at all, and should the job's insert fail
	// after it, the batch runs again with each call alone. A post that
	// also awards XP, counts a streak day, notifies or checks its author's
	// achievements inline (more statements that may fail) sets one first.
	inline := s.inline != nil && !checkAt.After(m.CreatedAt) // the check is due now: run it here (CheckInline)
	guard := ok || active || inline || len(mentioned) > 0 || len(outbox) > 0
	var granted []achievements.Granted
	err := s.posts.TxLazy(ctx, func(tx *sql.Tx, c *sqldb.Call) error {
		granted = nil // a batch that failed runs each call again
		var held Held // the sender's xp and level, read under the XP lock
		if guard {
			if err := c.Guard(); err != nil {
				return err
			}
		}
		if ok {
			var err error
			if held, err = s.xp.LockTx(ctx, tx, m.SenderID); err != nil {
				return err
			}
		}
		if active {
			if err := activeTx(ctx, w, tx, s.db.Dialect, m.SenderID, day); err != nil {
				return err
			}
			s.streaks.remember(s.db, tx, m.SenderID, day)
		}
		res, err := w.ExecTx(ctx, tx, `INSERT INTO messages (channel_id, sender_id, body, created_at) VALUES (?, ?, ?, ?)`,
			m.ChannelID, m.SenderID, m.Body, ms(m.CreatedAt))
		if err != nil {
			return err
		}
		c.Unguarded()
		if m.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for _, u := range mentioned {
			if _, err := w.ExecTx(ctx, tx, insertNotification, u, "mention", m.SenderID, m.ChannelID, m.ID, ms(m.CreatedAt)); err != nil {
				return err
			}
		}
		if ok {
			award, _ = s.rules.MessageAward(m.SenderID, m.ID)
			if xp, err = s.xp.AwardHeldTx(ctx, tx, m.CreatedAt, award, held); err != nil {
				return err
			}
		}
		if err := jobs.InsertPrepared(ctx, w, tx, s.db.Dialect, m.CreatedAt, outbox...); err != nil {
			return err
		}
		if inline {
			granted, err = s.inline.store.checkTx(ctx, w, tx, c, m.SenderID, m.CreatedAt)
			return err
		}
		if s.checks.waiting(m.SenderID, time.Now()) {
			return nil // the check this instance made runs after this commit (achievement_throttle.go)
		}
		check := achievementCheck(m.SenderID) // made only when inserted: most posts of an active member skip it
		check.RunAt = checkAt
		made, err := jobs.InsertOnePrepared(ctx, w, tx, s.db.Dialect, m.CreatedAt, check)
		if made {
			s.checks.madeCheck(s.db, tx, m.SenderID, checkAt)
		}
		return err
	})
	if err == nil && len(granted) > 0 {
		xp = s.inline.announce(ctx, xp, granted)
	}
	m.CreatedAt = fromMS(ms(m.CreatedAt))
	return m, xp, err
}

// announce calls the awarded hook with each award a post's inline check
// made, once the post has committed, and returns the post's XP result
// with the awards' XP folded in: what they added, the user's total and
// level after them, the level before the post. The post is shown with
// that result (community.Service.Post: the message's author, the page it
// joins, one level.up after the message), so the awards are announced
// without a level-up of their own. Left to the awards, the level-up of a
// first post was announced before the message, which then showed its
// author at the level before the award, in the newest page too, where
// nothing changed it again (the page learns of author changes only for
// the messages it holds).
func (c *inlineChecks) announce(ctx context.Context, post gamification.Result, granted []achievements.Granted) gamification.Result {
	out := post
	for _, g := range granted {
		if g.XP.Awarded != 0 {
			if out.Level == 0 { // the post itself awarded nothing: the level before is the award's
				out.PrevLevel = g.XP.PrevLevel
			}
			out.Awarded += g.XP.Awarded
			out.XP, out.Level = g.XP.XP, g.XP.Level
		}
		g.XP.PrevLevel = g.XP.Level // announced with the post's
		c.awarded(ctx, g)
	}
	return out
}

const insertNotification = `INSERT INTO notifications (user_id, kind, actor_id, context_id, ref_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`

func notify(ctx context.Context, tx *sql.Tx, user int64, kind string, actor, contextID, ref int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, insertNotification, user, kind, actor, contextID, ref, ms(at))
	return err
}

// UserIDsByUsername resolves lowercased usernames.
func (s *Community) UserIDsByUsername(ctx context.Context, names []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(names) == 0 {
		return out, nil
	}
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var key string
		var id int64
		err := rows.Scan(&key, &id)
		out[key] = id
		return err
	}, `SELECT username_key, id FROM users WHERE username_key IN (`+placeholders(len(names))+`)`, args...)
	return out, err
}

// Unmailed returns notifications not yet mailed, oldest first.
func (s *Community) Unmailed(ctx context.Context, userID int64, limit int) ([]community.Notification, error) {
	out := []community.Notification{}
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var n community.Notification
		var created int64
		err := rows.Scan(&n.ID, &n.UserID, &n.Kind, &n.ActorID, &n.ContextID, &n.RefID, &created)
		n.CreatedAt = fromMS(created)
		out = append(out, n)
		return err
	}, `SELECT id, user_id, kind, actor_id, context_id, ref_id, created_at FROM notifications
		WHERE user_id = ? AND mailed_at IS NULL ORDER BY id LIMIT ?`, userID, limit)
	return out, err
}

// MarkMailed records that notifications went out in a digest.
func (s *Community) MarkMailed(ctx context.Context, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{ms(now)}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := s.db.Write().Exec(ctx, `UPDATE notifications SET mailed_at = ? WHERE id IN (`+placeholders(len(ids))+`)`, args...)
	return err
}

// Message returns one message, deleted or not.
func (s *Community) Message(ctx context.Context, id int64) (community.Message, error) {
	var m community.Message
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var err error
		m, err = scanMessage(rows)
		return err
	}, `SELECT `+messageCols+` FROM messages WHERE id = ?`, id)
	if err == nil && m.ID == 0 {
		return m, notFound("message")
	}
	return m, err
}

// ChannelMessages pages a channel's live messages, newest first.
func (s *Community) ChannelMessages(ctx context.Context, channelID int64, p community.Page) ([]community.Message, error) {
	out := []community.Message{}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		m, err := scanMessage(rows)
		out = append(out, m)
		return err
	}, `SELECT `+messageCols+` FROM messages WHERE channel_id = ? AND id < ? AND deleted_at IS NULL ORDER BY id DESC LIMIT ?`,
		channelID, before(p), p.Limit)
	return out, err
}

func (s *Community) updateMessage(ctx context.Context, id int64, set string, args ...any) (community.Message, error) {
	var m community.Message
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET `+set+` WHERE id = ? AND deleted_at IS NULL`, append(args, id)...)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return notFound("message")
		}
		m, err = scanMessage(tx.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE id = ?`, id))
		return err
	})
	return m, err
}

// EditMessage changes a live message's body.
func (s *Community) EditMessage(ctx context.Context, id int64, body string, now time.Time) (community.Message, error) {
	return s.updateMessage(ctx, id, `body = ?, edited_at = ?`, body, ms(now))
}

// DeleteMessage soft-deletes a live message and forgets its text.
func (s *Community) DeleteMessage(ctx context.Context, id int64, now time.Time) (community.Message, error) {
	return s.updateMessage(ctx, id, `body = '', deleted_at = ?`, ms(now))
}

// ---- threads ----

const threadCols = `id, user_a, user_b, created_at, last_message_at, last_message_id`

func scanThread(sc interface{ Scan(...any) error }, extra ...any) (community.Thread, error) {
	var t community.Thread
	var created, last int64
	err := sc.Scan(append([]any{&t.ID, &t.UserA, &t.UserB, &created, &last, &t.LastMessageID}, extra...)...)
	t.CreatedAt, t.LastMessageAt = fromMS(created), fromMS(last)
	return t, err
}

// ThreadBetween returns or creates the pair's thread.
func (s *Community) ThreadBetween(ctx context.Context, a, b int64, now time.Time) (community.Thread, bool, error) {
	if a > b {
		a, b = b, a
	}
	find := func() (community.Thread, error) {
		var t community.Thread
		err := s.db.Fresh().QueryPrepared(ctx, func(rows *sql.Rows) error {
			var err error
			t, err = scanThread(rows)
			return err
		}, `SELECT `+threadCols+` FROM threads WHERE user_a = ? AND user_b = ?`, a, b)
		return t, err
	}
	t, err := find()
	if err != nil || t.ID != 0 {
		return t, false, err
	}
	_, err = s.db.SharedExec(ctx, `INSERT INTO threads (user_a, user_b, created_at, last_message_at) VALUES (?, ?, ?, ?)`, a, b, ms(now), ms(now))
	created := err == nil
	if _, dup := sqldb.IsDuplicate(err); dup {
		err = nil // opened by the other side at the same moment
	}
	if err != nil {
		return t, false, err
	}
	t, err = find()
	return t, created, err
}

// Thread returns one thread. Every DM route reads it: the statement
// stays prepared.
func (s *Community) Thread(ctx context.Context, id int64) (community.Thread, error) {
	var t community.Thread
	err := s.db.Fresh().QueryPrepared(ctx, func(rows *sql.Rows) error {
		var err error
		t, err = scanThread(rows)
		return err
	}, `SELECT `+threadCols+` FROM threads WHERE id = ?`, id)
	if err == nil && t.ID == 0 {
		return t, notFound("thread")
	}
	return t, err
}

// ThreadsOf pages a user's threads by latest message, with unread counts.
func (s *Community) ThreadsOf(ctx context.Context, userID int64, p community.Page) ([]community.Thread, error) {
	out := []community.Thread{}
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var unread int
		t, err := scanThread(rows, &unread)
		t.Unread = unread
		out = append(out, t)
		return err
	}, `SELECT `+threadCols+`, (SELECT COUNT(*) FROM thread_messages tm WHERE tm.thread_id = t.id AND tm.sender_id <> ?
			AND tm.id > CASE WHEN t.user_a = ? THEN t.a_read_id ELSE t.b_read_id END) AS unread
		FROM threads t WHERE (t.user_a = ? OR t.user_b = ?) AND t.last_message_id < ? AND t.last_message_id > 0
		ORDER BY t.last_message_id DESC LIMIT ?`, userID, userID, userID, userID, before(p), p.Limit)
	return out, err
}

// PostThreadMessage stores a message, moves the thread forward, notifies
// the recipient and enqueues the jobs. Its statements are the writer's
// prepared ones: each DM ran six, every one parsed again on the single
// writer.
func (s *Community) PostThreadMessage(ctx context.Context, m community.ThreadMessage, recipient int64, outbox ...jobs.Job) (community.ThreadMessage, error) {
	w := s.db.Write()
	// On SQLite in the shared write group: a DM shares the commit of the
	// posts beside it instead of taking the writer for one of its own.
	err := s.db.SharedTx(ctx, func(tx *sql.Tx, c *sqldb.Call) error {
		if err := c.Guard(); err != nil { // several writes
			return err
		}
		// Take the thread row's write lock first. Inserting first takes a
		// shared lock on it (the foreign key check) and the UPDATE below
		// then needs the write lock: two posts into one thread at once
		// each held the shared lock and waited for the other (deadlock).
		if _, err := w.ExecTx(ctx, tx, `UPDATE threads SET last_message_at = ? WHERE id = ?`, ms(m.CreatedAt), m.ThreadID); err != nil {
			return err
		}
		res, err := w.ExecTx(ctx, tx, `INSERT INTO thread_messages (thread_id, sender_id, body, created_at) VALUES (?, ?, ?, ?)`,
			m.ThreadID, m.SenderID, m.Body, ms(m.CreatedAt))
		if err != nil {
			return err
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		_, err = w.ExecTx(ctx, tx, `UPDATE threads SET last_message_at = ?, last_message_id = ?,
			a_read_id = CASE WHEN user_a = ? THEN ? ELSE a_read_id END,
			b_read_id = CASE WHEN user_b = ? THEN ? ELSE b_read_id END WHERE id = ?`,
			ms(m.CreatedAt), m.ID, m.SenderID, m.ID, m.SenderID, m.ID, m.ThreadID)
		if err != nil {
			return err
		}
		if _, err := w.ExecTx(ctx, tx, insertNotification, recipient, "dm", m.SenderID, m.ThreadID, m.ID, ms(m.CreatedAt)); err != nil {
			return err
		}
		return jobs.InsertPrepared(ctx, w, tx, s.db.Dialect, m.CreatedAt, outbox...)
	})
	m.CreatedAt = fromMS(ms(m.CreatedAt))
	return m, err
}

// ThreadMessages pages a thread, newest first.
func (s *Community) ThreadMessages(ctx context.Context, threadID int64, p community.Page) ([]community.ThreadMessage, error) {
	out := []community.ThreadMessage{}
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var m community.ThreadMessage
		var created int64
		err := rows.Scan(&m.ID, &m.ThreadID, &m.SenderID, &m.Body, &created)
		m.CreatedAt = fromMS(created)
		out = append(out, m)
		return err
	}, `SELECT id, thread_id, sender_id, body, created_at FROM thread_messages WHERE thread_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
		threadID, before(p), p.Limit)
	return out, err
}

// MarkRead moves the user's read mark forward (never back).
func (s *Community) MarkRead(ctx context.Context, threadID, userID, messageID int64) error {
	_, err := s.db.Write().Exec(ctx, `UPDATE threads SET
		a_read_id = CASE WHEN user_a = ? AND a_read_id < ? THEN ? ELSE a_read_id END,
		b_read_id = CASE WHEN user_b = ? AND b_read_id < ? THEN ? ELSE b_read_id END WHERE id = ?`,
		userID, messageID, messageID, userID, messageID, messageID, threadID)
	return err
}

// ---- shouts ----

// PostShout inserts a shout.
func (s *Community) PostShout(ctx context.Context, sh community.Shout) (community.Shout, error) {
	w := s.db.Write() // inserted with the author's streak and a check of the shout achievements
	err := w.Tx(ctx, func(tx *sql.Tx) error {
		if err := activeTx(ctx, w, tx, s.db.Dialect, sh.UserID, dayOf(sh.CreatedAt)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO shouts (user_id, body, created_at) VALUES (?, ?, ?)`, sh.UserID, sh.Body, ms(sh.CreatedAt))
		if err != nil {
			return err
		}
		if sh.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return achievementCheckTx(ctx, tx, s.db, sh.CreatedAt, sh.UserID)
	})
	sh.CreatedAt = fromMS(ms(sh.CreatedAt))
	return sh, err
}

// Shout returns one shout.
func (s *Community) Shout(ctx context.Context, id int64) (community.Shout, error) {
	var sh community.Shout
	var created int64
	err := s.db.Fresh().QueryRow(ctx, []any{&sh.ID, &sh.UserID, &sh.Body, &created},
		`SELECT id, user_id, body, created_at FROM shouts WHERE id = ?`, id)
	if sqldb.IsNotFound(err) {
		return sh, notFound("shout")
	}
	sh.CreatedAt = fromMS(created)
	return sh, err
}

// Shouts pages the feed, newest first.
func (s *Community) Shouts(ctx context.Context, p community.Page) ([]community.Shout, error) {
	out := []community.Shout{}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var sh community.Shout
		var created int64
		err := rows.Scan(&sh.ID, &sh.UserID, &sh.Body, &created)
		sh.CreatedAt = fromMS(created)
		out = append(out, sh)
		return err
	}, `SELECT id, user_id, body, created_at FROM shouts WHERE id < ? ORDER BY id DESC LIMIT ?`, before(p), p.Limit)
	return out, err
}

// ---- contact ----

func (s *Community) readCol() string {
	if s.db.Dialect == sqldb.MySQL {
		return "`read`"
	}
	return `"read"`
}

// AddContact stores a contact message.
func (s *Community) AddContact(ctx context.Context, m community.ContactMessage) (community.ContactMessage, error) {
	res, err := s.db.Write().Exec(ctx, `INSERT INTO contact_messages (name, email, message, ip, created_at) VALUES (?, ?, ?, ?, ?)`,
		m.Name, m.Email, m.Message, m.IP, ms(m.CreatedAt))
	if err != nil {
		return m, err
	}
	m.ID, err = res.LastInsertId()
	m.CreatedAt = fromMS(ms(m.CreatedAt))
	return m, err
}

func (s *Community) contactCols() string {
	return `id, name, email, message, ip, ` + s.readCol() + `, created_at`
}

func scanContact(sc interface{ Scan(...any) error }) (community.ContactMessage, error) {
	var m community.ContactMessage
	var created int64
	err := sc.Scan(&m.ID, &m.Name, &m.Email, &m.Message, &m.IP, &m.Read, &created)
	m.CreatedAt = fromMS(created)
	return m, err
}

// ContactMessages pages the inbox, newest first.
func (s *Community) ContactMessages(ctx context.Context, unreadOnly bool, p community.Page) ([]community.ContactMessage, error) {
	out := []community.ContactMessage{}
	where := ""
	if unreadOnly {
		where = " AND " + s.readCol() + " = 0"
	}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		m, err := scanContact(rows)
		out = append(out, m)
		return err
	}, `SELECT `+s.contactCols()+` FROM contact_messages WHERE id < ?`+where+` ORDER BY id DESC LIMIT ?`, before(p), p.Limit)
	return out, err
}

// SetContactRead sets the read flag.
func (s *Community) SetContactRead(ctx context.Context, id int64, read bool) (community.ContactMessage, error) {
	var m community.ContactMessage
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE contact_messages SET `+s.readCol()+` = ? WHERE id = ?`, read, id)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return notFound("contact message")
		}
		m, err = scanContact(tx.QueryRowContext(ctx, `SELECT `+s.contactCols()+` FROM contact_messages WHERE id = ?`, id))
		return err
	})
	return m, err
}
