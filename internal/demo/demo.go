// Package demo fills an empty Plaza with a believable community for trying
// it (`plaza seed-demo`): people with XP and levels, channels with history,
// DMs, shouts, reactions, courses, mixes, events and now playing. Every
// piece is made through the same services the API uses, so XP comes from
// the ledger's rules (messages, reactions, lessons, attendance, plays),
// never from written totals.
//
// The seeder is a list of steps, one per domain, each in its own file
// (users.go, community.go, ...). A new domain adds a file with a
// func(ctx, *Env) error and one line to Steps.
package demo

import (
	"context"
	"errors"
	"fmt"
	"github.com/plazahq/plaza/internal/achievements"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Step is one domain's part of the demo.
type Step struct {
	Name string
	Run  func(ctx context.Context, e *Env) error
}

// Steps run in order; later steps use what earlier ones made (Env).
// The collectibles come before anything that may meet an achievement's
// rule: an award grants the collectibles of its achievement that exist
// then (the pin of the first message), never later ones.
var Steps = []Step{
	{"users", seedUsers},
	{"collectibles", seedCollectibles},
	{"community", seedCommunity},
	{"courses", seedCourses},
	{"mixes", seedMixes},
	{"events", seedEvents},
	{"now playing", seedLive},
	{"achievements", seedAchievements},
	{"wallets", seedWallets},
}

// Password is every demo account's password.
const Password = "plaza demo password"

// Env is what steps share: the services and what earlier steps made.
type Env struct {
	App *app.App
	DB  *sqldb.DB
	Now time.Time
	Rnd *rand.Rand
	Out io.Writer
	// Suffix is added to every demo username and email: empty on an empty
	// database, a run tag when --force adds a second demo beside others.
	Suffix string

	Admin    account.User   // signs in as demo_admin
	Demo     account.User   // signs in as demo_user
	Creators []account.User // role creator: mixes, events, now playing
	Users    []account.User // everyone, admin and demo included

	Channels     []int64
	Mixes        []int64
	Collectibles []achievements.Collectible
}

// Progress prints one line of progress.
func (e *Env) Progress(format string, args ...any) {
	if e.Out != nil {
		fmt.Fprintf(e.Out, "  "+format+"\n", args...)
	}
}

// pick returns a random user other than not (0: anyone).
func (e *Env) pick(not int64) account.User {
	for {
		u := e.Users[e.Rnd.IntN(len(e.Users))]
		if u.ID != not {
			return u
		}
	}
}

// ErrNotEmpty is returned when the database already has users and force
// was not asked for.
var ErrNotEmpty = errors.New("the database already has users; seed-demo fills only an empty one (use --force to add the demo anyway)")

// Run seeds the demo. It refuses a database that already has users unless
// force; with force, it adds the demo beside them (demo usernames must be
// free).
func Run(ctx context.Context, e *Env, force bool) error {
	var n int
	if err := e.DB.Fresh().QueryRow(ctx, []any{&n}, `SELECT COUNT(*) FROM users`); err != nil {
		return err
	}
	if n > 0 && !force {
		return ErrNotEmpty
	}
	if n > 0 && e.Suffix == "" {
		e.Suffix = "_" + strconv.FormatInt(time.Now().Unix()%1_000_000, 36)
	}
	if e.Now.IsZero() {
		e.Now = time.Now()
	}
	if e.Rnd == nil {
		e.Rnd = rand.New(rand.NewPCG(42, uint64(e.Now.UnixNano())))
	}
	for i, s := range Steps {
		if e.Out != nil {
			fmt.Fprintf(e.Out, "[%d/%d] %s\n", i+1, len(Steps), s.Name)
		}
		if err := s.Run(ctx, e); err != nil {
			return fmt.Errorf("seed-demo: %s: %w", s.Name, err)
		}
	}
	return nil
}

// slug is s with the run's suffix, in slug form.
func (e *Env) slug(s string) string { return s + strings.ReplaceAll(e.Suffix, "_", "-") }
