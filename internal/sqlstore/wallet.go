package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math/big"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/wallet"
)

// The system accounts the migration seeds.
const (
	accountRevenue  int64 = 1
	accountClearing int64 = 2
)

// Account kinds of wallet_accounts.
const (
	kindWallet     = "wallet"
	kindReceivable = "receivable"
)

// Wallet is the ledger of credits on SQLite and MySQL (wallet.Store).
type Wallet struct {
	db  *sqldb.DB
	now func() time.Time
	// group gathers concurrent writes into shared transactions (one
	// commit for many tips); each write keeps its own savepoint. nil:
	// each write in its own transaction.
	group *sqldb.Group
	// walletIDs caches user id -> wallet account id (MySQL batches): a
	// wallet, once opened, keeps its id (accounts are never deleted).
	walletIDs walletIDs
}

var _ wallet.Store = (*Wallet)(nil)

// NewWallet returns the ledger store; now nil means time.Now.
func NewWallet(db *sqldb.DB, now func() time.Time) *Wallet {
	if now == nil {
		now = time.Now
	}
	s := &Wallet{db: db, now: now, group: db.WriteGroup(128)}
	if db.Dialect == sqldb.MySQL {
		s.group.SetBegin(s.lockTouched)
	}
	return s
}

// WithoutGroupCommit returns a store on the same database whose writes
// each run in a transaction of their own, as before group commit: for
// side-by-side benchmarks.
func (s *Wallet) WithoutGroupCommit() *Wallet {
	return &Wallet{db: s.db, now: s.now}
}

// GroupStats returns the group committer's counts (zero without one).
func (s *Wallet) GroupStats() sqldb.GroupStats {
	if s.group == nil {
		return sqldb.GroupStats{}
	}
	return s.group.Stats()
}

// errKeyTaken: the idempotency key's row exists (another call recorded it).
var errKeyTaken = errors.New("wallet: idempotency key taken")

// Do runs fn in one write transaction, recording key's reply in it. The key
// is inserted last: of two concurrent calls with one key the second waits
// on the first's row (MySQL) or its whole transaction (SQLite) and fails on
// the duplicate, which rolls its effect back; it then answers with the
// recorded reply.
//
// Concurrent calls share a database transaction through s.group (group
// commit): each runs in its own savepoint, so a refused call (insufficient
// funds, a taken key) undoes only its own writes, and every caller is
// answered after the shared commit.
func (s *Wallet) Do(ctx context.Context, key *wallet.Key, fn func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error)) (wallet.Reply, error) {
	careful, opened := false, 0
	for attempt := 0; ; attempt++ {
		var reply wallet.Reply
		var open int64
		now := s.now().UTC().Truncate(time.Millisecond)
		var openKind string
		err := s.tx(ctx, func(tx *sql.Tx, call *sqldb.Call) error {
			l := &ledger{s: s, tx: tx, call: call, now: now, careful: careful, batch: s.batchOf(tx)}
			err := s.call(ctx, l, key, fn, &reply)
			open, openKind = l.open, l.openKind
			if l.batch != nil {
				l.batch.end(l, err)
			}
			return err
		})
		if errors.Is(err, errOpenWallet) && open != 0 && opened < 3 {
			// Rolled back; the account (a wallet, or a debt account) is
			// opened empty in a statement of its own (a concurrent one may
			// open it first), then the call runs again. An empty account
			// is what no account reads as.
			opened++
			if _, oerr := s.db.Write().Exec(ctx, `INSERT INTO wallet_accounts (kind, user_id, balance, created_at) VALUES (?, ?, 0, ?)`,
				openKind, open, ms(now)); oerr != nil {
				if _, dup := sqldb.IsDuplicate(oerr); !dup {
					return wallet.Reply{}, oerr
				}
			}
			attempt--
			continue
		}
		if errors.Is(err, errCareful) && !careful {
			// The one-statement tip did not apply (a refusal, or a wallet
			// to open): everything fn did was rolled back; run it again
			// step by step, which says why or opens the wallet.
			careful = true
			attempt--
			continue
		}
		if err == nil {
			if key != nil && rand.IntN(1000) == 0 {
				s.pruneKeys(ctx, now)
			}
			return reply, nil
		}
		if key == nil || attempt == 2 {
			return wallet.Reply{}, err
		}
		// The key may have been used first: a replay answers with what was
		// recorded, whatever this run found (a replayed tip may now lack
		// the credits it spent the first time).
		stored, hash, at, found, lerr := s.lookupKey(ctx, key)
		switch {
		case lerr != nil:
			return wallet.Reply{}, err
		case !found && errors.Is(err, errKeyTaken):
			continue // recorded, then pruned between our insert and lookup
		case !found:
			return wallet.Reply{}, err
		case now.Sub(at) >= wallet.KeyTTL:
			if !errors.Is(err, errKeyTaken) {
				return wallet.Reply{}, err
			}
			if _, derr := s.db.Write().Exec(ctx, `DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND created_at <= ?`,
				key.UserID, key.Key, ms(now.Add(-wallet.KeyTTL))); derr != nil {
				return wallet.Reply{}, derr
			}
			continue
		case hash != key.Hash:
			return wallet.Reply{}, apperr.New(wallet.IdempotencyKeyReused,
				"this Idempotency-Key was used with a different request; use a new key for a new request")
		}
		stored.Replayed = true
		return stored, nil
	}
}

