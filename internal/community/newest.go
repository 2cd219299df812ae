package community

import (
	"context"
	"encoding/json"
	"slices"
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
// invalidated across instances as before. A page is reloaded after maxAge
// (what another instance without Redis, or a profile change, may leave
// stale, as the short cache tier did) and dropped by any other change to
// its messages (edit, delete, reaction).
//
// Exact under concurrent posts: the page is ordered by id, whatever order
// the posts' commits are applied in, and a post applied while the page is
// being loaded is merged into what the load read (it may or may not be in
// it), so no message is lost, doubled or misplaced.
type newestPages struct {
	mu     sync.Mutex
	chans  map[int64]*newestPage
	maxAge time.Duration
	now    func() time.Time
}

type newestPage struct {
	views    []MessageView // newest first, at most MaxLimit
	loaded   bool
	loadedAt time.Time
	gen      int64         // bumped by every drop: a load begun before it is not kept
	loading  bool          // a load is under way
	early    []MessageView // posts applied while it runs
	enc      map[int][]byte
}

func newNewestPages(now func() time.Time) *newestPages {
	return &newestPages{chans: map[int64]*newestPage{}, maxAge: 30 * time.Second, now: now}
}

// encode renders the first limit messages of views as the list route does.
func encodeNewest(views []MessageView, limit int) ([]byte, error) {
	return json.Marshal(page(views[:min(limit, len(views))], Page{Limit: limit}, func(v MessageView) int64 { return v.ID }))
}

// read returns the channel's first page of limit messages (limit <=
// MaxLimit), loading the newest MaxLimit with load when it has none: the
// encoded page and the views it was encoded from, which are shared with
// every reader and must not be changed.
func (n *newestPages) read(ctx context.Context, channelID int64, limit int, load func(context.Context) ([]MessageView, error)) ([]byte, []MessageView, error) {
	n.mu.Lock()
	np := n.chans[channelID]
	if np != nil && np.loaded && n.now().Sub(np.loadedAt) < n.maxAge {
		b := np.enc[limit]
		views := np.views[:min(limit, len(np.views))]
		var err error
		if b == nil {
			if b, err = encodeNewest(np.views, limit); err == nil {
				np.enc[limit] = b
			}
		}
		n.mu.Unlock()
		return b, views, err
	}
	if np == nil {
		np = &newestPage{}
		n.chans[channelID] = np
	}
	gen, mine := np.gen, !np.loading
	if mine {
		np.loading, np.early = true, nil
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
	n.mu.Lock()
	defer n.mu.Unlock()
	early := np.early
	np.loading, np.early = false, nil
	if err != nil {
		return nil, nil, err
	}
	views = mergeNewest(views, early)
	if np.gen == gen && n.chans[channelID] == np {
		np.views, np.loaded, np.loadedAt, np.enc = views, true, n.now(), map[int][]byte{}
	}
	b, err := encodeNewest(views, limit)
	return b, views[:min(limit, len(views))], err
}

// mergeNewest adds posts to views (newest first), each once, in id order,
// keeping the newest MaxLimit.
func mergeNewest(views, posts []MessageView) []MessageView {
	for _, v := range posts {
		i, found := slices.BinarySearchFunc(views, v.ID, func(e MessageView, id int64) int {
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
		views = slices.Insert(views, i, v)
		if len(views) > MaxLimit {
			views = views[:MaxLimit]
		}
	}
	return views
}

// add puts a just-committed post in its channel's page.
func (n *newestPages) add(v MessageView) {
	n.mu.Lock()
	defer n.mu.Unlock()
	np := n.chans[v.ChannelID]
	if np == nil {
		return // not read lately: the next read loads it, post included
	}
	if np.loading {
		np.early = append(np.early, v)
	}
	if np.loaded {
		// A copy: a reader may still be encoding from the old slice.
		np.views = mergeNewest(slices.Clone(np.views), []MessageView{v})
		np.enc = map[int][]byte{}
	}
}

// drop forgets a channel's page (a message in it changed otherwise than
// by a post); a load under way is not kept.
func (n *newestPages) drop(channelID int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if np := n.chans[channelID]; np != nil {
		np.gen++
		np.views, np.loaded, np.enc = nil, false, nil
		if !np.loading {
			delete(n.chans, channelID)
		}
	}
}

// dropAll forgets every page (an author's display data changed: a level
// up is rare, and which pages show them is not tracked).
func (n *newestPages) dropAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, np := range n.chans {
		np.gen++
		np.views, np.loaded, np.enc = nil, false, nil
		if !np.loading {
			delete(n.chans, id)
		}
	}
}
