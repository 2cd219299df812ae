// Package wallet owns credits: a double-entry ledger whose transactions are
// sets of postings that sum to zero across accounts (each user's wallet, a
// user's debt, platform revenue, Stripe clearing), the rules of what may be
// posted (tips, purchases, admin adjustments, Stripe top-ups and their
// refunds), the idempotency of every write, and the credit packs sold
// through Stripe Checkout.
//
// Balances are kept in the same database transaction as the postings, and a
// wallet never goes below zero: the debit is a conditional update whose
// affected-row count decides, never a read followed by a write. Nothing in
// the ledger is updated or deleted; a correction is a new transaction.
// Storage is behind Store; sqlstore implements it on SQLite and MySQL, and
// wallettest checks every implementation, including a seeded randomized
// concurrency simulation.
package wallet

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/textcheck"
)

// MaxAmount is the largest amount and balance in credits: 2^53-1, so
// every figure survives a JSON number in any client.
const MaxAmount = 1<<53 - 1

// Kind is what a posting is to its wallet's owner.
type Kind string

// The kinds GET /api/wallet/transactions shows.
const (
	Topup       Kind = "topup"
	TipSent     Kind = "tip_sent"
	TipReceived Kind = "tip_received"
	Purchase    Kind = "purchase"
	Refund      Kind = "refund"
	Adjustment  Kind = "adjustment"
)

// The codes of wallet refusals (statuses in apperr's table).
const (
	InsufficientFunds      = apperr.InsufficientFunds
	IdempotencyKeyRequired = apperr.IdempotencyKeyRequired
	IdempotencyKeyReused   = apperr.IdempotencyKeyReused
	PaymentsDisabled       = apperr.PaymentsDisabled
)

// ErrInsufficientFunds is returned when a debit finds too few credits.
func ErrInsufficientFunds(balanceHint string) error {
	msg := "not enough credits"
	if balanceHint != "" {
		msg += ": " + balanceHint
	}
	return apperr.New(InsufficientFunds, msg)
}

// Entry is one posting on a user's wallet as the API shows it. ID is the
// transaction's id; Amount is signed (negative: credits left the wallet).
type Entry struct {
	ID           int64     `json:"id"`
	Amount       int64     `json:"amount"`
	Kind         Kind      `json:"kind"`
	Counterparty *int64    `json:"counterparty"` // the other user of a tip; null otherwise
	Ref          string    `json:"ref"`
	Memo         string    `json:"note,omitempty"`
	BalanceAfter int64     `json:"balanceAfter"`
	CreatedAt    time.Time `json:"createdAt"`
}

// Balance is a user's wallet. Debt is what a refund could not take back
// because the credits were already spent (0 or more).
type Balance struct {
	Balance  int64  `json:"balance"`
	Currency string `json:"currency"`
	Debt     int64  `json:"debt"`
}

// Check is the ledger's verification: postings sum to zero, every
// account's balance equals the sum of its postings, and no wallet is
// negative.
type Check struct {
	OK       bool    `json:"ok"`
	Accounts int64   `json:"accounts"`
	Sum      int64   `json:"sum"`
	Negative []int64 `json:"negative"` // ids of wallet accounts below zero
	// Mismatched lists accounts whose kept balance differs from the sum
	// of their postings.
	Mismatched []int64 `json:"mismatched"`
	// Unbalanced lists transactions whose postings do not sum to zero.
	Unbalanced []int64 `json:"unbalanced"`
}

// Key is an Idempotency-Key as a write carries it: per user, with the hash
// of the request it first came with.
type Key struct {
	UserID int64
	Key    string
	Hash   string
}

// Reply is a write's response as recorded for its key.
type Reply struct {
	Status   int
	Body     []byte
	Replayed bool
}

// KeyTTL is how long a key is remembered.
const KeyTTL = 24 * time.Hour

