package httpapi

import (
	"context"
	"net/http"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
)

// XPLedger pages a user's XP ledger (sqlstore.XP).
type XPLedger interface {
	Ledger(ctx context.Context, userID, before int64, limit int) (gamification.Ledger, error)
}

type reactFunc func(ctx context.Context, by account.User, id int64, emoji string, on bool) (community.ReactionView, error)

// react serves PUT (on) and DELETE .../{id}/reactions/{emoji}. The mux has
// already decoded the percent-encoded UTF-8 of {emoji}.
func (s *Server) react(act reactFunc, on bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		v, err := act(r.Context(), authFrom(r).user, id, r.PathValue("emoji"), on)
		if err != nil {
			return err
		}
		if !on {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

func (s *Server) myXP(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	l, err := s.xp.Ledger(r.Context(), authFrom(r).user.ID, p.Before, p.Limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}
