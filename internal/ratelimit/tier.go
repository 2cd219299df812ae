package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tier is a named limit: Limit requests per Window. A zero Limit means off.
type Tier struct {
	Name   string
	Limit  int
	Window time.Duration
}

// Off reports whether the tier limits nothing.
func (t Tier) Off() bool { return t.Limit <= 0 || t.Window <= 0 }

// The tiers of PRODUCT.md ("login" counts failures only; see Failures).
var (
	API     = Tier{"api", 100, time.Minute}
	Strict  = Tier{"strict", 20, time.Minute}
	Login   = Tier{"login", 5, 15 * time.Minute}
	LoginIP = Tier{"login_ip", 50, 15 * time.Minute} // failed sign-ins per client IP
	AI      = Tier{"ai", 30, time.Minute}
	Payment = Tier{"payment", 10, time.Minute}
)

// ParseTier reads "100/1m" (or "0"/"off" to disable) into a tier named name.
func ParseTier(name, s string) (Tier, error) {
	s = strings.TrimSpace(s)
	if s == "0" || strings.EqualFold(s, "off") {
		return Tier{Name: name}, nil
	}
	n, w, ok := strings.Cut(s, "/")
	limit, err1 := strconv.Atoi(n)
	window, err2 := time.ParseDuration(w)
	if !ok || err1 != nil || err2 != nil || limit < 1 || window < time.Second {
		return Tier{}, fmt.Errorf("%q is not COUNT/DURATION like 100/1m (or off)", s)
	}
	return Tier{Name: name, Limit: limit, Window: window}, nil
}

// Decision is the outcome of one check, with what the RateLimit-* headers say.
type Decision struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      time.Duration // until the full allowance is back
	RetryAfter time.Duration // when refused: until the next request may pass
}

// Limiter decides whether one more request under key fits tier.
type Limiter interface {
	Allow(ctx context.Context, tier Tier, key string) (Decision, error)
}

// gcra computes a GCRA decision. tat is the stored theoretical arrival time
// (zero for a new key); it returns the decision and the new tat to store
// when allowed. Each request moves tat forward by Window/Limit; a request
// passes while tat stays within one Window of now, so a full Window's worth
// may burst and the allowance refills smoothly.
func gcra(t Tier, now, tat time.Time) (Decision, time.Time) {
	interval := t.Window / time.Duration(t.Limit)
	if tat.Before(now) {
		tat = now
	}
	newTat := tat.Add(interval)
	allowAt := newTat.Add(-t.Window)
	if now.Before(allowAt) {
		return Decision{Limit: t.Limit, Remaining: 0, Reset: tat.Sub(now), RetryAfter: allowAt.Sub(now)}, tat
	}
	return Decision{Allowed: true, Limit: t.Limit, Remaining: int(now.Sub(allowAt) / interval), Reset: newTat.Sub(now)}, newTat
}
