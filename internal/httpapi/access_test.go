package httpapi

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/apperr"
)

// TestOpenAPIStatesAccess checks that every operation of the OpenAPI
// document states the access level the route table gives it
// (x-plaza-access), and the ownership declared in owned (x-plaza-owner).
func TestOpenAPIStatesAccess(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Access string `json:"x-plaza-access"`
			Owner  string `json:"x-plaza-owner"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range Routes() {
		op := doc.Paths[r.Pattern][map[string]string{"GET": "get", "POST": "post", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}[r.Method]]
		if op.Access != r.Access {
			t.Errorf("%s %s: x-plaza-access %q, route table %q", r.Method, r.Pattern, op.Access, r.Access)
		}
		if op.Owner != r.Owner {
			t.Errorf("%s %s: x-plaza-owner %q, declared %q", r.Method, r.Pattern, op.Owner, r.Owner)
		}
	}
	for k := range owned {
		found := false
		for _, r := range Routes() {
			found = found || r.Method+" "+r.Pattern == k
		}
		if !found {
			t.Errorf("owned declares %s, which is not in the route table", k)
		}
	}
}

// FuzzAuditFilter feeds GET /api/admin/audit's query parser anything: it
// never panics, and what it accepts is a filter the store can run.
func FuzzAuditFilter(f *testing.F) {
	for _, s := range []string{"", "actor=1&action=user.role&target=user:42&before=9&limit=5", "target=user", "target=:1",
		"target=a:b:c", "actor=-1", "limit=1000", "before=0x10", "action=" + strings.Repeat("x", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, err := auditFilterOf(q)
		if err != nil {
			if apperr.From(err).Code == apperr.Internal {
				t.Fatalf("%q: internal error %v", raw, err)
			}
			return
		}
		if fl.Limit < 1 || fl.Limit > 100 || fl.ActorID < 0 || fl.Before < 0 || len(fl.Action) > 64 ||
			(fl.TargetKind != "") != (fl.TargetID > 0) || len(fl.TargetKind) > 32 {
			t.Fatalf("%q accepted as %+v", raw, fl)
		}
	})
}
