package httpapi

import (
	"net/http"

	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/events"
)

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	rg, err := events.ParseList(q.Get("from"), q.Get("to"), q.Get("cursor"), q.Get("limit"))
	if err != nil {
		return err
	}
	b, err := s.events.List(r.Context(), viewer(r), rg)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.events.Get(r.Context(), viewer(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) createEvent(w http.ResponseWriter, r *http.Request) error {
	var in events.Input
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.events.Create(r.Context(), authFrom(r).user, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) updateEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in events.Input
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "event.update", TargetKind: "event", TargetID: id}, NotOwner: true})
	v, err := s.events.Update(ctx, authFrom(r).user, id, in)
	done(err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) deleteEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "event.delete", TargetKind: "event", TargetID: id}, NotOwner: true})
	err = s.events.Delete(ctx, authFrom(r).user, id)
	done(err)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rsvpEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.events.RSVP(r.Context(), authFrom(r).user, id, in.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) eventAttendees(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := events.ParseAttendeePage(q.Get("cursor"), q.Get("limit"))
	if err != nil {
		return err
	}
	l, err := s.events.Attendees(r.Context(), authFrom(r).user, id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) markAttended(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		UserIDs []int64 `json:"userIds"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	out, err := s.events.MarkAttended(r.Context(), authFrom(r).user, id, in.UserIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Attended []events.Attendance `json:"attended"`
	}{out})
	return nil
}
