package httpapi_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/courses"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// twoInstances serves two instances of one deployment: one database, one
// Redis (each with a client of its own), a shared key prefix.
func twoInstances(t *testing.T, db *sqldb.DB) (*env, *env) {
	rc, prefix := redistest.Open(t)
	rc2, _ := redistest.Open(t)
	// A's workers send the mail, woken through Redis; a poll every 50 ms
	// would count in db.Queries.
	a := newEnv(t, db, withRedis(rc), withEnv("PLAZA_REDIS_PREFIX", prefix, "PLAZA_JOB_POLL", "10m", "PLAZA_RATE_STRICT", "off", "PLAZA_RATE_API", "off"))
	b := newEnv(t, db, withRedis(rc2), withEnv("PLAZA_REDIS_PREFIX", prefix, "PLAZA_JOB_WORKERS", "0", "PLAZA_RATE_STRICT", "off", "PLAZA_RATE_API", "off"))
	return a, b
}

func lessonsBody(n int) []map[string]any {
	var ls []map[string]any
	for i := range n {
		ls = append(ls, map[string]any{"title": fmt.Sprint("Lesson ", i+1), "body": "text"})
	}
	return ls
}

// Each instance keeps a reader's progress for their next list (a repeated
// read costs no query), yet a write answered by one instance shows at
// once, with no wait and no retry, in a list read from the other: the
// reader's enrollment, each completed lesson, the count after a lesson is
// deleted by an admin.
func TestCourseProgressReadYourWritesAcrossInstances(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		a, b := twoInstances(t, db)
		adminTok, _ := a.admin("dean")
		f := a.buildCourse(adminTok, map[string]any{"title": "Across"}, lessonsBody(6))
		tok, _ := a.signup("lena")
		course := fmt.Sprintf("/api/courses/%d", f.id)
		progress := func(e *env) (bool, courses.Progress) {
			it := e.listCourses(tok)[f.id]
			return it.Enrolled, it.Progress
		}
		for _, e := range []*env{a, b} {
			if enrolled, _ := progress(e); enrolled {
				t.Fatal("enrolled before enrolling")
			}
			// A read whose version check timed out (a loaded machine)
			// queries: one of three must not.
			n := int64(-1)
			for range 3 {
				before := db.Queries()
				progress(e)
				if n = db.Queries() - before; n == 0 {
					break
				}
			}
			if n != 0 {
				t.Fatalf("a repeated list read cost %d queries: the reader's progress is not kept with Redis", n)
			}
		}

		a.must(201, a.do("POST", course+"/enroll", nil, tok))
		for _, e := range []*env{b, a} {
			if enrolled, p := progress(e); !enrolled || p != (courses.Progress{Completed: 0, Total: 6}) {
				t.Fatalf("right after enrolling on A: enrolled %v, %+v", enrolled, p)
			}
		}
		for i, l := range f.lessons[:5] {
			writer, reader := a, b
			if i%2 == 1 {
				writer, reader = b, a
			}
			progress(reader) // the reader's instance keeps what it read
			writer.must(200, writer.do("POST", fmt.Sprintf("%s/lessons/%d/complete", course, l), nil, tok))
			for _, e := range []*env{reader, writer} {
				if _, p := progress(e); p.Completed != i+1 {
					t.Fatalf("lesson %d completed on one instance: the other lists %d completed", i+1, p.Completed)
				}
			}
		}
		progress(b)
		a.must(204, a.do("DELETE", fmt.Sprintf("/api/admin/lessons/%d", f.lessons[0]), nil, adminTok))
		for _, e := range []*env{b, a} {
			if _, p := progress(e); p.Completed != 4 {
				t.Fatalf("after a completed lesson was deleted on A: %+v", p)
			}
		}
		// The total is the cached catalog's lesson count, which other
		// instances drop when the invalidation reaches them over pub/sub.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, p := progress(b); p == (courses.Progress{Completed: 4, Total: 5}) {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("the catalog never followed the deletion on B: %+v", p)
			}
		}
	})
}

// Lessons completed concurrently through both instances while readers
// list on both: every list read counts at least every completion answered
// before the read began, at most the lessons there are, and once the
// writes are done both instances count exactly.
func TestCourseProgressExactUnderConcurrentWrites(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		a, b := twoInstances(t, db)
		adminTok, _ := a.admin("dean")
		const n = 16
		f := a.buildCourse(adminTok, map[string]any{"title": "Busy"}, lessonsBody(n))
		tok, _ := a.signup("lena")
		course := fmt.Sprintf("/api/courses/%d", f.id)
		a.must(201, a.do("POST", course+"/enroll", nil, tok))
		instances := []*env{a, b}

		var answered atomic.Int64
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 4 {
					e := instances[i%2]
					if r := e.do("POST", fmt.Sprintf("%s/lessons/%d/complete", course, f.lessons[i]), nil, tok); r.status != 200 {
						t.Errorf("complete: %d %s", r.status, r.body)
						return
					}
					answered.Add(1)
					// Read back on the other instance at once.
					want := answered.Load()
					if got := instances[(i+1)%2].listCourses(tok)[f.id].Progress.Completed; int64(got) < want || got > n {
						t.Errorf("after %d answered completions a list counts %d", want, got)
					}
				}
			}()
		}
		stop := make(chan struct{})
		var readers sync.WaitGroup
		for r := range 4 {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					want := answered.Load()
					if got := instances[r%2].listCourses(tok)[f.id].Progress.Completed; int64(got) < want || got > n {
						t.Errorf("after %d answered completions a list counts %d", want, got)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		readers.Wait()
		for _, e := range instances {
			if p := e.listCourses(tok)[f.id].Progress; p != (courses.Progress{Completed: n, Total: n}) {
				t.Fatalf("after every completion: %+v", p)
			}
		}
	})
}
