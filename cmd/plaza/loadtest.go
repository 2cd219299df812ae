package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/loadtest"
)

const loadtestUsage = `Usage:
  plaza loadtest prepare --users N [--channels C] --out FILE
      creates N users with sessions (and C channels, default N/100) directly
      in the database named by PLAZA_DATA_DIR / DATABASE_URL, as 'serve' uses
      it, and writes their tokens to FILE.
  plaza loadtest --target URL [--target URL ...] --prepared FILE --users N
                 [--duration 60s] [--ramp 500] [--settle 5s] [--mix read=30s,post=60s,dm=5m,profile=2m,shouts=2m,me=5m]
                 [--p95 500ms] [--error-rate 0.01] [--json FILE] [--cpuprofile FILE]
      runs N simulated users against the targets (spread over them) and
      exits 1 if HTTP p95 or the error rate breaches its threshold, or any
      event is missed or out of order.
`

// targets collects repeated --target flags.
type targets []string

func (t *targets) String() string     { return strings.Join(*t, ",") }
func (t *targets) Set(v string) error { *t = append(*t, strings.TrimRight(v, "/")); return nil }

func loadtestCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "prepare" {
		return loadtestPrepare(ctx, args[1:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, loadtestUsage) }
	var ts targets
	fs.Var(&ts, "target", "base URL of a running plaza (repeatable)")
	prepared := fs.String("prepared", "", "file written by 'plaza loadtest prepare'")
	users := fs.Int("users", 100, "simulated users")
	duration := fs.Duration("duration", 60*time.Second, "how long the steady state runs (after the ramp and the settle time)")
	settle := fs.Duration("settle", 5*time.Second, "after everyone has connected, wait this long before the steady state")
	ramp := fs.Int("ramp", 500, "users started per second")
	mix := fs.String("mix", "", "mean interval per action, over the defaults")
	p95 := fs.Duration("p95", 500*time.Millisecond, "HTTP p95 threshold (the seed's alert)")
	errRate := fs.Float64("error-rate", 0.01, "error rate threshold (the seed's alert)")
	jsonOut := fs.String("json", "", "also write the report as JSON here")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile here")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return &exitError{exitUsage, err}
	}
	m, err := loadtest.ParseMix(*mix)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if len(ts) == 0 || *prepared == "" {
		fmt.Fprint(stderr, loadtestUsage)
		return &exitError{exitUsage, errors.New("loadtest: --target and --prepared are required")}
	}
	prep, err := loadtest.Load(*prepared)
	if err != nil {
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
	fmt.Fprintf(stdout, "loadtest: %d users on %s, ramp %d/s, settle %s, then %s\n", *users, ts.String(), *ramp, *settle, *duration)
	rep, err := loadtest.Run(ctx, loadtest.Config{Targets: ts, Users: *users, Duration: *duration, Settle: *settle, Ramp: *ramp, Mix: m,
		P95: *p95, ErrorRate: *errRate, Progress: stdout}, prep)
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
