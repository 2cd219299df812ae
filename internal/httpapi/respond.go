package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

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
	h["Content-Type"] = jsonType[:1:1] // by canonical key, as Set would store it
	h["Content-Length"] = []string{strconv.Itoa(len(body) + 1)}
	w.WriteHeader(status)
	w.Write(body)
	w.Write(newline[:1:1])
}

// jsonType and newline are shared by every response, never changed (as
// securityHeaders): a writer may not change what it is given, and a
// header's values are replaced, not changed in place.
var (
	jsonType = []string{"application/json; charset=utf-8"}
	newline  = []byte{'\n'}
)

// decode reads a JSON request body into v: the content type must be JSON
// (415), the body at most the configured size (413), one well-formed JSON
// object (400) whose member names match v's json tags exactly (400 for an
// unknown or duplicated name, "EMAIL" included), in valid UTF-8 (422, no
// silent U+FFFD) and with the right types (422).
//
// It uses the encoding/json/v2 semantics (github.com/go-json-experiment/json,
// the module that mirrors the standard library's v2 until Plaza's Go
// toolchain has it without GOEXPERIMENT): v1 matches names
// case-insensitively, replaces invalid UTF-8 and takes the last of duplicate
// names, and none of that can be switched off.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return apperr.New(apperr.UnsupportedMedia, "send the body as application/json")
	}
	body := bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), 512)
	if topLevelNull(body) {
		// Decoded into an input, null would leave it as it was: a PATCH
		// of null answered 200 as if it were {}.
		return apperr.New(apperr.BadRequest, "the body must be a JSON object, not null")
	}
	if err := jsonv2.UnmarshalRead(body, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return decodeError(err, s.cfg.MaxBodyBytes)
	}
	return nil
}

// topLevelNull reports whether the JSON in b starts with null, reading
// only the whitespace before it.
func topLevelNull(b *bufio.Reader) bool {
	for {
		c, err := b.Peek(1)
		if err != nil {
			return false // the decoder reports the empty or failed body
		}
		switch c[0] {
		case ' ', '\t', '\n', '\r':
			b.ReadByte()
		default:
			word, _ := b.Peek(4) // shorter or another word: the decoder says what is wrong
			return string(word) == "null"
		}
	}
}

// decodeError turns what the JSON decoder reports into Plaza's errors.
func decodeError(err error, limit int64) error {
	var (
		mbe *http.MaxBytesError
		syn *jsontext.SyntacticError
		sem *jsonv2.SemanticError
	)
	switch {
	case errors.As(err, &mbe):
		return apperr.New(apperr.TooLarge, fmt.Sprintf("the body is larger than %d bytes", limit))
	case errors.As(err, &syn):
		field := fieldOf(syn.JSONPointer)
		switch msg := syn.Err.Error(); {
		case errors.Is(syn.Err, io.ErrUnexpectedEOF) && syn.ByteOffset == 0:
			return apperr.New(apperr.BadRequest, "the body is empty; send a JSON object")
		case errors.Is(syn.Err, io.ErrUnexpectedEOF):
			return apperr.New(apperr.BadRequest, "the JSON body ends too early")
		case strings.Contains(msg, "invalid UTF-8"), strings.Contains(msg, "surrogate"):
			// Bytes that are not UTF-8, or a \ud800-style escape that
			// stands for no character: refused rather than replaced.
			if field == "" {
				return &apperr.Error{Code: apperr.Validation, Message: fmt.Sprintf("the body is not valid UTF-8 (byte %d)", syn.ByteOffset),
					Fields: map[string]string{"body": "is not valid UTF-8"}}
			}
			return &apperr.Error{Code: apperr.Validation, Message: field + " is not valid UTF-8", Fields: map[string]string{field: "is not valid UTF-8"}}
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			return apperr.New(apperr.BadRequest, fmt.Sprintf("field %q appears twice", field))
		case strings.Contains(msg, "after top-level value"):
			return apperr.New(apperr.BadRequest, "the body must hold a single JSON object")
		}
		return apperr.New(apperr.BadRequest, fmt.Sprintf("malformed JSON at byte %d", syn.ByteOffset))
	case errors.As(err, &sem):
		field := fieldOf(sem.JSONPointer)
		switch {
		case errors.Is(sem.Err, jsonv2.ErrUnknownName):
			return apperr.New(apperr.BadRequest, fmt.Sprintf("unknown field %q (names are case-sensitive)", field))
		case field == "":
			return apperr.New(apperr.BadRequest, "the body must be a JSON object")
		case sem.GoType != nil && sem.JSONKind == '0' && sem.Err != nil && strings.Contains(sem.Err.Error(), "out of range"):
			return apperr.Invalid(map[string]string{field: "is out of range"})
		case sem.GoType != nil:
			return apperr.Invalid(map[string]string{field: "must be a " + jsonKind(sem.GoType.Kind())})
		}
		return apperr.Invalid(map[string]string{field: "has the wrong type"})
	}
	return apperr.New(apperr.BadRequest, "malformed JSON body")
}

// fieldOf names the member a JSON pointer points at: "/settings/theme" is
// "settings.theme".
func fieldOf(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "whole number"
	}
	return "number"
}

// pathID parses an id path value. Only the canonical form names a
// resource: decimal digits without a sign or leading zeros ("+1", "01",
// " 1" and "1.0" are not ids), greater than zero and within int64.
func pathID(r *http.Request, name string) (int64, error) {
	id, ok := parseID(r.PathValue(name))
	if !ok {
		return 0, apperr.New(apperr.NotFound, name+" must be a positive integer id")
	}
	return id, nil
}

func parseID(v string) (int64, bool) {
	if v == "" || len(v) > 19 || v[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false
	}
	return id, true
}
