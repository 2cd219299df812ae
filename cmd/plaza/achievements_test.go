package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/sqldb"
)

// TestAchievementsBackfill: activity written without checks (imported
// history) is awarded by the backfill, with progress lines; a second run
// awards nothing.
func TestAchievementsBackfill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := envMap(map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_LOG_LEVEL": "warn", "PLAZA_HASH_CONCURRENCY": "2"})
	for i := range 3 {
		if err := run(ctx, []string{"admin", "create", "--email", fmt.Sprintf("op%d@example.com", i), "--username", fmt.Sprintf("op%d", i),
			"--password", "an admin passphrase"}, env, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sqldb.Open(ctx, sqldb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var first int64
	if err := db.Write().QueryRow(ctx, []any{&first}, `SELECT MIN(id) FROM users`); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		if _, err := db.Write().Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO channels (slug, name, description, created_at, updated_at) VALUES ('old', 'Old', '', 0, 0)`)
	day := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	for d := range 7 { // a week in a row, long ago: the backfill looks at all history
		exec(`INSERT INTO messages (channel_id, sender_id, body, created_at) VALUES (1, ?, 'imported', ?)`, first, day.AddDate(0, 0, d).UnixMilli())
	}
	exec(`INSERT INTO shouts (user_id, body, created_at) VALUES (?, 'imported', ?)`, first+1, day.UnixMilli())

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"achievements", "backfill", "--batch", "2"}, env, nil, &out, &errOut); err != nil {
		t.Fatalf("backfill: %v\n%s", err, errOut.String())
	}
	// first-message and streak-7 for the first user, first-shout for the second.
	for _, want := range []string{"2 users evaluated", "3 users evaluated", "done: 3 users, 3 achievements awarded"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	var slugs string
	if err := db.Write().QueryRow(ctx, []any{&slugs}, `SELECT GROUP_CONCAT(a.slug) FROM (SELECT a.slug FROM user_achievements ua
		JOIN achievements a ON a.id = ua.achievement_id ORDER BY ua.user_id, a.slug) a`); err != nil {
		t.Fatal(err)
	}
	if slugs != "first-message,streak-7,first-shout" {
		t.Errorf("awarded %q", slugs)
	}
	var xp int64
	if err := db.Write().QueryRow(ctx, []any{&xp}, `SELECT xp FROM users WHERE id = ?`, first); err != nil || xp != 55 {
		t.Errorf("first user's xp = %d, %v; want 55 (5 + 50)", xp, err)
	}

	out.Reset()
	if err := run(ctx, []string{"achievements", "backfill"}, env, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "done: 3 users, 0 achievements awarded") {
		t.Errorf("second run:\n%s", out.String())
	}
	if err := run(ctx, []string{"achievements", "nope"}, env, nil, &out, &errOut); exitCode(err) != exitUsage {
		t.Errorf("unknown subcommand: %v", err)
	}
	if err := run(ctx, []string{"achievements", "backfill", "--batch", "0"}, env, nil, &out, &errOut); exitCode(err) != exitUsage {
		t.Errorf("--batch 0: %v", err)
	}
}
