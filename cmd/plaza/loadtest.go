package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/loadtest"
)

const loadtestUsage = `Usage:
  plaza loadtest --target URL [--target URL ...] --users N [--duration 60s]
                 [--prepared FILE] [--channels C] [--ramp 500] [--conns 1000] [--settle 5s]
                 [--mix read=30s,post=60s,dm=5m,profile=2m,shouts=2m,me=5m]
                 [--p95 500ms] [--error-rate 0.01] [--json FILE] [--cpuprofile FILE]
      runs N simulated users against the targets (spread over them) and
      exits 1 if HTTP p95 or the error rate breaches its threshold, or any
      event is missed or out of order. Without --prepared it first creates
      the N users (and C channels, default N/100) in the servers' database,
      named as for 'serve' by DATABASE_URL or PLAZA_DATA_DIR (or
      --database-url / --data-dir). PLAZA_METRICS_TOKEN, when set, is sent
      to each target's /metrics.
  plaza loadtest prepare --users N [--channels C] --out FILE
      creates the users and channels once and writes their tokens to FILE,
      for runs from a machine that cannot reach the database (--prepared).
`

// targets collects repeated --target flags.
type targets []string

func (t *targets) String() string     { return strings.Join(*t, ",") }
func (t *targets) Set(v string) error { *t = append(*t, strings.TrimRight(v, "/")); return nil }

func loadtestCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "prepare" {
		return loadtestPrepare(ctx, args[1:], getenv, stdout, stderr)
	}
	ef := newEnvFlags("loadtest", getenv, stderr)
	ef.mirror("data-dir", "PLAZA_DATA_DIR", "the servers' data directory (SQLite), to prepare users in")
	ef.mirror("database-url", "DATABASE_URL", "the servers' mysql:// URL, to prepare users in")
	fs := ef.fs
	fs.Usage = func() { fmt.Fprint(stderr, loadtestUsage) }
	var ts targets
	fs.Var(&ts, "target", "base URL of a running plaza (repeatable)")
	prepared := fs.String("prepared", "", "file written by 'plaza loadtest prepare'; without it, users are prepared in the database first")
	channels := fs.Int("channels", 0, "channels to prepare without --prepared (default users/100)")
	users := fs.Int("users", 100, "simulated users")
	duration := fs.Duration("duration", 60*time.Second, "how long the steady state runs (after the ramp and the settle time)")
	settle := fs.Duration("settle", 5*time.Second, "after everyone has connected, wait this long before the steady state")
	ramp := fs.Int("ramp", 500, "users started per second")
	conns := fs.Int("conns", 1000, "HTTP connections kept to each target at most (requests past it wait for one, in their latency)")
	mix := fs.String("mix", "", "mean interval per action, over the defaults")
	p95 := fs.Duration("p95", 500*time.Millisecond, "HTTP p95 threshold (the seed's alert)")
	errRate := fs.Float64("error-rate", 0.01, "error rate threshold (the seed's alert)")
	jsonOut := fs.String("json", "", "also write the report as JSON here")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile here")
	if err := ef.parse(args); err != nil {
		return err
	}
	m, err := loadtest.ParseMix(*mix)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if len(ts) == 0 {
		fmt.Fprint(stderr, loadtestUsage)
		return &exitError{exitUsage, errors.New("loadtest: --target is required")}
	}
	if *users < 1 {
		return &exitError{exitUsage, errors.New("loadtest: --users must be at least 1")}
	}
	var prep loadtest.Prepared
	if *prepared != "" {
		if prep, err = loadtest.Load(*prepared); err != nil {
			return &exitError{exitUsage, err}
		}
	} else if prep, err = prepareForRun(ctx, ef, *users, *channels, stderr); err != nil {
		return err
	}
	token := getenv("PLAZA_METRICS_TOKEN")
	if err := loadtest.CheckTargets(ctx, ts, prep); err != nil {
		return &exitError{exitUsage, err}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if getenv("GOGC") == "" {
		// The generator's live heap is small next to what it allocates per
		// second (a request, a frame), so at the default it collects many
		// times a second, each time scanning some 20,000 goroutine stacks
		// (a reader per socket, two per HTTP connection). Memory is
		// plentiful here; CPU is what the servers share with it.
		debug.SetGCPercent(400)
	}
	fmt.Fprintf(stdout, "loadtest: %d users on %s, ramp %d/s, settle %s, then %s\n", *users, ts.String(), *ramp, *settle, *duration)
	rep, err := loadtest.Run(ctx, loadtest.Config{Targets: ts, Users: *users, Duration: *duration, Settle: *settle, Ramp: *ramp, Conns: *conns, Mix: m,
		P95: *p95, ErrorRate: *errRate, MetricsToken: token, Progress: stdout}, prep)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	rep.Print(stdout)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if len(rep.Breaches) > 0 {
		return fmt.Errorf("loadtest: thresholds breached: %s", strings.Join(rep.Breaches, "; "))
	}
	return nil
}

