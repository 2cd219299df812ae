package sqlstore

import (
	"context"
	"sync"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
)

// rulesTTL is how long the catalog's rules are used before being read
// again: how late an achievement defined on another instance is checked
// on this one (this instance's own definitions count at once).
const rulesTTL = 10 * time.Second

// rulesMemo keeps the id and rule of every rule achievement for the
// checks (Evaluate): the catalog changes when an admin defines an
// achievement, a check runs on every post. A load that began before a
// drop is not kept, so a definition made here is never hidden by a read
// that missed it.
type rulesMemo struct {
	mu    sync.Mutex
	rules []achievements.Achievement // shared by callers: never changed
	needs map[achievements.RuleKind]int64
	at    time.Time
	gen   int64 // bumped by drop
}

// get returns the rules and, per kind, the largest count one asks for
// (achievements.Needs), loading them through q (loadRules) when they are
// older than rulesTTL. Both are shared by callers and must not be
// changed.
func (m *rulesMemo) get(ctx context.Context, q queryFn) ([]achievements.Achievement, map[achievements.RuleKind]int64, error) {
	m.mu.Lock()
	if !m.at.IsZero() && time.Since(m.at) < rulesTTL {
		rules, needs := m.rules, m.needs
		m.mu.Unlock()
		return rules, needs, nil
	}
	gen := m.gen
	m.mu.Unlock()
	rules, err := loadRules(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	needs := achievements.Needs(rules)
	m.mu.Lock()
	if m.gen == gen {
		m.rules, m.needs, m.at = rules, needs, time.Now()
	}
	m.mu.Unlock()
	return rules, needs, nil
}

// drop forgets the rules (a definition changed).
func (m *rulesMemo) drop() {
	m.mu.Lock()
	m.rules, m.needs, m.at = nil, nil, time.Time{}
	m.gen++
	m.mu.Unlock()
}
