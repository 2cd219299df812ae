package httpapi

import (
	"net/http"
	"strconv"

	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/music"
)

func (s *Server) listMixes(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	query, err := music.ParseQuery(q.Get("genre"), q.Get("creator"), q.Get("sort"), q.Get("before"), q.Get("limit"))
	if err != nil {
		return err
	}
	b, err := s.music.List(r.Context(), viewer(r), query)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) getMix(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.music.Get(r.Context(), viewer(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) createMix(w http.ResponseWriter, r *http.Request) error {
	var in music.MixInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.music.Create(r.Context(), authFrom(r).user, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) updateMix(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in music.MixUpdate
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "mix.update", TargetKind: "mix", TargetID: id}, NotOwner: true})
	v, err := s.music.Update(ctx, authFrom(r).user, id, in)
	done(err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) deleteMix(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "mix.delete", TargetKind: "mix", TargetID: id}, NotOwner: true})
	err = s.music.Delete(ctx, authFrom(r).user, id)
	done(err)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setLike(w http.ResponseWriter, r *http.Request, like bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.music.SetLike(r.Context(), authFrom(r).user, id, like)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) likeMix(w http.ResponseWriter, r *http.Request) error { return s.setLike(w, r, true) }

func (s *Server) unlikeMix(w http.ResponseWriter, r *http.Request) error {
	return s.setLike(w, r, false)
}

// playMix counts a play: the listener is the signed-in user, or the
// client's IP (trusted-proxy aware) when anonymous.
func (s *Server) playMix(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	listener := "ip:" + s.proxies.clientIP(r)
	if u := viewer(r); u != nil {
		listener = "u:" + strconv.FormatInt(u.ID, 10)
	}
	if err := s.music.Play(r.Context(), id, listener); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, struct {
		Status string `json:"status"`
	}{"accepted"})
	return nil
}

// registerMusicMetrics exposes the play counter's figures.
func (s *Server) registerMusicMetrics() {
	st := func() music.CounterStats { return s.music.Plays.Stats() }
	s.metrics.Counter("plaza_plays_accepted_total", "Plays answered 202.", nil, func() float64 { return float64(st().Accepted) })
	s.metrics.Counter("plaza_plays_counted_total", "Plays that counted: first of their listener and mix in 30 minutes.", nil, func() float64 { return float64(st().Counted) })
	s.metrics.Gauge("plaza_plays_pending", "Counted plays not yet written to the database.", nil, func() float64 { return float64(st().Pending) })
	s.metrics.Counter("plaza_plays_flushes_total", "Play-count flush transactions committed.", nil, func() float64 { return float64(st().Flushes) })
	s.metrics.Counter("plaza_plays_rows_written_total", "Mix rows updated by play-count flushes.", nil, func() float64 { return float64(st().RowsWritten) })
	s.metrics.Counter("plaza_plays_flush_failures_total", "Play-count flushes that failed (their counts are retried).", nil, func() float64 { return float64(st().FlushFailures) })
}
