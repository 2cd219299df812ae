package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestXPRebuild: drift made behind the ledger's back is reported with
// progress, left alone by --dry-run and fixed by a plain run.
func TestXPRebuild(t *testing.T) {
	dir := t.TempDir()
	env := envMap(map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_LOG_LEVEL": "warn", "PLAZA_HASH_CONCURRENCY": "2"})
	var out, errOut bytes.Buffer
	ctx := context.Background()
	if err := run(ctx, []string{"admin", "create", "--email", "root@example.com", "--username", "root", "--password", "an admin passphrase"},
		env, nil, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	db, err := sqldb.Open(ctx, sqldb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	xp := sqlstore.NewXP(db, nil)
	if _, err := xp.Award(ctx, time.Now(), gamification.Award{UserID: 1, Amount: 30, Reason: gamification.ReasonAdjustment, Ref: "t:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write().Exec(ctx, `UPDATE users SET xp = 7 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"xp", "rebuild", "--dry-run"}, "1 users checked, 1 drifted, not fixed"},
		{[]string{"xp", "rebuild"}, "1 users checked, 1 drifted, fixed"},
		{[]string{"xp", "rebuild"}, "1 users checked, 0 drifted, fixed"},
	} {
		out.Reset()
		errOut.Reset()
		if err := run(ctx, c.args, env, nil, &out, &errOut); err != nil {
			t.Fatal(err, errOut.String())
		}
		if !strings.Contains(out.String(), c.want) || !strings.Contains(errOut.String(), "checked 1 of 1 users") {
			t.Errorf("%v: %s / %s; want %q", c.args, out.String(), errOut.String(), c.want)
		}
		if strings.Contains(c.want, " 1 drifted") && !strings.Contains(out.String(), "stored xp 7 level 3, ledger xp 30 level 3") {
			t.Errorf("%v: drift line missing: %s", c.args, out.String())
		}
	}
	if err := run(ctx, []string{"xp"}, env, nil, &out, &errOut); err == nil {
		t.Error("xp without a subcommand accepted")
	}
}
