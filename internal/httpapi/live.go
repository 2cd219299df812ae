package httpapi

import (
	"net/http"

	"github.com/plazahq/plaza/internal/music"
)

func (s *Server) nowPlaying(w http.ResponseWriter, r *http.Request) error {
	v, err := s.music.NowPlaying(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) setNowPlaying(w http.ResponseWriter, r *http.Request) error {
	var in music.NowPlayingInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.music.SetNowPlaying(r.Context(), authFrom(r).user, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) liveHistory(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	before, limit, err := music.ParsePage(q.Get("before"), q.Get("limit"))
	if err != nil {
		return err
	}
	l, err := s.music.History(r.Context(), before, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}
