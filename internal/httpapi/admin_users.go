package httpapi

import (
	"net/http"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
)

// setUserRole serves PATCH /api/admin/users/{id} {role}: the user's account
// as admins see it, with the new role. Demoting the last admin (which an
// admin can only do to themselves) is 409.
func (s *Server) setUserRole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Role   *string `json:"role"`
		Reason string  `json:"reason"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.Role == nil {
		return apperr.Invalid(map[string]string{"role": "is required"})
	}
	reason, err := auditReason(in.Reason)
	if err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "user.role", TargetKind: "user", TargetID: id, Reason: reason}})
	u, err := s.accounts.SetRole(ctx, id, account.Role(*in.Role))
	done(err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.present(u))
	return nil
}