// call runs fn on l and records key's reply: at once, or on MySQL with
// the transaction's other keys just before it commits (txBatch).
func (s *Wallet) call(ctx context.Context, l *ledger, key *wallet.Key, fn func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error), reply *wallet.Reply) error {
	if key != nil && l.batch != nil && l.batch.keySet[keyID{key.UserID, key.Key}] {
		// Used by an earlier call of this batch: refused before anything
		// is written (Do answers with that call's reply, once committed).
		return errKeyTaken
	}
	r, err := fn(ctx, l)
	switch {
	case l.guardErr != nil:
		return l.guardErr
	case l.open != 0:
		return errOpenWallet // even if fn went on: it must roll back
	case l.redo:
		return errCareful // even if fn went on: the half-made tip must roll back
	case err != nil:
		return err
	}
	*reply = r
	if key == nil {
		return nil
	}
	if l.batch != nil {
		return l.batch.stageKey(l, key, r)
	}
	_, err = s.db.Write().ExecTx(ctx, l.tx, `INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, key.UserID, key.Key, key.Hash, r.Status, string(r.Body), ms(l.now))
	if _, dup := sqldb.IsDuplicate(err); dup {
		return errKeyTaken
	}
	return err
}

// tx runs a write through the group committer, or alone without one.
// A call sets its savepoint in a shared transaction only before a write
// it may have to take back (ledger.guard): a tip whose wallets the batch
// holds, checked in memory first, writes without one.
func (s *Wallet) tx(ctx context.Context, fn func(tx *sql.Tx, call *sqldb.Call) error) error {
	if s.group == nil {
		return s.db.Write().Tx(ctx, func(tx *sql.Tx) error { return fn(tx, nil) })
	}
	return s.group.TxLazy(ctx, fn)
}

func (s *Wallet) lookupKey(ctx context.Context, key *wallet.Key) (reply wallet.Reply, hash string, at time.Time, found bool, err error) {
	var body string
	var created int64
	err = s.db.Write().QueryRow(ctx, []any{&hash, &reply.Status, &body, &created},
		`SELECT request_hash, status, body, created_at FROM idempotency_keys WHERE user_id = ? AND idem_key = ?`, key.UserID, key.Key)
	if sqldb.IsNotFound(err) {
		return reply, "", time.Time{}, false, nil
	}
	if err != nil {
		return reply, "", time.Time{}, false, err
	}
	reply.Body = []byte(body)
	return reply, hash, fromMS(created), true, nil
}

// pruneKeys forgets keys older than their 24 hours; Do calls it now and
// then, so the table holds about a day of writes.
func (s *Wallet) pruneKeys(ctx context.Context, now time.Time) {
	s.db.Write().Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, ms(now.Add(-wallet.KeyTTL))) //nolint:errcheck // best effort
}

// ledger writes postings inside one transaction.
type ledger struct {
	s  *Wallet
	tx *sql.Tx
	// call: this call's part of a group's shared transaction (nil without
	// a group). guarded: its savepoint is set; unguarded: it wrote without
	// one (a fast tip on held wallets); guardErr: setting it failed.
	call      *sqldb.Call
	guarded   bool
	unguarded bool
	guardErr  error
	now       time.Time
	// careful: a tip moves its credits one wallet at a time, each step
	// able to say why it is refused (see tipFast).
	careful bool
	// redo: a fast tip changed one wallet and not the other; the call
	// must roll back and run again carefully.
	redo bool
	// open: a credit found no wallet for this user, or a refund no debt
	// account (openKind) (MySQL); the call must roll back, and Do opens
	// the account and runs it again.
	open     int64
	openKind string
	// batch: what this MySQL transaction gathers for its commit (nil on
	// SQLite and outside Do); staged, stagedK: this call's share of it.
	batch   *txBatch
	staged  []stagedPosting
	stagedK *stagedKey
}

// Tx is the transaction for the caller's own writes, which the ledger
// cannot see: the balances a batch remembers are forgotten.
func (l *ledger) Tx() *sql.Tx {
	l.dirty()
	return l.tx
}

// exec and queryRow run a statement in the transaction through the
// writer's prepared statements: the ledger's texts are fixed, and parsing
// them anew was a large part of a tip's cost on SQLite.
func (l *ledger) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return l.s.db.Write().ExecTx(ctx, l.tx, query, args...)
}

func (l *ledger) queryRow(ctx context.Context, dest []any, query string, args ...any) error {
	return l.s.db.Write().QueryRowTx(ctx, l.tx, dest, query, args...)
}

func (l *ledger) sqlite() bool { return l.s.db.Dialect == sqldb.SQLite }

// posting is one line of a transaction.
type posting struct {
	account      int64
	user         int64 // the wallet's owner when account is 0: looked up when the batch is written
	amount       int64
	balanceAfter int64
	kind         wallet.Kind
	counterparty int64
}

// record writes a transaction and its postings, which must sum to zero.
func (l *ledger) record(ctx context.Context, kind, ref, memo string, actor int64, ps ...posting) (int64, error) {
	var sum int64
	for _, p := range ps {
		sum += p.amount
	}
	if sum != 0 {
		return 0, errors.New("wallet: postings do not sum to zero")
	}
	res, err := l.exec(ctx, `INSERT INTO wallet_transactions (kind, ref, memo, actor_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		kind, ref, memo, actor, ms(l.now))
	if err != nil {
		return 0, err
	}
	txID, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	if l.batch != nil {
		for _, p := range ps {
			l.staged = append(l.staged, stagedPosting{txID: txID, at: ms(l.now), posting: p})
		}
		return txID, nil
	}
	args := make([]any, 0, 7*len(ps))
	for _, p := range ps {
		args = append(args, txID, p.account, p.amount, p.balanceAfter, string(p.kind), p.counterparty, ms(l.now))
	}
	if _, err := l.exec(ctx, insertPostings(len(ps)), args...); err != nil {
		return 0, err
	}
	return txID, nil
}

// postingsInserts are the texts of one INSERT of 1 to 4 postings, made
// once so that each stays one prepared statement.
var postingsInserts = func() (qs [5]string) {
	q := `INSERT INTO wallet_postings (tx_id, account_id, amount, balance_after, kind, counterparty, created_at) VALUES `
	for n := 1; n < len(qs); n++ {
		if n > 1 {
			q += ", "
		}
		q += "(?, ?, ?, ?, ?, ?, ?)"
		qs[n] = q
	}
	return qs
}()

func insertPostings(n int) string {
	if n < len(postingsInserts) {
		return postingsInserts[n]
	}
	q := postingsInserts[1]
	for range n - 1 {
		q += ", (?, ?, ?, ?, ?, ?, ?)"
	}
	return q
}

// debitWallet takes amount from userID's wallet if it holds that much.
// The condition is in the UPDATE: the engine decides on the row it locks,
// so two concurrent debits can never both pass on one balance.
func (l *ledger) debitWallet(ctx context.Context, userID, amount int64) (account, after int64, err error) {
	l.dirty()
	if l.sqlite() {
		err = l.queryRow(ctx, []any{&account, &after}, `UPDATE wallet_accounts SET balance = balance - ?
			WHERE user_id = ? AND kind = 'wallet' AND balance >= ? RETURNING id, balance`, amount, userID, amount)
		if sqldb.IsNotFound(err) {
			return 0, 0, wallet.ErrInsufficientFunds("")
		}
		return account, after, err
	}
	res, err := l.exec(ctx, `UPDATE wallet_accounts SET balance = balance - ?
		WHERE user_id = ? AND kind = 'wallet' AND balance >= ?`, amount, userID, amount)
	if err != nil {
		return 0, 0, err
	}
	if affected(res) == 0 {
		return 0, 0, wallet.ErrInsufficientFunds("")
	}
	// The row is ours (locked by the UPDATE); this reads what we wrote.
	err = l.queryRow(ctx, []any{&account, &after}, `SELECT id, balance FROM wallet_accounts WHERE user_id = ? AND kind = 'wallet'`, userID)
	return account, after, err
}

// creditWallet adds amount to userID's wallet, opening it on first use. A
// wallet holds at most wallet.MaxAmount.
func (l *ledger) creditWallet(ctx context.Context, userID, amount int64) (account, after int64, err error) {
	l.dirty()
	for range 2 {
		if l.sqlite() {
			err = l.queryRow(ctx, []any{&account, &after}, `UPDATE wallet_accounts SET balance = balance + ?
				WHERE user_id = ? AND kind = 'wallet' AND balance <= ? RETURNING id, balance`, amount, userID, wallet.MaxAmount-amount)
			if err == nil {
				return account, after, nil
			}
			if !sqldb.IsNotFound(err) {
				return 0, 0, err
			}
		} else {
			res, err := l.exec(ctx, `UPDATE wallet_accounts SET balance = balance + ?
				WHERE user_id = ? AND kind = 'wallet' AND balance <= ?`, amount, userID, wallet.MaxAmount-amount)
			if err != nil {
				return 0, 0, err
			}
			if affected(res) == 1 {
				err = l.queryRow(ctx, []any{&account, &after}, `SELECT id, balance FROM wallet_accounts WHERE user_id = ? AND kind = 'wallet'`, userID)
				return account, after, err
			}
		}
		// A wallet is never deleted: when it exists, either the UPDATE
		// refused the cap, or (MySQL) another transaction opened it since
		// the UPDATE looked, which this read sees (READ COMMITTED): update
		// it then.
		var n, full int
		if err := l.queryRow(ctx, []any{&n, &full}, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN balance > ? THEN 1 ELSE 0 END), 0)
			FROM wallet_accounts WHERE user_id = ? AND kind = 'wallet'`, wallet.MaxAmount-amount, userID); err != nil {
			return 0, 0, err
		}
		if full > 0 {
			return 0, 0, apperr.New(apperr.Validation, "the receiving wallet cannot hold that many credits")
		}
		if n > 0 {
			continue
		}
		if !l.sqlite() {
			// Opening the wallet inside this transaction deadlocks on
			// MySQL when several transactions credit the same new wallet
			// at once: the UPDATE above left each of them a gap lock where
			// the row goes, and each one's INSERT waits for the others'
			// (error 1213). Do opens it alone, empty, and runs the call again.
			l.open, l.openKind = userID, kindWallet
			return 0, 0, errOpenWallet
		}
		res, err := l.exec(ctx, `INSERT INTO wallet_accounts (kind, user_id, balance, created_at) VALUES ('wallet', ?, ?, ?)`,
			userID, amount, ms(l.now))
		if _, dup := sqldb.IsDuplicate(err); dup {
			continue // opened by a concurrent transaction: update it
		}
		if err != nil {
			return 0, 0, err
		}
		account, err = res.LastInsertId()
		return account, amount, err
	}
	return 0, 0, errors.New("wallet: cannot open the wallet")
}

// moveSystem adds amount (signed) to a system or receivable account.
func (l *ledger) moveSystem(ctx context.Context, account, amount int64) (after int64, err error) {
	l.dirty()
	if l.sqlite() {
		err = l.queryRow(ctx, []any{&after}, `UPDATE wallet_accounts SET balance = balance + ? WHERE id = ? RETURNING balance`, amount, account)
		return after, err
	}
	if _, err := l.exec(ctx, `UPDATE wallet_accounts SET balance = balance + ? WHERE id = ?`, amount, account); err != nil {
		return 0, err
	}
	err = l.queryRow(ctx, []any{&after}, `SELECT balance FROM wallet_accounts WHERE id = ?`, account)
	return after, err
}

// receivable returns the id of userID's debt account, opening it.
func (l *ledger) receivable(ctx context.Context, userID int64) (int64, error) {
	l.dirty()
	var id int64
	if !l.sqlite() {
		// As for a wallet (creditWallet): a locking read of a missing row
		// locks the gap its INSERT goes into, and two transactions that
		// both did so wait for each other's INSERT (error 1213). A plain
		// read; the caller's UPDATE of the row locks it. A missing account
		// is opened by Do, alone, and the call runs again.
		err := l.queryRow(ctx, []any{&id}, `SELECT id FROM wallet_accounts WHERE user_id = ? AND kind = 'receivable'`, userID)
		if sqldb.IsNotFound(err) {
			l.open, l.openKind = userID, kindReceivable
			return 0, errOpenWallet
		}
		return id, err
	}
	err := l.tx.QueryRowContext(ctx, `SELECT id FROM wallet_accounts WHERE user_id = ? AND kind = 'receivable'`, userID).Scan(&id)
	if err == nil || !sqldb.IsNotFound(err) {
		return id, err
	}
	res, err := l.tx.ExecContext(ctx, `INSERT INTO wallet_accounts (kind, user_id, balance, created_at) VALUES ('receivable', ?, 0, ?)`, userID, ms(l.now))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// payDebt pays userID's debt (what a refund could not take back) from the
// credits the wallet now holds, as far as they go: a transaction of its
// own ("debt_repayment", postings of kind refund) right after the credit
// that brought them, in the same database transaction. A user without
// debt costs one indexed read.
func (l *ledger) payDebt(ctx context.Context, userID int64) error {
	l.dirty()
	var recv, owed int64
	err := l.queryRow(ctx, []any{&recv, &owed}, `SELECT id, balance FROM wallet_accounts WHERE user_id = ? AND kind = 'receivable'`+forUpdate(l.s.db), userID)
	if sqldb.IsNotFound(err) || (err == nil && owed >= 0) {
		return nil
	}
	if err != nil {
		return err
	}
	var held int64
	if err := l.queryRow(ctx, []any{&held}, `SELECT balance FROM wallet_accounts WHERE user_id = ? AND kind = 'wallet'`, userID); err != nil {
		return err
	}
	pay := min(-owed, held)
	if pay <= 0 {
		return nil
	}
	acc, after, err := l.debitWallet(ctx, userID, pay)
	if err != nil {
		return err
	}
	recvAfter, err := l.moveSystem(ctx, recv, pay)
	if err != nil {
		return err
	}
	_, err = l.record(ctx, "debt_repayment", "debt", "debt repaid from new credits", userID,
		posting{account: acc, amount: -pay, balanceAfter: after, kind: wallet.Refund},
		posting{account: recv, amount: pay, balanceAfter: recvAfter, kind: wallet.Refund})
	return err
}

// recipient checks that a tip may be sent to userID: the user exists and
// is not banned. This is the one place that decides it; when moderation
// adds states (a ban with an end, a suspension), they are read here.
func (l *ledger) recipient(ctx context.Context, userID int64) error {
	var banned, until sql.NullInt64
	err := l.queryRow(ctx, []any{&banned, &until}, `SELECT banned_at, banned_until FROM users WHERE id = ?`, userID)
	if sqldb.IsNotFound(err) {
		return apperr.New(apperr.NotFound, "user not found")
	}
	if err != nil {
		return err
	}
	if banned.Valid && (!until.Valid || until.Int64 > ms(l.now)) { // a ban with an end lifts itself
		return apperr.Invalid(map[string]string{"toUserId": "is a banned account and cannot receive tips"})
	}
	return nil
}

func (l *ledger) Tip(ctx context.Context, from, to, amount int64, note string) (wallet.Entry, error) {
	if from == to {
		return wallet.Entry{}, apperr.Invalid(map[string]string{"toUserId": "cannot be yourself"})
	}
	if err := wallet.CheckAmount("amount", amount); err != nil {
		return wallet.Entry{}, err
	}
	if !l.careful && !l.sqlite() {
		return l.tipFastMySQL(ctx, from, to, amount, note) // the recipient is checked in its UPDATE
	}
	if err := l.recipient(ctx, to); err != nil {
		return wallet.Entry{}, err
	}
	if !l.careful {
		l.guard() // its UPDATE may change one wallet of the two
		return l.tipFast(ctx, from, to, amount, note)
	}
	// Rows are locked in user-id order, so A→B and B→A tips never wait
	// on each other in a circle.
	var (
		fromAcc, fromAfter, toAcc, toAfter int64
		err                                error
	)
	if from < to {
		if fromAcc, fromAfter, err = l.debitWallet(ctx, from, amount); err == nil {
			toAcc, toAfter, err = l.creditWallet(ctx, to, amount)
		}
	} else {
		if toAcc, toAfter, err = l.creditWallet(ctx, to, amount); err == nil {
			fromAcc, fromAfter, err = l.debitWallet(ctx, from, amount)
		}
	}
	if err != nil {
		return wallet.Entry{}, err
	}
	txID, err := l.record(ctx, "tip", wallet.UserRef(to), note, from,
		posting{account: fromAcc, amount: -amount, balanceAfter: fromAfter, kind: wallet.TipSent, counterparty: to},
		posting{account: toAcc, amount: amount, balanceAfter: toAfter, kind: wallet.TipReceived, counterparty: from})
	if err != nil {
		return wallet.Entry{}, err
	}
	if err := l.payDebt(ctx, to); err != nil {
		return wallet.Entry{}, err
	}
	return wallet.Entry{ID: txID, Amount: -amount, Kind: wallet.TipSent, Counterparty: &to, Ref: wallet.UserRef(to), Memo: note,
		BalanceAfter: fromAfter, CreatedAt: l.now}, nil
}

// errCareful: the one-statement tip changed fewer than both wallets (the
// sender holds too little, the recipient has no wallet yet or would hold
// too much). Do rolls the call back and runs it again with the ledger's
// careful path, which refuses with the reason or opens the wallet.
var errCareful = errors.New("wallet: tip needs the careful path")

// errOpenWallet: a credit on MySQL found no wallet to credit (ledger.open).
var errOpenWallet = errors.New("wallet: the wallet must be opened first")

// The SQLite tip's one UPDATE of both wallets: the sender's only if it
// holds amount, the recipient's only if it stays within MaxAmount. Args:
// from, -amount, amount, from, to, from, amount, MaxAmount-amount.
const tipUpdate = `UPDATE wallet_accounts SET balance = balance + CASE WHEN user_id = ? THEN ? ELSE ? END
	WHERE user_id IN (?, ?) AND kind = 'wallet' AND CASE WHEN user_id = ? THEN balance >= ? ELSE balance <= ? END`

// tipFast is a tip on SQLite in the fewest statements: one UPDATE of
// both wallets RETURNING their balances and the recipient's debt, then the
// transaction and its postings (MySQL: tipFastMySQL). A debt is paid as in
// the careful path. When the UPDATE does not change both wallets it
// returns errCareful (see there).
func (l *ledger) tipFast(ctx context.Context, from, to, amount int64, note string) (wallet.Entry, error) {
	var (
		fromAcc, fromAfter, toAcc, toAfter int64
		owed                               sql.NullInt64 // the recipient's receivable, if any
		rows                               int
	)
	args := []any{from, -amount, amount, from, to, from, amount, wallet.MaxAmount - amount}
	err := l.s.db.Write().QueryTx(ctx, l.tx, func(r *sql.Rows) error {
		var acc, user, bal int64
		var recv sql.NullInt64
		if err := r.Scan(&acc, &user, &bal, &recv); err != nil {
			return err
		}
		rows++
		if user == from {
			fromAcc, fromAfter = acc, bal
		} else {
			toAcc, toAfter, owed = acc, bal, recv
		}
		return nil
	}, tipUpdate+` RETURNING id, user_id, balance,
		(SELECT r.balance FROM wallet_accounts r WHERE r.user_id = wallet_accounts.user_id AND r.kind = 'receivable')`, args...)
	if err != nil {
		return wallet.Entry{}, err
	}
	if rows != 2 {
		l.redo = true
		return wallet.Entry{}, errCareful
	}
	return l.recordTip(ctx, from, to, fromAcc, toAcc, amount, fromAfter, toAfter, owed, note)
}

// recordTip writes a tip's transaction once its update has moved both
// balances (an account of 0 is looked up with the batch's postings, by
// user), takes what the recipient owed from what they just received, and
// answers the sender's entry.
func (l *ledger) recordTip(ctx context.Context, from, to, fromAcc, toAcc, amount, fromAfter, toAfter int64, owed sql.NullInt64, note string) (wallet.Entry, error) {
	txID, err := l.record(ctx, "tip", wallet.UserRef(to), note, from,
		posting{account: fromAcc, user: from, amount: -amount, balanceAfter: fromAfter, kind: wallet.TipSent, counterparty: to},
		posting{account: toAcc, user: to, amount: amount, balanceAfter: toAfter, kind: wallet.TipReceived, counterparty: from})
	if err != nil {
		return wallet.Entry{}, err
	}
	if owed.Valid && owed.Int64 < 0 {
		if err := l.payDebt(ctx, to); err != nil {
			return wallet.Entry{}, err
		}
	}
	return wallet.Entry{ID: txID, Amount: -amount, Kind: wallet.TipSent, Counterparty: &to, Ref: wallet.UserRef(to), Memo: note,
		BalanceAfter: fromAfter, CreatedAt: l.now}, nil
}

func (l *ledger) Debit(ctx context.Context, userID, amount int64, kind wallet.Kind, ref, memo string) (wallet.Entry, error) {
	if err := wallet.CheckAmount("amount", amount); err != nil {
		return wallet.Entry{}, err
	}
	acc, after, err := l.debitWallet(ctx, userID, amount)
	if err != nil {
		return wallet.Entry{}, err
	}
	revAfter, err := l.moveSystem(ctx, accountRevenue, amount)
	if err != nil {
		return wallet.Entry{}, err
	}
	txID, err := l.record(ctx, string(kind), ref, memo, userID,
		posting{account: acc, amount: -amount, balanceAfter: after, kind: kind},
		posting{account: accountRevenue, amount: amount, balanceAfter: revAfter, kind: kind})
	if err != nil {
		return wallet.Entry{}, err
	}
	return wallet.Entry{ID: txID, Amount: -amount, Kind: kind, Ref: ref, Memo: memo, BalanceAfter: after, CreatedAt: l.now}, nil
}

func (l *ledger) Adjust(ctx context.Context, userID, amount int64, reason string, actorID int64) (wallet.Entry, error) {
	mag := amount
	if mag < 0 {
		mag = -mag
	}
	if amount == 0 || wallet.CheckAmount("amount", mag) != nil {
		return wallet.Entry{}, apperr.Invalid(map[string]string{"amount": "must be a whole number of credits other than 0, at most 2^53-1 either way"})
	}
	var exists int
	if err := l.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, userID).Scan(&exists); err != nil {
		return wallet.Entry{}, err
	}
	if exists == 0 {
		return wallet.Entry{}, apperr.New(apperr.NotFound, "user not found")
	}
	var acc, after int64
	var err error
	if amount > 0 {
		acc, after, err = l.creditWallet(ctx, userID, amount)
	} else {
		acc, after, err = l.debitWallet(ctx, userID, mag)
	}
	if err != nil {
		return wallet.Entry{}, err
	}
	revAfter, err := l.moveSystem(ctx, accountRevenue, -amount)
	if err != nil {
		return wallet.Entry{}, err
	}
	ref := "admin:" + strconv.FormatInt(actorID, 10)
	txID, err := l.record(ctx, "adjustment", ref, reason, actorID,
		posting{account: acc, amount: amount, balanceAfter: after, kind: wallet.Adjustment},
		posting{account: accountRevenue, amount: -amount, balanceAfter: revAfter, kind: wallet.Adjustment})
	if err != nil {
		return wallet.Entry{}, err
	}
	if amount > 0 {
		if err := l.payDebt(ctx, userID); err != nil {
			return wallet.Entry{}, err
		}
	}
	return wallet.Entry{ID: txID, Amount: amount, Kind: wallet.Adjustment, Ref: ref, Memo: reason, BalanceAfter: after, CreatedAt: l.now}, nil
}

// DebitTx takes amount credits from userID's wallet for a purchase inside
// the caller's transaction (a collectible's serial and supply commit with
// it) and credits platform revenue: insufficient_funds when the wallet
// holds less. ref names what was bought, e.g. "collectible:12".
func (s *Wallet) DebitTx(ctx context.Context, tx *sql.Tx, userID, amount int64, ref, memo string) (wallet.Entry, error) {
	l := &ledger{s: s, tx: tx, now: s.now().UTC().Truncate(time.Millisecond)}
	return l.Debit(ctx, userID, amount, wallet.Purchase, ref, memo)
}

// recordEvent inserts a Stripe event id; false when it was applied before.
func recordEvent(ctx context.Context, tx *sql.Tx, id, typ string, now time.Time) (bool, error) {
	_, err := tx.ExecContext(ctx, `INSERT INTO stripe_events (id, type, received_at) VALUES (?, ?, ?)`, id, typ, ms(now))
	if _, dup := sqldb.IsDuplicate(err); dup {
		return false, nil
	}
	return err == nil, err
}

// errAlreadyApplied rolls back a transaction that found nothing to do.
var errAlreadyApplied = errors.New("wallet: already applied")

func (s *Wallet) CompletePayment(ctx context.Context, eventID, eventType string, p wallet.Payment, grant func(ctx context.Context, tx *sql.Tx) error) (bool, error) {
	if p.PaymentIntent == "" {
		p.PaymentIntent = "cs:" + p.SessionID
	}
	applied := false
	_, err := s.Do(ctx, nil, func(ctx context.Context, wl wallet.Ledger) (wallet.Reply, error) {
		l := wl.(*ledger)
		l.dirty() // it writes through l.tx as well
		applied = false
		fresh, err := recordEvent(ctx, l.tx, eventID, eventType, l.now)
		if err != nil || !fresh {
			return wallet.Reply{}, errOr(err, errAlreadyApplied)
		}
		var users int
		if err := l.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, p.UserID).Scan(&users); err != nil {
			return wallet.Reply{}, err
		}
		if users == 0 {
			return wallet.Reply{}, apperr.New(apperr.NotFound, "the payment's user ("+strconv.FormatInt(p.UserID, 10)+") does not exist")
		}
		_, err = l.tx.ExecContext(ctx, `INSERT INTO stripe_payments (payment_intent, session_id, user_id, item, pack, course_id, credits, amount_cents, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.PaymentIntent, p.SessionID, p.UserID, p.Item, p.Pack, p.CourseID, p.Credits, p.AmountCents, ms(l.now))
		if _, dup := sqldb.IsDuplicate(err); dup {
			return wallet.Reply{}, nil // another event of this payment applied it; this one is recorded
		}
		if err != nil {
			return wallet.Reply{}, err
		}
		switch p.Item {
		case "credits":
			if err := wallet.CheckAmount("credits", p.Credits); err != nil {
				return wallet.Reply{}, err
			}
			acc, after, err := l.creditWallet(ctx, p.UserID, p.Credits)
			if err != nil {
				return wallet.Reply{}, err
			}
			clrAfter, err := l.moveSystem(ctx, accountClearing, -p.Credits)
			if err != nil {
				return wallet.Reply{}, err
			}
			if _, err := l.record(ctx, "topup", "stripe:"+p.PaymentIntent, p.Pack, p.UserID,
				posting{account: acc, amount: p.Credits, balanceAfter: after, kind: wallet.Topup},
				posting{account: accountClearing, amount: -p.Credits, balanceAfter: clrAfter, kind: wallet.Topup}); err != nil {
				return wallet.Reply{}, err
			}
			if err := l.payDebt(ctx, p.UserID); err != nil {
				return wallet.Reply{}, err
			}
		case "course":
			if grant == nil {
				return wallet.Reply{}, errors.New("wallet: a course payment needs a grant")
			}
			if err := grant(ctx, l.tx); err != nil {
				return wallet.Reply{}, err
			}
		default:
			return wallet.Reply{}, apperr.Invalid(map[string]string{"metadata.item": "must be credits or course"})
		}
		applied = true
		return wallet.Reply{}, nil
	})
	if errors.Is(err, errAlreadyApplied) {
		return false, nil
	}
	return applied, err
}

