package courses

import (
	"time"
)

// Why a lesson is locked (lockedReason).
const (
	ReasonNotEnrolled      = "not_enrolled"
	ReasonLevelRequired    = "level_required"
	ReasonPurchaseRequired = "purchase_required"
	ReasonDrip             = "drip"
)

// Viewer is what the lock rules know about the caller for one course.
type Viewer struct {
	SignedIn   bool
	Level      int
	Enrolled   bool
	EnrolledAt time.Time
	Granted    bool
}

// Lock is a lesson's state for one viewer.
type Lock struct {
	Locked    bool
	Reason    string     // one of the Reason constants when Locked
	UnlocksAt *time.Time // when it opens by itself: drip, or a date course
}

// LessonLock decides whether v may read lesson l of course c at now.
// Preview lessons are open to everyone. Otherwise a purchase course needs a
// grant, even after enrolling (a refund takes it back); then the lesson
// needs an enrollment, and then its drip days to have passed since it.
func LessonLock(c Course, l Lesson, v Viewer, now time.Time) Lock {
	if l.Preview {
		return Lock{}
	}
	if c.Unlock.Kind == UnlockPurchase && !v.Granted {
		return Lock{Locked: true, Reason: ReasonPurchaseRequired}
	}
	if !v.Enrolled {
		switch {
		case c.Unlock.Kind == UnlockLevel && v.Level < c.Unlock.Level:
			return Lock{Locked: true, Reason: ReasonLevelRequired}
		case c.Unlock.Kind == UnlockDate && c.Unlock.At != nil && now.Before(*c.Unlock.At):
			at := *c.Unlock.At
			return Lock{Locked: true, Reason: ReasonNotEnrolled, UnlocksAt: &at}
		}
		return Lock{Locked: true, Reason: ReasonNotEnrolled}
	}
	if l.DripDays > 0 {
		at := v.EnrolledAt.Add(time.Duration(l.DripDays) * 24 * time.Hour)
		if now.Before(at) {
			return Lock{Locked: true, Reason: ReasonDrip, UnlocksAt: &at}
		}
	}
	return Lock{}
}
