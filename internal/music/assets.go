package music

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/plazahq/plaza/internal/media"
)

// Uploads turns a URL a client sends back (one that POST /api/uploads
// answered) into the stored upload path, and refuses anything else: URLs
// of other sites, uploads of the wrong kind, files that do not exist.
type Uploads struct {
	URLs    media.URLs // the CDN function: what upload URLs look like
	BaseURL string     // PLAZA_BASE_URL: this site's absolute URLs
	Dir     string     // media.Store.Dir: where uploads are stored
}

var uploadPathRE = regexp.MustCompile(`^/uploads/(image|audio)/([0-9a-f]{2})/([0-9a-f]{64}\.[a-z0-9]{2,5})$`)

var errNotUpload = errors.New("must be the url of a file uploaded with POST /api/uploads")

// Path returns the stored path behind raw, which must be an upload of kind.
func (u Uploads) Path(raw string, kind media.Kind) (string, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > 2048 {
		return "", errNotUpload
	}
	p, ok := u.strip(raw)
	if !ok {
		return "", errNotUpload
	}
	m := uploadPathRE.FindStringSubmatch(p)
	if m == nil || m[1] != string(kind) || m[2] != m[3][:2] {
		return "", errNotUpload
	}
	if ct, ok := media.ContentTypeOf(m[3]); !ok || !strings.HasPrefix(ct, string(kind)+"/") {
		return "", errNotUpload
	}
	if u.Dir != "" {
		if _, err := os.Stat(filepath.Join(u.Dir, m[1], m[2], m[3])); err != nil {
			return "", errors.New("names no uploaded file; upload it with POST /api/uploads first")
		}
	}
	return p, nil
}

// strip removes whichever of this server's bases raw starts with.
func (u Uploads) strip(raw string) (string, bool) {
	if strings.HasPrefix(raw, "/uploads/") {
		return raw, true
	}
	bases := []string{u.URLs.Base, u.BaseURL}
	for _, b := range u.URLs.PerKind {
		bases = append(bases, b)
	}
	for _, b := range bases {
		b = strings.TrimRight(b, "/")
		if b == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(raw, b); ok && strings.HasPrefix(rest, "/uploads/") {
			if _, err := url.Parse(raw); err != nil {
				return "", false
			}
			return rest, true
		}
	}
	return "", false
}
