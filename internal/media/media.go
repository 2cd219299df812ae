// Package media owns uploaded files: which types are accepted (sniffed from
// the bytes, never trusted from the client, and for images checked by a
// full decode), how large they may be (bytes, and pixels for images), which
// metadata is stripped (EXIF with GPS position, XMP, comments), where
// they are stored (content-addressed under the data directory, so the same
// file is stored once and its URL never changes), and the one function that
// turns a stored path into the URL clients use (CDN_BASE_URL, per kind).
package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/plazahq/plaza/internal/apperr"
)

// Kind is a class of media with its own size limit and CDN base.
type Kind string

// The kinds Plaza accepts.
const (
	Image Kind = "image"
	Audio Kind = "audio"
)

// formats maps accepted content types to their kind and file extension.
// SVG is refused: it can carry script.
var formats = map[string]struct {
	kind Kind
	ext  string
}{
	"image/png":  {Image, ".png"},
	"image/jpeg": {Image, ".jpg"},
	"image/gif":  {Image, ".gif"},
	"image/webp": {Image, ".webp"},
	"audio/mpeg": {Audio, ".mp3"},
	"audio/wave": {Audio, ".wav"},
	"audio/ogg":  {Audio, ".ogg"},
	"audio/flac": {Audio, ".flac"},
	"audio/mp4":  {Audio, ".m4a"},
	"audio/aiff": {Audio, ".aiff"},
}

// ContentTypeOf returns the content type for a stored file's extension.
func ContentTypeOf(name string) (string, bool) {
	ext := strings.ToLower(filepath.Ext(name))
	for ct, f := range formats {
		if f.ext == ext {
			return ct, true
		}
	}
	return "", false
}

// Sniff names the content type of data (its first bytes).
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("fLaC")):
		return "audio/flac"
	case len(head) >= 12 && string(head[4:8]) == "ftyp" && (string(head[8:11]) == "M4A" || string(head[8:11]) == "M4B"):
		return "audio/mp4"
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 && head[1]&0x06 != 0: // MPEG audio frame sync, layer set
		return "audio/mpeg"
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if ct == "application/ogg" {
		return "audio/ogg"
	}
	return ct
}

// Limits are the largest accepted sizes per kind, in bytes.
type Limits map[Kind]int64

// Store keeps uploads under dir.
type Store struct {
	dir    string
	limits Limits
	images ImageLimits
	// decodeSlots bounds the full image decodes running at once: each may
	// take a few bytes per pixel of memory.
	decodeSlots chan struct{}
}

// NewStore returns a store under dir (created if needed).
func NewStore(dir string, limits Limits, images ImageLimits) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("media: cannot create %s: %w (check PLAZA_DATA_DIR)", dir, err)
	}
	return &Store{dir: dir, limits: limits, images: images.withDefaults(), decodeSlots: make(chan struct{}, 2)}, nil
}

// Dir is the root served at /uploads/.
func (s *Store) Dir() string { return s.dir }

// MaxBytes is the largest upload of any kind.
func (s *Store) MaxBytes() int64 {
	var m int64
	for _, v := range s.limits {
		m = max(m, v)
	}
	return m
}

// Asset is a stored file.
type Asset struct {
	Kind        Kind   `json:"kind"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Path        string `json:"path"` // "/uploads/image/ab/abcdef....png"
}

// Save reads r to the end, checks its type and size, and stores it by
// content hash. Images are checked further (pixel dimensions, a full
// decode) and stored without their metadata: see cleanImage. Nothing is
// kept when it is refused.
func (s *Store) Save(r io.Reader) (Asset, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Asset{}, err
	}
	head = head[:n]
	if n == 0 {
		return Asset{}, apperr.New(apperr.BadRequest, "the file is empty")
	}
	ct := Sniff(head)
	f, ok := formats[ct]
	if !ok {
		return Asset{}, apperr.New(apperr.UnsupportedMedia, "files of type "+ct+" are not accepted; upload PNG, JPEG, GIF or WebP images, or MP3, WAV, OGG, FLAC, M4A or AIFF audio")
	}
	limit := s.limits[f.kind]
	tooLarge := apperr.New(apperr.TooLarge, fmt.Sprintf("%s files may be at most %d MiB", f.kind, limit>>20))
	src := io.LimitReader(io.MultiReader(bytes.NewReader(head), r), limit+1)
	if f.kind == Image {
		b, err := io.ReadAll(src)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return Asset{}, tooLarge
		case err != nil:
			return Asset{}, err
		case int64(len(b)) > limit:
			return Asset{}, tooLarge
		}
		if b, err = cleanImage(ct, b, s.images, s.decodeSlots); err != nil {
			return Asset{}, err
		}
		src = bytes.NewReader(b)
	}
	tmp, err := os.CreateTemp(s.dir, ".upload-*")
	if err != nil {
		return Asset{}, err
	}
	defer os.Remove(tmp.Name()) // after the rename, this finds nothing
	defer tmp.Close()
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), src)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Asset{}, tooLarge
		}
		return Asset{}, err
	}
	if size > limit {
		return Asset{}, tooLarge
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rel := filepath.Join(string(f.kind), sum[:2], sum+f.ext)
	dst := filepath.Join(s.dir, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return Asset{}, err
	}
	if err := tmp.Close(); err != nil {
		return Asset{}, err
	}
	if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(tmp.Name(), dst); err != nil {
			return Asset{}, err
		}
	}
	return Asset{Kind: f.kind, ContentType: ct, Size: size, SHA256: sum, Path: "/uploads/" + filepath.ToSlash(rel)}, nil
}

// URLs builds asset URLs: every asset URL in API responses comes from URL.
type URLs struct {
	Base    string          // CDN_BASE_URL; empty: local paths
	PerKind map[Kind]string // per-kind overrides, e.g. audio on another CDN
}

// URL returns the URL clients use for a stored path like /uploads/image/...
func (u URLs) URL(path string) string {
	base := u.Base
	for k, b := range u.PerKind {
		if b != "" && strings.HasPrefix(path, "/uploads/"+string(k)+"/") {
			base = b
		}
	}
	if base == "" || !strings.HasPrefix(path, "/uploads/") {
		return path
	}
	return strings.TrimRight(base, "/") + path
}
