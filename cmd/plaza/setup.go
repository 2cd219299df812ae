package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/sqldb"
)

// The MySQL and Redis drivers keep their loggers in package variables:
// they are routed once per process, by the first run that needs them.
var mysqlLogOnce, redisLogOnce sync.Once

// Version is set at build time with -ldflags "-X main.Version=v1.2.3".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
	}
	return "dev"
}

// envFlags mirrors environment variables as flags: a flag that is set wins
// over the variable.
type envFlags struct {
	fs     *flag.FlagSet
	values map[string]*string
	getenv func(string) string
}

func newEnvFlags(name string, getenv func(string) string, stderr io.Writer) *envFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &envFlags{fs: fs, values: map[string]*string{}, getenv: getenv}
}

func (e *envFlags) mirror(flagName, envName, help string) {
	e.values[envName] = e.fs.String(flagName, "", help+" (env "+envName+")")
}

func (e *envFlags) parse(args []string) error {
	if err := e.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return &exitError{exitUsage, err}
	}
	if e.fs.NArg() > 0 {
		return &exitError{exitUsage, fmt.Errorf("unexpected argument %q", e.fs.Arg(0))}
	}
	return nil
}

func (e *envFlags) lookup(name string) string {
	if v, ok := e.values[name]; ok && *v != "" {
		return *v
	}
	return e.getenv(name)
}

func (e *envFlags) config() (config.Config, error) {
	cfg, err := config.FromEnv(e.lookup)
	if err != nil {
		return cfg, &exitError{exitUsage, err}
	}
	return cfg, nil
}

// open reads the configuration and opens every service, migrating first
// unless told not to: what the one-shot commands (admin create, seed-demo,
// achievements backfill) start with. Logs go to stderr.
func (e *envFlags) open(ctx context.Context, stderr io.Writer) (*services, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	return openServices(ctx, cfg, cfg.AutoMigrate, newLogger(cfg, stderr))
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDB opens the configured database and, if asked, migrates it; if not,
// it checks that the schema is not behind the binary.
func openDB(ctx context.Context, cfg config.Config, migrate bool, log *slog.Logger) (*sqldb.DB, error) {
	if cfg.DatabaseURL != "" {
		mysqlLogOnce.Do(func() { sqldb.RouteLibraryLog(log) })
	}
	db, err := sqldb.Open(ctx, sqldb.Config{
		DataDir: cfg.DataDir, URL: cfg.DatabaseURL, ReplicaURLs: cfg.ReplicaURLs,
		PoolSize: cfg.PoolSize, QueueLimit: cfg.QueueLimit,
		ConnMaxLifetime: cfg.ConnMaxLifetime, ConnMaxIdleTime: cfg.ConnMaxIdleTime,
		ConnectTimeout: cfg.ConnectTimeout, QueryTimeout: cfg.QueryTimeout,
	})
	if err != nil {
		return nil, &exitError{exitUnavailable, err}
	}
	if migrate {
		err = db.Migrate(ctx, log)
	} else {
		// Serving an older schema would answer 500 to every request.
		err = db.CheckSchema(ctx)
		var behind *sqldb.SchemaBehindError
		if errors.As(err, &behind) {
			err = &exitError{exitUsage, err}
		}
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	ef := newEnvFlags("migrate", getenv, stderr)
	ef.mirror("data-dir", "PLAZA_DATA_DIR", "data directory for SQLite")
	ef.mirror("database-url", "DATABASE_URL", "mysql:// URL; unset for SQLite")
	if err := ef.parse(args); err != nil {
		return err
	}
	cfg, err := ef.config()
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, true, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	return db.Close()
}
