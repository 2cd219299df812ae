package sqldb_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/sqldb"
)

// TestSQLiteCheckpointsInTheBackground: the log's pages reach the database
// file within a few seconds although no commit takes the log near the
// writer's own automatic checkpoint (fails without the checkpointer: the
// file stays at its size after the migrations).
func TestSQLiteCheckpointsInTheBackground(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := db.Write()
	if _, err := w.Exec(ctx, `CREATE TABLE ckpt (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the table's creation checkpointed
	path := filepath.Join(dir, "plaza.db")
	before := size(t, path)
	body := strings.Repeat("x", 2000)
	if err := w.Tx(ctx, func(tx *sql.Tx) error { // ~500 pages: half SQLite's default trigger, 1/40 of the writer's
		for i := range 1000 {
			if _, err := tx.Exec(`INSERT INTO ckpt (id, body) VALUES (?, ?)`, i+1, body); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for size(t, path) < before+1_000_000 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes, %d before the writes: the log was not checkpointed", size(t, path), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var n int
	if err := db.Read().QueryRow(ctx, []any{&n}, `SELECT COUNT(*) FROM ckpt`); err != nil || n != 1000 {
		t.Fatalf("%d rows, %v", n, err)
	}
	db.Close()
	db.Close() // twice, as tests' cleanups may: no panic
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
