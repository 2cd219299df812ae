package community

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/batch"
)

// newestViews are n messages of channel 7, newest first, with what JSON
// escapes (quotes, HTML, control and non-ASCII text), an edit, reactions.
func newestViews(n int) []MessageView {
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	views := make([]MessageView, n)
	for i := range views {
		id := int64(1000 + n - i)
		v := MessageView{ID: id, ChannelID: 7, Body: fmt.Sprintf("message %d: \"<b>&</b>\" \u2028 caf\u00e9 \t", id),
			CreatedAt: t0.Add(time.Duration(id) * time.Second),
			Author:    Author{ID: id % 5, Username: "dj_<x>", DisplayName: "DJ & Co", AvatarURL: "https://cdn.example.com/a.png?x=1&y=2", Level: int(id % 30)},
			Reactions: []ReactionCount{}}
		if i%7 == 3 {
			ed := v.CreatedAt.Add(90 * time.Second)
			v.EditedAt = &ed
			v.Reactions = []ReactionCount{{Emoji: "🔥", Count: 2}, {Emoji: "👍", Count: 1}}
		}
		views[i] = v
	}
	return views
}

func loadOf(views []MessageView) func(context.Context) ([]MessageView, error) {
	return func(context.Context) ([]MessageView, error) { return append([]MessageView(nil), views...), nil }
}

