package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/plazahq/plaza/internal/sqlstore"
)

const xpUsage = `Usage:
  plaza xp rebuild [--dry-run]
      recomputes every user's xp and level from the XP ledger, prints the
      users whose stored figures differed (drift) and stores the ledger's
      (not with --dry-run). Progress goes to standard error. Works while a
      server runs; the leaderboard index is built from the ledger, not from
      these totals (POST /api/admin/xp/rebuild also rebuilds the index).
`

func xpCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprint(stderr, xpUsage)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return errHelpShown
		}
		return &exitError{exitUsage, errors.New("xp: expected 'rebuild'")}
	}
	ef := newEnvFlags("xp rebuild", getenv, stderr)
	ef.mirror("data-dir", "PLAZA_DATA_DIR", "data directory for SQLite")
	ef.mirror("database-url", "DATABASE_URL", "mysql:// URL; unset for SQLite")
	dry := ef.fs.Bool("dry-run", false, "report drift without fixing it")
	if err := ef.parse(args[1:]); err != nil {
		return err
	}
	cfg, err := ef.config()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := openDB(ctx, cfg, cfg.AutoMigrate, log)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := sqlstore.NewXP(db, cfg.Levels).RebuildTotals(ctx, !*dry, func(done, total int) {
		fmt.Fprintf(stderr, "checked %d of %d users\n", done, total)
	})
	if err != nil {
		return err
	}
	for _, d := range rep.Drifted {
		fmt.Fprintf(stdout, "user %d: stored xp %d level %d, ledger xp %d level %d\n", d.UserID, d.StoredXP, d.StoredLevel, d.LedgerXP, d.Level)
	}
	verb := "fixed"
	if *dry {
		verb = "not fixed (--dry-run)"
	}
	fmt.Fprintf(stdout, "%d users checked, %d drifted, %s\n", rep.Checked, len(rep.Drifted), verb)
	return nil
}
