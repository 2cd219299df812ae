package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/wallet"
)

// On MySQL every statement is a network round trip, and the calls of a
// group-commit batch run one after the other on one connection, so round
// trips bound tips per second. A transaction of Do therefore gathers what
// can wait for its commit (txBatch):
//
//   - the postings of every ledger transaction (their transaction's id is
//     known: wallet_transactions rows are still inserted one by one, since
//     the id is part of each reply), and the idempotency keys, each written
//     in one multi-row INSERT just before the commit (sqldb BeforeCommit);
//   - the wallets this transaction has locked, with their balance and debt:
//     a tip to a wallet the batch already holds needs no read, its
//     balanceAfter is the held balance plus the amount.
//
// A tip is then its UPDATE (both wallets, the no-overdraft condition, the
// recipient's ban, and the sender's new balance through LAST_INSERT_ID) and
// its transaction row, plus one locking read the first time the batch
// meets its recipient. What a call gathered joins the batch only when the
// call succeeds; a call that fails (its savepoint rolled back) makes the
// batch forget every balance it held, as does any write other than a fast
// tip. A failure to write the gathered rows fails the whole transaction,
// which the group then runs again call by call.

// batchKey keys a store's txBatch among a transaction's values.
type batchKey struct{ s *Wallet }

// txBatch is what one MySQL transaction of Do gathers for its commit.
type txBatch struct {
	hooked   bool
	postings []stagedPosting
	keys     []stagedKey
	keySet   map[keyID]bool
	// held: wallets this transaction has locked, by user (see heldWallet).
	held map[int64]heldWallet
}

type stagedPosting struct {
	txID int64
	at   int64
	posting
}

type stagedKey struct {
	key   wallet.Key
	reply wallet.Reply
	at    int64
}

type keyID struct {
	user int64
	key  string
}

// heldWallet is a wallet whose row this transaction has locked (UPDATE or
// locking read), so its balance changes only by this transaction's own
// writes: its account id, balance, and the owner's debt account balance
// (not Valid: none, and its gap is locked).
type heldWallet struct {
	acc, bal int64
	owed     sql.NullInt64
}

// batchOf returns tx's batch on MySQL, nil on SQLite (one writer, no round
// trips to save) or for a transaction not run by the writer pool.
func (s *Wallet) batchOf(tx *sql.Tx) *txBatch {
	if s.db.Dialect != sqldb.MySQL {
		return nil
	}
	v, ok := s.db.Write().TxValue(tx, batchKey{s}, func() any { return &txBatch{} })
	if !ok {
		return nil
	}
	return v.(*txBatch)
}

// dirty: this call writes balances other than by a fast tip; the batch
// forgets what it held, and the call's writes from here on are under its
// savepoint.
func (l *ledger) dirty() {
	if l.batch != nil {
		l.batch.held = nil
	}
	l.guard()
}

// guard sets the call's savepoint (in a shared transaction) before a
// write that a failure of the call must take back. After a write made
// without it (unguarded) there is no point: a failure then rolls the
// shared transaction back whole. A failure to set it fails the call.
func (l *ledger) guard() {
	if l.guarded || l.unguarded || l.guardErr != nil {
		return
	}
	if err := l.call.Guard(); err != nil {
		l.guardErr = err
		l.call.Unguarded() // whatever fn writes next cannot be taken back alone
		return
	}
	l.guarded = true
}

