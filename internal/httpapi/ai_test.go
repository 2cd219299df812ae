package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/plazahq/plaza/internal/ai"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func TestAIDisabled(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("ana")
	r := e.do("POST", "/api/ai/requests", map[string]string{"kind": "chat", "input": "hi"}, tok)
	if r.status != 503 || r.code() != "ai_disabled" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// stubAI is an OpenAI-compatible chat-completions server: it fails the
// first failures requests with 500, answers 400 to inputs containing
// "reject", and otherwise echoes the input.
func stubAI(t *testing.T, failures int) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer k3y" {
			http.Error(w, "bad path or key", http.StatusUnauthorized)
			return
		}
		var in struct {
			Model    string
			Messages []struct{ Role, Content string }
		}
		json.NewDecoder(r.Body).Decode(&in)
		user := in.Messages[len(in.Messages)-1].Content
		switch {
		case int(n) <= failures:
			http.Error(w, "overloaded", http.StatusInternalServerError)
		case strings.Contains(user, "reject"):
			http.Error(w, `{"error":"content policy"}`, http.StatusBadRequest)
		default:
			fmt.Fprintf(w, `{"choices":[{"message":{"role":"assistant","content":"model %s says: %s"}}]}`, in.Model, user)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestAIRequests(t *testing.T) {
	srv, calls := stubAI(t, 2)
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("AI_BASE_URL", srv.URL+"/v1", "AI_API_KEY", "k3y", "AI_MODEL", "tiny"))
	tok, u := e.signup("bo_b")
	otherTok, _ := e.signup("cy_c")
	ws := e.connect(tok)

	e.must(422, e.do("POST", "/api/ai/requests", map[string]string{"kind": "poem", "input": "x"}, tok))
	e.must(422, e.do("POST", "/api/ai/requests", map[string]string{"kind": "chat", "input": "  "}, tok))
	var req ai.Request
	e.must(202, e.do("POST", "/api/ai/requests", map[string]string{"kind": "chat", "input": "what is a b2b set?"}, tok)).json(&req)
	if req.Status != ai.Pending || req.UserID != u.ID || req.ID == 0 {
		t.Fatalf("submitted %+v", req)
	}
	// The first two calls fail with 500: the job retries, then succeeds.
	if f := ws.next(); f.Type != "ai.completed" || f.Room != fmt.Sprintf("user:%d", u.ID) {
		t.Fatalf("event %+v", f)
	}
	var done ai.Request
	e.must(200, e.do("GET", fmt.Sprintf("/api/ai/requests/%d", req.ID), nil, tok)).json(&done)
	if done.Status != ai.Done || done.Output != "model tiny says: what is a b2b set?" || calls.Load() != 3 {
		t.Fatalf("done %+v after %d calls", done, calls.Load())
	}
	e.must(404, e.do("GET", fmt.Sprintf("/api/ai/requests/%d", req.ID), nil, otherTok))

	// A 4xx from the server fails the request at once.
	var bad ai.Request
	e.must(202, e.do("POST", "/api/ai/requests", map[string]string{"kind": "summarize", "input": "please reject this"}, tok)).json(&bad)
	if f := ws.next(); f.Type != "ai.failed" {
		t.Fatalf("event %+v", f)
	}
	e.must(200, e.do("GET", fmt.Sprintf("/api/ai/requests/%d", bad.ID), nil, tok)).json(&bad)
	if bad.Status != ai.Failed || !strings.Contains(bad.Error, "content policy") {
		t.Fatalf("failed request %+v", bad)
	}
}
