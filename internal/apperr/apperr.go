// Package apperr owns Plaza's one error type: a code that is safe to show to
// users, a human message, optional per-field details, and the table that maps
// each code to its HTTP status.
package apperr

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Code is a stable snake_case identifier clients can switch on.
type Code string

// The codes Plaza returns. Each has exactly one HTTP status in statusOf.
const (
	BadRequest       Code = "bad_request"
	Validation       Code = "validation_failed"
	Unauthorized     Code = "unauthorized"
	InvalidLogin     Code = "invalid_credentials"
	MFARequired      Code = "mfa_required"
	InvalidMFACode   Code = "invalid_mfa_code"
	Forbidden        Code = "forbidden"
	Banned           Code = "banned"
	NotFound         Code = "not_found"
	MethodNotAllowed Code = "method_not_allowed"
	Conflict         Code = "conflict"
	InvalidToken     Code = "invalid_token"
	TooLarge         Code = "payload_too_large"
	UnsupportedMedia Code = "unsupported_media_type"
	RateLimited      Code = "rate_limited"
	Overloaded       Code = "overloaded"
	Unavailable      Code = "unavailable"
	AIDisabled       Code = "ai_disabled"
	Internal         Code = "internal_error"

	// VerificationRequired: the route waits until the email is verified.
	VerificationRequired Code = "verification_required"
	PaymentRequired      Code = "payment_required"
	LevelRequired        Code = "level_required"
	Locked               Code = "locked"
	// EventStarted: RSVPs to an event close when it starts.
	EventStarted Code = "event_started"
	// EventNotStarted: attendance is marked once the event has started.
	EventNotStarted Code = "event_not_started"

	// Wallets and payments (internal/wallet).
	InsufficientFunds      Code = "insufficient_funds"
	IdempotencyKeyRequired Code = "idempotency_key_required"
	IdempotencyKeyReused   Code = "idempotency_key_reused"
	PaymentsDisabled       Code = "payments_disabled"
	// SoldOut: a limited collectible has no serial left.
	SoldOut Code = "sold_out"
	// AlreadyOwned: the user holds this collectible already.
	AlreadyOwned Code = "already_owned"
)

var statusOf = map[Code]int{
	BadRequest:       http.StatusBadRequest,
	Validation:       http.StatusUnprocessableEntity,
	Unauthorized:     http.StatusUnauthorized,
	InvalidLogin:     http.StatusUnauthorized,
	MFARequired:      http.StatusUnauthorized,
	InvalidMFACode:   http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	Banned:           http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	InvalidToken:     http.StatusBadRequest,
	TooLarge:         http.StatusRequestEntityTooLarge,
	UnsupportedMedia: http.StatusUnsupportedMediaType,
	RateLimited:      http.StatusTooManyRequests,
	Overloaded:       http.StatusServiceUnavailable,
	Unavailable:      http.StatusServiceUnavailable,
	AIDisabled:       http.StatusServiceUnavailable,
	Internal:         http.StatusInternalServerError,

	VerificationRequired: http.StatusForbidden,
	PaymentRequired:      http.StatusPaymentRequired,
	LevelRequired:        http.StatusForbidden,
	Locked:               http.StatusForbidden,
	EventStarted:         http.StatusConflict,
	EventNotStarted:      http.StatusConflict,

	InsufficientFunds:      http.StatusConflict,
	IdempotencyKeyRequired: http.StatusBadRequest,
	IdempotencyKeyReused:   http.StatusConflict,
	PaymentsDisabled:       http.StatusServiceUnavailable,
	SoldOut:                http.StatusConflict,
	AlreadyOwned:           http.StatusConflict,
}

// refusals are the codes whose 5xx status is a documented answer, not a
// failure: the feature is switched off by configuration (AI without
// AI_BASE_URL). Anyone may provoke them at will, so they are not logged as
// errors and do not count toward the error-rate alert. A code added for
// another feature that can be off (payments_disabled) belongs here too.
var refusals = map[Code]bool{
	AIDisabled: true,
	// Payments without STRIPE_SECRET_KEY.
	PaymentsDisabled: true,
}

// Fault reports whether code means the server failed to do what it should
// have: a 5xx that is not a documented refusal. Faults are what the
// error-rate alert counts; overload and an unreachable database are faults.
func Fault(code Code) bool { return Status(code) >= 500 && !refusals[code] }

// Status returns the HTTP status for code; unknown codes are internal errors.
func Status(code Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is an error that carries a user-safe code and message. Err, when set,
// is the underlying cause: logged, never shown.
type Error struct {
	Code       Code
	Message    string
	Fields     map[string]string // field name -> problem, for validation errors
	RetryAfter time.Duration     // set on 429 and 503
	// Details are extra members of the error object that tell a client
	// what to do next, e.g. {"priceCents": 4900} on payment_required.
	Details map[string]any
	Err     error
}

func (e *Error) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %s", e.Code, e.Message)
	for _, f := range slices.Sorted(maps.Keys(e.Fields)) {
		fmt.Fprintf(&sb, "; %s %s", f, e.Fields[f])
	}
	if e.Err != nil {
		fmt.Fprintf(&sb, ": %v", e.Err)
	}
	return sb.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code and message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Wrap returns an error with code and message whose cause is err.
func Wrap(code Code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Invalid returns a validation error naming the offending fields.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: Validation, Message: "some fields are invalid", Fields: fields}
}

// From returns err as an *Error; anything else becomes an internal error
// that keeps err as its cause.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}

// Is reports whether err carries code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// FieldErrors collects validation problems; Err returns nil when none.
type FieldErrors map[string]string

// Add records a problem for field unless one is already recorded.
func (f FieldErrors) Add(field, problem string) {
	if _, ok := f[field]; !ok {
		f[field] = problem
	}
}

// Err returns the collected problems as a validation error, or nil.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f)
}
