package httpapi_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestNewestPageStaysCurrentUnderParallelPosts: the newest page of a
// channel is kept current on write, not invalidated. Posts from several
// users at once, with readers reading the first page meanwhile: every
// page read is in id order with no gap among what it shows (a message
// missing between two it shows would be a lost post), and at the end the
// page equals the database's newest messages exactly.
func TestNewestPageStaysCurrentUnderParallelPosts(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_RATE_API", "off"), withEnv("PLAZA_RATE_STRICT", "off"))
		adminTok, _ := e.admin("boss")
		path := e.messagesPath(adminTok, "Busy")
		const posters, each = 6, 15
		var toks []string
		for i := range posters {
			tok, _ := e.signup(fmt.Sprintf("poster%d", i))
			toks = append(toks, tok)
		}
		type list struct{ Items []community.MessageView }
		// A first read loads the page: from now on posts are added to it.
		e.must(200, e.do("GET", path, nil, toks[0]))

		var mu sync.Mutex
		var posted []int64
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var readErr error
		var readers sync.WaitGroup
		for r := range 3 {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					seen := map[int64]bool{}
					for _, id := range posted {
						seen[id] = true
					}
					mu.Unlock()
					var l list
					res := e.do("GET", path+"?limit=100", nil, toks[r])
					if res.status != 200 {
						continue
					}
					res.json(&l)
					for i := 1; i < len(l.Items); i++ {
						if l.Items[i].ID >= l.Items[i-1].ID {
							mu.Lock()
							readErr = fmt.Errorf("page out of order: %d after %d", l.Items[i].ID, l.Items[i-1].ID)
							mu.Unlock()
						}
					}
					// Every post acknowledged before this read began and newer
					// than the oldest shown must be shown.
					if len(l.Items) > 0 {
						shown := map[int64]bool{}
						for _, m := range l.Items {
							shown[m.ID] = true
						}
						for id := range seen {
							if id > l.Items[len(l.Items)-1].ID && !shown[id] {
								mu.Lock()
								readErr = fmt.Errorf("acknowledged post %d missing from a page read after it", id)
								mu.Unlock()
							}
						}
					}
				}
			}()
		}
		for p := range posters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					var m community.MessageView
					res := e.do("POST", path, map[string]string{"body": fmt.Sprintf("p%d m%d", p, i)}, toks[p])
					if res.status != 201 {
						t.Errorf("post: %d %s", res.status, res.body)
						return
					}
					res.json(&m)
					mu.Lock()
					posted = append(posted, m.ID)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(stop)
		readers.Wait()
		if readErr != nil {
			t.Fatal(readErr)
		}
		var l list
		e.must(200, e.do("GET", path+"?limit=100", nil, toks[0])).json(&l)
		slices.Sort(posted)
		slices.Reverse(posted)
		if len(l.Items) != posters*each {
			t.Fatalf("page holds %d messages, %d posted", len(l.Items), posters*each)
		}
		for i, m := range l.Items {
			if m.ID != posted[i] {
				t.Fatalf("page[%d] = %d, want %d", i, m.ID, posted[i])
			}
		}
		// The same page as the database gives (older pages are read
		// from it directly): one past the newest is the whole list.
		var fromDB list
		e.must(200, e.do("GET", fmt.Sprintf("%s?limit=100&before=%d", path, posted[0]+1), nil, toks[0])).json(&fromDB)
		if len(fromDB.Items) != len(l.Items) {
			t.Fatalf("database page %d items, cached %d", len(fromDB.Items), len(l.Items))
		}
		for i := range l.Items {
			a, b := l.Items[i], fromDB.Items[i]
			if a.ID != b.ID || a.Body != b.Body || a.Author != b.Author || len(a.Reactions) != len(b.Reactions) {
				t.Fatalf("item %d: cached %+v, database %+v", i, a, b)
			}
		}
		// An edit and a reaction are shown at once (they drop the page).
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/community/messages/%d", posted[3]), map[string]string{"body": "edited"}, adminTok))
		e.must(200, e.do("GET", path, nil, toks[0])).json(&l)
		if l.Items[3].Body != "edited" {
			t.Fatalf("edit not shown: %+v", l.Items[3])
		}
	})
}