// ParseKey checks an Idempotency-Key header's value: 1 to 255 printable
// ASCII characters.
func ParseKey(v string) (string, error) {
	if v == "" {
		return "", apperr.New(IdempotencyKeyRequired, "send an Idempotency-Key header (a unique string, e.g. a UUID) with every wallet write")
	}
	if len(v) > 255 {
		return "", apperr.New(apperr.BadRequest, "the Idempotency-Key is longer than 255 characters")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return "", apperr.New(apperr.BadRequest, "the Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return v, nil
}

// RequestHash identifies a request for its key: the method, the path and
// the exact body bytes.
func RequestHash(method, path string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%d\n", method, path, len(body))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// CheckAmount validates a positive amount of credits.
func CheckAmount(field string, amount int64) error {
	switch {
	case amount <= 0:
		return apperr.Invalid(map[string]string{field: "must be a whole number of credits above 0"})
	case amount > MaxAmount:
		return apperr.Invalid(map[string]string{field: "must be at most 2^53-1"})
	}
	return nil
}

// CheckNote validates a tip's note or an adjustment's reason.
func CheckNote(field, v string, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return apperr.Invalid(map[string]string{field: "is required"})
	case utf8.RuneCountInString(v) > 500:
		return apperr.Invalid(map[string]string{field: "must be at most 500 characters"})
	case !utf8.ValidString(v):
		return apperr.Invalid(map[string]string{field: "is not valid UTF-8"})
	case textcheck.HasControl(v, textcheck.Lines):
		return apperr.Invalid(map[string]string{field: textcheck.Problem})
	}
	return nil
}

// Ledger writes postings inside one database transaction (see
// Store.Do). Every method leaves the ledger balanced.
type Ledger interface {
	// Tip moves amount from one user's wallet to another's.
	Tip(ctx context.Context, from, to, amount int64, note string) (Entry, error)
	// Debit takes amount from a user's wallet for kind (Purchase) and
	// credits platform revenue; insufficient_funds when the wallet holds
	// less. ref names what was bought ("collectible:12").
	Debit(ctx context.Context, userID, amount int64, kind Kind, ref, memo string) (Entry, error)
	// Adjust adds (amount > 0) or removes (amount < 0) credits against
	// platform revenue: an admin's correction.
	Adjust(ctx context.Context, userID, amount int64, reason string, actorID int64) (Entry, error)
	// Tx is the transaction, for writes to other tables that must commit
	// with the postings (a collectible's serial, the audit log).
	Tx() *sql.Tx
}

// Payment is a completed Stripe Checkout payment and what it grants.
type Payment struct {
	PaymentIntent string
	SessionID     string
	UserID        int64
	Item          string // "credits" or "course"
	Pack          string
	CourseID      int64
	Credits       int64
	AmountCents   int64
}

// Store keeps the ledger.
type Store interface {
	// Balance returns a user's wallet (zero for a user who never had one).
	Balance(ctx context.Context, userID int64) (Balance, error)
	// Balances returns the balances of several users in one query, for
	// lists that show them; users without a wallet are absent.
	Balances(ctx context.Context, userIDs []int64) (map[int64]int64, error)
	// Entries pages a user's postings newest first, before the
	// transaction id before (0: from the newest).
	Entries(ctx context.Context, userID, before int64, limit int) ([]Entry, error)
	// Check verifies the whole ledger.
	Check(ctx context.Context) (Check, error)
	// Do runs fn in one transaction. With a key, the reply fn returns is
	// recorded under it in that same transaction: a later call with the
	// same key and hash returns it (Replayed) without running fn, the same
	// key with another hash fails with idempotency_key_reused, and of
	// concurrent calls with one key exactly one has an effect. Errors are
	// not recorded: a refused write may be retried with its key.
	Do(ctx context.Context, key *Key, fn func(ctx context.Context, l Ledger) (Reply, error)) (Reply, error)
	// CompletePayment applies a paid Checkout Session once: it records
	// the event id, the payment, and its effect (credits from Stripe
	// clearing, or grant(tx) for a course) in one transaction. false: the
	// event, or another event for the same payment, was applied before.
	CompletePayment(ctx context.Context, eventID, eventType string, p Payment, grant func(ctx context.Context, tx *sql.Tx) error) (bool, error)
	// RefundPayment takes back what a payment granted in proportion to
	// refundedCents (the charge's cumulative refund): credits from the
	// wallet, the remainder recorded as the user's debt when they were
	// spent, or revoke(tx) for a course refunded in full. false: the event
	// was applied before. An unknown payment intent is not_found. userID
	// is the payment's buyer.
	RefundPayment(ctx context.Context, eventID, eventType, paymentIntent string, refundedCents int64, revoke func(ctx context.Context, tx *sql.Tx, userID, courseID int64) error) (applied bool, userID int64, err error)
}

// UserRef returns a posting's ref for a user.
func UserRef(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

type touchesKey struct{}

// Touching returns ctx naming the users whose wallets a write through
// Store.Do is about to change (a tip's sender and recipient). It is a
// hint, not a limit: a store may lock those wallets first, all in one
// order (so that concurrent writes never wait on each other in a circle),
// and read their balances once for many writes; a write may change other
// wallets too.
func Touching(ctx context.Context, users ...int64) context.Context {
	return context.WithValue(ctx, touchesKey{}, users)
}

// Touches returns the users Touching named in ctx.
func Touches(ctx context.Context) []int64 {
	users, _ := ctx.Value(touchesKey{}).([]int64)
	return users
}