func (s *Wallet) RefundPayment(ctx context.Context, eventID, eventType, paymentIntent string, refundedCents int64,
	revoke func(ctx context.Context, tx *sql.Tx, userID, courseID int64) error) (bool, int64, error) {
	applied := false
	var buyer int64
	_, err := s.Do(ctx, nil, func(ctx context.Context, wl wallet.Ledger) (wallet.Reply, error) {
		l := wl.(*ledger)
		l.dirty() // it writes through l.tx as well
		applied = false
		fresh, err := recordEvent(ctx, l.tx, eventID, eventType, l.now)
		if err != nil || !fresh {
			return wallet.Reply{}, errOr(err, errAlreadyApplied)
		}
		var (
			userID, courseID, credits, amount, reversed, refunded int64
			item                                                  string
		)
		err = l.tx.QueryRowContext(ctx, `SELECT user_id, item, course_id, credits, amount_cents, reversed, refunded_cents
			FROM stripe_payments WHERE payment_intent = ?`+forUpdate(s.db), paymentIntent).
			Scan(&userID, &item, &courseID, &credits, &amount, &reversed, &refunded)
		if sqldb.IsNotFound(err) {
			return wallet.Reply{}, apperr.New(apperr.NotFound, "no completed payment has payment intent "+paymentIntent)
		}
		if err != nil {
			return wallet.Reply{}, err
		}
		buyer = userID
		if refundedCents > amount {
			refundedCents = amount
		}
		if refundedCents <= refunded {
			return wallet.Reply{}, nil // an older refund state: recorded, nothing to take back
		}
		if _, err := l.tx.ExecContext(ctx, `UPDATE stripe_payments SET refunded_cents = ? WHERE payment_intent = ?`, refundedCents, paymentIntent); err != nil {
			return wallet.Reply{}, err
		}
		if item == "course" {
			if refundedCents == amount && revoke != nil {
				if err := revoke(ctx, l.tx, userID, courseID); err != nil {
					return wallet.Reply{}, err
				}
			}
			applied = true
			return wallet.Reply{}, nil
		}
		// Credits back in proportion to the money back, rounded down.
		target := new(big.Int).Mul(big.NewInt(credits), big.NewInt(refundedCents))
		target.Quo(target, big.NewInt(max(amount, 1)))
		delta := target.Int64() - reversed
		if delta <= 0 {
			applied = true
			return wallet.Reply{}, nil
		}
		if _, err := l.tx.ExecContext(ctx, `UPDATE stripe_payments SET reversed = reversed + ? WHERE payment_intent = ?`, delta, paymentIntent); err != nil {
			return wallet.Reply{}, err
		}
		if err := l.reverse(ctx, userID, delta, "stripe:"+paymentIntent); err != nil {
			return wallet.Reply{}, err
		}
		applied = true
		return wallet.Reply{}, nil
	})
	if errors.Is(err, errAlreadyApplied) {
		return false, buyer, nil
	}
	return applied, buyer, err
}