// TestNewestPageDropsRemovedMessage: a message a moderator removes is gone
// from the channel's newest page at the next read, also when that page is
// the one kept current in memory (a read loaded it before the removal):
// "removing content hides it everywhere".
func TestNewestPageDropsRemovedMessage(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("chief")
		modTok := e.modUser(adminTok, "mona")
		authorTok, _ := e.signup("spammer")
		aTok, _ := e.signup("alice")
		path := e.messagesPath(adminTok, "General")
		var keep, spam struct{ ID int64 }
		e.must(201, e.do("POST", path, map[string]string{"body": "hello"}, aTok)).json(&keep)
		e.must(201, e.do("POST", path, map[string]string{"body": "buy now"}, authorTok)).json(&spam)
		ids := func() []int64 {
			var l struct{ Items []struct{ ID int64 } }
			e.must(200, e.do("GET", path, nil, aTok)).json(&l)
			var out []int64
			for _, m := range l.Items {
				out = append(out, m.ID)
			}
			return out
		}
		if got := ids(); !slices.Equal(got, []int64{spam.ID, keep.ID}) { // the page is loaded now
			t.Fatalf("before: %v", got)
		}
		var r struct{ ID int64 }
		e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": spam.ID, "reason": "spam"}, aTok)).json(&r)
		e.must(200, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r.ID), map[string]string{"action": "remove"}, modTok))
		if got := ids(); !slices.Equal(got, []int64{keep.ID}) {
			t.Fatalf("after the removal the newest page lists %v, want only %d", got, keep.ID)
		}
	})
}

// TestNewestPageFollowsItsAuthors: the newest page kept in memory, and
// the author's own session, show an author's new name and level at once,
// whatever changed them: a profile edit, or XP from an achievement (here
// granted by hand), not only a post's own level-up.
func TestNewestPageFollowsItsAuthors(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("host")
		aliceTok, alice := e.signup("alice")
		path := e.messagesPath(adminTok, "Names")
		type author struct {
			DisplayName string
			Level       int
		}
		var posted struct{ Author author }
		e.must(201, e.do("POST", path, map[string]string{"body": "hello"}, aliceTok)).json(&posted)
		newest := func() author {
			t.Helper()
			var l struct{ Items []struct{ Author author } }
			e.must(200, e.do("GET", path, nil, adminTok)).json(&l)
			if len(l.Items) == 0 {
				t.Fatal("no messages")
			}
			return l.Items[len(l.Items)-1].Author // alice's first
		}
		before := newest() // the page is loaded now
		if before.DisplayName == "Alice Renamed" {
			t.Fatalf("before: %+v", before)
		}
		e.must(200, e.do("PATCH", "/api/users/me", map[string]string{"displayName": "Alice Renamed"}, aliceTok))
		if a := newest(); a.DisplayName != "Alice Renamed" {
			t.Fatalf("after the profile edit the newest page shows %+v", a)
		}
		var big struct{ ID int64 }
		e.must(201, e.do("POST", "/api/admin/achievements", map[string]any{"slug": "patron", "name": "Patron", "rarity": "epic", "xp": 500,
			"description": "Kept the lights on."}, adminTok)).json(&big)
		e.must(201, e.do("POST", fmt.Sprintf("/api/admin/achievements/%d/grant", big.ID), map[string]any{"userId": alice.ID}, adminTok))
		var me struct{ Level int }
		e.must(200, e.do("GET", "/api/users/me", nil, aliceTok)).json(&me)
		if me.Level <= before.Level {
			t.Fatalf("500 xp left alice at level %d (was %d)", me.Level, before.Level)
		}
		if a := newest(); a.Level != me.Level {
			t.Fatalf("after the achievement the newest page shows %+v, want level %d", a, me.Level)
		}
		var m struct{ Author author }
		e.must(201, e.do("POST", path, map[string]string{"body": "again"}, aliceTok)).json(&m)
		if m.Author.Level != me.Level {
			t.Fatalf("her next post shows level %d from her cached session, want %d", m.Author.Level, me.Level)
		}
	})
}

