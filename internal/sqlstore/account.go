package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Accounts implements account.Store.
type Accounts struct {
	db *sqldb.DB
}

var _ account.Store = (*Accounts)(nil)

// NewAccounts returns the account store on db.
func NewAccounts(db *sqldb.DB) *Accounts { return &Accounts{db: db} }

const userCols = `id, email, username, display_name, bio, avatar_url, settings, role, xp, level,
	email_verified_at, mfa_enabled, banned_at, created_at, updated_at, ban_reason, banned_until`

// userColsAs is userCols qualified with the alias u, for joins.
var userColsAs = "u." + strings.ReplaceAll(strings.ReplaceAll(userCols, "\n\t", " "), ", ", ", u.")

type userRow struct {
	u                account.User
	settings         string
	role             string
	verified, banned sql.NullInt64
	created, updated int64
	bannedUntil      sql.NullInt64
}

func (r *userRow) dest() []any {
	u := &r.u
	return []any{&u.ID, &u.Email, &u.Username, &u.DisplayName, &u.Bio, &u.AvatarURL, &r.settings, &r.role,
		&u.XP, &u.Level, &r.verified, &u.MFAEnabled, &r.banned, &r.created, &r.updated, &u.BanReason, &r.bannedUntil}
}

func (r *userRow) user() account.User {
	u := r.u
	u.Settings = json.RawMessage(r.settings)
	u.Role = account.Role(r.role)
	_, u.EmailVerified = nullMS(r.verified)
	_, u.Banned = nullMS(r.banned)
	if t, ok := nullMS(r.bannedUntil); ok && u.Banned {
		u.BannedUntil = &t
	}
	if !u.Banned {
		u.BanReason = ""
	}
	u.CreatedAt, u.UpdatedAt = fromMS(r.created), fromMS(r.updated)
	return u
}

