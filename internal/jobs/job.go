// Package jobs is Plaza's durable background queue, kept in the SQL
// database in the manner of River and Solid Queue: a job is inserted in the
// same transaction as the write that causes it, claimed by workers on any
// instance as a lease (FOR UPDATE SKIP LOCKED on MySQL/MariaDB, an atomic
// UPDATE ... RETURNING on SQLite) that a heartbeat keeps alive, retried with
// exponential backoff and jitter, and kept as dead, with its errors, after
// its last attempt. Execution is at least once: handlers are idempotent.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"
)

// States a job moves through.
const (
	Available = "available" // waiting for run_at and a worker
	Running   = "running"   // leased by a worker
	Completed = "completed"
	Dead      = "dead"      // failed its last attempt
	Discarded = "discarded" // given up on by an operator
)

// Job is one unit of background work.
type Job struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Payload     json.RawMessage `json:"payload"`
	Priority    int             `json:"priority"` // higher runs first
	RunAt       time.Time       `json:"runAt"`
	MaxAttempts int             `json:"maxAttempts"`
	UniqueKey   string          `json:"uniqueKey,omitempty"` // at most one unfinished job per key

	State      string         `json:"state"`
	Attempts   int            `json:"attempts"`
	Errors     []AttemptError `json:"errors"`
	CreatedAt  time.Time      `json:"createdAt"`
	UpdatedAt  time.Time      `json:"updatedAt"`
	FinishedAt *time.Time     `json:"finishedAt,omitempty"`
}

// AttemptError is why one attempt failed.
type AttemptError struct {
	At      time.Time `json:"at"`
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
}

// New builds a job of kind with payload encoded as JSON.
func New(kind string, payload any) (Job, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return Job{}, err
	}
	return Job{Kind: kind, Payload: b}, nil
}

// Must is New for payloads that always encode.
func Must(kind string, payload any) Job {
	j, err := New(kind, payload)
	if err != nil {
		panic(err)
	}
	return j
}

// Handler runs a job. It must be idempotent: a job may run more than once
// (a worker that dies after finishing, before recording it, for one).
type Handler func(ctx context.Context, j Job) error

// Kind is a job type and how to run it.
type Kind struct {
	Name        string
	Handle      Handler
	MaxAttempts int           // default 10
	Timeout     time.Duration // per attempt; default 1 minute
	// Coalesce makes a job's UniqueKey gather only jobs that have not
	// started: the key is released by the statement that claims the job,
	// before its handler runs, so a write committed while it runs enqueues
	// another (a handler that re-reads state then misses nothing).
	Coalesce bool
}

// ErrPermanent wrapped in a handler's error sends the job straight to dead:
// retrying cannot help (bad payload, a record that no longer exists).
var ErrPermanent = errors.New("permanent failure")

// Backoff is the delay before attempt n+1 after n failed attempts:
// exponential from 2 s, capped at an hour, with ±20 % jitter so that jobs
// failing together do not retry together.
func Backoff(n int) time.Duration {
	d := 2 * time.Second << min(n-1, 11)
	d = min(d, time.Hour)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}