// TestNewestPageShowsFirstPostAtTheLevelItsAwardReached: a member's first
// post earns the first-message achievement, whose XP moves them up a
// level (in the post's own transaction on SQLite, from the queue on
// MySQL). The channel's newest page, kept in memory since an earlier
// read, shows that post at the level the member has now, as a fresh
// load of the page does, not at the level their session had before.
func TestNewestPageShowsFirstPostAtTheLevelItsAwardReached(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_RATE_API", "off"), withEnv("PLAZA_TEST_ACHIEVEMENT_RULES", "on"))
		adminTok, _ := e.admin("host")
		path := e.messagesPath(adminTok, "Welcome")
		e.must(201, e.do("POST", path, map[string]string{"body": "welcome all"}, adminTok))
		e.must(200, e.do("GET", path, nil, adminTok)) // the page is kept from now on
		newTok, newbie := e.signup("newbie")
		var first struct{ ID int64 }
		e.must(201, e.do("POST", path, map[string]string{"body": "hi, I am new"}, newTok)).json(&first)
		shown := func() (page, me int) {
			var l struct {
				Items []struct {
					ID     int64
					Author struct{ ID, Level int64 }
				}
			}
			e.must(200, e.do("GET", path, nil, adminTok)).json(&l)
			var u struct{ Level int }
			e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d", newbie.ID), nil, adminTok)).json(&u)
			for _, m := range l.Items {
				if m.ID == first.ID {
					return int(m.Author.Level), u.Level
				}
			}
			t.Fatalf("first post %d not on the page", first.ID)
			return 0, 0
		}
		deadline := time.Now().Add(5 * time.Second) // MySQL awards from the queue
		for {
			page, me := shown()
			if page == me && me > 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the newest page shows the first post at level %d; its author is at level %d", page, me)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestFirstPostIntoAKeptPageReadsNoOne: a member's first post, whose
// achievement levels them up (in the post's transaction on SQLite), costs
// no read of them when it joins a newest page kept in memory: the message
// carries the new level already. The same statements as a first post to a
// channel nobody has read.
func TestFirstPostIntoAKeptPageReadsNoOne(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_RATE_API", "off"), withEnv("PLAZA_TEST_ACHIEVEMENT_RULES", "on"),
			withEnv("PLAZA_JOB_POLL", "1h")) // the workers woken by each enqueue: no polls among the statements counted
		adminTok, _ := e.admin("host")
		channel := func(name string) string {
			path := e.messagesPath(adminTok, name)
			e.must(201, e.do("POST", path, map[string]string{"body": "welcome"}, adminTok))
			return path
		}
		kept, unread := channel("Kept"), channel("Unread")
		e.must(200, e.do("GET", kept, nil, adminTok)) // kept in memory from now on
		firstPost := func(path, user string) (statements int64, level int) {
			tok, _ := e.signup(user)
			e.must(200, e.do("GET", "/api/users/me", nil, tok)) // their session cached, as a member's is
			for n := int64(-1); n != db.Queries(); time.Sleep(100 * time.Millisecond) {
				n = db.Queries() // until the sign-up's mail job has completed
			}
			before := db.Queries()
			var m struct{ Author struct{ Level int } }
			e.must(201, e.do("POST", path, map[string]string{"body": "hi, I am new"}, tok)).json(&m)
			return db.Queries() - before, m.Author.Level
		}
		keptStatements, keptLevel := firstPost(kept, "newbie1")
		unreadStatements, unreadLevel := firstPost(unread, "newbie2")
		if keptStatements != unreadStatements || keptLevel != unreadLevel {
			t.Fatalf("first post into a kept page: %d statements, level %d; into an unread channel: %d, level %d",
				keptStatements, keptLevel, unreadStatements, unreadLevel)
		}
	})
}

// messagesPath creates a public channel named name as tok (an admin's)
// and returns the route of its messages.
func (e *env) messagesPath(tok, name string) string {
	var ch channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": name}, tok)).json(&ch)
	return fmt.Sprintf("/api/community/channels/%d/messages", ch.ID)
}
