package leaderboard

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
)

// Memory is the in-process index: per board an order-statistic set of
// standings and a map from user to standing, and per hour of the last 30
// days what each user earned in it, to take out of a window as the hour
// leaves it.
type Memory struct {
	rebuild sync.Mutex // one rebuild at a time
	mu      sync.RWMutex
	boards  map[Period]*memBoard
	buckets map[int64]map[int64]int64 // hour -> user -> XP in that hour
	wm      map[int64]int64           // user -> largest row id of the last rebuild
	version int64
	updated time.Time
	// While a rebuild reads the ledger, applied rows are also kept here
	// to be applied to the rebuilt boards (see Rebuild).
	building bool
	pending  []gamification.Posted
}

type memBoard struct {
	period Period
	set    *rankedSet
	users  map[int64]standing
	rolled int64 // windows: hours up to this one are out of the window
}

func newMemBoard(p Period, nowHour int64) *memBoard {
	b := &memBoard{period: p, set: newRankedSet(), users: map[int64]standing{}}
	if h := p.hours(); h > 0 {
		b.rolled = nowHour - h
	}
	return b
}

// NewMemory returns an empty in-process index whose windows end at now
// (Rebuild fills it).
func NewMemory(now time.Time) *Memory {
	m := &Memory{}
	m.reset(hourOf(now))
	return m
}

func (m *Memory) reset(nowHour int64) {
	m.boards = map[Period]*memBoard{}
	for _, p := range Periods {
		m.boards[p] = newMemBoard(p, nowHour)
	}
	m.buckets = map[int64]map[int64]int64{}
	m.wm = map[int64]int64{}
}

// add moves user's standing on b by delta; tie, when larger, becomes the
// standing's latest row.
func (b *memBoard) add(user, delta, tie int64) {
	st, ok := b.users[user]
	if ok && st.xp > 0 {
		b.set.Delete(memberKey(user, st))
	}
	st.xp += delta
	st.tie = max(st.tie, tie)
	if st.xp > 0 {
		b.set.Insert(memberKey(user, st))
	}
	b.users[user] = st
}

// Apply implements Index.
func (m *Memory) Apply(_ context.Context, rows ...gamification.Posted) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rows {
		m.apply(r)
		if m.building {
			m.pending = append(m.pending, r)
		}
	}
	return nil
}

func (m *Memory) apply(r gamification.Posted) {
	if r.ID <= m.wm[r.UserID] || r.Amount == 0 {
		return
	}
	m.boards[AllTime].add(r.UserID, r.Amount, r.ID)
	defer m.changed(r.At)
	h := hourOf(r.At)
	if w := m.boards[Month]; h > w.rolled {
		bk := m.buckets[h]
		if bk == nil {
			bk = map[int64]int64{}
			m.buckets[h] = bk
		}
		bk[r.UserID] += r.Amount
		w.add(r.UserID, r.Amount, r.ID)
	}
	if w := m.boards[Week]; h > w.rolled {
		w.add(r.UserID, r.Amount, r.ID)
	}
}

// changed marks a change of the boards at.
func (m *Memory) changed(at time.Time) {
	m.version++
	m.updated = at.UTC()
}

// roll takes out of each window the hours that have left it by now.
func (m *Memory) roll(now time.Time) {
	nowHour := hourOf(now)
	moved := false
	for _, p := range []Period{Week, Month} {
		b := m.boards[p]
		target := nowHour - p.hours()
		if target <= b.rolled {
			continue
		}
		from := max(b.rolled+1, target-retainHours)
		for h := from; h <= target; h++ {
			for user, amt := range m.buckets[h] {
				st := b.users[user]
				b.add(user, -amt, 0)
				if st.xp-amt == 0 {
					delete(b.users, user)
				}
				moved = true
			}
		}
		b.rolled = target
	}
	for h := range m.buckets {
		if h <= m.boards[Month].rolled {
			delete(m.buckets, h)
		}
	}
	if moved {
		m.changed(now)
	}
}

func (m *Memory) needsRoll(now time.Time) bool {
	h := hourOf(now)
	return h-Week.hours() > m.boards[Week].rolled || h-Month.hours() > m.boards[Month].rolled
}

// Head implements Index.
func (m *Memory) Head(_ context.Context, p Period, user int64, now time.Time) (Head, error) {
	m.mu.RLock()
	if m.needsRoll(now) {
		m.mu.RUnlock()
		m.mu.Lock()
		m.roll(now)
		m.mu.Unlock()
		m.mu.RLock()
	}
	defer m.mu.RUnlock()
	b := m.boards[p]
	h := Head{Version: strconv.FormatInt(m.version, 10), UpdatedAt: m.updated, Total: b.set.Len()}
	if st, ok := b.users[user]; ok && user != 0 && st.xp > 0 {
		h.Me = &Entry{UserID: user, XP: st.xp, Rank: b.set.Rank(memberKey(user, st)) + 1}
	}
	return h, nil
}

// Range implements Index.
func (m *Memory) Range(_ context.Context, p Period, offset, limit int) ([]Entry, error) {
	if err := checkRange(offset, limit); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Entry, 0, limit)
	m.boards[p].set.Range(offset, limit, func(rank int, k standingKey) {
		out = append(out, Entry{UserID: k.user, XP: k.xp, Rank: rank + 1})
	})
	return out, nil
}

// Rebuild implements Index. Rows applied while the ledger is read go to
// the old boards (reads go on meanwhile) and are kept; once the snapshot
// is loaded they are applied to the new boards, where those the snapshot
// already counted are skipped by the watermark.
func (m *Memory) Rebuild(ctx context.Context, src Source, now time.Time) error {
	m.rebuild.Lock()
	defer m.rebuild.Unlock()
	m.mu.Lock()
	m.building, m.pending = true, nil
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.building, m.pending = false, nil
		m.mu.Unlock()
	}()
	nowHour := hourOf(now)
	n := &Memory{}
	n.reset(nowHour)
	wk, mo, all := n.boards[Week], n.boards[Month], n.boards[AllTime]
	err := src.Snapshot(ctx, mo.rolled+1, func(a Agg) error {
		if a.Hour == 0 {
			n.wm[a.UserID] = a.MaxID
			all.users[a.UserID] = standing{xp: a.Amount, tie: a.MaxID}
			return nil
		}
		bk := n.buckets[a.Hour]
		if bk == nil {
			bk = map[int64]int64{}
			n.buckets[a.Hour] = bk
		}
		bk[a.UserID] += a.Amount
		for _, b := range []*memBoard{wk, mo} {
			if a.Hour > b.rolled {
				st := b.users[a.UserID]
				b.users[a.UserID] = standing{xp: st.xp + a.Amount, tie: max(st.tie, a.MaxID)}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, b := range n.boards {
		for user, st := range b.users {
			if st.xp > 0 {
				b.set.Insert(memberKey(user, st))
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.boards, m.buckets, m.wm = n.boards, n.buckets, n.wm
	for _, r := range m.pending {
		m.apply(r)
	}
	m.changed(now)
	return nil
}
