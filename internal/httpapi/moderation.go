package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/moderation"
)

// adminUsers serves GET /api/admin/users?q=&role=&status= (admins).
func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := s.moderation.Users(r.Context(), moderation.UserFilter{Q: q.Get("q"), Role: account.Role(q.Get("role")),
		Status: account.Status(q.Get("status")), Before: p.Before, Limit: p.Limit})
	if err != nil {
		return err
	}
	// Each user's wallet balance: one query for the whole page (users
	// without a wallet hold 0).
	ids := make([]int64, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	balances, err := s.wallet.Store.Balances(r.Context(), ids)
	if err != nil {
		return err
	}
	items := make([]adminUserItem, len(list))
	for i := range list {
		list[i].User = s.present(list[i].User)
		items[i] = adminUserItem{AdminUser: list[i], Balance: balances[list[i].ID]}
	}
	out := community.List[adminUserItem]{Items: items}
	if len(list) == p.Limit {
		out.NextCursor = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// adminUserItem is a user in the admins' list, with the wallet's balance
// in credits.
type adminUserItem struct {
	moderation.AdminUser
	Balance int64 `json:"balance"`
}

// adminUser serves GET /api/admin/users/{id} (admins).
func (s *Server) adminUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.moderation.User(r.Context(), id)
	if err != nil {
		return err
	}
	d.User = s.present(d.User)
	writeJSON(w, http.StatusOK, d)
	return nil
}

// banUser serves POST /api/admin/users/{id}/ban {reason, until?} (admins).
func (s *Server) banUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Reason string     `json:"reason"`
		Until  *time.Time `json:"until"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.moderation.Ban(r.Context(), authFrom(r).user, s.proxies.clientIP(r), id, moderation.Ban{Reason: in.Reason, Until: in.Until})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.present(u))
	return nil
}

// unbanUser serves POST /api/admin/users/{id}/unban {reason?} (admins).
func (s *Server) unbanUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := s.decode(w, r, &in); err != nil {
			return err
		}
	}
	u, err := s.moderation.Unban(r.Context(), authFrom(r).user, s.proxies.clientIP(r), id, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.present(u))
	return nil
}

// reportInput is POST /api/reports's body.
type reportInput struct {
	TargetKind string `json:"targetKind"`
	TargetID   int64  `json:"targetId"`
	Reason     string `json:"reason"`
}

// fileReport serves POST /api/reports: 201 with a new report, 200 with
// the caller's open report on that target.
func (s *Server) fileReport(w http.ResponseWriter, r *http.Request) error {
	var in reportInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	rep, created, err := s.moderation.Report(r.Context(), authFrom(r).user, moderation.TargetKind(in.TargetKind), in.TargetID, in.Reason)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, rep)
	return nil
}

// reportQueue serves GET /api/admin/reports?status=open|resolved
// (moderators): groups by target, oldest first; the cursor is a group's
// reportId.
func (s *Server) reportQueue(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p, err := community.ParsePage(q.Get("cursor"), q.Get("limit"))
	if err != nil {
		return err
	}
	groups, err := s.moderation.Queue(r.Context(), q.Get("status"), p.Before, p.Limit)
	if err != nil {
		return err
	}
	out := community.List[moderation.Group]{Items: groups}
	if len(groups) == p.Limit {
		out.NextCursor = strconv.FormatInt(groups[len(groups)-1].ReportID, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// resolveReport serves POST /api/admin/reports/{id}/resolve {action, note}
// (moderators).
func (s *Server) resolveReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Action string `json:"action"`
		Note   string `json:"note"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.moderation.Resolve(r.Context(), moderation.Resolve{ReportID: id, Actor: authFrom(r).user, IP: s.proxies.clientIP(r),
		Action: moderation.Action(in.Action), Note: in.Note})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// updateChannel serves PATCH /api/admin/channels/{id} (admins).
func (s *Server) updateChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Name     *string `json:"name"`
		Topic    *string `json:"topic"`
		Private  *bool   `json:"private"`
		Archived *bool   `json:"archived"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	ch, err := s.moderation.UpdateChannel(r.Context(), authFrom(r).user, s.proxies.clientIP(r), id,
		moderation.ChannelPatch{Name: in.Name, Topic: in.Topic, Private: in.Private, Archived: in.Archived})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ch)
	return nil
}

// cacheStats serves GET /api/admin/cache (admins).
func (s *Server) cacheStats(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.moderation.CacheStats())
	return nil
}

// flushCache serves POST /api/admin/cache/flush {prefix} (admins): every
// instance drops the keys.
func (s *Server) flushCache(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Prefix *string `json:"prefix"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.Prefix == nil {
		return apperr.Invalid(map[string]string{"prefix": "is required (\"\" flushes everything)"})
	}
	n, err := s.moderation.Flush(r.Context(), authFrom(r).user, s.proxies.clientIP(r), *in.Prefix)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"prefix": *in.Prefix, "flushed": n})
	return nil
}

// adminStats serves GET /api/admin/stats (admins).
func (s *Server) adminStats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.moderation.Stats(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
