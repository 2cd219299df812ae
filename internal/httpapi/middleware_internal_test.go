package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/monitor"
)

// TestAccessLogDebugRecord: at debug level every request is logged with
// its id, method, path, status and size, through the recovery and the
// access log sharing one statusWriter; above it nothing is (the record is
// not even built).
func TestAccessLogDebugRecord(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var buf bytes.Buffer
		s := &Server{log: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level})), metrics: monitor.NewMetrics(time.Now)}
		h := withRequestID(s.withRecovery(s.withAccessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte("hello"))
		}))))
		req := httptest.NewRequest("POST", "/api/x", nil)
		req.Header.Set("X-Request-Id", "req-1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated || rec.Body.String() != "hello" {
			t.Fatalf("%v: answered %d %q", level, rec.Code, rec.Body)
		}
		if level > slog.LevelDebug {
			if buf.Len() != 0 {
				t.Errorf("%v: logged %s", level, buf.Bytes())
			}
			continue
		}
		var got map[string]any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%v: %v: %s", level, err, buf.Bytes())
		}
		delete(got, "time")
		delete(got, "duration")
		want := map[string]any{"level": "DEBUG", "msg": "request", "requestId": "req-1", "method": "POST", "path": "/api/x", "status": 201.0, "bytes": 5.0}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("record (-want +got):\n%s", diff)
		}
	}
}
