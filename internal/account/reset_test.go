package account_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/app/apptest"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// newApp builds the services as plaza serve does, on db, with no job
// workers: what a request enqueues stays in the queue for the test to see.
func newApp(t testing.TB, db *sqldb.DB) *app.App {
	t.Helper()
	a := apptest.New(t, db)
	if _, err := a.Accounts.CreateAdmin(context.Background(), account.RegisterInput{Email: "known@example.com", Username: "known", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	return a
}

// A reset request for an address with an account does exactly the work of
// one for an address without: the same number of statements, one job of
// the same kind, and no reset token yet (the job looks the address up
// later). So neither the answer nor its time tells whether the address has
// an account.
func TestPasswordResetDoesTheSameWorkForUnknownAddresses(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		a := newApp(t, db)
		ctx := context.Background()
		type effect struct {
			Statements int64
			NewJobs    map[string]int
			NewResets  int
		}
		count := func() (map[string]int, int) {
			jobs := map[string]int{}
			var kind string
			var n, resets int
			if err := db.Write().Query(ctx, func(rows *sql.Rows) error {
				if err := rows.Scan(&kind, &n); err != nil {
					return err
				}
				jobs[kind] = n
				return nil
			}, "SELECT kind, COUNT(*) FROM jobs GROUP BY kind"); err != nil {
				t.Fatal(err)
			}
			if err := db.Write().QueryRow(ctx, []any{&resets}, "SELECT COUNT(*) FROM password_resets"); err != nil {
				t.Fatal(err)
			}
			return jobs, resets
		}
		measure := func(email string) effect {
			jobsBefore, resetsBefore := count()
			before := db.Queries()
			if err := a.Accounts.RequestPasswordReset(ctx, email); err != nil {
				t.Fatal(err)
			}
			e := effect{Statements: db.Queries() - before, NewJobs: map[string]int{}}
			jobsAfter, resetsAfter := count()
			for k, n := range jobsAfter {
				if d := n - jobsBefore[k]; d != 0 {
					e.NewJobs[k] = d
				}
			}
			e.NewResets = resetsAfter - resetsBefore
			return e
		}
		known := measure("Known@Example.com")
		unknown := measure("ghost@example.com")
		if diff := cmp.Diff(known, unknown); diff != "" {
			t.Fatalf("known and unknown addresses do different work (-known +unknown):\n%s", diff)
		}
		want := effect{Statements: 1, NewJobs: map[string]int{account.PasswordResetKind: 1}}
		if diff := cmp.Diff(want, known); diff != "" {
			t.Fatalf("work of a reset request (-want +got):\n%s", diff)
		}
	})
}

// BenchmarkRequestPasswordReset measures a reset request for an address
// with an account beside one without; the two should cost the same.
//
//	go test ./internal/account -run '^$' -bench RequestPasswordReset -count 6
func BenchmarkRequestPasswordReset(b *testing.B) {
	db := sqldbtest.OpenSQLite(b, sqldb.Config{})
	a := newApp(b, db)
	ctx := context.Background()
	for _, tc := range []struct{ name, email string }{{"known", "known@example.com"}, {"unknown", "ghost@example.com"}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if err := a.Accounts.RequestPasswordReset(ctx, tc.email); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
