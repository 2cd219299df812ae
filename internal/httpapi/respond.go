package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/plazahq/plaza/internal/apperr"
)

// handlerFunc is a route handler: it writes a success response itself and
// returns errors for writeError to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    apperr.Code       `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// writeError renders err in Plaza's error format. Internal errors are logged
// once, with the request id, and shown only as internal_error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away; nobody reads the answer
	}
	var ae *apperr.Error // already classified (a database deadline: unavailable)
	if errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &ae) {
		err = &apperr.Error{Code: apperr.Unavailable, Message: "the request took too long; retry shortly", RetryAfter: 1e9, Err: err}
	}
	e := apperr.From(err)
	status := apperr.Status(e.Code)
	answeredWith(r.Context(), e.Code)
	switch {
	case apperr.Fault(e.Code) && e.Code != apperr.Overloaded:
		s.log.Error("request failed", "requestId", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", e)
	case e.Err != nil:
		s.log.Debug("request refused", "requestId", requestID(r.Context()), "code", e.Code, "err", e.Err)
	}
	msg := e.Message
	if e.Code == apperr.Internal {
		msg = "internal error; quote request id " + requestID(r.Context()) + " when reporting it"
	}
	if e.RetryAfter > 0 {
		secs := int((e.RetryAfter + 999_999_999) / 1e9)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	if len(e.Details) > 0 {
		writeJSON(w, status, map[string]any{"error": withDetails(errorDetail{Code: e.Code, Message: msg, Fields: e.Fields}, e.Details)})
		return
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: e.Code, Message: msg, Fields: e.Fields}})
}

// withDetails lays an error's details beside its code and message; they
// never replace them.
func withDetails(d errorDetail, details map[string]any) map[string]any {
	m := make(map[string]any, len(details)+3)
	for k, v := range details {
		m[k] = v
	}
	m["code"], m["message"] = d.Code, d.Message
	if len(d.Fields) > 0 {
		m["fields"] = d.Fields
	}
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal_error","message":"response encoding failed"}}`)
	}
	writeRaw(w, status, b)
}

// writeRaw writes an already-encoded JSON body.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte{'\n'})
}

// decode reads a JSON request body into v: the content type must be JSON
// (415), the body at most the configured size (413), well-formed (400), with
// no unknown fields (400) and the right types (422).
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return apperr.New(apperr.UnsupportedMedia, "send the body as application/json")
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, s.cfg.MaxBodyBytes)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err, s.cfg.MaxBodyBytes)
		}
		return apperr.New(apperr.BadRequest, "the body must hold a single JSON object")
	}
	return nil
}

func decodeError(err error, limit int64) error {
	var (
		mbe *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return apperr.New(apperr.TooLarge, fmt.Sprintf("the body is larger than %d bytes", limit))
	case errors.Is(err, io.EOF):
		return apperr.New(apperr.BadRequest, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(apperr.BadRequest, "the JSON body ends too early")
	case errors.As(err, &syn):
		return apperr.New(apperr.BadRequest, fmt.Sprintf("malformed JSON at byte %d", syn.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return apperr.New(apperr.BadRequest, "the body must be a JSON object")
		}
		return apperr.Invalid(map[string]string{field: "must be a " + jsonKind(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return apperr.New(apperr.BadRequest, "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return apperr.New(apperr.BadRequest, "malformed JSON body")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	}
	return "number"
}

// pathID parses a positive integer path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, name+" must be a positive integer id")
	}
	return id, nil
}
