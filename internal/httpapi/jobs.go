package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/plazahq/plaza/internal/analytics"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/jobs"
)

var jobStates = map[string]bool{"": true, jobs.Available: true, jobs.Running: true, jobs.Completed: true, jobs.Dead: true, jobs.Discarded: true}

// listJobs pages jobs by state and kind (admin).
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	state := q.Get("state")
	if !jobStates[state] {
		return apperr.Invalid(map[string]string{"state": "must be available, running, completed, dead or discarded"})
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	list, err := s.jobs.List(r.Context(), state, q.Get("kind"), p.Before, p.Limit)
	if err != nil {
		return err
	}
	out := community.List[jobs.Job]{Items: list}
	if len(list) == p.Limit {
		out.NextCursor = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) jobStats(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.jobs.Stats(r.Context()))
	return nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.jobs.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) retryJob(w http.ResponseWriter, r *http.Request) error {
	return s.actOnJob(w, r, "job.retry", s.jobs.Retry)
}

func (s *Server) discardJob(w http.ResponseWriter, r *http.Request) error {
	return s.actOnJob(w, r, "job.discard", s.jobs.Discard)
}

// actOnJob applies an admin's action to the job named in the path, in the
// audit log under action with the request's optional reason, and answers
// the job as it is after.
func (s *Server) actOnJob(w http.ResponseWriter, r *http.Request, action string, apply func(context.Context, int64) error) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	reason, err := s.optionalReason(w, r)
	if err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: action, TargetKind: "job", TargetID: id, Reason: reason}})
	err = apply(ctx, id)
	done(err)
	if err != nil {
		return err
	}
	return s.getJob(w, r)
}

// analyticsReport returns the daily figures of the last ?days= days (admin).
func (s *Server) analyticsReport(w http.ResponseWriter, r *http.Request) error {
	days := 7
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return apperr.Invalid(map[string]string{"days": "must be a whole number"})
		}
		days = n
	}
	rep, err := s.analytics.Report(r.Context(), days)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Days []analytics.Figures `json:"days"`
	}{rep})
	return nil
}
