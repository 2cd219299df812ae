package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// fillAudit appends n records with actors 1..3 and targets user:1..5.
func fillAudit(t *testing.T, log *sqlstore.Audit, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		_, err := log.Append(context.Background(), audit.Entry{Actor: audit.Actor{ID: int64(i%3 + 1), IP: "192.0.2.1"},
			Action: []string{"user.role", "job.retry"}[i%2], TargetKind: "user", TargetID: int64(i%5 + 1),
			Before: map[string]int{"n": i - 1}, After: map[string]int{"n": i}, Reason: fmt.Sprint("because ", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditVerifyFindsTampering tampers with a 25-row chain by raw SQL, one
// way per subtest, and checks that Verify, reading 4 rows per query, points
// at the row where the chain breaks, on both engines.
func TestAuditVerifyFindsTampering(t *testing.T) {
	type tamper struct {
		name string
		sql  func(db *sqldb.DB, log *sqlstore.Audit) []string
		want *audit.Problem
	}
	forged := func(db *sqldb.DB, id int64, prev string) string {
		r := audit.Record{ID: id, At: time.UnixMilli(1_700_000_000_000).UTC(), Actor: audit.Actor{ID: 9, IP: "198.51.100.7"},
			Action: "user.role", TargetKind: "user", TargetID: 1, Before: []byte("null"), After: []byte(`{"role":"admin"}`),
			Reason: "forged", PrevHash: prev}
		r.Hash = audit.HashOf(r)
		return fmt.Sprintf(`INSERT INTO audit_log (id, at, actor_id, actor_ip, action, target_kind, target_id, before_json, after_json, reason, prev_hash, hash)
			VALUES (%d, %d, 9, '198.51.100.7', 'user.role', 'user', 1, 'null', '{"role":"admin"}', 'forged', '%s', '%s')`,
			r.ID, r.At.UnixMilli(), r.PrevHash, r.Hash)
	}
	hashOf := func(db *sqldb.DB, id int64) string {
		var h string
		if err := db.Write().QueryRow(context.Background(), []any{&h}, `SELECT hash FROM audit_log WHERE id = ?`, id); err != nil {
			panic(err)
		}
		return h
	}
	cases := []tamper{
		{"intact", func(*sqldb.DB, *sqlstore.Audit) []string { return nil }, nil},
		{"edited reason", func(*sqldb.DB, *sqlstore.Audit) []string {
			return []string{`UPDATE audit_log SET reason = 'nothing to see' WHERE id = 7`}
		}, &audit.Problem{ID: 7, Problem: audit.ProblemHash}},
		{"edited after", func(*sqldb.DB, *sqlstore.Audit) []string {
			return []string{`UPDATE audit_log SET after_json = '{"n":99}' WHERE id = 13`}
		}, &audit.Problem{ID: 13, Problem: audit.ProblemHash}},
		{"edited with its hash recomputed", func(db *sqldb.DB, _ *sqlstore.Audit) []string {
			// Rewrite row 9 as a forgery that hashes correctly: row 10
			// no longer links to it.
			return []string{`DELETE FROM audit_log WHERE id = 9`, forged(db, 9, hashOf(db, 8))}
		}, &audit.Problem{ID: 10, Problem: audit.ProblemPrevHash}},
		{"deleted row", func(*sqldb.DB, *sqlstore.Audit) []string {
			return []string{`DELETE FROM audit_log WHERE id = 8`}
		}, &audit.Problem{ID: 8, Problem: audit.ProblemMissing}},
		{"deleted first row", func(*sqldb.DB, *sqlstore.Audit) []string {
			return []string{`DELETE FROM audit_log WHERE id = 1`}
		}, &audit.Problem{ID: 1, Problem: audit.ProblemMissing}},
		{"deleted and renumbered", func(*sqldb.DB, *sqlstore.Audit) []string {
			return []string{`DELETE FROM audit_log WHERE id = 8`, `UPDATE audit_log SET id = id + 1000 WHERE id > 8`,
				`UPDATE audit_log SET id = id - 1001 WHERE id > 1000`, `UPDATE audit_head SET last_id = 24`}
		}, &audit.Problem{ID: 8, Problem: audit.ProblemPrevHash}},
		{"deleted last row", func(*sqldb.DB, *sqlstore.Audit) []string {
			return []string{`DELETE FROM audit_log WHERE id = 25`}
		}, &audit.Problem{ID: 25, Problem: audit.ProblemHeadGone}},
		{"deleted last row and head moved back", func(db *sqldb.DB, _ *sqlstore.Audit) []string {
			return []string{`DELETE FROM audit_log WHERE id = 25`, `UPDATE audit_head SET last_id = 24`}
		}, &audit.Problem{ID: 24, Problem: audit.ProblemHead}},
		{"inserted at the end", func(db *sqldb.DB, _ *sqlstore.Audit) []string {
			return []string{forged(db, 26, hashOf(db, 25))}
		}, &audit.Problem{ID: 26, Problem: audit.ProblemExtra}},
		{"inserted in the middle", func(db *sqldb.DB, _ *sqlstore.Audit) []string {
			prev := hashOf(db, 11)
			return []string{`UPDATE audit_log SET id = id + 1000 WHERE id >= 12`, `UPDATE audit_log SET id = id - 999 WHERE id > 1000`,
				forged(db, 12, prev), `UPDATE audit_head SET last_id = 26`}
		}, &audit.Problem{ID: 13, Problem: audit.ProblemPrevHash}},
		{"head hash changed", func(*sqldb.DB, *sqlstore.Audit) []string {
			return []string{`UPDATE audit_head SET hash = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'`}
		}, &audit.Problem{ID: 25, Problem: audit.ProblemHead}},
	}
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := db.Write().Exec(ctx, `DELETE FROM audit_log`); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Write().Exec(ctx, `UPDATE audit_head SET last_id = 0, hash = ?`, audit.Genesis); err != nil {
					t.Fatal(err)
				}
				log := sqlstore.NewAudit(db, nil)
				log.VerifyBatch = 4
				fillAudit(t, log, 25)
				for _, q := range tc.sql(db, log) {
					if _, err := db.Write().Exec(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				v, err := log.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, v.FirstBad); diff != "" {
					t.Errorf("firstBad (-want +got):\n%s", diff)
				}
				if v.OK != (tc.want == nil) {
					t.Errorf("ok = %v with firstBad %+v", v.OK, v.FirstBad)
				}
			})
		}
	})
}

