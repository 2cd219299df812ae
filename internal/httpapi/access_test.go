package httpapi

import (
	"encoding/json"
	"testing"
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