// lockTouched begins each MySQL transaction of the group: it locks the
// wallets and debt accounts of the users the batch's calls name
// (wallet.Touching), all in one statement, in user-id order (the unique
// index (user_id, kind) is scanned in order), and keeps their balances as
// held. Without it each call locked its tip's two wallets when it ran, so
// two instances' batches locked the same wallets in different orders and
// deadlocked each other (SHOW ENGINE INNODB STATUS: each batch held a
// wallet the other's tip UPDATE waited for; BENCHMARKS.md). With it a
// batch takes every lock it needs before its first write, in the one
// order every batch uses, and a tip to a held wallet needs no read of its
// own. The index is forced: on a small table the optimizer scans the
// whole table instead, locking every row in primary-key order, and two
// batches that lock by different paths deadlock again (seen in a test).
func (s *Wallet) lockTouched(tx *sql.Tx, calls []context.Context) error {
	var users []any
	seen := map[int64]bool{}
	for _, ctx := range calls {
		for _, u := range wallet.Touches(ctx) {
			if u > 0 && !seen[u] {
				seen[u] = true
				users = append(users, u)
			}
		}
	}
	b := s.batchOf(tx)
	if len(users) == 0 || b == nil {
		return nil
	}
	held := make(map[int64]heldWallet, len(users))
	owed := map[int64]int64{}
	err := sqldb.QueryRows(context.Background(), tx, func(r *sql.Rows) error {
		var acc, user, bal int64
		var kind string
		if err := r.Scan(&acc, &user, &kind, &bal); err != nil {
			return err
		}
		if kind == kindReceivable {
			owed[user] = bal
		} else {
			held[user] = heldWallet{acc: acc, bal: bal}
		}
		return nil
	}, `SELECT id, user_id, kind, balance FROM wallet_accounts FORCE INDEX (uq_wallet_accounts_user_kind)
		WHERE user_id IN (`+placeholders(len(users))+`) AND kind IN ('wallet', 'receivable')
		ORDER BY user_id, kind FOR UPDATE`, users...)
	if err != nil {
		return err
	}
	for user, h := range held {
		if o, ok := owed[user]; ok {
			h.owed = sql.NullInt64{Int64: o, Valid: true}
			held[user] = h
		}
		s.walletIDs.put(user, h.acc)
	}
	// A user without a wallet is not held: a tip to them opens it (Do).
	b.held = held
	return nil
}

// stageKey records key's reply with the batch's keys. Of two calls of one
// batch with the same key, the second is refused as taken before it runs
// (Wallet.call; Do then answers with the first's reply, once committed).
func (b *txBatch) stageKey(l *ledger, key *wallet.Key, r wallet.Reply) error {
	l.stagedK = &stagedKey{key: *key, reply: r, at: ms(l.now)}
	return nil
}

// end closes a call of the batch: its postings and key join the batch
// when it succeeded. When it failed after writing under its savepoint,
// its writes are rolled back and the batch forgets the balances it held
// (some may be the call's); a call refused before it wrote anything
// changed nothing the batch holds.
func (b *txBatch) end(l *ledger, err error) {
	if err != nil {
		if l.guarded || l.unguarded {
			b.held = nil
		}
		return
	}
	b.postings = append(b.postings, l.staged...)
	if k := l.stagedK; k != nil {
		if b.keySet == nil {
			b.keySet = map[keyID]bool{}
		}
		b.keySet[keyID{k.key.UserID, k.key.Key}] = true
		b.keys = append(b.keys, *k)
	}
	if !b.hooked && (len(b.postings) > 0 || len(b.keys) > 0) {
		// Registered by a call that succeeded: a Group drops only what
		// failed calls registered.
		if l.s.db.Write().BeforeCommit(l.tx, func(tx *sql.Tx) error { return l.s.writeBatch(tx, b) }) == nil {
			b.hooked = true
		}
	}
}

// batchRows bounds the rows of one INSERT.
const batchRows = 256

// writeBatch inserts a batch's postings and keys, just before its commit.
func (s *Wallet) writeBatch(tx *sql.Tx, b *txBatch) error {
	ctx := context.Background() // the transaction's own context bounds it
	if err := s.resolveWallets(ctx, tx, b.postings); err != nil {
		return err
	}
	for ps := b.postings; len(ps) > 0; {
		n := min(len(ps), batchRows)
		args := make([]any, 0, 7*n)
		for _, p := range ps[:n] {
			args = append(args, p.txID, p.account, p.amount, p.balanceAfter, string(p.kind), p.counterparty, p.at)
		}
		if _, err := tx.ExecContext(ctx, insertPostings(n), args...); err != nil {
			return err
		}
		ps = ps[n:]
	}
	for ks := b.keys; len(ks) > 0; {
		n := min(len(ks), batchRows)
		args := make([]any, 0, 6*n)
		for _, k := range ks[:n] {
			args = append(args, k.key.UserID, k.key.Key, k.key.Hash, k.reply.Status, string(k.reply.Body), k.at)
		}
		q := `INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body, created_at) VALUES ` +
			strings.Repeat("(?, ?, ?, ?, ?, ?), ", n-1) + "(?, ?, ?, ?, ?, ?)"
		_, err := tx.ExecContext(ctx, q, args...)
		if _, dup := sqldb.IsDuplicate(err); dup {
			// A key recorded by another transaction meanwhile. Alone, the
			// call is answered with that record; in a group, every call
			// runs again alone.
			return errKeyTaken
		}
		if err != nil {
			return err
		}
		ks = ks[n:]
	}
	return nil
}

