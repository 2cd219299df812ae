// Command coursebench measures GET /api/courses for signed-in users: the
// catalog cached, each caller's enrollment and progress laid over it from
// one query per request. Variants are served side by side from one
// process, under the same closed-loop load, in alternating rounds:
//
//   - bare: a plain net/http handler writing each user's bytes (the ceiling)
//   - plaza-signed-in: Plaza's full stack, a different signed-in user per
//     request (session lookup cached, catalog cached, one progress query)
//   - plaza-anonymous: the same route without a token (no query at all)
//
// The database is the embedded default (SQLite), or MySQL with --mysql.
// With --redis Plaza runs as one of several instances would: the cache
// shared through Redis, each reader's progress memo checked against the
// version their writes bump there.
//
//	go run ./bench/coursebench --clients 50 --duration 5s --rounds 5
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/plazahq/plaza/bench/internal/benchkit"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/courses"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/loadgen"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/plazahq/plaza/internal/redisx"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqlstore"
	"github.com/redis/go-redis/v9"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "coursebench:", err)
		os.Exit(1)
	}
}

func run() error {
	clients := flag.Int("clients", 50, "concurrent closed-loop clients")
	duration := flag.Duration("duration", 5*time.Second, "length of each round")
	rounds := flag.Int("rounds", 5, "rounds of each variant, alternated")
	users := flag.Int("users", 200, "signed-in users, one picked at random per request")
	nCourses := flag.Int("courses", 12, "published courses (2 modules of 4 lessons each)")
	enrolled := flag.Int("enrolled", 3, "courses each user is enrolled in, with some lessons done")
	mysqlServer := flag.String("mysql", "", "MySQL/MariaDB server URL; empty: embedded SQLite")
	redisURL := flag.String("redis", "", "Redis URL (as REDIS_URL): the multi-instance setup; empty: in-process cache")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	ctx := context.Background()
	stopProfile, err := benchkit.CPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()

	scratch, err := benchkit.NewScratch(ctx, *mysqlServer, sqldb.Config{PoolSize: 10})
	if err != nil {
		return err
	}
	defer scratch.Close()
	db, engine := scratch.DB, scratch.Engine
	if err := benchkit.SeedUsers(ctx, db, *users); err != nil {
		return err
	}
	tokens, err := seed(ctx, db, *users, *nCourses, *enrolled)
	if err != nil {
		return err
	}
	var plaza http.Handler
	if *redisURL != "" {
		rc, err := redisx.Open(ctx, *redisURL)
		if err != nil {
			return err
		}
		defer rc.Close()
		prefix := fmt.Sprintf("plaza-coursebench-%d:", time.Now().UnixNano())
		defer dropPrefix(rc, prefix)
		plaza, err = plazaRedis(db, rc, prefix)
		if err != nil {
			return err
		}
		engine += "+Redis"
	} else if plaza, err = benchkit.Plaza(db, true); err != nil {
		return err
	}
	plazaURL, stop1 := benchkit.Listen(plaza)
	defer stop1()

	// The bare handler serves exactly the bytes Plaza serves each user.
	bodies := map[string][]byte{}
	for _, tok := range append(tokens, "") {
		b, err := get(plazaURL+"/api/courses", tok) // also warms the caches
		if err != nil {
			return err
		}
		if again, _ := get(plazaURL+"/api/courses", tok); !bytes.Equal(again, b) {
			return fmt.Errorf("two reads for one user differ")
		}
		bodies["Bearer "+tok] = b
	}
	if bytes.Equal(bodies["Bearer "+tokens[0]], bodies["Bearer "]) {
		return fmt.Errorf("a signed-in user's list equals the anonymous one: no overlay to measure")
	}
	bareURL, stop2 := benchkit.Listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.Header.Get("Authorization")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}))
	defer stop2()

	variants := []struct {
		name, base string
		signedIn   bool
	}{{"bare-net/http", bareURL, true}, {"plaza-signed-in", plazaURL, true}, {"plaza-anonymous", plazaURL, false}}
	results := map[string][]loadgen.Result{}
	fmt.Printf("coursebench: %d clients, %d rounds x %s, GET /api/courses (%d courses, %d bytes for a user) as %d users, %s\n",
		*clients, *rounds, *duration, *nCourses, len(bodies["Bearer "+tokens[0]]), *users, engine)
	for r := range *rounds {
		for _, v := range variants {
			client := loadgen.NewClient(*clients)
			res := loadgen.Run(ctx, client, loadgen.Config{Clients: *clients, Duration: *duration, Request: func(int) (*http.Request, error) {
				req, err := http.NewRequest("GET", v.base+"/api/courses", nil)
				if err == nil && v.signedIn {
					req.Header.Set("Authorization", "Bearer "+tokens[rand.IntN(len(tokens))])
				}
				return req, err
			}})
			client.CloseIdleConnections()
			results[v.name] = append(results[v.name], res)
			fmt.Printf("  round %d %-16s %8.0f req/s  errors %d  p50 %6.2f ms  p99 %6.2f ms\n", r+1, v.name, res.RPS(), res.Errors, res.Quantile(50), res.Quantile(99))
		}
	}
	fmt.Println("\nmedians:")
	fmt.Println("| variant | req/s | errors | p50 ms | p99 ms |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, v := range variants {
		rs := results[v.name]
		var errs int64
		for _, r := range rs {
			errs += r.Errors
		}
		fmt.Printf("| %s | %.0f | %d | %.2f | %.2f |\n", v.name, benchkit.Median(rs, loadgen.Result.RPS), errs,
			benchkit.Median(rs, func(r loadgen.Result) float64 { return r.Quantile(50) }),
			benchkit.Median(rs, func(r loadgen.Result) float64 { return r.Quantile(99) }))
	}
	// Ratios are taken within each round (the variants ran back to back)
	// and the median of those is reported.
	perRound := func(a, b string) (float64, []float64) {
		var rs []float64
		for i := range results[a] {
			rs = append(rs, results[a][i].RPS()/results[b][i].RPS())
		}
		sorted := slices.Clone(rs)
		slices.Sort(sorted)
		return sorted[len(sorted)/2], rs
	}
	signed, signedRounds := perRound("plaza-signed-in", "bare-net/http")
	anon, anonRounds := perRound("plaza-anonymous", "bare-net/http")
	fmt.Printf("\nplaza-signed-in / bare throughput: %.2f (rounds %.2f)\n", signed, signedRounds)
	fmt.Printf("plaza-anonymous / bare throughput: %.2f (rounds %.2f)\n", anon, anonRounds)
	return nil
}

