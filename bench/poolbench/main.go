// Command poolbench measures the seed's #1 fix: Plaza's pooled
// GET /api/users/{id} against the anti-pattern the seed describes, a new
// MySQL connection per request, both serving the same bytes from the same
// MariaDB, under the same closed-loop load, in alternating rounds.
//
// The anti-pattern handler exists only here; no product route opens a
// connection per request.
//
//	go run ./bench/poolbench --clients 400 --duration 10s --rounds 3
package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/plazahq/plaza/bench/internal/benchkit"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/loadgen"
	"github.com/plazahq/plaza/internal/sqldb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "poolbench:", err)
		os.Exit(1)
	}
}

func run() error {
	def := os.Getenv("PLAZA_TEST_MYSQL_DSN")
	if def == "" {
		def = "mysql://root@127.0.0.1:3306/test"
	}
	server := flag.String("mysql", def, "MySQL/MariaDB server URL (a scratch database is created and dropped on it)")
	clients := flag.Int("clients", 400, "concurrent closed-loop clients")
	duration := flag.Duration("duration", 10*time.Second, "length of each round")
	rounds := flag.Int("rounds", 3, "rounds of each variant, alternated")
	pool := flag.Int("pool", 10, "Plaza's DB_POOL_SIZE")
	users := flag.Int("users", 1000, "users to seed")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	flag.Parse()

	ctx := context.Background()
	scratch, err := benchkit.NewScratch(ctx, *server, sqldb.Config{PoolSize: *pool, ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Hour})
	if err != nil {
		return err
	}
	defer scratch.Close()
	db, dbURL := scratch.DB, scratch.URL
	if err := benchkit.SeedUsers(ctx, db, *users); err != nil {
		return err
	}

	// The route uncached: this measures the pool, not the cache.
	api, err := benchkit.Plaza(db, false)
	if err != nil {
		return err
	}
	dsn, _ := sqldb.MySQLDSN(dbURL)
	anti, err := newPerRequest(dsn)
	if err != nil {
		return err
	}

	plazaURL, stopA := benchkit.Listen(api)
	defer stopA()
	antiURL, stopB := benchkit.Listen(anti)
	defer stopB()
	if err := sameBytes(plazaURL, antiURL); err != nil {
		return err
	}

	variants := []struct{ name, base string }{{"plaza-pooled", plazaURL}, {"conn-per-request", antiURL}}
	results := map[string][]loadgen.Result{}
	fmt.Printf("poolbench: %d clients, %d rounds x %s, GET /api/users/{id} over %d users, Plaza pool %d, MariaDB max_connections %s\n",
		*clients, *rounds, *duration, *users, *pool, maxConnections(ctx, db))
	for r := range *rounds {
		for _, v := range variants {
			client := loadgen.NewClient(*clients)
			res := loadgen.Run(ctx, client, loadgen.Config{Clients: *clients, Duration: *duration, Request: func(int) (*http.Request, error) {
				return http.NewRequest("GET", v.base+"/api/users/"+strconv.Itoa(1+rand.IntN(*users)), nil)
			}})
			client.CloseIdleConnections()
			results[v.name] = append(results[v.name], res)
			fmt.Printf("  round %d %-17s %8.0f req/s  errors %6d (%5.1f%%)  p50 %6.1f ms  p99 %7.1f ms  %s\n", r+1, v.name, res.RPS(),
				res.Errors, 100*res.ErrorRate(), res.Quantile(50), res.Quantile(99), res.TopErrors(2))
			time.Sleep(2 * time.Second) // let the server's connection count settle
		}
	}
	type summary struct {
		Name        string  `json:"name"`
		MedianRPS   float64 `json:"medianRps"`
		MedianErrs  float64 `json:"medianErrorRate"`
		TotalErrors int64   `json:"totalErrors"`
		MedianP50   float64 `json:"medianP50ms"`
		MedianP99   float64 `json:"medianP99ms"`
	}
	var out []summary
	for _, v := range variants {
		rs := results[v.name]
		var errs int64
		for _, r := range rs {
			errs += r.Errors
		}
		out = append(out, summary{v.name, benchkit.Median(rs, loadgen.Result.RPS), benchkit.Median(rs, loadgen.Result.ErrorRate), errs,
			benchkit.Median(rs, func(r loadgen.Result) float64 { return r.Quantile(50) }), benchkit.Median(rs, func(r loadgen.Result) float64 { return r.Quantile(99) })})
	}
	fmt.Println("\nmedians of", *rounds, "rounds:")
	fmt.Println("| variant | req/s | errors (all rounds) | error rate | p50 ms | p99 ms |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, s := range out {
		fmt.Printf("| %s | %.0f | %d | %.1f %% | %.1f | %.1f |\n", s.Name, s.MedianRPS, s.TotalErrors, 100*s.MedianErrs, s.MedianP50, s.MedianP99)
	}
	fmt.Printf("\npooled / per-request throughput: %.2fx\n", out[0].MedianRPS/out[1].MedianRPS)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(out, "", "  ")
		return os.WriteFile(*jsonOut, b, 0o644)
	}
	return nil
}

// perRequest is the seed's anti-pattern: mysql.createConnection() in every
// handler. It answers exactly what Plaza's route answers.
type perRequest struct {
	connector driver.Connector
}

func newPerRequest(dsn string) (*perRequest, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return &perRequest{connector: c}, nil
}

func (p *perRequest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/api/users/"), 10, 64)
	if err != nil {
		http.Error(w, `{"error":{"code":"not_found","message":"bad id"}}`, 404)
		return
	}
	db := sql.OpenDB(p.connector) // a fresh handle: its first query dials a new connection
	defer db.Close()
	var prof account.Profile
	var role string
	var created int64
	err = db.QueryRowContext(r.Context(), `SELECT id, username, display_name, bio, avatar_url, role, xp, level, created_at FROM users WHERE id = ?`, id).
		Scan(&prof.ID, &prof.Username, &prof.DisplayName, &prof.Bio, &prof.AvatarURL, &role, &prof.XP, &prof.Level, &created)
	if err != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(500)
		fmt.Fprintf(w, `{"error":{"code":"internal_error","message":%q}}`, err.Error())
		return
	}
	prof.Role = account.Role(role)
	prof.CreatedAt = time.UnixMilli(created).UTC()
	b, _ := json.Marshal(prof)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(append(b, '\n'))
}

func sameBytes(a, b string) error {
	get := func(base string) (string, error) {
		res, err := http.Get(base + "/api/users/7")
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return string(body), err
	}
	x, err := get(a)
	if err != nil {
		return err
	}
	y, err := get(b)
	if err != nil {
		return err
	}
	if x != y {
		return fmt.Errorf("the two handlers answer differently:\n%s\n%s", x, y)
	}
	return nil
}

func maxConnections(ctx context.Context, db *sqldb.DB) string {
	var name, v string
	if err := db.Write().QueryRow(ctx, []any{&name, &v}, "SHOW VARIABLES LIKE 'max_connections'"); err != nil {
		return "?"
	}
	return v
}