// reverse takes amount back from userID's wallet into Stripe clearing. What
// the wallet no longer holds (spent on tips or purchases) is posted to the
// user's receivable account, so the debt shows instead of vanishing.
func (l *ledger) reverse(ctx context.Context, userID, amount int64, ref string) error {
	var acc, bal int64
	err := l.tx.QueryRowContext(ctx, `SELECT id, balance FROM wallet_accounts WHERE user_id = ? AND kind = 'wallet'`+forUpdate(l.s.db), userID).Scan(&acc, &bal)
	if err != nil && !sqldb.IsNotFound(err) {
		return err
	}
	take := min(bal, amount)
	var ps []posting
	if take > 0 {
		_, after, err := l.debitWallet(ctx, userID, take)
		if err != nil {
			return err
		}
		ps = append(ps, posting{account: acc, amount: -take, balanceAfter: after, kind: wallet.Refund})
	}
	if debt := amount - take; debt > 0 {
		recv, err := l.receivable(ctx, userID)
		if err != nil {
			return err
		}
		after, err := l.moveSystem(ctx, recv, -debt)
		if err != nil {
			return err
		}
		ps = append(ps, posting{account: recv, amount: -debt, balanceAfter: after, kind: wallet.Refund})
	}
	clrAfter, err := l.moveSystem(ctx, accountClearing, amount)
	if err != nil {
		return err
	}
	ps = append(ps, posting{account: accountClearing, amount: amount, balanceAfter: clrAfter, kind: wallet.Refund})
	_, err = l.record(ctx, "refund", ref, "", userID, ps...)
	return err
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

func (s *Wallet) Balance(ctx context.Context, userID int64) (wallet.Balance, error) {
	b := wallet.Balance{Currency: "credits"}
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var kind string
		var bal int64
		if err := rows.Scan(&kind, &bal); err != nil {
			return err
		}
		switch kind {
		case kindWallet:
			b.Balance = bal
		case kindReceivable:
			b.Debt = -bal
		}
		return nil
	}, `SELECT kind, balance FROM wallet_accounts WHERE user_id = ?`, userID)
	return b, err
}

