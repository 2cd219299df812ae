// Command cachebench measures the cache on GET /api/users/{id} (a public
// profile) in three variants served side by side from one process, under
// the same closed-loop load, in alternating rounds:
//
//   - bare: a plain net/http handler writing the same bytes (the ceiling)
//   - plaza-cached: Plaza's full stack, cache on and warm
//   - plaza-uncached: Plaza's full stack with PLAZA_CACHE=off semantics
//
// The database is the embedded default (SQLite), or MySQL with --mysql.
//
//	go run ./bench/cachebench --clients 50 --duration 5s --rounds 3
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/plazahq/plaza/bench/internal/benchkit"
	"github.com/plazahq/plaza/internal/loadgen"
	"github.com/plazahq/plaza/internal/sqldb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cachebench:", err)
		os.Exit(1)
	}
}

func run() error {
	clients := flag.Int("clients", 50, "concurrent closed-loop clients")
	duration := flag.Duration("duration", 5*time.Second, "length of each round")
	rounds := flag.Int("rounds", 3, "rounds of each variant, alternated")
	users := flag.Int("users", 100, "distinct profiles requested (all warm in the cached variant)")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	mysqlServer := flag.String("mysql", "", "MySQL/MariaDB server URL; empty: embedded SQLite")
	flag.Parse()
	ctx := context.Background()

	scratch, err := benchkit.NewScratch(ctx, *mysqlServer, sqldb.Config{PoolSize: 10})
	if err != nil {
		return err
	}
	defer scratch.Close()
	db, engine := scratch.DB, scratch.Engine
	if err := benchkit.SeedUsers(ctx, db, *users); err != nil {
		return err
	}
	cached, err := benchkit.Plaza(db, true)
	if err != nil {
		return err
	}
	uncached, err := benchkit.Plaza(db, false)
	if err != nil {
		return err
	}
	cachedURL, stop1 := benchkit.Listen(cached)
	defer stop1()
	uncachedURL, stop2 := benchkit.Listen(uncached)
	defer stop2()

	// The bare handler serves exactly the bytes Plaza serves, per id.
	bodies := map[string][]byte{}
	for id := 1; id <= *users; id++ {
		b, err := benchkit.Get(cachedURL + "/api/users/" + strconv.Itoa(id)) // also warms the cache
		if err != nil {
			return err
		}
		bodies[strconv.Itoa(id)] = b
		if u, _ := benchkit.Get(uncachedURL + "/api/users/" + strconv.Itoa(id)); !bytes.Equal(u, b) {
			return fmt.Errorf("cached and uncached bodies differ for %d", id)
		}
	}
	bareURL, stop3 := benchkit.Listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path[len("/api/users/"):]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}))
	defer stop3()

	variants := []struct{ name, base string }{{"bare-net/http", bareURL}, {"plaza-cached", cachedURL}, {"plaza-uncached", uncachedURL}}
	results := map[string][]loadgen.Result{}
	fmt.Printf("cachebench: %d clients, %d rounds x %s, GET /api/users/{id} over %d profiles, %s\n", *clients, *rounds, *duration, *users, engine)
	for r := range *rounds {
		for _, v := range variants {
			client := loadgen.NewClient(*clients)
			res := loadgen.Run(ctx, client, loadgen.Config{Clients: *clients, Duration: *duration, Request: func(int) (*http.Request, error) {
				return http.NewRequest("GET", v.base+"/api/users/"+strconv.Itoa(1+rand.IntN(*users)), nil)
			}})
			client.CloseIdleConnections()
			results[v.name] = append(results[v.name], res)
			fmt.Printf("  round %d %-15s %8.0f req/s  errors %d  p50 %6.2f ms  p99 %6.2f ms\n", r+1, v.name, res.RPS(), res.Errors, res.Quantile(50), res.Quantile(99))
		}
	}
	type summary struct {
		Name      string  `json:"name"`
		MedianRPS float64 `json:"medianRps"`
		Errors    int64   `json:"errors"`
		P50       float64 `json:"medianP50ms"`
		P99       float64 `json:"medianP99ms"`
	}
	out := map[string]summary{}
	fmt.Println("\nmedians:")
	fmt.Println("| variant | req/s | errors | p50 ms | p99 ms |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, v := range variants {
		rs := results[v.name]
		var errs int64
		for _, r := range rs {
			errs += r.Errors
		}
		s := summary{v.name, benchkit.Median(rs, loadgen.Result.RPS), errs,
			benchkit.Median(rs, func(r loadgen.Result) float64 { return r.Quantile(50) }),
			benchkit.Median(rs, func(r loadgen.Result) float64 { return r.Quantile(99) })}
		out[v.name] = s
		fmt.Printf("| %s | %.0f | %d | %.2f | %.2f |\n", s.Name, s.MedianRPS, s.Errors, s.P50, s.P99)
	}
	// Ratios are taken within each round (the variants ran back to back)
	// and the median of those is reported, so a noisy round moves nothing.
	perRound := func(a, b string, f func(loadgen.Result) float64) (float64, []float64) {
		var rs []float64
		for i := range results[a] {
			rs = append(rs, f(results[a][i])/f(results[b][i]))
		}
		sorted := slices.Clone(rs)
		slices.Sort(sorted)
		return sorted[len(sorted)/2], rs
	}
	p50 := func(r loadgen.Result) float64 { return r.Quantile(50) }
	vsBare, vsBareRounds := perRound("plaza-cached", "bare-net/http", loadgen.Result.RPS)
	onOff, onOffRounds := perRound("plaza-cached", "plaza-uncached", loadgen.Result.RPS)
	lat, latRounds := perRound("plaza-cached", "plaza-uncached", p50)
	fmt.Printf("\nplaza-cached / bare throughput: %.2f (median of rounds %.2f)\n", vsBare, vsBareRounds)
	fmt.Printf("cache on / off throughput: %.2fx (rounds %.2f)\n", onOff, onOffRounds)
	fmt.Printf("cache on / off p50 latency: %.0f%% lower (rounds %.2f)\n", 100*(1-lat), latRounds)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(out, "", "  ")
		return os.WriteFile(*jsonOut, b, 0o644)
	}
	return nil
}
