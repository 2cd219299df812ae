package httpapi

import "net/http"

func (s *Server) submitAI(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Kind  string `json:"kind"`
		Input string `json:"input"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	req, err := s.ai.Submit(r.Context(), authFrom(r).user, in.Kind, in.Input)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, req)
	return nil
}

func (s *Server) getAI(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	req, err := s.ai.Get(r.Context(), authFrom(r).user, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}