// TestAuditList pages the log newest first with each filter.
func TestAuditList(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		log := sqlstore.NewAudit(db, nil)
		fillAudit(t, log, 30)
		ids := func(f audit.Filter) []int64 {
			t.Helper()
			list, err := log.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			out := []int64{}
			for _, r := range list {
				out = append(out, r.ID)
			}
			return out
		}
		for _, tc := range []struct {
			f    audit.Filter
			want []int64
		}{
			{audit.Filter{Limit: 3}, []int64{30, 29, 28}},
			{audit.Filter{Limit: 3, Before: 28}, []int64{27, 26, 25}},
			{audit.Filter{ActorID: 1, Limit: 4}, []int64{30, 27, 24, 21}},
			{audit.Filter{Action: "job.retry", Limit: 3}, []int64{29, 27, 25}},
			{audit.Filter{TargetKind: "user", TargetID: 3, Limit: 10}, []int64{27, 22, 17, 12, 7, 2}},
			{audit.Filter{TargetKind: "user", TargetID: 3, Before: 12, Limit: 10}, []int64{7, 2}},
			{audit.Filter{TargetKind: "job", TargetID: 3}, []int64{}},
			{audit.Filter{ActorID: 2, Action: "job.retry", TargetKind: "user", TargetID: 2, Limit: 10}, []int64{1}},
			{audit.Filter{ActorID: 2, Action: "user.role", TargetKind: "user", TargetID: 2, Limit: 10}, []int64{16}},
		} {
			if diff := cmp.Diff(tc.want, ids(tc.f)); diff != "" {
				t.Errorf("%+v (-want +got):\n%s", tc.f, diff)
			}
		}
		list, _ := log.List(ctx, audit.Filter{Limit: 1})
		if r := list[0]; r.Reason != "because 30" || string(r.After) != `{"n":30}` || r.Actor.IP != "192.0.2.1" || r.TargetKind != "user" {
			t.Errorf("newest = %+v", r)
		}
	})
}