// resolveWallets fills in the account of postings that name only the
// wallet's owner: from the cache, else in one read.
func (s *Wallet) resolveWallets(ctx context.Context, tx *sql.Tx, ps []stagedPosting) error {
	var missing []any
	seen := map[int64]bool{}
	for i := range ps {
		p := &ps[i]
		if p.account != 0 {
			continue
		}
		if id, ok := s.walletIDs.get(p.user); ok {
			p.account = id
		} else if !seen[p.user] {
			seen[p.user] = true
			missing = append(missing, p.user)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var user, id int64
		if err := rows.Scan(&user, &id); err != nil {
			return err
		}
		s.walletIDs.put(user, id)
		return nil
	}, `SELECT user_id, id FROM wallet_accounts WHERE kind = 'wallet' AND user_id IN (`+placeholders(len(missing))+`)`, missing...)
	if err != nil {
		return err
	}
	for i := range ps {
		p := &ps[i]
		if p.account != 0 {
			continue
		}
		id, ok := s.walletIDs.get(p.user)
		if !ok {
			return errors.New("wallet: a posting's wallet does not exist")
		}
		p.account = id
	}
	return nil
}

// walletIDs maps user ids to wallet account ids, bounded.
type walletIDs struct {
	m sync.Map
	n atomic.Int64
}

const maxWalletIDs = 1 << 16

func (w *walletIDs) get(user int64) (int64, bool) {
	v, ok := w.m.Load(user)
	if !ok {
		return 0, false
	}
	return v.(int64), true
}

func (w *walletIDs) put(user, id int64) {
	if _, loaded := w.m.LoadOrStore(user, id); loaded {
		return
	}
	if w.n.Add(1) > maxWalletIDs {
		w.m.Clear()
		w.n.Store(0)
	}
}

// tipUpdateMySQL is the MySQL tip's one UPDATE of both wallets: the
// sender's only if it holds amount, the recipient's only if it stays
// within MaxAmount, both only if the recipient exists and is not banned
// (as ledger.recipient decides; the read takes a shared lock on the
// user's row until the commit, so a ban waits for the tips it races).
// The sender's new balance comes back as the statement's insert id
// (LAST_INSERT_ID(expr)). The unique index (user_id, kind) is scanned in
// user-id order, so the two rows are locked lower user id first, as the
// careful path does. Args: from, amount, amount, from, to, from, amount,
// MaxAmount-amount, to, now.
const tipUpdateMySQL = `UPDATE wallet_accounts SET balance = CASE WHEN user_id = ? THEN LAST_INSERT_ID(balance - ?) ELSE balance + ? END
	WHERE user_id IN (?, ?) AND kind = 'wallet' AND CASE WHEN user_id = ? THEN balance >= ? ELSE balance <= ? END
	AND EXISTS (SELECT 1 FROM users WHERE id = ? AND (banned_at IS NULL OR banned_until <= ?))`