// prepareForRun creates the run's users in the database the servers use,
// when it can be reached from here; otherwise it says what to run first.
func prepareForRun(ctx context.Context, ef *envFlags, users, channels int, stderr io.Writer) (loadtest.Prepared, error) {
	cfg, err := ef.config()
	if err != nil {
		return loadtest.Prepared{}, err
	}
	where := "DATABASE_URL"
	if cfg.DatabaseURL == "" {
		where = "PLAZA_DATA_DIR=" + cfg.DataDir
	}
	cannot := func(problem error) error {
		return &exitError{exitUsage, fmt.Errorf("loadtest: cannot prepare users (%w); run this with the servers' DATABASE_URL or PLAZA_DATA_DIR, "+
			"or prepare them where the database is reachable with 'plaza loadtest prepare --users %d --out lt.json' and pass --prepared lt.json", problem, users)}
	}
	if cfg.DatabaseURL == "" {
		// A missing SQLite file means this is not the servers' data
		// directory: creating a database there would only prepare users
		// the servers never see.
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "plaza.db")); err != nil {
			return loadtest.Prepared{}, cannot(fmt.Errorf("no Plaza database in %s", where))
		}
	} else {
		cfg.ConnectTimeout = min(cfg.ConnectTimeout, 5*time.Second)
	}
	db, err := openDB(ctx, cfg, false, newLogger(cfg, stderr))
	if err != nil {
		return loadtest.Prepared{}, cannot(err)
	}
	defer db.Close()
	start := time.Now()
	prep, err := loadtest.Prepare(ctx, db, users, channels, nil)
	if err != nil {
		return prep, cannot(err)
	}
	fmt.Fprintf(stderr, "loadtest: prepared %d users and %d channels in %s (%s)\n", len(prep.Users), len(prep.Channels), where, time.Since(start).Round(time.Millisecond))
	return prep, nil
}

func loadtestPrepare(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ef := newEnvFlags("loadtest prepare", getenv, stderr)
	ef.mirror("data-dir", "PLAZA_DATA_DIR", "data directory for SQLite")
	ef.mirror("database-url", "DATABASE_URL", "mysql:// URL; unset for SQLite")
	users := ef.fs.Int("users", 100, "users to create")
	channels := ef.fs.Int("channels", 0, "channels to create (default users/100)")
	out := ef.fs.String("out", "loadtest.json", "file to write")
	if err := ef.parse(args); err != nil {
		return err
	}
	if *users < 1 {
		return &exitError{exitUsage, errors.New("loadtest prepare: --users must be at least 1")}
	}
	cfg, err := ef.config()
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, cfg.AutoMigrate, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	prep, err := loadtest.Prepare(ctx, db, *users, *channels, func(s string) { fmt.Fprintln(stderr, s) })
	if err != nil {
		return err
	}
	if err := prep.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "prepared %d users and %d channels in %s: %s\n", len(prep.Users), len(prep.Channels), time.Since(start).Round(time.Millisecond), *out)
	return nil
}
