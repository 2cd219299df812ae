package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/plazahq/plaza/internal/demo"
)

const seedUsage = `Usage:
  plaza seed-demo [--force]
      fills an empty database with a demo community: people with XP and
      levels, channels with history, DMs, shouts, reactions, courses,
      mixes with plays and likes, events with RSVPs, now playing. Refuses a
      database that already has users unless --force (which adds the demo
      beside them, its usernames suffixed). Uses the same PLAZA_DATA_DIR /
      DATABASE_URL as 'plaza serve'.
`

func seedDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ef := newEnvFlags("seed-demo", getenv, stderr)
	ef.mirror("data-dir", "PLAZA_DATA_DIR", "data directory for SQLite")
	ef.mirror("database-url", "DATABASE_URL", "mysql:// URL; unset for SQLite")
	force := ef.fs.Bool("force", false, "seed even if the database already has users")
	ef.fs.Usage = func() { fmt.Fprint(stderr, seedUsage) }
	if err := ef.parse(args); err != nil {
		return err
	}
	in, err := ef.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer in.close()
	e := &demo.Env{App: in.App, DB: in.db, Out: stdout}
	if err := demo.Run(ctx, e, *force); err != nil {
		if errors.Is(err, demo.ErrNotEmpty) {
			return &exitError{exitUsage, fmt.Errorf("seed-demo: %w", err)}
		}
		return err
	}
	fmt.Fprintf(stdout, "done. Sign in (password %q):\n  admin: %s\n  user:  %s\n", demo.Password, e.Admin.Username, e.Demo.Username)
	if in.redis == nil {
		// Without Redis a running server's leaderboard is an index in its
		// memory, fed only by the XP that server awards (docs/demo.md).
		fmt.Fprint(stdout, "A server already running shows the demo members on its leaderboard after its next\nstart, or after an admin's POST /api/admin/xp/rebuild.\n")
	}
	return nil
}
