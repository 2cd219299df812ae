package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/demo"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestSeedDemo seeds an empty database on SQLite and on MariaDB, refuses
// to seed it again, adds a second demo with --force, and serves what it
// made: the demo user signs in and sees channels with history, courses
// with progress, mixes with plays, events with a waitlist, now playing,
// and XP earned through the ledger.
func TestSeedDemo(t *testing.T) {
	engines := map[string]func(t *testing.T) map[string]string{
		"sqlite": func(t *testing.T) map[string]string { return map[string]string{"PLAZA_DATA_DIR": t.TempDir()} },
		"mariadb": func(t *testing.T) map[string]string {
			return map[string]string{"PLAZA_DATA_DIR": t.TempDir(), "DATABASE_URL": sqldbtest.CreateMySQLDatabase(t)}
		},
	}
	for name, envOf := range engines {
		t.Run(name, func(t *testing.T) {
			env := envOf(t)
			env["PLAZA_LOG_LEVEL"] = "warn"
			var out, errOut bytes.Buffer
			seed := func(args ...string) error {
				out.Reset()
				errOut.Reset()
				return run(context.Background(), append([]string{"seed-demo"}, args...), envMap(env), nil, &out, &errOut)
			}
			if err := seed(); err != nil {
				t.Fatalf("seed-demo: %v\n%s%s", err, out.String(), errOut.String())
			}
			for _, want := range []string{"[1/", "messages", "mixes", "admin: demo_admin", "user:  demo_user", demo.Password} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if err := seed(); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--force") {
				t.Fatalf("second seed: %v, want a refusal naming --force", err)
			}
			if err := seed("--force"); err != nil || !strings.Contains(out.String(), "admin: demo_admin_") {
				t.Fatalf("seed-demo --force: %v\n%s%s", err, out.String(), errOut.String())
			}

			in := startInstance(t, env)
			var login struct {
				Token string
				User  struct {
					ID    int64
					XP    int64
					Level int
				}
			}
			if code := in.call(t, "POST", "/api/auth/login", "", map[string]string{"login": "demo_user", "password": demo.Password}, &login); code != 200 {
				t.Fatalf("demo login: %d", code)
			}
			tok := login.Token
			if login.User.XP < 20 || login.User.Level < 3 {
				t.Errorf("demo user xp %d level %d: want the XP of messages, reactions and a finished course", login.User.XP, login.User.Level)
			}
			var admin struct{ User struct{ Role string } }
			if code := in.call(t, "POST", "/api/auth/login", "", map[string]string{"login": "demo_admin", "password": demo.Password}, &admin); code != 200 || admin.User.Role != "admin" {
				t.Fatalf("admin login: %d %+v", code, admin)
			}
			var channels struct{ Items []struct{ ID int64 } }
			in.call(t, "GET", "/api/community/channels", tok, nil, &channels)
			if len(channels.Items) != 8 { // two demos of four
				t.Fatalf("%d channels, want 8", len(channels.Items))
			}
			var msgs struct{ Items []struct{ ID int64 } }
			in.call(t, "GET", "/api/community/channels/"+strconv.FormatInt(channels.Items[len(channels.Items)-1].ID, 10)+"/messages?limit=100", tok, nil, &msgs)
			if len(msgs.Items) != 80 {
				t.Errorf("%d messages in the first channel, want 80", len(msgs.Items))
			}
			var courses struct {
				Items []struct {
					Slug     string
					Enrolled bool
					Progress struct{ Completed, Total int }
				}
			}
			in.call(t, "GET", "/api/courses", tok, nil, &courses)
			finished := false
			for _, c := range courses.Items {
				finished = finished || (c.Slug == "dj-foundations" && c.Enrolled && c.Progress.Completed == c.Progress.Total && c.Progress.Total == 9)
			}
			if len(courses.Items) != 6 || !finished {
				t.Errorf("courses %+v: want 6, DJ Foundations finished by the demo user", courses.Items)
			}
			var mixes struct {
				Items []struct{ Plays, Likes int64 }
			}
			in.call(t, "GET", "/api/mixes?sort=popular", "", nil, &mixes)
			if len(mixes.Items) != 18 || mixes.Items[0].Plays == 0 {
				t.Errorf("mixes %+v: want 18, played", mixes.Items)
			}
			var events struct {
				Items []struct {
					Capacity          *int
					Going, Waitlisted int
				}
			}
			in.call(t, "GET", "/api/events", tok, nil, &events)
			full := false
			for _, e := range events.Items {
				full = full || (e.Capacity != nil && e.Going == *e.Capacity && e.Waitlisted > 0)
			}
			if len(events.Items) != 8 || !full {
				t.Errorf("events %+v: want 8, one full with a waitlist", events.Items)
			}
			var np struct {
				Live  bool
				Track *struct{ Title string }
			}
			in.call(t, "GET", "/api/live/now-playing", "", nil, &np)
			if !np.Live || np.Track == nil {
				t.Errorf("now playing %+v", np)
			}
			var dj struct{ XP int64 }
			var djs struct {
				Items []struct{ Creator struct{ ID int64 } }
			}
			in.call(t, "GET", "/api/mixes", "", nil, &djs)
			in.call(t, "GET", "/api/users/"+strconv.FormatInt(djs.Items[0].Creator.ID, 10), "", nil, &dj)
			if dj.XP == 0 {
				t.Error("a creator has no XP from plays")
			}
			var wal struct{ Balance int64 }
			in.call(t, "GET", "/api/wallet", tok, nil, &wal)
			var txs struct{ Items []struct{ Kind string } }
			in.call(t, "GET", "/api/wallet/transactions", tok, nil, &txs)
			if wal.Balance <= 0 || len(txs.Items) < 2 {
				t.Errorf("demo wallet %d with %d transactions: want credits and a tip", wal.Balance, len(txs.Items))
			}
			var achs, owned struct{ Items []json.RawMessage }
			in.call(t, "GET", "/api/users/"+strconv.FormatInt(login.User.ID, 10)+"/achievements", "", nil, &achs)
			in.call(t, "GET", "/api/users/"+strconv.FormatInt(login.User.ID, 10)+"/collectibles", "", nil, &owned)
			if len(achs.Items) == 0 || len(owned.Items) == 0 {
				t.Errorf("demo user: %d achievements, %d collectibles", len(achs.Items), len(owned.Items))
			}
			var check struct{ OK bool }
			var adminLogin struct{ Token string }
			in.call(t, "POST", "/api/auth/login", "", map[string]string{"login": "demo_admin", "password": demo.Password}, &adminLogin)
			if code := in.call(t, "GET", "/api/admin/ledger/check", adminLogin.Token, nil, &check); code != 200 || !check.OK {
				t.Errorf("ledger check after seeding: %d %+v", code, check)
			}
		})
	}
}