// CreateUser inserts the user and, when v is set, its first verification.
func (s *Accounts) CreateUser(ctx context.Context, nu account.NewUser, v *account.Verification, now time.Time, outbox ...jobs.Job) (account.User, error) {
	var verified sql.NullInt64
	if nu.Verified {
		verified = sql.NullInt64{Int64: ms(now), Valid: true}
	}
	var id int64
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users
			(email, username, username_key, password_hash, bio, settings, role, email_verified_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, '', '{}', ?, ?, ?, ?)`,
			nu.Email, nu.Username, strings.ToLower(nu.Username), nu.PasswordHash, string(nu.Role), verified, ms(now), ms(now))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if v != nil {
			if err := insertVerification(ctx, tx, id, *v, now); err != nil {
				return err
			}
		}
		return jobs.InsertTx(ctx, tx, s.db.Dialect, now, outbox...)
	})
	if col, dup := sqldb.IsDuplicate(err); dup {
		field := "username"
		if strings.Contains(col, "email") {
			field = "email"
		}
		return account.User{}, &apperr.Error{Code: apperr.Conflict, Message: "an account with this " + field + " already exists",
			Fields: map[string]string{field: "is taken"}, Err: err}
	}
	if err != nil {
		return account.User{}, err
	}
	return account.User{ID: id, Email: nu.Email, Username: nu.Username, Settings: json.RawMessage("{}"), Role: nu.Role,
		Level: 1, EmailVerified: nu.Verified, CreatedAt: fromMS(ms(now)), UpdatedAt: fromMS(ms(now))}, nil
}

func insertVerification(ctx context.Context, tx *sql.Tx, userID int64, v account.Verification, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO email_verifications (user_id, code_hash, token_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, userID, v.CodeHash, v.TokenHash, ms(now), ms(v.ExpiresAt))
	return err
}

// UserByID returns one user.
func (s *Accounts) UserByID(ctx context.Context, id int64) (account.User, error) {
	var r userRow
	err := s.db.Fresh().QueryRowPrepared(ctx, r.dest(), `SELECT `+userCols+` FROM users WHERE id = ?`, id)
	if sqldb.IsNotFound(err) {
		return account.User{}, notFound("user")
	}
	return r.user(), err
}

// UsersByIDs returns the users that exist among ids, in one query.
func (s *Accounts) UsersByIDs(ctx context.Context, ids []int64) (map[int64]account.User, error) {
	out := make(map[int64]account.User, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var r userRow
	err := queryIDs(ctx, s.db.Read(), func(rows *sql.Rows) error {
		if err := rows.Scan(r.dest()...); err != nil {
			return err
		}
		out[r.u.ID] = r.user()
		return nil
	}, `SELECT `+userCols+` FROM users WHERE id IN (`+inIDs+`)`, nil, ids)
	return out, err
}

func (s *Accounts) credentials(ctx context.Context, where string, arg any) (account.Credentials, error) {
	var r userRow
	var c account.Credentials
	dest := append(r.dest(), &c.PasswordHash, &c.MFASecret, &c.MFALastStep)
	err := s.db.Fresh().QueryRow(ctx, dest, `SELECT `+userCols+`, password_hash, mfa_secret, mfa_last_step FROM users WHERE `+where, arg)
	if sqldb.IsNotFound(err) {
		return c, notFound("user")
	}
	c.User = r.user()
	return c, err
}

// Credentials finds a user by lowercased email or username.
func (s *Accounts) Credentials(ctx context.Context, login string) (account.Credentials, error) {
	if strings.Contains(login, "@") {
		return s.credentials(ctx, "email = ?", login)
	}
	return s.credentials(ctx, "username_key = ?", login)
}

// CredentialsByID finds a user's credentials by id.
func (s *Accounts) CredentialsByID(ctx context.Context, id int64) (account.Credentials, error) {
	return s.credentials(ctx, "id = ?", id)
}

// UpdateProfile sets the fields of p that are not nil.
func (s *Accounts) UpdateProfile(ctx context.Context, id int64, p account.ProfileUpdate, now time.Time) (account.User, error) {
	sets := []string{"updated_at = ?"}
	args := []any{ms(now)}
	add := func(col string, v any) {
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	if p.DisplayName != nil {
		add("display_name", *p.DisplayName)
	}
	if p.Bio != nil {
		add("bio", *p.Bio)
	}
	if p.AvatarURL != nil {
		add("avatar_url", *p.AvatarURL)
	}
	if p.Settings != nil {
		add("settings", string(p.Settings))
	}
	var r userRow
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args, id)...)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return notFound("user")
		}
		return tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id).Scan(r.dest()...)
	})
	return r.user(), err
}

// AddVerification spends the user's pending verifications and adds v.
func (s *Accounts) AddVerification(ctx context.Context, userID int64, v account.Verification, now time.Time, outbox ...jobs.Job) error {
	return s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE email_verifications SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, ms(now), userID); err != nil {
			return err
		}
		if err := insertVerification(ctx, tx, userID, v, now); err != nil {
			return err
		}
		return jobs.InsertTx(ctx, tx, s.db.Dialect, now, outbox...)
	})
}

// VerifyEmail checks secretHash against the newest pending verification.
func (s *Accounts) VerifyEmail(ctx context.Context, userID int64, secretHash string, isToken bool, maxAttempts int, now time.Time) error {
	// A wrong code must still count, so the transaction commits and the
	// outcome is returned after it.
	var outcome error
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		outcome = nil // a deadlock victim runs again
		var id, expires int64
		var attempts int
		var codeHash, tokenHash string
		err := tx.QueryRowContext(ctx, `SELECT id, code_hash, token_hash, attempts, expires_at FROM email_verifications
			WHERE user_id = ? AND used_at IS NULL ORDER BY id DESC LIMIT 1`+forUpdate(s.db), userID).
			Scan(&id, &codeHash, &tokenHash, &attempts, &expires)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && expires <= ms(now)) {
			outcome = apperr.New(apperr.InvalidToken, "the code is wrong or has expired; request a new one")
			return nil
		}
		if err != nil {
			return err
		}
		if !isToken && attempts >= maxAttempts {
			outcome = apperr.New(apperr.InvalidToken, "too many wrong codes; request a new one")
			return nil
		}
		want := codeHash
		if isToken {
			want = tokenHash
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(secretHash)) != 1 {
			outcome = apperr.New(apperr.InvalidToken, "the code is wrong or has expired; request a new one")
			if isToken {
				return nil
			}
			_, err := tx.ExecContext(ctx, `UPDATE email_verifications SET attempts = attempts + 1 WHERE id = ?`, id)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE email_verifications SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, ms(now), userID); err != nil {
			return err
		}
		// An account verified meanwhile (by the link and the code at once)
		// stays as it was: verifying again changes nothing.
		_, err = tx.ExecContext(ctx, `UPDATE users SET email_verified_at = ?, updated_at = ? WHERE id = ? AND email_verified_at IS NULL`,
			ms(now), ms(now), userID)
		return err
	})
	if err != nil {
		return err
	}
	return outcome
}

// CreateSession stores a session under the hash of its token.
func (s *Accounts) CreateSession(ctx context.Context, sess account.Session, tokenHash string) (account.Session, error) {
	res, err := s.db.Write().Exec(ctx, `INSERT INTO sessions (user_id, token_hash, user_agent, ip, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, sess.UserID, tokenHash, sess.UserAgent, sess.IP, ms(sess.CreatedAt), ms(sess.LastSeenAt), ms(sess.ExpiresAt))
	if err != nil {
		return sess, err
	}
	sess.ID, err = res.LastInsertId()
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromMS(ms(sess.CreatedAt)), fromMS(ms(sess.LastSeenAt)), fromMS(ms(sess.ExpiresAt))
	return sess, err
}