// tipFastMySQL is a tip on MySQL in the fewest round trips: the UPDATE
// (tipUpdateMySQL); a locking read of the recipient's wallet and debt
// account unless the batch holds them; the transaction row. Its postings
// and key wait for the commit (txBatch). When the UPDATE does not change
// both wallets (too few credits, no wallet yet, a cap, a banned or
// missing recipient) it returns errCareful: the careful path says why.
func (l *ledger) tipFastMySQL(ctx context.Context, from, to, amount int64, note string) (wallet.Entry, error) {
	if e, ok, err := l.tipHeldMySQL(ctx, from, to, amount, note); ok {
		return e, err
	}
	l.guard() // the UPDATE may change one wallet of the two
	res, err := l.exec(ctx, tipUpdateMySQL, from, amount, amount, from, to, from, amount, wallet.MaxAmount-amount, to, ms(l.now))
	if err != nil {
		return wallet.Entry{}, err
	}
	if affected(res) != 2 {
		l.redo = true
		return wallet.Entry{}, errCareful
	}
	fromAfter, err := res.LastInsertId()
	if err != nil {
		return wallet.Entry{}, err
	}
	fromAcc, _ := l.s.walletIDs.get(from) // 0: looked up with the batch's postings
	var to0 heldWallet
	held := false
	if l.batch != nil {
		to0, held = l.batch.held[to]
	}
	toAcc, toAfter, owed := to0.acc, to0.bal+amount, to0.owed
	if !held {
		// Both wallets are ours (locked by the UPDATE); the receivable is
		// read locked, so a debt a refund just recorded is seen. The index
		// is forced, as in lockTouched: on a small table the optimizer
		// scans the primary key, locking every row on its way, and waited
		// there on a wallet another batch was opening while that batch
		// waited on ours (a deadlock in TestWalletTwoInstancesNoDeadlock).
		rows := 0
		var fromBal int64
		err = l.s.db.Write().QueryTx(ctx, l.tx, func(r *sql.Rows) error {
			var acc, user, bal int64
			var kind string
			if err := r.Scan(&acc, &user, &kind, &bal); err != nil {
				return err
			}
			switch {
			case kind == kindReceivable:
				if user == to {
					owed = sql.NullInt64{Int64: bal, Valid: true}
				}
			case user == from:
				fromAcc, fromBal = acc, bal
				rows++
			default:
				toAcc, toAfter = acc, bal
				rows++
			}
			return nil
		}, `SELECT id, user_id, kind, balance FROM wallet_accounts FORCE INDEX (uq_wallet_accounts_user_kind)
			WHERE user_id IN (?, ?) AND kind IN ('wallet', 'receivable') FOR UPDATE`, from, to)
		if err != nil {
			return wallet.Entry{}, err
		}
		if rows != 2 || fromBal != fromAfter {
			return wallet.Entry{}, errors.New("wallet: the tip's wallets read back other than updated")
		}
		l.s.walletIDs.put(from, fromAcc)
		l.s.walletIDs.put(to, toAcc)
	}
	if l.batch != nil {
		if l.batch.held == nil {
			l.batch.held = map[int64]heldWallet{}
		}
		l.batch.held[to] = heldWallet{acc: toAcc, bal: toAfter, owed: owed}
		if h, ok := l.batch.held[from]; ok {
			h.bal = fromAfter
			l.batch.held[from] = h
		}
	}
	return l.recordTip(ctx, from, to, fromAcc, toAcc, amount, fromAfter, toAfter, owed, note)
}

// tipHeldMySQL is a tip between two wallets the batch holds (locked by
// lockTouched, balances known): it is checked in memory first (the sender
// holds amount, the recipient stays within MaxAmount), so its UPDATE
// changes both wallets or, for a banned or unknown recipient, neither, and
// the call needs no savepoint: the UPDATE and the transaction row, 2 round
// trips. ok is false when the wallets are not both held or the check
// fails: the caller takes the guarded path, which says why.
func (l *ledger) tipHeldMySQL(ctx context.Context, from, to, amount int64, note string) (e wallet.Entry, ok bool, err error) {
	if l.batch == nil || l.call == nil || l.guarded {
		return wallet.Entry{}, false, nil
	}
	f, fok := l.batch.held[from]
	t, tok := l.batch.held[to]
	if !fok || !tok || f.bal < amount || t.bal > wallet.MaxAmount-amount {
		return wallet.Entry{}, false, nil
	}
	res, err := l.exec(ctx, tipUpdateMySQL, from, amount, amount, from, to, from, amount, wallet.MaxAmount-amount, to, ms(l.now))
	if err != nil {
		l.call.Unguarded() // a statement that failed may still have left the transaction half-done
		return wallet.Entry{}, true, err
	}
	switch affected(res) {
	case 0: // the recipient is banned or gone: nothing was written
		l.redo = true
		return wallet.Entry{}, true, errCareful
	case 2:
	default:
		l.call.Unguarded()
		return wallet.Entry{}, true, errors.New("wallet: a held tip changed one wallet of two")
	}
	l.unguarded = true
	l.call.Unguarded()
	fromAfter, err := res.LastInsertId()
	if err != nil {
		return wallet.Entry{}, true, err
	}
	if fromAfter != f.bal-amount {
		return wallet.Entry{}, true, errors.New("wallet: a held wallet's balance changed under its lock")
	}
	f.bal, t.bal = fromAfter, t.bal+amount
	l.batch.held[from], l.batch.held[to] = f, t
	e, err = l.recordTip(ctx, from, to, f.acc, t.acc, amount, f.bal, t.bal, t.owed, note)
	return e, true, err
}
