package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/textcheck"
)

// AuditLog is what the routes need of the audit log (sqlstore.Audit).
type AuditLog interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Record, error)
	Verify(ctx context.Context) (audit.Verification, error)
	// Hook records spec in the first write transaction run with the
	// context it is put in (sqldb.WithTxHook).
	Hook(spec audit.Spec) *sqldb.TxHook
	// Append records an entry in a transaction of its own, for an action
	// that spans several (the XP rebuild runs in batches).
	Append(ctx context.Context, e audit.Entry) (audit.Record, error)
}

// maxAuditReason bounds the reason an admin gives for an action, as
// moderation bounds a ban's.
const maxAuditReason = 500

// auditReason checks the optional reason given for an admin action, kept
// in its audit record: trimmed, at most maxAuditReason characters, no
// control characters but newlines and tabs.
func auditReason(v string) (string, error) {
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > maxAuditReason {
		return "", apperr.Invalid(map[string]string{"reason": "must be at most " + strconv.Itoa(maxAuditReason) + " characters"})
	}
	if textcheck.HasControl(v, textcheck.Lines) {
		return "", apperr.Invalid(map[string]string{"reason": textcheck.Problem})
	}
	return v, nil
}

// decodeWithReason decodes an admin edit's body into in, all but its
// optional "reason", which it checks and returns: the edit's own input
// types need not know about the audit log.
func (s *Server) decodeWithReason(w http.ResponseWriter, r *http.Request, in any) (string, error) {
	var raw map[string]jsontext.Value
	if err := s.decode(w, r, &raw); err != nil {
		return "", err
	}
	var reason string
	if v, ok := raw["reason"]; ok {
		if jsonv2.Unmarshal(v, &reason) != nil {
			return "", apperr.Invalid(map[string]string{"reason": "must be a string"})
		}
		delete(raw, "reason")
	}
	b, err := jsonv2.Marshal(raw)
	if err != nil {
		return "", err
	}
	if err := jsonv2.Unmarshal(b, in, jsonv2.RejectUnknownMembers(true)); err != nil {
		return "", decodeError(err, s.cfg.MaxBodyBytes)
	}
	return auditReason(reason)
}

// optionalReason reads the body {"reason": "..."} of an admin action that
// takes no other input (job retry and discard, XP rebuild); no body at
// all is no reason.
func (s *Server) optionalReason(w http.ResponseWriter, r *http.Request) (string, error) {
	if r.ContentLength == 0 {
		return "", nil
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return "", err
	}
	return auditReason(in.Reason)
}

// audited returns r's context carrying a hook that records spec, with the
// caller as actor, in the same transaction as the action the context is
// then given to. done must be called with the action's error: an action
// that succeeded without running the hook is a wiring bug, logged loudly.
func (s *Server) audited(r *http.Request, spec audit.Spec) (context.Context, func(error)) {
	spec.Entry.Actor = audit.Actor{ID: authFrom(r).user.ID, IP: s.proxies.clientIP(r)}
	h := s.audit.Hook(spec)
	return sqldb.WithTxHook(r.Context(), h), func(err error) {
		if err == nil && !h.Ran() {
			s.log.Error("audit: an action committed without its audit record", "action", spec.Entry.Action,
				"target", spec.Entry.TargetKind, "id", spec.Entry.TargetID, "request", requestID(r.Context()))
		}
	}
}

type auditTarget struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
}

type auditItem struct {
	ID     int64       `json:"id"`
	At     time.Time   `json:"at"`
	Actor  audit.Actor `json:"actor"`
	Action string      `json:"action"`
	Target auditTarget `json:"target"`
	Before any         `json:"before"`
	After  any         `json:"after"`
	Reason string      `json:"reason"`
}

// listAudit pages the audit log newest first (admin):
// ?actor=id&action=name&target=kind:id&before=id&limit=n.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilterOf(r.URL.Query())
	if err != nil {
		return err
	}
	list, err := s.audit.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := community.List[auditItem]{Items: make([]auditItem, 0, len(list))}
	for _, rec := range list {
		out.Items = append(out.Items, auditItem{ID: rec.ID, At: rec.At, Actor: rec.Actor, Action: rec.Action,
			Target: auditTarget{rec.TargetKind, rec.TargetID}, Before: rec.Before, After: rec.After, Reason: rec.Reason})
	}
	if len(list) == f.Limit {
		out.NextCursor = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// verifyAudit walks the whole chain (admin) and says whether it is intact,
// and if not, the first row where it breaks.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	v, err := s.audit.Verify(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// auditedAs names the record of a content action when a moderator takes it
// on someone else's content.
type auditedAs struct{ action, kind string }

// auditFilterOf reads GET /api/admin/audit's query.
func auditFilterOf(q url.Values) (audit.Filter, error) {
	p, err := community.ParsePage(q.Get("before"), q.Get("limit"))
	if err != nil {
		return audit.Filter{}, err
	}
	f := audit.Filter{Before: p.Before, Limit: p.Limit, Action: q.Get("action")}
	fe := apperr.FieldErrors{}
	if v := q.Get("actor"); v != "" {
		if f.ActorID, err = strconv.ParseInt(v, 10, 64); err != nil || f.ActorID <= 0 {
			fe.Add("actor", "must be a user id")
		}
	}
	if len(f.Action) > 64 {
		fe.Add("action", "must be at most 64 characters")
	}
	if v := q.Get("target"); v != "" {
		kind, id, ok := strings.Cut(v, ":")
		f.TargetKind = kind
		if f.TargetID, err = strconv.ParseInt(id, 10, 64); !ok || err != nil || kind == "" || len(kind) > 32 || f.TargetID <= 0 {
			fe.Add("target", "must be kind:id, e.g. user:42")
		}
	}
	return f, fe.Err()
}
