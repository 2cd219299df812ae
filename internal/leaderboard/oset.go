package leaderboard

import "math/rand/v2"

// standingKey orders a board: more XP first; at equal XP the user whose
// latest counted ledger row is older (reached the score first); then the
// smaller user id, so the order is total.
type standingKey struct {
	xp   int64
	tie  int64 // id of the user's latest ledger row counted on the board
	user int64
}

func (a standingKey) less(b standingKey) bool {
	if a.xp != b.xp {
		return a.xp > b.xp
	}
	if a.tie != b.tie {
		return a.tie < b.tie
	}
	return a.user < b.user
}

// rankedSet is an order-statistic set of standings: insert, delete, the
// rank of a key and the key at a rank, each O(log n) expected. It is a
// treap whose nodes count their subtree. The Go B-trees at hand
// (google/btree, tidwall/btree) find an item by position but not the
// position of an item, which around=me and "me" need for every read; a
// treap node is one 48-byte allocation, less than a skiplist node with
// its tower of spans.
type rankedSet struct {
	root *tnode
	rnd  *rand.PCG
}

type tnode struct {
	key         standingKey
	pri         uint32
	size        int32
	left, right *tnode
}

func newRankedSet() *rankedSet {
	return &rankedSet{rnd: rand.NewPCG(rand.Uint64(), rand.Uint64())}
}

func size(n *tnode) int {
	if n == nil {
		return 0
	}
	return int(n.size)
}

func (n *tnode) fix() { n.size = int32(1 + size(n.left) + size(n.right)) }

// split returns the keys below k and the keys from k on.
func split(n *tnode, k standingKey) (*tnode, *tnode) {
	if n == nil {
		return nil, nil
	}
	if n.key.less(k) {
		l, r := split(n.right, k)
		n.right = l
		n.fix()
		return n, r
	}
	l, r := split(n.left, k)
	n.left = r
	n.fix()
	return l, n
}

// merge joins a and b, every key of a below every key of b.
func merge(a, b *tnode) *tnode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.pri > b.pri:
		a.right = merge(a.right, b)
		a.fix()
		return a
	default:
		b.left = merge(a, b.left)
		b.fix()
		return b
	}
}

// Len is how many keys the set holds.
func (s *rankedSet) Len() int { return size(s.root) }

// Insert adds k, which must not be in the set.
func (s *rankedSet) Insert(k standingKey) {
	l, r := split(s.root, k)
	s.root = merge(merge(l, &tnode{key: k, pri: uint32(s.rnd.Uint64()), size: 1}), r)
}

// Delete removes k if present.
func (s *rankedSet) Delete(k standingKey) {
	l, r := split(s.root, k)
	if r != nil {
		r = deleteMin(r, k)
	}
	s.root = merge(l, r)
}

// deleteMin removes n's smallest key when it is k.
func deleteMin(n *tnode, k standingKey) *tnode {
	if n.left == nil {
		if n.key == k {
			return n.right
		}
		return n
	}
	n.left = deleteMin(n.left, k)
	n.fix()
	return n
}

// Rank returns how many keys come before k (k's 0-based rank if present).
func (s *rankedSet) Rank(k standingKey) int {
	rank := 0
	for n := s.root; n != nil; {
		if n.key.less(k) {
			rank += size(n.left) + 1
			n = n.right
		} else {
			n = n.left
		}
	}
	return rank
}

// At returns the key of 0-based rank i.
func (s *rankedSet) At(i int) (standingKey, bool) {
	n := s.root
	for n != nil {
		switch ls := size(n.left); {
		case i < ls:
			n = n.left
		case i == ls:
			return n.key, true
		default:
			i -= ls + 1
			n = n.right
		}
	}
	return standingKey{}, false
}

// Range calls fn for the keys of ranks [from, from+n) in order.
func (s *rankedSet) Range(from, n int, fn func(rank int, k standingKey)) {
	var walk func(t *tnode, base int)
	end := from + n
	walk = func(t *tnode, base int) {
		if t == nil || base >= end || base+size(t) <= from {
			return
		}
		walk(t.left, base)
		r := base + size(t.left)
		if r >= from && r < end {
			fn(r, t.key)
		}
		walk(t.right, r+1)
	}
	walk(s.root, 0)
}
