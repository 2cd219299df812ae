package audit

// Filter selects records for a page of the log, newest first.
type Filter struct {
	ActorID    int64  // 0: any
	Action     string // "": any
	TargetKind string // "": any target; else with TargetID
	TargetID   int64
	Before     int64 // only ids below this; 0: from the newest
	Limit      int
}

// Problem is the first place the chain is broken.
type Problem struct {
	ID      int64  `json:"id"`
	Problem string `json:"problem"`
}

// Verification is the result of walking the chain.
type Verification struct {
	OK       bool     `json:"ok"`
	Rows     int64    `json:"rows"`
	FirstBad *Problem `json:"firstBad,omitempty"`
}

// The problems Checker reports.
const (
	ProblemMissing  = "missing"      // a gap in the ids: a deleted row
	ProblemOrder    = "out_of_order" // an id at or below the one before
	ProblemPrevHash = "prev_hash"    // does not link to the row before: a row deleted, inserted or rewritten before it
	ProblemHash     = "hash"         // content does not match its hash: an edited row
	ProblemHead     = "head"         // the head names another last row or hash
	ProblemExtra    = "after_head"   // a row past the head: an inserted row
	ProblemHeadGone = "head_ahead"   // the head names rows that are not there: deleted at the end
)

// Checker checks records fed in id order, one at a time, keeping only the
// last id and hash, so the whole log never has to be in memory.
type Checker struct {
	LastID   int64
	LastHash string
	Rows     int64
}

// Next checks r against the record before it and returns the problem with
// it, or nil.
func (c *Checker) Next(r Record) *Problem {
	prev := c.LastHash
	if c.Rows == 0 {
		prev = Genesis
	}
	want := c.LastID + 1
	c.Rows++
	c.LastID, c.LastHash = r.ID, r.Hash
	switch {
	case r.ID > want:
		return &Problem{ID: want, Problem: ProblemMissing}
	case r.ID < want:
		return &Problem{ID: r.ID, Problem: ProblemOrder}
	case r.PrevHash != prev:
		return &Problem{ID: r.ID, Problem: ProblemPrevHash}
	case HashOf(r) != r.Hash:
		return &Problem{ID: r.ID, Problem: ProblemHash}
	}
	return nil
}

// Head checks the chain's head against the last record checked.
func (c *Checker) Head(lastID int64, hash string) *Problem {
	last := c.LastHash
	if c.Rows == 0 {
		last = Genesis
	}
	switch {
	case lastID < c.LastID:
		return &Problem{ID: lastID + 1, Problem: ProblemExtra}
	case lastID > c.LastID:
		return &Problem{ID: c.LastID + 1, Problem: ProblemHeadGone}
	case hash != last:
		return &Problem{ID: lastID, Problem: ProblemHead}
	}
	return nil
}

// Spec describes an action to record in the transaction that performs it
// (sqlstore.Audit.Hook).
type Spec struct {
	// Entry is the record; its Before and After are read from the target's
	// row in the action's transaction (null where there is none).
	Entry Entry
	// Create: the action inserts the target; its id is the one row the
	// transaction added to the target's table, found after the action.
	Create bool
	// NotOwner: record only when the actor does not own the target (a
	// moderator acting on someone else's content).
	NotOwner bool
	// Member is the user of a "channel_member" target (TargetID is the
	// channel): the state recorded is whether they belong to it.
	Member int64
}
