package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/media"
)

type uploadResponse struct {
	URL string `json:"url"`
	media.Asset
}

// upload stores the multipart field "file" and answers its URL.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return apperr.New(apperr.UnsupportedMedia, "send the file as multipart/form-data in a field named file")
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.media.MaxBytes()+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return apperr.New(apperr.BadRequest, "malformed multipart body")
	}
	for range 16 {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return apperr.New(apperr.TooLarge, "the upload is too large")
			}
			return apperr.New(apperr.BadRequest, "malformed multipart body")
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		asset, err := s.media.Save(part)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return apperr.New(apperr.TooLarge, "the upload is too large")
			}
			return err
		}
		writeJSON(w, http.StatusCreated, uploadResponse{URL: s.urls.URL(asset.Path), Asset: asset})
		return nil
	}
	return apperr.Invalid(map[string]string{"file": "is required"})
}

var uploadName = regexp.MustCompile(`^[0-9a-f]{64}\.[a-z0-9]{2,5}$`)

// serveUpload serves a stored file. Its name is its content hash, so it
// never changes: caches (and CDNs) may keep it forever.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) error {
	kind, shard, name := r.PathValue("kind"), r.PathValue("shard"), r.PathValue("file")
	ct, ok := media.ContentTypeOf(name)
	if (kind != string(media.Image) && kind != string(media.Audio)) || !uploadName.MatchString(name) ||
		!ok || shard != name[:2] || !strings.HasPrefix(ct, kind+"/") {
		return apperr.New(apperr.NotFound, "no such upload")
	}
	f, err := os.Open(filepath.Join(s.media.Dir(), kind, shard, name))
	if errors.Is(err, os.ErrNotExist) {
		return apperr.New(apperr.NotFound, "no such upload")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+strings.TrimSuffix(name, filepath.Ext(name))+`"`)
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, name, st.ModTime(), f)
	return nil
}

// present prepares a user for a response: asset paths become URLs.
func (s *Server) present(u account.User) account.User {
	u.AvatarURL = s.urls.URL(u.AvatarURL)
	return u
}
