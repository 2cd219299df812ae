// Package audit owns the admin and moderator audit log: who did what to
// which target, with the state before and after and the reason given. The
// log is append-only and hash-chained: every record carries the hash of the
// record before it and a hash of its own content, so an edited, inserted or
// deleted row breaks the chain where it happened and Verify finds it.
//
// Records are appended in the same transaction as the action they describe
// (sqlstore.Audit.AppendTx), so an action and its record commit together.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Actor is who performed an action, and from where.
type Actor struct {
	ID int64  `json:"id"`
	IP string `json:"ip"`
}

// Entry is an action to record. Before and After are marshalled to JSON
// (nil for none); Action is a dotted name such as "user.ban" or
// "report.resolve", TargetKind a noun such as "user", "message" or "job".
type Entry struct {
	Actor      Actor
	Action     string
	TargetKind string
	TargetID   int64
	Before     any
	After      any
	Reason     string
}

// Validate reports an entry that cannot be recorded; it is a programming
// error, not user input, so the message is plain.
func (e Entry) Validate() error {
	switch {
	case e.Action == "":
		return fmt.Errorf("audit: entry without an action")
	case e.TargetKind == "":
		return fmt.Errorf("audit: entry %q without a target kind", e.Action)
	}
	return nil
}

// Record is one stored row of the log.
type Record struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	Actor      Actor           `json:"actor"`
	Action     string          `json:"action"`
	TargetKind string          `json:"-"`
	TargetID   int64           `json:"-"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
	Reason     string          `json:"reason"`
	PrevHash   string          `json:"prevHash"`
	Hash       string          `json:"hash"`
}

// Genesis is the previous hash of the first record.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Marshal turns an entry's Before or After into the JSON stored for it:
// "null" for nil.
func Marshal(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("null"), nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		if !json.Valid(raw) {
			return nil, fmt.Errorf("audit: invalid raw JSON")
		}
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: marshal: %w", err)
	}
	return b, nil
}

// HashOf returns the hex SHA-256 of r's content chained to r.PrevHash.
// Every field is length-prefixed, so no two different records encode the
// same bytes; the time is hashed in Unix milliseconds, as it is stored.
func HashOf(r Record) string {
	h := sha256.New()
	var n [8]byte
	num := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	str := func(s []byte) {
		num(int64(len(s)))
		h.Write(s)
	}
	str([]byte(r.PrevHash))
	num(r.ID)
	num(r.At.UnixMilli())
	num(r.Actor.ID)
	str([]byte(r.Actor.IP))
	str([]byte(r.Action))
	str([]byte(r.TargetKind))
	num(r.TargetID)
	str(r.Before)
	str(r.After)
	str([]byte(r.Reason))
	return hex.EncodeToString(h.Sum(nil))
}
