// Package account owns Plaza's users and how they prove who they are:
// registration and email verification, password login with per-account and
// per-IP failure limits, opaque revocable sessions, password reset, TOTP MFA
// with recovery codes, and profiles. Storage is behind Store, which each SQL
// engine implements and accounttest.Exercise checks.
package account

import (
	"context"
	"encoding/json"
	"time"

	"github.com/plazahq/plaza/internal/jobs"
)

// Role is what a user may do beyond their own account.
type Role string

// The roles, from least to most privileged.
const (
	RoleUser      Role = "user"
	RoleCreator   Role = "creator"
	RoleModerator Role = "moderator"
	RoleAdmin     Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return rank(r) >= 0 }

// AtLeast reports whether r has at least the privileges of other.
func (r Role) AtLeast(other Role) bool { return rank(r) >= rank(other) }

// rank orders the roles; an unknown role ranks below every known one.
func rank(r Role) int {
	switch r {
	case RoleUser:
		return 0
	case RoleCreator:
		return 1
	case RoleModerator:
		return 2
	case RoleAdmin:
		return 3
	}
	return -1
}

// User is an account as its owner sees it.
type User struct {
	ID            int64           `json:"id"`
	Email         string          `json:"email"`
	Username      string          `json:"username"`
	DisplayName   string          `json:"displayName"`
	Bio           string          `json:"bio"`
	AvatarURL     string          `json:"avatarUrl"`
	Settings      json.RawMessage `json:"settings"`
	Role          Role            `json:"role"`
	XP            int64           `json:"xp"`
	Level         int             `json:"level"`
	EmailVerified bool            `json:"emailVerified"`
	MFAEnabled    bool            `json:"mfaEnabled"`
	Banned        bool            `json:"banned"`
	CreatedAt     time.Time       `json:"createdAt"`
	UpdatedAt     time.Time       `json:"updatedAt"`

	// BanReason and BannedUntil describe a ban (Banned); a ban whose
	// BannedUntil has passed no longer holds (see BannedAt).
	BanReason   string     `json:"banReason,omitempty"`
	BannedUntil *time.Time `json:"bannedUntil,omitempty"`
}

// Profile is what anybody may see of a user.
type Profile struct {
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"displayName"`
	Bio         string    `json:"bio"`
	AvatarURL   string    `json:"avatarUrl"`
	Role        Role      `json:"role"`
	XP          int64     `json:"xp"`
	Level       int       `json:"level"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Profile returns the public part of u.
func (u User) Profile() Profile {
	return Profile{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Bio: u.Bio,
		AvatarURL: u.AvatarURL, Role: u.Role, XP: u.XP, Level: u.Level, CreatedAt: u.CreatedAt}
}

// Credentials is a user with the secrets login needs.
type Credentials struct {
	User         User
	PasswordHash string
	MFASecret    string // pending or enabled TOTP secret
	MFALastStep  int64
}

// Session is one signed-in device.
type Session struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"-"`
	UserAgent  string    `json:"userAgent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	Current    bool      `json:"current"`
}

// NewUser is what CreateUser stores.
type NewUser struct {
	Email        string
	Username     string
	PasswordHash string
	Role         Role
	Verified     bool // admins created from the command line skip verification
}

// Verification is a pending signup verification: a short code to type and a
// long token for the link, both stored hashed.
type Verification struct {
	CodeHash  string
	TokenHash string
	ExpiresAt time.Time
}

// ProfileUpdate holds the fields PATCH /api/users/me may change; nil means
// "leave as is".
type ProfileUpdate struct {
	DisplayName *string
	Bio         *string
	AvatarURL   *string
	Settings    json.RawMessage
}

// Store is the storage account needs. Methods that change several rows do so
// in one transaction. Not-found conditions are apperr NotFound errors;
// duplicates are apperr Conflict errors naming the field.
type Store interface {
	// Methods with an outbox insert its jobs in the same transaction as
	// their write (jobs.InsertTx): both happen or neither.
	CreateUser(ctx context.Context, u NewUser, v *Verification, now time.Time, outbox ...jobs.Job) (User, error)
	UserByID(ctx context.Context, id int64) (User, error)
	UsersByIDs(ctx context.Context, ids []int64) (map[int64]User, error)
	// Credentials finds a user by email (lowercased) or username key.
	Credentials(ctx context.Context, login string) (Credentials, error)
	CredentialsByID(ctx context.Context, id int64) (Credentials, error)
	UpdateProfile(ctx context.Context, id int64, p ProfileUpdate, now time.Time) (User, error)

	// AddVerification replaces the user's pending verifications with v.
	AddVerification(ctx context.Context, userID int64, v Verification, now time.Time, outbox ...jobs.Job) error
	// VerifyEmail checks secretHash against the user's newest pending
	// verification (as a code when isToken is false, counting attempts up to
	// maxAttempts) and marks the email verified on a match.
	VerifyEmail(ctx context.Context, userID int64, secretHash string, isToken bool, maxAttempts int, now time.Time) error

	CreateSession(ctx context.Context, s Session, tokenHash string) (Session, error)
	// SessionByToken returns the live (unrevoked, unexpired) session and its user.
	SessionByToken(ctx context.Context, tokenHash string, now time.Time) (Session, User, error)
	TouchSession(ctx context.Context, id int64, now time.Time) error
	ListSessions(ctx context.Context, userID int64, now time.Time) ([]Session, error)
	RevokeSession(ctx context.Context, userID, sessionID int64, now time.Time) error

	AddPasswordReset(ctx context.Context, userID int64, tokenHash string, expires, now time.Time, outbox ...jobs.Job) error
	// ResetPassword spends the token, sets the password and revokes every
	// session of the user; it returns the user's id.
	ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (int64, error)

	// SetMFASecret stores a pending secret; Conflict if MFA is already on.
	SetMFASecret(ctx context.Context, userID int64, secret string, now time.Time) error
	// EnableMFA turns MFA on, spending TOTP step, and replaces recovery codes.
	EnableMFA(ctx context.Context, userID, step int64, recoveryHashes []string, now time.Time) error
	DisableMFA(ctx context.Context, userID int64, now time.Time) error
	// UseTOTPStep records step as spent; false if it (or a later one) was.
	UseTOTPStep(ctx context.Context, userID, step int64) (bool, error)
	// UseRecoveryCode spends a recovery code; false if unknown or spent.
	UseRecoveryCode(ctx context.Context, userID int64, codeHash string, now time.Time) (bool, error)

	// SetRole changes a user's role and returns the user. Taking the admin
	// role from the last admin is a Conflict, decided under a lock so two
	// admins demoting each other at once cannot leave none.
	SetRole(ctx context.Context, id int64, role Role, now time.Time) (User, error)
}