// TestNewestPageAssembledAsMarshalled: a page put together from its
// messages' own encodings is byte for byte what json.Marshal makes of the
// whole page (the route's bytes), for every length and limit: empty,
// shorter than the limit (no cursor), exactly the limit (a cursor).
func TestNewestPageAssembledAsMarshalled(t *testing.T) {
	n := newNewestPages(time.Now)
	for _, size := range []int{0, 1, 2, 49, 50, 51, MaxLimit} {
		views := newestViews(size)
		it, err := n.encodeEach(views)
		if err != nil {
			t.Fatal(err)
		}
		for limit := 1; limit <= MaxLimit; limit++ {
			want, err := encodeNewest(views, limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := it.assemble(limit); string(got) != string(want) {
				t.Fatalf("%d messages, limit %d:\n got %s\nwant %s", size, limit, got, want)
			}
		}
	}
}

// TestNewestPostEncodesOneMessage: a post to a page kept in memory costs
// the encoding of that one message, not of the page; reads between posts
// encode nothing; and the page read is exactly what encoding it whole
// gives.
func TestNewestPostEncodesOneMessage(t *testing.T) {
	n := newNewestPages(time.Now)
	encoded := 0
	n.encode = func(v MessageView) ([]byte, error) {
		encoded++
		return json.Marshal(v)
	}
	views := newestViews(MaxLimit)
	ctx := context.Background()
	if _, _, err := n.read(ctx, 7, 50, loadOf(views)); err != nil {
		t.Fatal(err)
	}
	if encoded != MaxLimit {
		t.Fatalf("loading the page encoded %d messages, want %d", encoded, MaxLimit)
	}
	for i := range 5 {
		before := encoded
		post := newestViews(MaxLimit + 1 + i)[0] // newer than any kept
		n.add(post)
		views = append([]MessageView{post}, views[:MaxLimit-1]...)
		for _, limit := range []int{50, 50, 100, 10} {
			got, gotViews, err := n.read(ctx, 7, limit, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := encodeNewest(views, limit)
			if string(got) != string(want) {
				t.Fatalf("post %d, limit %d: page differs from the whole page encoded:\n got %s\nwant %s", i, limit, got, want)
			}
			if len(gotViews) != min(limit, len(views)) || gotViews[0].ID != post.ID {
				t.Fatalf("post %d, limit %d: %d views, first %d", i, limit, len(gotViews), gotViews[0].ID)
			}
		}
		if encoded-before != 1 {
			t.Fatalf("post %d and four reads encoded %d messages, want 1", i, encoded-before)
		}
	}
}

// TestNewestPostAndReadAllocateLittle: a post and the read after it
// allocate a few slices (6), not the encoding of the fifty messages shown
// (59 when the page was encoded whole after every post).
func TestNewestPostAndReadAllocateLittle(t *testing.T) {
	n := newNewestPages(time.Now)
	views := newestViews(MaxLimit)
	ctx := context.Background()
	if _, _, err := n.read(ctx, 7, 50, loadOf(views)); err != nil {
		t.Fatal(err)
	}
	post := newestViews(MaxLimit + 1)[0]
	allocs := testing.AllocsPerRun(50, func() {
		post.ID++
		n.add(post)
		if _, _, err := n.read(ctx, 7, 50, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 20 {
		t.Fatalf("a post and a read allocate %.0f times, want at most 20", allocs)
	}
}

// BenchmarkNewestPostThenRead is what a post costs the newest page kept
// in memory, with the read after it that renders the page of 50 again.
//
//	go test ./internal/community -run '^$' -bench NewestPostThenRead -count 5
func BenchmarkNewestPostThenRead(b *testing.B) {
	n := newNewestPages(time.Now)
	ctx := context.Background()
	if _, _, err := n.read(ctx, 7, 50, loadOf(newestViews(MaxLimit))); err != nil {
		b.Fatal(err)
	}
	post := newestViews(MaxLimit + 1)[0]
	b.ReportAllocs()
	for b.Loop() {
		post.ID++
		n.add(post)
		if _, _, err := n.read(ctx, 7, 50, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNewestAuthorChangeKeepsOtherPages: a change to an author is shown
// in the pages that show them without loading any page again (their
// messages encoded anew, the page's bytes those of a fresh encoding);
// pages without them are untouched; dropUser forgets only the pages that
// show them.
func TestNewestAuthorChangeKeepsOtherPages(t *testing.T) {
	n := newNewestPages(time.Now)
	ctx := context.Background()
	msg := func(ch, id, author int64, level int) MessageView {
		return MessageView{ID: id, ChannelID: ch, Body: "hi", CreatedAt: time.Unix(id, 0).UTC(),
			Author: Author{ID: author, Username: fmt.Sprint("u", author), Level: level}, Reactions: []ReactionCount{}}
	}
	pages := map[int64][]MessageView{
		1: {msg(1, 12, 42, 2), msg(1, 11, 7, 5)}, // 42's
		2: {msg(2, 22, 7, 5), msg(2, 21, 8, 1)},  // not 42's
		3: {msg(3, 32, 9, 3), msg(3, 31, 42, 2)}, // 42's, below another's
	}
	loads := map[int64]int{}
	read := func(ch int64) ([]byte, []MessageView) {
		t.Helper()
		b, views, err := n.read(ctx, ch, 50, func(ctx context.Context) ([]MessageView, error) {
			loads[ch]++
			return loadOf(pages[ch])(ctx)
		})
		if err != nil || len(views) != len(pages[ch]) {
			t.Fatalf("channel %d: %d views (%v), want %d", ch, len(views), err, len(pages[ch]))
		}
		return b, views
	}
	for ch := range pages {
		read(ch)
	}
	_, before := read(2)
	renamed := Author{ID: 42, Username: "u42", DisplayName: "Forty-Two", Level: 3}
	n.changeTo(renamed)
	for ch, views := range pages {
		b, got := read(ch)
		for i := range views {
			if views[i].Author.ID == 42 {
				views[i].Author = renamed
			}
		}
		if want, _ := encodeNewest(views, 50); string(b) != string(want) {
			t.Errorf("channel %d after the change:\n%s\nwant\n%s", ch, b, want)
		}
		if fmt.Sprint(got) != fmt.Sprint(views) {
			t.Errorf("channel %d views %v, want %v", ch, got, views)
		}
	}
	if _, after := read(2); &after[0] != &before[0] {
		t.Error("the page without 42 was rebuilt")
	}
	if want := map[int64]int{1: 1, 2: 1, 3: 1}; fmt.Sprint(loads) != fmt.Sprint(want) {
		t.Errorf("loads per channel %v, want %v (none loaded again)", loads, want)
	}
	_, kept := read(1)
	n.changeTo(renamed) // as shown already (a session touched): nothing to do
	if _, again := read(1); &again[0] != &kept[0] {
		t.Error("a change that changes nothing shown rebuilt the page")
	}
	n.dropUser(42, 0)
	for ch := range pages {
		read(ch)
	}
	if want := map[int64]int{1: 2, 2: 1, 3: 2}; fmt.Sprint(loads) != fmt.Sprint(want) {
		t.Errorf("loads per channel after dropUser %v, want %v (only the pages showing 42 loaded again)", loads, want)
	}
}

// TestNewestAuthorChangesRaceWithPosts: author changes applied while
// posts by that author and others are added and the page is read leave
// the page exact: in id order, every post in it once, and after the last
// change every message of the author showing them as they are, the bytes
// those of the whole page encoded afresh.
func TestNewestAuthorChangesRaceWithPosts(t *testing.T) {
	n := newNewestPages(time.Now)
	ctx := context.Background()
	at := func(level int) Author { return Author{ID: 42, Username: "u42", Level: level} }
	msg := func(id, author int64) MessageView {
		a := Author{ID: author, Username: fmt.Sprint("u", author), Level: 1}
		if author == 42 {
			a = at(1)
		}
		return MessageView{ID: id, ChannelID: 5, Body: fmt.Sprint("m", id), CreatedAt: time.Unix(id, 0).UTC(), Author: a, Reactions: []ReactionCount{}}
	}
	if _, _, err := n.read(ctx, 5, 50, loadOf([]MessageView{msg(2, 42), msg(1, 7)})); err != nil {
		t.Fatal(err)
	}
	const posts = 40
	var wg sync.WaitGroup
	for i := range posts {
		wg.Go(func() { n.add(msg(int64(10+i), int64(42-35*(i%2)))) }) // 42 and 7 in turn
	}
	for level := 2; level <= 6; level++ {
		wg.Go(func() { n.changeTo(at(level)) })
	}
	for range 8 {
		wg.Go(func() {
			_, views, err := n.read(ctx, 5, 50, nil)
			if err != nil {
				t.Error(err)
				return
			}
			for i := 1; i < len(views); i++ {
				if views[i].ID >= views[i-1].ID {
					t.Errorf("page out of order: %d after %d", views[i].ID, views[i-1].ID)
				}
			}
		})
	}
	wg.Wait()
	n.changeTo(at(9))
	b, views, err := n.read(ctx, 5, MaxLimit, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != posts+2 {
		t.Fatalf("%d messages on the page, want %d", len(views), posts+2)
	}
	want := make([]MessageView, 0, posts+2)
	for id := int64(10 + posts - 1); id >= 10; id-- {
		want = append(want, msg(id, int64(42-35*((id-10)%2))))
	}
	want = append(want, msg(2, 42), msg(1, 7))
	for i := range want {
		if want[i].Author.ID == 42 {
			want[i].Author = at(9)
		}
	}
	if fmt.Sprint(views) != fmt.Sprint(want) {
		t.Fatalf("page after the last change:\n%v\nwant\n%v", views, want)
	}
	if enc, _ := encodeNewest(want, MaxLimit); string(b) != string(enc) {
		t.Fatalf("page bytes differ from the page encoded whole:\n%s\nwant\n%s", b, enc)
	}
}

// TestNewestAuthorChangesShownInOrder: two changes to one account follow
// each other, and the first change's read of the account (begun before
// the second committed) comes back only after the second change was
// shown: the page keeps showing the second, the account as it is, not
// the first change's older read.
func TestNewestAuthorChangesShownInOrder(t *testing.T) {
	ctx := context.Background()
	level := 1 // the account's level in the "database"
	var mu sync.Mutex
	firstRead, firstBack := make(chan struct{}), make(chan struct{})
	reads := 0
	users := func(ctx context.Context, ids []int64) (map[int64]account.User, error) {
		mu.Lock()
		reads++
		u := account.User{ID: 42, Username: "u42", Level: level}
		first := reads == 1
		mu.Unlock()
		if first { // read level 2, then held back until the second change is shown
			close(firstRead)
			<-firstBack
		}
		return map[int64]account.User{42: u}, nil
	}
	s := &Service{Deps: Deps{Users: func() *batch.Loader[int64, account.User] { return batch.New(users, 10, 0) },
		AssetURL: func(p string) string { return p }}, newest: newNewestPages(time.Now)}
	msg := MessageView{ID: 1, ChannelID: 5, Body: "hi", CreatedAt: time.Unix(1, 0).UTC(), Author: Author{ID: 42, Username: "u42", Level: 1}, Reactions: []ReactionCount{}}
	if _, _, err := s.newest.read(ctx, 5, 50, loadOf([]MessageView{msg})); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	level = 2
	mu.Unlock()
	done := make(chan struct{})
	go func() { s.authorChanged(42); close(done) }() // the first change
	<-firstRead
	mu.Lock()
	level = 3
	mu.Unlock()
	s.authorChanged(42) // the second change, shown at once
	close(firstBack)
	<-done
	_, views, err := s.newest.read(ctx, 5, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := views[0].Author.Level; got != 3 {
		t.Fatalf("the page shows level %d after the account reached level 3", got)
	}
}

// changeTo shows a as Service.authorChanged does once it read them.
func (n *newestPages) changeTo(a Author) {
	change, _ := n.changing(a.ID)
	n.setAuthor(a, change)
}

// TestNewestPagesForgottenPastMaxAge: a page past maxAge, which its next
// read loads again, is not kept current by posts (no encoding) and is
// forgotten, by the post or by a later read's sweep: channels read once
// hold no memory for ever.
func TestNewestPagesForgottenPastMaxAge(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	n := newNewestPages(func() time.Time { return now })
	encodes := 0
	n.encode = func(v MessageView) ([]byte, error) { encodes++; return json.Marshal(v) }
	for ch := int64(1); ch <= 3; ch++ {
		if _, _, err := n.read(ctx, ch, 10, loadOf(nil)); err != nil {
			t.Fatal(err)
		}
	}
	post := MessageView{ID: 9, ChannelID: 1, Body: "hi", Reactions: []ReactionCount{}}
	n.add(post)
	if encodes != 1 || len(n.chans[1].kept.views) != 1 {
		t.Fatalf("a post to a fresh page: %d encodings, page %+v", encodes, n.chans[1].kept.views)
	}
	now = now.Add(n.maxAge)
	n.add(post)
	if _, kept := n.chans[1]; kept || encodes != 1 {
		t.Fatalf("a post to a page past maxAge: kept %v, %d encodings (want forgotten, none)", kept, encodes)
	}
	if _, _, err := n.read(ctx, 4, 10, loadOf(nil)); err != nil {
		t.Fatal(err)
	}
	if len(n.chans) != 1 || n.chans[4] == nil {
		t.Fatalf("after a read past maxAge the pages of channels %v are kept, want only 4's", slices.Sorted(maps.Keys(n.chans)))
	}
}