// seed builds the catalog through the courses store, enrolls every user in
// some courses with some lessons done, and opens a session per user.
func seed(ctx context.Context, db *sqldb.DB, users, nCourses, enrolled int) ([]string, error) {
	store := sqlstore.NewCourses(db, sqlstore.NewXP(db, nil))
	accounts := sqlstore.NewAccounts(db)
	now := time.Now()
	type built struct {
		id      int64
		lessons []int64
	}
	var all []built
	for c := range nCourses {
		course, err := store.CreateCourse(ctx, courses.Course{Slug: fmt.Sprintf("course-%d", c), Title: fmt.Sprintf("Trading course %d", c),
			Summary: "Price action, risk and the psychology of a trading plan, one lesson at a time.", CoverPath: fmt.Sprintf("/uploads/image/ab/cover%d.webp", c),
			Currency: "usd", Unlock: courses.Unlock{Kind: courses.UnlockOpen}, Published: true, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return nil, err
		}
		b := built{id: course.ID}
		for m := range 2 {
			mod, err := store.CreateModule(ctx, courses.Module{CourseID: course.ID, Title: fmt.Sprint("Part ", m+1), CreatedAt: now})
			if err != nil {
				return nil, err
			}
			for l := range 4 {
				les, err := store.CreateLesson(ctx, courses.Lesson{ModuleID: mod.ID, Title: fmt.Sprint("Lesson ", l+1), Format: courses.FormatMarkdown,
					Source: "text", HTML: "<p>text</p>", DurationSec: 600, CreatedAt: now, UpdatedAt: now})
				if err != nil {
					return nil, err
				}
				b.lessons = append(b.lessons, les.ID)
			}
		}
		all = append(all, b)
	}
	admit := func(courses.Admission) error { return nil }
	open := func(courses.Gate) error { return nil }
	var tokens []string
	for u := int64(1); u <= int64(users); u++ {
		for k := range enrolled {
			c := all[(int(u)+k)%len(all)]
			if _, _, err := store.Enroll(ctx, u, c.id, now, admit); err != nil {
				return nil, err
			}
			for _, l := range c.lessons[:(int(u)+k)%len(c.lessons)] {
				if _, err := store.Complete(ctx, courses.Completion{UserID: u, CourseID: c.id, LessonID: l, At: now, LessonXP: 10, CourseXP: 50}, open); err != nil {
					return nil, err
				}
			}
		}
		tok, err := account.MintSession(ctx, accounts, u, 24*time.Hour, now)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, tok)
	}
	return tokens, nil
}

// plazaRedis is benchkit.Plaza with the cache shared through Redis under
// prefix, as `plaza serve` runs with REDIS_URL.
func plazaRedis(db *sqldb.DB, rc *redis.Client, prefix string) (http.Handler, error) {
	dir, err := os.MkdirTemp("", "plaza-bench-")
	if err != nil {
		return nil, err
	}
	env := map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_JOB_WORKERS": "0", "PLAZA_REDIS_PREFIX": prefix,
		"PLAZA_RATE_API": "off", "PLAZA_RATE_STRICT": "off", "PLAZA_RATE_AI": "off", "PLAZA_RATE_PAYMENT": "off"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	box, err := mail.NewMailbox(filepath.Join(dir, "mail"), "bench@plaza", benchkit.Quiet)
	if err != nil {
		return nil, err
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, DB: db, Redis: rc, Mailer: box, Log: benchkit.Quiet})
	if err != nil {
		return nil, err
	}
	if err := a.Start(); err != nil {
		return nil, err
	}
	return httpapi.New(a.HTTP("bench"))
}

// dropPrefix deletes the run's Redis keys.
func dropPrefix(rc *redis.Client, prefix string) {
	ctx := context.Background()
	iter := rc.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rc.Del(ctx, iter.Val())
	}
}

func get(url, token string) ([]byte, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(res.Body); err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s: %s", url, res.Status, b.Bytes())
	}
	return b.Bytes(), nil
}
