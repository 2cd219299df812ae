package community

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"
)

// newestPages keeps the newest page of each channel read lately current
// on write: a post is added to it rather than making it stale, so reads of
// a busy channel are answered from memory instead of missing the cache
// after every post (and each miss loading the page again).
//
// It holds this instance's writes only, so it is used when the cache is
// in-process (one instance); with Redis the cached page is shared and
// invalidated across instances as before. A page is dropped by any other
// change to its messages (edit, delete, reaction), shows a change to one
// of its authors at once (setAuthor: their account's cache tag was
// invalidated), and is reloaded after maxAge (what another instance
// without Redis may leave stale, as the short cache tier did).
//
// Exact under concurrent posts: the page is ordered by id, whatever order
// the posts' commits are applied in, and a post applied while the page is
// being loaded is merged into what the load read (it may or may not be in
// it), so no message is lost, doubled or misplaced.
//
// Each message is encoded once, when it enters the page (loaded or
// posted), and a page is put together from those encodings: a post costs
// one message's encoding, not the whole page's.
type newestPages struct {
	mu     sync.Mutex
	chans  map[int64]*newestPage
	maxAge time.Duration
	now    func() time.Time
	encode func(MessageView) ([]byte, error) // json.Marshal; tests count the calls
	// changes numbers the author changes begun (changing), and holds the
	// last one of each author still to be shown: a change whose read of
	// the account comes back after a later change began is not shown
	// (setAuthor), as the later one read the account after both.
	changes    map[int64]uint64
	lastChange uint64
	swept      time.Time // when read last forgot the pages past maxAge
}

type newestPage struct {
	kept     newestItems // newest first, at most MaxLimit
	loaded   bool
	loadedAt time.Time
	gen      int64          // bumped by every drop: a load begun before it is not kept
	loading  bool           // a load is under way
	early    newestItems    // posts applied while it runs
	pages    map[int][]byte // put together by limit, until the next change
	// authors of kept's messages, for setAuthor and dropUser (a member
	// whose last message fell off the page may stay until the next load).
	authors map[int64]struct{}
}

// newestItems are messages with their JSON, index for index. The slices
// are shared with readers once kept: a change makes new ones.
type newestItems struct {
	views []MessageView
	encs  [][]byte
}

func newNewestPages(now func() time.Time) *newestPages {
	return &newestPages{chans: map[int64]*newestPage{}, maxAge: 30 * time.Second, now: now,
		encode: func(v MessageView) ([]byte, error) { return json.Marshal(v) }, changes: map[int64]uint64{}}
}

// encode renders the first limit messages of views as the list route does.
func encodeNewest(views []MessageView, limit int) ([]byte, error) {
	return json.Marshal(page(views[:min(limit, len(views))], Page{Limit: limit}, func(v MessageView) int64 { return v.ID }))
}