type sessionRow struct {
	s                      account.Session
	created, seen, expires int64
}

func (r *sessionRow) dest() []any {
	return []any{&r.s.ID, &r.s.UserID, &r.s.UserAgent, &r.s.IP, &r.created, &r.seen, &r.expires}
}

func (r *sessionRow) session() account.Session {
	s := r.s
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMS(r.created), fromMS(r.seen), fromMS(r.expires)
	return s
}

const sessionCols = `s.id, s.user_id, s.user_agent, s.ip, s.created_at, s.last_seen_at, s.expires_at`

// SessionByToken returns a live session and its user in one query.
func (s *Accounts) SessionByToken(ctx context.Context, tokenHash string, now time.Time) (account.Session, account.User, error) {
	var sr sessionRow
	var ur userRow
	err := s.db.Fresh().QueryRowPrepared(ctx, append(sr.dest(), ur.dest()...), `SELECT `+sessionCols+`, `+userColsAs+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?`, tokenHash, ms(now))
	if sqldb.IsNotFound(err) {
		return account.Session{}, account.User{}, notFound("session")
	}
	return sr.session(), ur.user(), err
}

// TouchSession records that the session was used.
func (s *Accounts) TouchSession(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.Write().Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, ms(now), id)
	return err
}

// ListSessions returns the user's live sessions, most recently used first.
func (s *Accounts) ListSessions(ctx context.Context, userID int64, now time.Time) ([]account.Session, error) {
	list := []account.Session{}
	var r sessionRow
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		if err := rows.Scan(r.dest()...); err != nil {
			return err
		}
		list = append(list, r.session())
		return nil
	}, `SELECT `+sessionCols+` FROM sessions s WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
		ORDER BY s.last_seen_at DESC, s.id DESC LIMIT 100`, userID, ms(now))
	return list, err
}

// RevokeSession revokes one of the user's live sessions.
func (s *Accounts) RevokeSession(ctx context.Context, userID, sessionID int64, now time.Time) error {
	res, err := s.db.Write().Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`,
		ms(now), sessionID, userID)
	if err != nil {
		return err
	}
	if affected(res) == 0 {
		return notFound("session")
	}
	return nil
}

// AddPasswordReset stores a reset token's hash.
func (s *Accounts) AddPasswordReset(ctx context.Context, userID int64, tokenHash string, expires, now time.Time, outbox ...jobs.Job) error {
	return s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_resets (user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			userID, tokenHash, ms(now), ms(expires)); err != nil {
			return err
		}
		return jobs.InsertTx(ctx, tx, s.db.Dialect, now, outbox...)
	})
}

