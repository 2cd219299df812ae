package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
)

const achievementsUsage = `Usage:
  plaza achievements backfill [--batch 500]
      evaluates every achievement rule for every user over all their
      history and awards what is missing (with its XP and collectibles,
      published to users who are connected). Prints progress after each
      batch of users. Idempotent: a second run awards nothing. Uses the
      same PLAZA_DATA_DIR / DATABASE_URL as 'plaza serve' and works while
      a server runs.
`

func achievementsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "backfill" {
		fmt.Fprint(stderr, achievementsUsage)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return errHelpShown
		}
		return &exitError{exitUsage, errors.New("achievements: expected 'backfill'")}
	}
	ef := newEnvFlags("achievements backfill", getenv, stderr)
	ef.mirror("data-dir", "PLAZA_DATA_DIR", "data directory for SQLite")
	ef.mirror("database-url", "DATABASE_URL", "mysql:// URL; unset for SQLite")
	batch := ef.fs.Int("batch", 500, "users evaluated between progress lines")
	if err := ef.parse(args[1:]); err != nil {
		return err
	}
	if *batch < 1 || *batch > 100_000 {
		return &exitError{exitUsage, errors.New("achievements backfill: --batch must be 1 to 100000")}
	}
	in, err := ef.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer in.close()
	start := time.Now()
	p, err := in.Achievements.Backfill(ctx, *batch, func(p achievements.Progress) {
		fmt.Fprintf(stdout, "achievements backfill: %d users evaluated, %d achievements awarded (%s)\n", p.Users, p.Awarded, time.Since(start).Round(time.Millisecond))
	})
	if err != nil {
		return fmt.Errorf("achievements backfill: after %d users: %w", p.Users, err)
	}
	fmt.Fprintf(stdout, "achievements backfill: done: %d users, %d achievements awarded in %s\n", p.Users, p.Awarded, time.Since(start).Round(time.Millisecond))
	return nil
}