// assemble is encodeNewest from the messages' own encodings: the same
// bytes, as json.Marshal writes a list's items each as it writes it alone
// (page and List say what surrounds them).
func (it newestItems) assemble(limit int) []byte {
	encs := it.encs[:min(limit, len(it.encs))]
	n := len(`{"items":[],"nextCursor":"12345678901234567890"}`) + len(encs)
	for _, e := range encs {
		n += len(e)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"items":[`...)
	for i, e := range encs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	b = append(b, ']')
	if len(encs) == limit && len(encs) > 0 {
		b = append(b, `,"nextCursor":"`...)
		b = strconv.AppendInt(b, it.views[len(encs)-1].ID, 10)
		b = append(b, '"')
	}
	return append(b, '}')
}

// encodeEach encodes every view (a page just loaded).
func (n *newestPages) encodeEach(views []MessageView) (newestItems, error) {
	it := newestItems{views: views, encs: make([][]byte, len(views))}
	for i, v := range views {
		b, err := n.encode(v)
		if err != nil {
			return newestItems{}, err
		}
		it.encs[i] = b
	}
	return it, nil
}

// read returns the channel's first page of limit messages (limit <=
// MaxLimit), loading the newest MaxLimit with load when it has none: the
// encoded page and the views it was encoded from, which are shared with
// every reader and must not be changed.
func (n *newestPages) read(ctx context.Context, channelID int64, limit int, load func(context.Context) ([]MessageView, error)) ([]byte, []MessageView, error) {
	n.mu.Lock()
	np := n.chans[channelID]
	if np != nil && n.fresh(np) {
		b := np.pages[limit]
		if b == nil {
			b = np.kept.assemble(limit)
			np.pages[limit] = b
		}
		views := np.kept.views[:min(limit, len(np.kept.views))]
		n.mu.Unlock()
		return b, views, nil
	}
	n.sweep()
	if np == nil {
		np = &newestPage{}
		n.chans[channelID] = np
	}
	gen, mine := np.gen, !np.loading
	if mine {
		np.loading, np.early = true, newestItems{}
	}
	n.mu.Unlock()

	views, err := load(ctx)
	if !mine {
		// Another load is under way: answer from this one, keep that one.
		if err != nil {
			return nil, nil, err
		}
		b, err := encodeNewest(views, limit)
		return b, views[:min(limit, len(views))], err
	}
	var it newestItems
	if err == nil {
		it, err = n.encodeEach(views) // outside the lock: readers of other channels wait for none of it
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	early := np.early
	np.loading, np.early = false, newestItems{}
	if err != nil {
		return nil, nil, err
	}
	it = mergeNewest(it, early)
	if np.gen == gen && n.chans[channelID] == np {
		np.kept, np.loaded, np.loadedAt, np.pages = it, true, n.now(), map[int][]byte{}
		np.authors = make(map[int64]struct{}, len(it.views))
		for _, v := range it.views {
			np.authors[v.Author.ID] = struct{}{}
		}
	}
	return it.assemble(limit), it.views[:min(limit, len(it.views))], nil
}

// mergeNewest adds posts to kept (newest first), each once, in id order,
// keeping the newest MaxLimit. It changes kept's slices in place.
func mergeNewest(kept, posts newestItems) newestItems {
	for j, v := range posts.views {
		i, found := slices.BinarySearchFunc(kept.views, v.ID, func(e MessageView, id int64) int {
			switch {
			case e.ID > id:
				return -1
			case e.ID < id:
				return 1
			}
			return 0
		})
		if found {
			continue
		}
		if i >= MaxLimit {
			continue // older than the whole page
		}
		kept.views = slices.Insert(kept.views, i, v)
		kept.encs = slices.Insert(kept.encs, i, posts.encs[j])
		if len(kept.views) > MaxLimit {
			kept.views, kept.encs = kept.views[:MaxLimit], kept.encs[:MaxLimit]
		}
	}
	return kept
}

// fresh reports whether np's kept page answers reads: loaded less than
// maxAge ago.
func (n *newestPages) fresh(np *newestPage) bool {
	return np.loaded && n.now().Sub(np.loadedAt) < n.maxAge
}

// expired reports whether np is a kept page the next read loads again,
// with no load under way.
func (n *newestPages) expired(np *newestPage) bool {
	return np.loaded && !np.loading && !n.fresh(np)
}

// sweep forgets the pages past maxAge, at most once per maxAge (on a
// read's miss, with n.mu held): a channel read once and never again
// would otherwise keep its page, and every post to it its encoding.
func (n *newestPages) sweep() {
	now := n.now()
	if now.Sub(n.swept) < n.maxAge {
		return
	}
	n.swept = now
	for id, np := range n.chans {
		if n.expired(np) {
			n.forget(id, np)
		}
	}
}

// add puts a just-committed post in its channel's page.
func (n *newestPages) add(v MessageView) {
	n.mu.Lock()
	np, read := n.chans[v.ChannelID]
	if read && n.expired(np) {
		n.forget(v.ChannelID, np) // the next read loads it, post included
		read = false
	}
	n.mu.Unlock()
	if !read {
		return // not read lately: the next read loads it, post included
	}
	enc, err := n.encode(v) // outside the lock, as loads are
	n.mu.Lock()
	defer n.mu.Unlock()
	np = n.chans[v.ChannelID]
	if np == nil {
		return // dropped meanwhile: the next read loads it, post included
	}
	if err != nil {
		// Not kept unencoded: the next read loads the page again (and
		// reports what does not encode, as a read always has).
		n.forget(v.ChannelID, np)
		return
	}
	post := newestItems{views: []MessageView{v}, encs: [][]byte{enc}}
	if np.loading {
		np.early.views = append(np.early.views, v)
		np.early.encs = append(np.early.encs, enc)
	}
	if np.loaded {
		// Copies (with room for the post): a reader may still be using
		// the old slices.
		c := newestItems{
			views: append(make([]MessageView, 0, len(np.kept.views)+1), np.kept.views...),
			encs:  append(make([][]byte, 0, len(np.kept.encs)+1), np.kept.encs...),
		}
		np.kept = mergeNewest(c, post)
		np.authors[v.Author.ID] = struct{}{}
		clear(np.pages)
	}
}

// drop forgets a channel's page (a message in it changed otherwise than
// by a post); a load under way is not kept.
func (n *newestPages) drop(channelID int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if np := n.chans[channelID]; np != nil {
		n.forget(channelID, np)
	}
}

// changing begins the showing of a change to user's account, which just
// committed: it returns the change's number for setAuthor or dropUser,
// and whether a kept page shows user or a page is being loaded (which
// may come to show them). When none does there is nothing to show, and
// a change to them begun earlier is not shown either (a page that comes
// to show them is loaded after this change committed).
func (n *newestPages) changing(user int64) (uint64, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lastChange++
	for _, np := range n.chans {
		if _, shown := np.authors[user]; shown || np.loading {
			n.changes[user] = n.lastChange
			return n.lastChange, true
		}
	}
	delete(n.changes, user)
	return 0, false
}

// done reports whether change is the last change to user begun, and if
// so forgets it. With n.mu held.
func (n *newestPages) done(user int64, change uint64) bool {
	if n.changes[user] != change {
		return false
	}
	delete(n.changes, user)
	return true
}

// setAuthor shows a, an author whose account just changed (a level
// reached by any award, a profile edit) and was read for change
// (changing), beside their messages in every kept page: those messages
// are encoded again, the page's other messages are kept as they are. A
// page being loaded is dropped instead (the load may have read the old
// author). Reloading each page that shows them instead (dropUser) made
// every new member's first post, whose achievement levels them up, cost
// their channel's next reader a reload. A change begun after this one
// read the account later: this one's read is left for it.
func (n *newestPages) setAuthor(a Author, change uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.done(a.ID, change) {
		return
	}
	for id, np := range n.chans {
		if np.loading {
			n.forget(id, np)
			continue
		}
		if _, shown := np.authors[a.ID]; !shown || !showsOther(np.kept.views, a) {
			continue // nothing shown changed (a session touched, a password changed)
		}
		// Copies: a reader may still be using the old slices.
		c := newestItems{views: slices.Clone(np.kept.views), encs: slices.Clone(np.kept.encs)}
		for i := range c.views {
			if c.views[i].Author.ID != a.ID || c.views[i].Author == a {
				continue
			}
			c.views[i].Author = a
			enc, err := n.encode(c.views[i])
			if err != nil {
				n.forget(id, np) // the next read loads it and reports what does not encode
				break
			}
			c.encs[i] = enc
		}
		if n.chans[id] == np && np.loaded {
			np.kept = c
			clear(np.pages)
		}
	}
}

// showsOther reports whether views show a's author otherwise than as a.
func showsOther(views []MessageView, a Author) bool {
	for _, v := range views {
		if v.Author.ID == a.ID && v.Author != a {
			return true
		}
	}
	return false
}

// dropUser forgets the pages that show user and any page being loaded
// (for change, a change to them that setAuthor cannot show: their
// account did not load). Dropping shows nothing stale, whichever change
// is the last.
func (n *newestPages) dropUser(user int64, change uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.done(user, change)
	for id, np := range n.chans {
		if _, shown := np.authors[user]; shown || np.loading {
			n.forget(id, np)
		}
	}
}

// forget is drop with n.mu held.
func (n *newestPages) forget(channelID int64, np *newestPage) {
	np.gen++
	np.kept, np.loaded, np.pages, np.authors = newestItems{}, false, nil, nil
	if !np.loading {
		delete(n.chans, channelID)
	}
}
