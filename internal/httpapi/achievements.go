package httpapi

import (
	"net/http"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/audit"
)

// actor is who an admin action is recorded as done by.
func (s *Server) actor(r *http.Request) audit.Actor {
	return audit.Actor{ID: authFrom(r).user.ID, IP: s.proxies.clientIP(r)}
}

func (s *Server) listAchievements(w http.ResponseWriter, r *http.Request) error {
	b, err := s.achievements.Catalog(r.Context())
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) userAchievements(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := s.achievements.UserAchievements(r.Context(), id)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) listCollectibles(w http.ResponseWriter, r *http.Request) error {
	b, err := s.achievements.Collectibles(r.Context())
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) userCollectibles(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := s.achievements.UserCollectibles(r.Context(), id)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) defineAchievement(w http.ResponseWriter, r *http.Request) error {
	var in achievements.AchievementInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	a, err := s.achievements.Define(r.Context(), s.actor(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

// grantAchievement answers 201 when it awarded, 200 when the user held it.
func (s *Server) grantAchievement(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in achievements.GrantInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	a, created, err := s.achievements.GrantByHand(r.Context(), s.actor(r), id, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, a)
	return nil
}

func (s *Server) createCollectible(w http.ResponseWriter, r *http.Request) error {
	var in achievements.CollectibleInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.achievements.CreateCollectible(r.Context(), s.actor(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateCollectible(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in achievements.CollectiblePatch
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.achievements.UpdateCollectible(r.Context(), s.actor(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
