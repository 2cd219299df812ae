// Command plaza is the Plaza server and its tools: serve, migrate, admin,
// version. Configuration comes from the environment (see docs/configuration.md);
// flags mirror the most used variables.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitError carries the process exit code for an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit codes.
const (
	exitFailure     = 1 // runtime failure
	exitUsage       = 2 // bad flags or configuration
	exitUnavailable = 3 // a dependency (the database) cannot be reached
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errHelpShown) {
			fmt.Fprintln(os.Stderr, "plaza:", err)
		}
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		if errors.Is(err, errHelpShown) {
			os.Exit(0)
		}
		os.Exit(exitFailure)
	}
}

var errHelpShown = errors.New("help shown")

const usage = `plaza: a backend for online communities

Usage:
  plaza serve     [--addr :8080] [--data-dir ./data] [--no-migrate]   run the server
  plaza migrate   [--data-dir ./data]                                  apply schema migrations
  plaza admin create --email E --username U --password P|-             create an admin account
  plaza seed-demo [--force]                                            fill an empty database with a demo community
  plaza loadtest --target URL --users N [--duration 60s]              simulate community users
  plaza loadtest prepare --users N --out FILE                          prepare accounts for a later --prepared run
  plaza xp rebuild [--dry-run]                                         rebuild users' xp/level from the ledger, report drift
  plaza achievements backfill [--batch 500]                           evaluate every achievement rule for every user
  plaza version                                                        print the version

Configuration is read from the environment (PLAZA_ADDR, PLAZA_DATA_DIR,
DATABASE_URL, DB_POOL_SIZE, DB_QUEUE_LIMIT, REDIS_URL, CORS_ORIGIN, SMTP_URL,
...); see docs/configuration.md. Run 'plaza <command> --help' for flags.
`

// run is main without the process: testable, and it returns instead of exiting.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{exitUsage, errors.New("no command given")}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, getenv, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stderr)
	case "admin":
		return admin(ctx, rest, getenv, stdin, stdout, stderr)
	case "loadtest":
		return loadtestCmd(ctx, rest, getenv, stdout, stderr)
	case "xp":
		return xpCmd(ctx, rest, getenv, stdout, stderr)
	case "achievements":
		return achievementsCmd(ctx, rest, getenv, stdout, stderr)
	case "seed-demo":
		return seedDemo(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "plaza", version())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return &exitError{exitUsage, fmt.Errorf("unknown command %q", cmd)}
	}
}