func (s *Wallet) Balances(ctx context.Context, userIDs []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		args[i] = id
	}
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var id, bal int64
		if err := rows.Scan(&id, &bal); err != nil {
			return err
		}
		out[id] = bal
		return nil
	}, `SELECT user_id, balance FROM wallet_accounts WHERE kind = 'wallet' AND user_id IN (`+placeholders(len(userIDs))+`)`, args...)
	return out, err
}

func (s *Wallet) Entries(ctx context.Context, userID, before int64, limit int) ([]wallet.Entry, error) {
	if before <= 0 {
		before = 1 << 62
	}
	var out []wallet.Entry
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var e wallet.Entry
		var kind string
		var cp, at int64
		if err := rows.Scan(&e.ID, &e.Amount, &kind, &cp, &e.Ref, &e.Memo, &e.BalanceAfter, &at); err != nil {
			return err
		}
		e.Kind = wallet.Kind(kind)
		if cp != 0 {
			e.Counterparty = &cp
		}
		e.CreatedAt = fromMS(at)
		out = append(out, e)
		return nil
	}, `SELECT p.tx_id, p.amount, p.kind, p.counterparty, t.ref, t.memo, p.balance_after, p.created_at
		FROM wallet_postings p JOIN wallet_transactions t ON t.id = p.tx_id
		WHERE p.account_id = (SELECT id FROM wallet_accounts WHERE user_id = ? AND kind = 'wallet') AND p.tx_id < ?
		ORDER BY p.tx_id DESC LIMIT ?`, userID, before, limit)
	return out, err
}