// ResetPassword spends the token (and every other pending one of the user),
// sets the password and revokes all the user's sessions.
func (s *Accounts) ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (int64, error) {
	var userID int64
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var expires int64
		var used sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT user_id, expires_at, used_at FROM password_resets WHERE token_hash = ?`+forUpdate(s.db), tokenHash).
			Scan(&userID, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (used.Valid || expires <= ms(now))) {
			return apperr.New(apperr.InvalidToken, "the reset link is invalid, used or expired; request a new one")
		}
		if err != nil {
			return err
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, []any{ms(now), userID}},
			{`UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, []any{passwordHash, ms(now), userID}},
			{`UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, []any{ms(now), userID}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	return userID, err
}

// SetMFASecret stores a pending TOTP secret.
func (s *Accounts) SetMFASecret(ctx context.Context, userID int64, secret string, now time.Time) error {
	res, err := s.db.Write().Exec(ctx, `UPDATE users SET mfa_secret = ?, updated_at = ? WHERE id = ? AND mfa_enabled = 0`,
		secret, ms(now), userID)
	if err != nil {
		return err
	}
	if affected(res) == 0 {
		if _, err := s.UserByID(ctx, userID); err != nil {
			return err
		}
		return apperr.New(apperr.Conflict, "MFA is already enabled")
	}
	return nil
}

// EnableMFA turns MFA on and replaces the recovery codes.
func (s *Accounts) EnableMFA(ctx context.Context, userID, step int64, recoveryHashes []string, now time.Time) error {
	return s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET mfa_enabled = 1, mfa_last_step = ?, updated_at = ?
			WHERE id = ? AND mfa_enabled = 0 AND mfa_secret <> '' AND mfa_last_step < ?`, step, ms(now), userID, step)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return apperr.New(apperr.Conflict, "MFA is already enabled, not set up, or the code was already used")
		}
		return replaceRecoveryCodes(ctx, tx, userID, recoveryHashes)
	})
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, userID int64, hashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// DisableMFA turns MFA off, forgets the secret and the recovery codes. The
// last spent step is kept: it only ever grows.
func (s *Accounts) DisableMFA(ctx context.Context, userID int64, now time.Time) error {
	return s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET mfa_enabled = 0, mfa_secret = '', updated_at = ? WHERE id = ?`, ms(now), userID)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return notFound("user")
		}
		return replaceRecoveryCodes(ctx, tx, userID, nil)
	})
}

// UseTOTPStep spends step if no later one was spent.
func (s *Accounts) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := s.db.Write().Exec(ctx, `UPDATE users SET mfa_last_step = ? WHERE id = ? AND mfa_last_step < ?`, step, userID, step)
	if err != nil {
		return false, err
	}
	return affected(res) == 1, nil
}

// UseRecoveryCode spends one unspent recovery code.
func (s *Accounts) UseRecoveryCode(ctx context.Context, userID int64, codeHash string, now time.Time) (bool, error) {
	res, err := s.db.Write().Exec(ctx, `UPDATE mfa_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
		ms(now), userID, codeHash)
	if err != nil {
		return false, err
	}
	return affected(res) >= 1, nil
}

// SetRole changes a role. The admins' rows are locked first (on MySQL; an
// SQLite transaction is exclusive already), always in that order, so
// concurrent demotions are serialised and see each other's result.
func (s *Accounts) SetRole(ctx context.Context, id int64, role account.Role, now time.Time) (account.User, error) {
	var r userRow
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var admins []int64
		err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var a int64
			err := rows.Scan(&a)
			admins = append(admins, a)
			return err
		}, `SELECT id FROM users WHERE role = ?`+forUpdate(s.db), string(account.RoleAdmin))
		if err != nil {
			return err
		}
		var current string
		err = tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ?`+forUpdate(s.db), id).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		}
		if err != nil {
			return err
		}
		if account.Role(current) == account.RoleAdmin && role != account.RoleAdmin && len(admins) <= 1 {
			return &apperr.Error{Code: apperr.Conflict, Message: "this is the last admin; make another admin first",
				Fields: map[string]string{"role": "would leave no admin"}}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, string(role), ms(now), id); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id).Scan(r.dest()...)
	})
	return r.user(), err
}
