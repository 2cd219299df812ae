package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/realtime"
)

// viewer is the signed-in user, or nil on an anonymous request.
func viewer(r *http.Request) *account.User {
	a := authFrom(r)
	if a.user.ID == 0 {
		return nil
	}
	return &a.user
}

func pageOf(r *http.Request) (community.Page, error) {
	q := r.URL.Query()
	return community.ParsePage(q.Get("before"), q.Get("limit"))
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	b, err := s.community.Channels(r.Context(), viewer(r), p)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) error {
	var in community.ChannelInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "channel.create", TargetKind: "channel"}, Create: true})
	ch, err := s.community.CreateChannel(ctx, authFrom(r).user, in)
	done(err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ch)
	return nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		UserID int64 `json:"userId"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.UserID <= 0 {
		return apperr.Invalid(map[string]string{"userId": "is required"})
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "channel.member.add", TargetKind: "channel_member", TargetID: id}, Member: in.UserID})
	err = s.community.SetMember(ctx, authFrom(r).user, id, in.UserID, true)
	done(err)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "channel.member.remove", TargetKind: "channel_member", TargetID: id}, Member: uid})
	err = s.community.SetMember(ctx, authFrom(r).user, id, uid, false)
	done(err)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) channelMessages(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	b, err := s.community.Messages(r.Context(), viewer(r), id, p)
	if err != nil {
		return err
	}
	if p.Before == 0 {
		s.writeShared(w, r, b) // the newest page: every reader's, until the next post
		return nil
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

// bodyInput is what a message, a DM or a shout sends.
type bodyInput struct {
	Body string `json:"body"`
}

// sendBody serves the routes that send {"body": "..."} to the resource
// named by the {id} path segment: it decodes the body, hands it to act with
// the signed-in user and writes what act returns with status.
func sendBody[T any](s *Server, w http.ResponseWriter, r *http.Request, status int,
	act func(ctx context.Context, by account.User, id int64, body string) (T, error), audited *auditedAs) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in bodyInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	ctx, done := r.Context(), func(error) {}
	if audited != nil {
		ctx, done = s.audited(r, audit.Spec{Entry: audit.Entry{Action: audited.action, TargetKind: audited.kind, TargetID: id}, NotOwner: true})
	}
	v, err := act(ctx, authFrom(r).user, id, in.Body)
	done(err)
	if err != nil {
		return err
	}
	writeJSON(w, status, v)
	return nil
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) error {
	return sendBody(s, w, r, http.StatusCreated, s.community.Post, nil)
}

func (s *Server) editMessage(w http.ResponseWriter, r *http.Request) error {
	return sendBody(s, w, r, http.StatusOK, s.community.Edit, &auditedAs{"message.edit", "message"})
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "message.delete", TargetKind: "message", TargetID: id}, NotOwner: true})
	err = s.community.Delete(ctx, authFrom(r).user, id)
	done(err)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listThreads(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	l, err := s.community.Threads(r.Context(), authFrom(r).user, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) openThread(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		UserID int64 `json:"userId"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.UserID <= 0 {
		return apperr.Invalid(map[string]string{"userId": "is required"})
	}
	t, created, err := s.community.OpenThread(r.Context(), authFrom(r).user, in.UserID)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, t)
	return nil
}

func (s *Server) threadMessages(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	l, err := s.community.ThreadMessages(r.Context(), authFrom(r).user, id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) postThreadMessage(w http.ResponseWriter, r *http.Request) error {
	return sendBody(s, w, r, http.StatusCreated, s.community.PostThreadMessage, nil)
}

func (s *Server) listShouts(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	b, err := s.community.Shouts(r.Context(), viewer(r), p)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) postShout(w http.ResponseWriter, r *http.Request) error {
	var in bodyInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.community.Shout(r.Context(), authFrom(r).user, in.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) contact(w http.ResponseWriter, r *http.Request) error {
	var in community.ContactInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.community.Contact(r.Context(), in, s.proxies.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}{m.ID, "received; the team will answer by email"})
	return nil
}

func (s *Server) contactInbox(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	var unread bool
	if v := r.URL.Query().Get("unread"); v != "" {
		if unread, err = strconv.ParseBool(v); err != nil {
			return apperr.Invalid(map[string]string{"unread": "must be true or false"})
		}
	}
	l, err := s.community.Inbox(r.Context(), unread, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) markContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Read   *bool  `json:"read"`
		Reason string `json:"reason"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.Read == nil {
		return apperr.Invalid(map[string]string{"read": "is required"})
	}
	reason, err := auditReason(in.Reason)
	if err != nil {
		return err
	}
	ctx, done := s.audited(r, audit.Spec{Entry: audit.Entry{Action: "contact.mark", TargetKind: "contact_message", TargetID: id, Reason: reason}})
	m, err := s.community.MarkContact(ctx, id, *in.Read)
	done(err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// websocket upgrades to the real-time protocol. Browsers cannot set headers
// on a WebSocket, so the token may come as ?token=; the Origin must be this
// site or one in CORS_ORIGIN.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) error {
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(r, o) && !s.originAllowed(o) {
		return apperr.New(apperr.Forbidden, "origin "+o+" may not open WebSockets here; add it to CORS_ORIGIN")
	}
	a := authFrom(r)
	// The checks keep the token alone, not a (the whole session and
	// user): they live as long as the connection.
	token, accounts := a.token, s.accounts
	return s.hub.Serve(w, r, realtime.Identity{User: a.user, Expires: a.session.ExpiresAt,
		Check: func(ctx context.Context) (time.Time, error) {
			sess, err := accounts.CheckSession(ctx, token)
			return sess.ExpiresAt, err
		},
		Valid: func(ctx context.Context) error {
			_, err := accounts.ValidSession(ctx, token)
			return err
		}})
}
