package httpapi

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/plazahq/plaza/internal/account"
)

// uploadPath gets UploadTimeout instead of BodyTimeout: a large file over a
// slow link takes minutes, a JSON body does not.
const uploadPath = "/api/uploads"

// withBodyDeadline gives a client a bounded time to send its request body,
// so a body dribbled one byte at a time cannot hold a connection (and a file
// descriptor) for hours. Headers are bounded by the server's
// ReadHeaderTimeout. Requests without a body are left alone: a WebSocket
// upgrade has none, and the deadline would otherwise cut a long handler.
// Once the body is read to its end the deadline is lifted, so a slow
// handler after it is not cut off either.
func (s *Server) withBodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timeout := s.cfg.BodyTimeout
		if r.URL.Path == uploadPath {
			timeout = s.cfg.UploadTimeout
		}
		if timeout <= 0 || r.Body == nil || r.Body == http.NoBody || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			next.ServeHTTP(w, r) // not a real connection (a test recorder)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, lift: func() { rc.SetReadDeadline(time.Time{}) }}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline when the body has been read to its
// end.
type deadlineBody struct {
	io.ReadCloser
	once sync.Once
	lift func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.lift)
	}
	return n, err
}

// priority reports whether a request is served on a connection accepted
// close to the open-file limit: health checks, metrics scrapes and admins
// must get through while the server sheds everything else.
func (s *Server) priority(r *http.Request, rt route) bool {
	if rt.pattern == "/api/health" || rt.pattern == "/metrics" {
		return true
	}
	if !hasCredentials(r) || r.Header.Get("Upgrade") != "" {
		return false // a WebSocket would hold the connection for good
	}
	a, err := s.authenticate(r)
	return err == nil && a.user.Role.AtLeast(account.RoleAdmin)
}
