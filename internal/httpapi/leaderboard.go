package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/leaderboard"
)

// Leaderboard serves the boards (leaderboard.Board).
type Leaderboard interface {
	Get(ctx context.Context, q leaderboard.Query) (leaderboard.View, error)
	Rebuild(ctx context.Context) error
}

// XPTotals rebuilds users' totals from the ledger (sqlstore.XP).
type XPTotals interface {
	RebuildTotals(ctx context.Context, fix bool, progress func(done, total int)) (gamification.TotalsReport, error)
}

// defaultBoardLimit is a page of the board without ?limit=.
const defaultBoardLimit = 20

// parseBoardQuery reads ?period=&limit=&around=me; user is the caller
// (0: anonymous, for whom around=me shows the top).
func parseBoardQuery(q url.Values, user int64) (leaderboard.Query, error) {
	fe := apperr.FieldErrors{}
	p, err := leaderboard.ParsePeriod(q.Get("period"))
	if err != nil {
		fe.Add("period", "must be 7d, 30d or all (week, month)")
	}
	limit := defaultBoardLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > leaderboard.MaxLimit {
			fe.Add("limit", "must be a whole number from 1 to "+strconv.Itoa(leaderboard.MaxLimit))
		}
		limit = n
	}
	around := q.Get("around")
	if around != "" && around != "me" {
		fe.Add("around", `must be "me"`)
	}
	if err := fe.Err(); err != nil {
		return leaderboard.Query{}, err
	}
	return leaderboard.Query{Period: p, Limit: limit, User: user, Around: around == "me" && user != 0}, nil
}

func (s *Server) leaderboard(w http.ResponseWriter, r *http.Request) error {
	if s.board == nil {
		return apperr.New(apperr.NotFound, "no leaderboard on this server")
	}
	q, err := parseBoardQuery(r.URL.Query(), authFrom(r).user.ID)
	if err != nil {
		return err
	}
	v, err := s.board.Get(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// maxAuditedDrift bounds the users an XP rebuild's audit record names: a
// ledger drifted everywhere must not make a record of millions.
const maxAuditedDrift = 1000

// rebuildXP recomputes every user's xp and level from the ledger, fixes
// and reports the drifted ones (?dryRun=true only reports), and rebuilds
// the leaderboard index.
func (s *Server) rebuildXP(w http.ResponseWriter, r *http.Request) error {
	if s.xpTotals == nil {
		return apperr.New(apperr.NotFound, "no XP ledger on this server")
	}
	dry := false
	if v := r.URL.Query().Get("dryRun"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return apperr.Invalid(map[string]string{"dryRun": "must be true or false"})
		}
		dry = b
	}
	reason, err := s.optionalReason(w, r)
	if err != nil {
		return err
	}
	rep, err := s.xpTotals.RebuildTotals(r.Context(), !dry, nil)
	if err != nil {
		return err
	}
	if !dry {
		// The rebuild commits batch by batch, so its record follows the
		// last batch rather than sharing a transaction with it: the users
		// it found drifted, with their stored totals (before) and the
		// ledger's (after), the first maxAuditedDrift of them named. A dry
		// run changes nothing and is not recorded.
		type total struct {
			UserID int64 `json:"userId"`
			XP     int64 `json:"xp"`
			Level  int   `json:"level"`
		}
		before, after := []total{}, []total{}
		for _, d := range rep.Drifted {
			before = append(before, total{d.UserID, d.StoredXP, d.StoredLevel})
			after = append(after, total{d.UserID, d.LedgerXP, d.Level})
		}
		n := len(rep.Drifted)
		named := min(n, maxAuditedDrift)
		u := authFrom(r).user
		if _, err := s.audit.Append(r.Context(), audit.Entry{Actor: audit.Actor{ID: u.ID, IP: s.proxies.clientIP(r)},
			Action: "xp.rebuild", TargetKind: "xp", Reason: reason,
			Before: map[string]any{"drifted": n, "users": before[:named]},
			After:  map[string]any{"drifted": n, "users": after[:named]}}); err != nil {
			return err
		}
	}
	if !dry {
		for _, d := range rep.Drifted {
			s.cache.InvalidateTag(r.Context(), account.XPTags(d.UserID, true)...)
		}
	}
	rebuilt := false
	if s.board != nil && !dry {
		if err := s.board.Rebuild(r.Context()); err != nil {
			return err
		}
		rebuilt = true
	}
	writeJSON(w, http.StatusOK, struct {
		gamification.TotalsReport
		LeaderboardRebuilt bool `json:"leaderboardRebuilt"`
	}{rep, rebuilt})
	return nil
}