// Check reads the whole ledger in one snapshot (a read transaction).
func (s *Wallet) Check(ctx context.Context) (wallet.Check, error) {
	c := wallet.Check{Negative: []int64{}, Mismatched: []int64{}, Unbalanced: []int64{}}
	err := s.db.Fresh().Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM wallet_accounts`).Scan(&c.Accounts); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM wallet_postings`).Scan(&c.Sum); err != nil {
			return err
		}
		ids := func(dst *[]int64, q string) error {
			return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				*dst = append(*dst, id)
				return nil
			}, q)
		}
		if err := ids(&c.Negative, `SELECT id FROM wallet_accounts WHERE kind = 'wallet' AND balance < 0 ORDER BY id LIMIT 100`); err != nil {
			return err
		}
		if err := ids(&c.Mismatched, `SELECT a.id FROM wallet_accounts a
			LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM wallet_postings GROUP BY account_id) p ON p.account_id = a.id
			WHERE a.balance <> COALESCE(p.total, 0) ORDER BY a.id LIMIT 100`); err != nil {
			return err
		}
		return ids(&c.Unbalanced, `SELECT tx_id FROM wallet_postings GROUP BY tx_id HAVING SUM(amount) <> 0 ORDER BY tx_id LIMIT 100`)
	})
	c.OK = err == nil && c.Sum == 0 && len(c.Negative) == 0 && len(c.Mismatched) == 0 && len(c.Unbalanced) == 0
	return c, err
}

// RevokeGrantTx takes a course grant back inside the caller's transaction
// (a refunded payment); false when there was none.
func (s *Courses) RevokeGrantTx(ctx context.Context, tx *sql.Tx, userID, courseID int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM course_grants WHERE user_id = ? AND course_id = ?`, userID, courseID)
	if err != nil {
		return false, err
	}
	return affected(res) > 0, nil
}

// CreditsSold is the credits bought through Stripe, all time: what the
// clearing account paid out to wallets in top-ups (GET /api/admin/stats).
func (s *Wallet) CreditsSold(ctx context.Context) (int64, error) {
	var sold int64
	err := s.db.Read().QueryRow(ctx, []any{&sold},
		`SELECT COALESCE(-SUM(amount), 0) FROM wallet_postings WHERE account_id = ? AND kind = ?`, accountClearing, string(wallet.Topup))
	return sold, err
}
