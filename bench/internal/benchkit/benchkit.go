// Package benchkit builds what Plaza's benchmark programs share: a real
// Plaza HTTP stack on a given database, seeded users, a loopback listener,
// and medians of rounds.
package benchkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/loadgen"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Quiet discards logs.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Plaza returns Plaza's real handler on db (built by internal/app, as
// `plaza serve` builds it), with the cache on or off. Rate limits are off
// (the load comes from one address) and so are job workers (nothing in the
// benchmarks enqueues work, and their polling would be load of its own).
func Plaza(db *sqldb.DB, cacheOn bool) (http.Handler, error) {
	dir, err := os.MkdirTemp("", "plaza-bench-")
	if err != nil {
		return nil, err
	}
	cacheSetting := map[bool]string{true: "on", false: "off"}[cacheOn]
	env := map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_CACHE": cacheSetting, "PLAZA_JOB_WORKERS": "0",
		"PLAZA_RATE_API": "off", "PLAZA_RATE_STRICT": "off", "PLAZA_RATE_AI": "off", "PLAZA_RATE_PAYMENT": "off"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	box, err := mail.NewMailbox(filepath.Join(dir, "mail"), "bench@plaza", Quiet)
	if err != nil {
		return nil, err
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, DB: db, Mailer: box, Log: Quiet})
	if err != nil {
		return nil, err
	}
	if err := a.Start(); err != nil {
		return nil, err
	}
	return httpapi.New(a.HTTP("bench"))
}

// Listen serves h on a loopback port and returns its base URL.
func Listen(h http.Handler) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }
}

// SeedUsers inserts n users with ids 1..n in one statement per 500.
func SeedUsers(ctx context.Context, db *sqldb.DB, n int) error {
	now := time.Now().UnixMilli()
	for start := 1; start <= n; start += 500 {
		var rows []string
		var args []any
		for i := start; i < start+500 && i <= n; i++ {
			rows = append(rows, "(?, ?, ?, 'x', ?, ?, '{}', 'user', ?, ?, ?, ?, ?)")
			name := fmt.Sprintf("user_%d", i)
			args = append(args, name+"@example.com", name, name, "DJ "+name, "bio of "+name, i*10, 1+i%50, now, now, now)
		}
		// Verified, so they may post (PLAZA_REQUIRE_VERIFIED).
		_, err := db.Write().Exec(ctx, `INSERT INTO users (email, username, username_key, password_hash, display_name, bio, settings, role, xp, level, email_verified_at, created_at, updated_at)
			VALUES `+strings.Join(rows, ","), args...)
		if err != nil {
			return err
		}
	}
	return nil
}

// Median returns the median of f over rs.
func Median(rs []loadgen.Result, f func(loadgen.Result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// Get fetches url and returns its body.
func Get(url string) ([]byte, error) {
	res, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return io.ReadAll(res.Body)
}

// Scratch is a fresh, migrated database made for one benchmark run.
type Scratch struct {
	DB     *sqldb.DB
	Dir    string // the SQLite data dir; empty on MySQL
	URL    string // the mysql:// URL; empty on SQLite
	Engine string // "SQLite" or "MariaDB", for reports
	drop   func()
}

// NewScratch opens a temporary SQLite database, or, when mysqlServer is
// set, a database created on that server; Close removes it. cfg carries
// pool settings; its DataDir and URL are filled in.
func NewScratch(ctx context.Context, mysqlServer string, cfg sqldb.Config) (*Scratch, error) {
	s := &Scratch{Engine: "SQLite"}
	if mysqlServer != "" {
		url, drop, err := scratchMySQL(ctx, mysqlServer)
		if err != nil {
			return nil, err
		}
		s.URL, s.drop, s.Engine = url, drop, "MariaDB"
	} else {
		dir, err := os.MkdirTemp("", "plaza-bench-")
		if err != nil {
			return nil, err
		}
		s.Dir, s.drop = dir, func() { os.RemoveAll(dir) }
	}
	cfg.DataDir, cfg.URL = s.Dir, s.URL
	db, err := sqldb.Open(ctx, cfg)
	if err == nil {
		if err = db.Migrate(ctx, Quiet); err != nil {
			db.Close()
		}
	}
	if err != nil {
		s.drop()
		return nil, err
	}
	s.DB = db
	return s, nil
}

// Close closes and removes the database.
func (s *Scratch) Close() {
	s.DB.Close()
	s.drop()
}

// scratchMySQL creates an empty database on server, returns its URL and a
// function that drops it.
func scratchMySQL(ctx context.Context, server string) (string, func(), error) {
	dsn, err := sqldb.MySQLDSN(server)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "plaza_bench_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create scratch database on %s: %w", server, err)
	}
	u, _ := url.Parse(server)
	u.Path = "/" + name
	return u.String(), func() {
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
		admin.Close()
	}, nil
}

// CPUTicks is the process's user+system time in clock ticks (1/100 s), from /proc/PID/stat; 0 when it cannot be read.
func CPUTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	sy, _ := strconv.ParseInt(f[12], 10, 64)
	return u + sy
}

// CPUProfile starts a CPU profile of the process into path and returns
// what stops it and closes the file; an empty path profiles nothing.
func CPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
