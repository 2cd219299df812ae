package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/analytics"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func TestAdminJobs(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	adminTok, _ := e.admin("boss")
	userTok, _ := e.signup("ivy") // its verification mail went through the queue
	ctx := context.Background()
	if err := e.jobs.Enqueue(ctx, jobs.Must("no.such.kind", map[string]int{"x": 1})); err != nil {
		t.Fatal(err)
	}
	// The states are awaited on the queue itself: polling the API would
	// spend its rate limit.
	waitFor := func(what string, done func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !done() {
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("the unknown job never died", func() bool { js, _ := e.jobs.List(ctx, jobs.Dead, "", 0, 1); return len(js) > 0 })
	var dead struct{ Items []jobs.Job }
	e.must(200, e.do("GET", "/api/admin/jobs?state=dead", nil, adminTok)).json(&dead)
	j := dead.Items[0]
	if j.Kind != "no.such.kind" || len(j.Errors) != 1 {
		t.Fatalf("dead job %+v", j)
	}
	// Completions are recorded in batches, some milliseconds after the work.
	waitFor("the verification mail job never completed", func() bool {
		js, _ := e.jobs.List(ctx, jobs.Completed, "mail.send", 0, 1)
		return len(js) > 0
	})
	var mails struct{ Items []jobs.Job }
	e.must(200, e.do("GET", "/api/admin/jobs?kind=mail.send&state=completed", nil, adminTok)).json(&mails)
	if string(mails.Items[0].Payload) != "{}" {
		t.Fatalf("completed mail job %+v: payload must be cleared", mails.Items[0])
	}
	var got jobs.Job
	e.must(200, e.do("POST", fmt.Sprintf("/api/admin/jobs/%d/retry", j.ID), nil, adminTok)).json(&got)
	// A worker may take the job again before the answer is read, so the
	// state the retry left is read from its audit record, written in the
	// retry's own transaction.
	var retried struct {
		Items []struct {
			After struct {
				State    string
				Attempts int
			}
		}
	}
	e.must(200, e.do("GET", fmt.Sprintf("/api/admin/audit?action=job.retry&target=job:%d", j.ID), nil, adminTok)).json(&retried)
	if got.ID != j.ID || len(retried.Items) != 1 || retried.Items[0].After.Attempts != 0 || retried.Items[0].After.State != jobs.Available {
		t.Fatalf("retried %+v, audit %+v", got, retried)
	}
	waitFor("the retried job never died again", func() bool { // nothing handles it
		again, err := e.jobs.Get(ctx, j.ID)
		return err == nil && again.State == jobs.Dead
	})
	e.must(200, e.do("GET", fmt.Sprintf("/api/admin/jobs/%d", j.ID), nil, adminTok)).json(&got)
	if got.State != jobs.Dead {
		t.Fatalf("retried job %+v, want dead again", got)
	}
	e.must(200, e.do("POST", fmt.Sprintf("/api/admin/jobs/%d/discard", j.ID), nil, adminTok)).json(&got)
	if got.State != jobs.Discarded {
		t.Fatalf("discarded %+v", got)
	}
	e.must(409, e.do("POST", fmt.Sprintf("/api/admin/jobs/%d/discard", j.ID), nil, adminTok))
	e.must(404, e.do("GET", "/api/admin/jobs/999999", nil, adminTok))
	e.must(422, e.do("GET", "/api/admin/jobs?state=exploded", nil, adminTok))
	e.must(403, e.do("GET", "/api/admin/jobs", nil, userTok))

	var st jobs.Stats
	e.must(200, e.do("GET", "/api/admin/jobs/stats", nil, adminTok)).json(&st)
	if st.Workers != 2 || st.Processed < 1 || st.Died < 2 { // the signup mail; the unknown job twice
		t.Fatalf("stats %+v", st)
	}
}

func TestAnalyticsReport(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	adminTok, _ := e.admin("boss")
	var ch channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Stats"}, adminTok)).json(&ch)
	for range 3 {
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "hi"}, adminTok))
	}
	if err := e.analytics.Schedule(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Days []struct {
			ActiveUsers       int64
			Messages          int64
			MessagesByChannel map[string]int64
		}
	}
	// The report is read once the rollups are done (read on the queue:
	// polling the API would spend its rate limit).
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for {
		idle := true
		for _, state := range []string{jobs.Available, jobs.Running} {
			js, err := e.jobs.List(ctx, state, analytics.JobKind, 0, 1)
			idle = idle && err == nil && len(js) == 0
		}
		if idle {
			e.must(200, e.do("GET", "/api/admin/analytics?days=2", nil, adminTok)).json(&rep)
			if len(rep.Days) > 0 && rep.Days[len(rep.Days)-1].Messages == 3 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("report %+v", rep)
		}
		time.Sleep(5 * time.Millisecond)
	}
	today := rep.Days[len(rep.Days)-1]
	if today.ActiveUsers != 1 || today.MessagesByChannel[fmt.Sprint(ch.ID)] != 3 {
		t.Fatalf("today %+v", today)
	}
	e.must(422, e.do("GET", "/api/admin/analytics?days=0", nil, adminTok))
	e.must(422, e.do("GET", "/api/admin/analytics?days=x", nil, adminTok))
}
