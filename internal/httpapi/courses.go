package httpapi

import (
	"context"
	"net/http"

	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/courses"
)

// courseAndLesson parses the {id} and {lessonId} path values.
func courseAndLesson(r *http.Request) (int64, int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, 0, err
	}
	lessonID, err := pathID(r, "lessonId")
	return id, lessonID, err
}

func (s *Server) listCourses(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	b, err := s.courses.List(r.Context(), viewer(r), p.Before, p.Limit)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) getCourse(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.courses.Course(r.Context(), viewer(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) getLesson(w http.ResponseWriter, r *http.Request) error {
	id, lessonID, err := courseAndLesson(r)
	if err != nil {
		return err
	}
	b, err := s.courses.Lesson(r.Context(), viewer(r), id, lessonID)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

// enroll answers 201 the first time and 200, with the same body, after.
func (s *Server) enroll(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, created, err := s.courses.Enroll(r.Context(), authFrom(r).user, id)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, v)
	return nil
}

func (s *Server) completeLesson(w http.ResponseWriter, r *http.Request) error {
	id, lessonID, err := courseAndLesson(r)
	if err != nil {
		return err
	}
	v, err := s.courses.Complete(r.Context(), authFrom(r).user, id, lessonID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) adminCourses(w http.ResponseWriter, r *http.Request) error {
	list, err := s.courses.AdminCourses(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Items []courses.AdminCourse `json:"items"`
	}{list})
	return nil
}

func (s *Server) adminCourse(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.courses.AdminCourse(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) createCourse(w http.ResponseWriter, r *http.Request) error {
	var in courses.CourseInput
	reason, err := s.decodeWithReason(w, r, &in)
	if err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "course.create", TargetKind: "course", Reason: reason}, Create: true})
	c, err := s.courses.CreateCourse(ctx, in)
	done(err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// auditedEdit is an admin edit of the resource the path's {id} names (or
// adds to): decode in (and the optional reason), run call under an audit
// record of spec (TargetID set to the id unless spec creates), write what
// it returns with status.
func auditedEdit[In, Out any](s *Server, w http.ResponseWriter, r *http.Request, spec audit.Spec, status int,
	call func(ctx context.Context, id int64, in In) (Out, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in In
	if spec.Entry.Reason, err = s.decodeWithReason(w, r, &in); err != nil {
		return err
	}
	if !spec.Create {
		spec.Entry.TargetID = id
	}
	ctx, done := s.audited(r, spec)
	out, err := call(ctx, id, in)
	done(err)
	if err != nil {
		return err
	}
	writeJSON(w, status, out)
	return nil
}

func (s *Server) updateCourse(w http.ResponseWriter, r *http.Request) error {
	return auditedEdit(s, w, r, audit.Spec{Entry: audit.Entry{Action: "course.update", TargetKind: "course"}}, http.StatusOK, s.courses.UpdateCourse)
}

func (s *Server) createModule(w http.ResponseWriter, r *http.Request) error {
	return auditedEdit(s, w, r, audit.Spec{Entry: audit.Entry{Action: "module.create", TargetKind: "module"}, Create: true}, http.StatusCreated, s.courses.CreateModule)
}

func (s *Server) createLesson(w http.ResponseWriter, r *http.Request) error {
	return auditedEdit(s, w, r, audit.Spec{Entry: audit.Entry{Action: "lesson.create", TargetKind: "lesson"}, Create: true}, http.StatusCreated, s.courses.CreateLesson)
}

func (s *Server) updateLesson(w http.ResponseWriter, r *http.Request) error {
	return auditedEdit(s, w, r, audit.Spec{Entry: audit.Entry{Action: "lesson.update", TargetKind: "lesson"}}, http.StatusOK, s.courses.UpdateLesson)
}

func (s *Server) deleteLesson(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	reason, err := s.optionalReason(w, r)
	if err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "lesson.delete", TargetKind: "lesson", TargetID: id, Reason: reason}})
	err = s.courses.DeleteLesson(ctx, id)
	done(err)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
