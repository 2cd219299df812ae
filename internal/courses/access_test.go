package courses

import (
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
)

func TestLessonLock(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	future, past := now.Add(72*time.Hour), now.Add(-time.Hour)
	open := Course{Unlock: Unlock{Kind: UnlockOpen}}
	level5 := Course{Unlock: Unlock{Kind: UnlockLevel, Level: 5}}
	paid := Course{Unlock: Unlock{Kind: UnlockPurchase}, PriceCents: 4900}
	dated := Course{Unlock: Unlock{Kind: UnlockDate, At: &future}}
	opened := Course{Unlock: Unlock{Kind: UnlockDate, At: &past}}
	plain, preview, drip3 := Lesson{ID: 1}, Lesson{ID: 2, Preview: true}, Lesson{ID: 3, DripDays: 3}
	anon := Viewer{}
	stranger := Viewer{SignedIn: true, Level: 2}
	enrolled := func(ago time.Duration) Viewer {
		return Viewer{SignedIn: true, Level: 2, Enrolled: true, EnrolledAt: now.Add(-ago)}
	}
	dripAt := now.Add(-24 * time.Hour).Add(72 * time.Hour)
	for _, tc := range []struct {
		name   string
		c      Course
		l      Lesson
		v      Viewer
		reason string
		at     *time.Time
	}{
		{"preview, anonymous", paid, preview, anon, "", nil},
		{"preview, locked course", dated, preview, stranger, "", nil},
		{"open, anonymous", open, plain, anon, ReasonNotEnrolled, nil},
		{"open, not enrolled", open, plain, stranger, ReasonNotEnrolled, nil},
		{"open, enrolled", open, plain, enrolled(time.Hour), "", nil},
		{"level too low", level5, plain, stranger, ReasonLevelRequired, nil},
		{"level too low, anonymous", level5, plain, anon, ReasonLevelRequired, nil},
		{"level reached, not enrolled", level5, plain, Viewer{SignedIn: true, Level: 5}, ReasonNotEnrolled, nil},
		{"level course, enrolled", level5, plain, enrolled(time.Hour), "", nil},
		{"paid, no grant", paid, plain, stranger, ReasonPurchaseRequired, nil},
		{"paid, enrolled but refunded", paid, plain, enrolled(time.Hour), ReasonPurchaseRequired, nil},
		{"paid, granted, not enrolled", paid, plain, Viewer{SignedIn: true, Granted: true}, ReasonNotEnrolled, nil},
		{"paid, granted and enrolled", paid, plain, Viewer{SignedIn: true, Granted: true, Enrolled: true, EnrolledAt: past}, "", nil},
		{"date ahead", dated, plain, stranger, ReasonNotEnrolled, &future},
		{"date passed", opened, plain, stranger, ReasonNotEnrolled, nil},
		{"drip pending", open, drip3, enrolled(24 * time.Hour), ReasonDrip, &dripAt},
		{"drip passed", open, drip3, enrolled(73 * time.Hour), "", nil},
		{"drip, not enrolled", open, drip3, stranger, ReasonNotEnrolled, nil},
	} {
		got := LessonLock(tc.c, tc.l, tc.v, now)
		if got.Locked != (tc.reason != "") || got.Reason != tc.reason || (got.UnlocksAt == nil) != (tc.at == nil) ||
			(tc.at != nil && !got.UnlocksAt.Equal(*tc.at)) {
			t.Errorf("%s: got %+v (at %v), want reason %q at %v", tc.name, got, got.UnlocksAt, tc.reason, tc.at)
		}
	}
}

func TestAdmit(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	future, past := now.Add(time.Hour), now.Add(-time.Hour)
	pub := func(u Unlock) Course { return Course{Published: true, Unlock: u, PriceCents: 4900, Currency: "usd"} }
	for _, tc := range []struct {
		name string
		a    Admission
		code apperr.Code // "" admitted
	}{
		{"open", Admission{Course: pub(Unlock{Kind: UnlockOpen}), Level: 1}, ""},
		{"unpublished", Admission{Course: Course{Unlock: Unlock{Kind: UnlockOpen}}, Level: 9}, apperr.NotFound},
		{"level low", Admission{Course: pub(Unlock{Kind: UnlockLevel, Level: 3}), Level: 2}, apperr.LevelRequired},
		{"level met", Admission{Course: pub(Unlock{Kind: UnlockLevel, Level: 3}), Level: 3}, ""},
		{"not bought", Admission{Course: pub(Unlock{Kind: UnlockPurchase}), Level: 9}, apperr.PaymentRequired},
		{"bought", Admission{Course: pub(Unlock{Kind: UnlockPurchase}), Granted: true}, ""},
		{"date ahead", Admission{Course: pub(Unlock{Kind: UnlockDate, At: &future})}, apperr.Locked},
		{"date passed", Admission{Course: pub(Unlock{Kind: UnlockDate, At: &past})}, ""},
	} {
		err := admit(tc.a, now)
		if (tc.code == "" && err != nil) || (tc.code != "" && !apperr.Is(err, tc.code)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
	}
	e := apperr.From(admit(Admission{Course: pub(Unlock{Kind: UnlockPurchase})}, now))
	if e.Details["priceCents"] != int64(4900) {
		t.Errorf("payment_required details %v", e.Details)
	}
	e = apperr.From(admit(Admission{Course: pub(Unlock{Kind: UnlockDate, At: &future})}, now))
	if e.Details["unlocksAt"] != future {
		t.Errorf("date lock details %v", e.Details)
	}
}
