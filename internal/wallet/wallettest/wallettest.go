// Package wallettest is the conformance suite every wallet.Store passes,
// with the seeded randomized concurrency simulation (Simulate).
package wallettest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/wallet"
)

// Env is what the suite needs besides the store.
type Env struct {
	Store wallet.Store
	// Users are existing user ids: at least 8 for Exercise, any number
	// for Simulate; none banned, and each Exercise or Simulate run needs
	// users whose wallets are empty.
	Users []int64
	// Ban bans a user; Advance moves the store's clock forward.
	Ban     func(ctx context.Context, userID int64) error
	Advance func(d time.Duration)
}

var seq atomic.Int64

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

func balance(t *testing.T, s wallet.Store, id int64) wallet.Balance {
	t.Helper()
	b, err := s.Balance(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkLedger(t *testing.T, s wallet.Store) {
	t.Helper()
	c, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK {
		t.Fatalf("ledger check failed: %+v", c)
	}
}

// adjust gives a user credits without a key.
func adjust(t *testing.T, s wallet.Store, id, amount int64) {
	t.Helper()
	if _, err := s.Do(context.Background(), nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
		_, err := l.Adjust(ctx, id, amount, "test", 0)
		return wallet.Reply{Status: 201}, err
	}); err != nil {
		t.Fatal(err)
	}
}

func tip(s wallet.Store, key *wallet.Key, from, to, amount int64) (wallet.Reply, error) {
	return s.Do(context.Background(), key, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
		e, err := l.Tip(ctx, from, to, amount, "thanks")
		return wallet.Reply{Status: 201, Body: []byte(fmt.Sprintf(`{"id":%d}`, e.ID))}, err
	})
}

// Exercise checks s.
func Exercise(t *testing.T, env Env) {
	s, u := env.Store, env.Users
	ctx := context.Background()
	if len(u) < 8 {
		t.Fatal("wallettest needs 8 users")
	}

	t.Run("new wallet holds 0, tips move credits with balanceAfter", func(t *testing.T) {
		if b := balance(t, s, u[0]); b.Balance != 0 || b.Debt != 0 || b.Currency != "credits" {
			t.Fatalf("new wallet: %+v", b)
		}
		adjust(t, s, u[0], 1000)
		r, err := tip(s, nil, u[0], u[1], 300)
		if err != nil || r.Status != 201 {
			t.Fatalf("tip: %v %+v", err, r)
		}
		if a, b := balance(t, s, u[0]).Balance, balance(t, s, u[1]).Balance; a != 700 || b != 300 {
			t.Fatalf("balances %d, %d; want 700, 300", a, b)
		}
		es, err := s.Entries(ctx, u[0], 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 || es[0].Kind != wallet.TipSent || es[0].Amount != -300 || es[0].BalanceAfter != 700 ||
			es[0].Counterparty == nil || *es[0].Counterparty != u[1] || es[1].Kind != wallet.Adjustment || es[1].BalanceAfter != 1000 {
			t.Fatalf("entries: %+v", es)
		}
		older, err := s.Entries(ctx, u[0], es[0].ID, 10)
		if err != nil || len(older) != 1 || older[0].ID != es[1].ID {
			t.Fatalf("page before %d: %+v %v", es[0].ID, older, err)
		}
		got, err := s.Entries(ctx, u[1], 0, 10)
		if err != nil || len(got) != 1 || got[0].Kind != wallet.TipReceived || got[0].Amount != 300 || *got[0].Counterparty != u[0] {
			t.Fatalf("recipient's entries: %+v %v", got, err)
		}
		bs, err := s.Balances(ctx, []int64{u[0], u[1], u[7]})
		if err != nil || bs[u[0]] != 700 || bs[u[1]] != 300 || len(bs) != 2 {
			t.Fatalf("Balances: %v %v", bs, err)
		}
		checkLedger(t, s)
	})

	t.Run("refusals change nothing", func(t *testing.T) {
		adjust(t, s, u[2], 50)
		cases := []struct {
			name     string
			from, to int64
			amount   int64
			code     apperr.Code
		}{
			{"more than the balance", u[2], u[3], 51, wallet.InsufficientFunds},
			{"empty wallet", u[3], u[2], 1, wallet.InsufficientFunds},
			{"to yourself", u[2], u[2], 1, apperr.Validation},
			{"zero", u[2], u[3], 0, apperr.Validation},
			{"negative", u[2], u[3], -5, apperr.Validation},
			{"over 2^53", u[2], u[3], wallet.MaxAmount + 1, apperr.Validation},
			{"unknown user", u[2], 1 << 40, 1, apperr.NotFound},
		}
		for _, c := range cases {
			_, err := tip(s, &wallet.Key{UserID: c.from, Key: "refused-" + c.name, Hash: "h"}, c.from, c.to, c.amount)
			wantCode(t, err, c.code)
		}
		if a, b := balance(t, s, u[2]).Balance, balance(t, s, u[3]).Balance; a != 50 || b != 0 {
			t.Fatalf("balances %d, %d after refusals", a, b)
		}
		// A refused write is not recorded: the same key may be used again.
		if _, err := tip(s, &wallet.Key{UserID: u[2], Key: "refused-more than the balance", Hash: "h"}, u[2], u[3], 50); err != nil {
			t.Fatal(err)
		}
		if env.Ban != nil {
			if err := env.Ban(ctx, u[4]); err != nil {
				t.Fatal(err)
			}
			adjust(t, s, u[3], 10)
			_, err := tip(s, nil, u[3], u[4], 1)
			wantCode(t, err, apperr.Validation)
			if balance(t, s, u[3]).Balance != 60 {
				t.Fatal("a tip to a banned user moved credits")
			}
		}
		_, err := s.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
			_, err := l.Debit(ctx, u[2], 1, wallet.Purchase, "collectible:1", "")
			return wallet.Reply{}, err
		})
		wantCode(t, err, wallet.InsufficientFunds)
		_, err = s.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
			_, err := l.Adjust(ctx, u[2], -1, "too much", 0)
			return wallet.Reply{}, err
		})
		wantCode(t, err, wallet.InsufficientFunds)
		checkLedger(t, s)
	})

	t.Run("idempotency keys", func(t *testing.T) {
		adjust(t, s, u[5], 100)
		key := &wallet.Key{UserID: u[5], Key: "k-1", Hash: "body-1"}
		first, err := tip(s, key, u[5], u[6], 10)
		if err != nil || first.Replayed {
			t.Fatalf("first: %+v %v", first, err)
		}
		again, err := tip(s, key, u[5], u[6], 10)
		if err != nil || !again.Replayed || string(again.Body) != string(first.Body) || again.Status != first.Status {
			t.Fatalf("replay: %+v %v (first %+v)", again, err, first)
		}
		_, err = tip(s, &wallet.Key{UserID: u[5], Key: "k-1", Hash: "body-2"}, u[5], u[6], 11)
		wantCode(t, err, wallet.IdempotencyKeyReused)
		// Keys belong to a user: another user's same key is another key.
		adjust(t, s, u[6], 5)
		if r, err := tip(s, &wallet.Key{UserID: u[6], Key: "k-1", Hash: "body-1"}, u[6], u[5], 5); err != nil || r.Replayed {
			t.Fatalf("other user's key: %+v %v", r, err)
		}
		if a := balance(t, s, u[5]).Balance; a != 95 {
			t.Fatalf("balance %d, want 95: a replay had an effect", a)
		}
		// A replay answers with the first reply even when the write could
		// no longer be done.
		drain := &wallet.Key{UserID: u[5], Key: "drain", Hash: "d"}
		if _, err := tip(s, drain, u[5], u[6], 95); err != nil {
			t.Fatal(err)
		}
		if r, err := tip(s, drain, u[5], u[6], 95); err != nil || !r.Replayed {
			t.Fatalf("replay of a draining tip: %+v %v", r, err)
		}
		if env.Advance != nil {
			env.Advance(wallet.KeyTTL + time.Minute)
			adjust(t, s, u[5], 10)
			r, err := tip(s, &wallet.Key{UserID: u[5], Key: "k-1", Hash: "body-9"}, u[5], u[6], 10)
			if err != nil || r.Replayed {
				t.Fatalf("a key older than 24 h is forgotten: %+v %v", r, err)
			}
		}
		checkLedger(t, s)
	})

	t.Run("concurrent calls with one key have one effect", func(t *testing.T) {
		adjust(t, s, u[7], 1000)
		key := &wallet.Key{UserID: u[7], Key: fmt.Sprint("same-", seq.Add(1)), Hash: "same"}
		var wg sync.WaitGroup
		var fresh, replayed atomic.Int64
		errs := make(chan error, 16)
		for range 16 {
			wg.Go(func() {
				r, err := tip(s, key, u[7], u[0], 7)
				switch {
				case err != nil:
					errs <- err
				case r.Replayed:
					replayed.Add(1)
				default:
					fresh.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if fresh.Load() != 1 || replayed.Load() != 15 || balance(t, s, u[7]).Balance != 993 {
			t.Fatalf("fresh %d replayed %d balance %d", fresh.Load(), replayed.Load(), balance(t, s, u[7]).Balance)
		}
	})

	t.Run("concurrent debits never overdraw", func(t *testing.T) {
		payer := u[7] // holds 993
		var wg sync.WaitGroup
		var ok, poor atomic.Int64
		for range 40 {
			wg.Go(func() {
				_, err := s.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
					_, err := l.Debit(ctx, payer, 50, wallet.Purchase, "collectible:7", "")
					return wallet.Reply{}, err
				})
				switch {
				case err == nil:
					ok.Add(1)
				case apperr.Is(err, wallet.InsufficientFunds):
					poor.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 19 || poor.Load() != 21 || balance(t, s, payer).Balance != 993-19*50 {
			t.Fatalf("ok %d poor %d balance %d", ok.Load(), poor.Load(), balance(t, s, payer).Balance)
		}
		checkLedger(t, s)
	})

	t.Run("stripe payments apply once and refunds reverse", func(t *testing.T) {
		n := seq.Add(1)
		buyer := u[1] // holds 300
		p := wallet.Payment{PaymentIntent: fmt.Sprint("pi_", n), SessionID: fmt.Sprint("cs_", n), UserID: buyer, Item: "credits",
			Pack: "small", Credits: 500, AmountCents: 1000}
		ev := fmt.Sprint("evt_a", n)
		applied, err := s.CompletePayment(ctx, ev, "checkout.session.completed", p, nil)
		if err != nil || !applied {
			t.Fatalf("complete: %v %v", applied, err)
		}
		for _, again := range []string{ev, fmt.Sprint("evt_b", n)} {
			if applied, err := s.CompletePayment(ctx, again, "checkout.session.async_payment_succeeded", p, nil); err != nil || applied {
				t.Fatalf("second event for one payment applied: %v %v", applied, err)
			}
		}
		if b := balance(t, s, buyer).Balance; b != 800 {
			t.Fatalf("balance %d, want 800", b)
		}
		// Half refunded: half the credits back.
		if applied, user, err := s.RefundPayment(ctx, fmt.Sprint("evt_r1", n), "charge.refunded", p.PaymentIntent, 500, nil); err != nil || !applied || user != buyer {
			t.Fatalf("refund: %v %v", applied, err)
		}
		if applied, _, _ := s.RefundPayment(ctx, fmt.Sprint("evt_r1", n), "charge.refunded", p.PaymentIntent, 500, nil); applied {
			t.Fatal("a replayed refund applied twice")
		}
		if b := balance(t, s, buyer).Balance; b != 550 {
			t.Fatalf("balance %d after half refund, want 550", b)
		}
		// Spend most, then the rest is refunded: what is missing is debt.
		if _, err := tip(s, nil, buyer, u[0], 500); err != nil {
			t.Fatal(err)
		}
		if applied, _, err := s.RefundPayment(ctx, fmt.Sprint("evt_r2", n), "charge.refunded", p.PaymentIntent, 1000, nil); err != nil || !applied {
			t.Fatalf("full refund: %v %v", applied, err)
		}
		if b := balance(t, s, buyer); b.Balance != 0 || b.Debt != 200 {
			t.Fatalf("after full refund: %+v, want balance 0 debt 200", b)
		}
		// Later credits pay the debt first, exactly: a tip received, an
		// adjustment, a pack bought.
		if _, err := tip(s, nil, u[0], buyer, 50); err != nil {
			t.Fatal(err)
		}
		if b := balance(t, s, buyer); b.Balance != 0 || b.Debt != 150 {
			t.Fatalf("after a tip of 50 received: %+v, want balance 0 debt 150", b)
		}
		adjust(t, s, buyer, 100)
		if b := balance(t, s, buyer); b.Balance != 0 || b.Debt != 50 {
			t.Fatalf("after an adjustment of 100: %+v, want balance 0 debt 50", b)
		}
		p2 := wallet.Payment{PaymentIntent: fmt.Sprint("pi_d", n), SessionID: fmt.Sprint("cs_d", n), UserID: buyer, Item: "credits",
			Pack: "small", Credits: 70, AmountCents: 100}
		if applied, err := s.CompletePayment(ctx, fmt.Sprint("evt_d", n), "checkout.session.completed", p2, nil); err != nil || !applied {
			t.Fatalf("pack after debt: %v %v", applied, err)
		}
		if b := balance(t, s, buyer); b.Balance != 20 || b.Debt != 0 {
			t.Fatalf("after a pack of 70: %+v, want balance 20 debt 0", b)
		}
		adjust(t, s, buyer, 5) // no debt left: all of it stays
		if b := balance(t, s, buyer); b.Balance != 25 || b.Debt != 0 {
			t.Fatalf("after an adjustment without debt: %+v, want balance 25 debt 0", b)
		}
		es, err := s.Entries(ctx, buyer, 0, 3)
		if err != nil || len(es) != 3 || es[0].Amount != 5 || es[1].Kind != wallet.Refund || es[1].Amount != -50 || es[1].BalanceAfter != 20 || es[2].Kind != wallet.Topup || es[2].Amount != 70 {
			t.Fatalf("entries after repayments: %+v %v", es, err)
		}
		adjust(t, s, buyer, -25)
		_, _, err = s.RefundPayment(ctx, fmt.Sprint("evt_r3", n), "charge.refunded", "pi_unknown", 100, nil)
		wantCode(t, err, apperr.NotFound)
		_, err = s.CompletePayment(ctx, fmt.Sprint("evt_u", n), "checkout.session.completed",
			wallet.Payment{PaymentIntent: fmt.Sprint("pi_u", n), SessionID: fmt.Sprint("cs_u", n), UserID: 1 << 40, Item: "credits", Credits: 5, AmountCents: 100}, nil)
		wantCode(t, err, apperr.NotFound)
		checkLedger(t, s)
	})

	t.Run("an effect that fails rolls the event back; the retry applies once", func(t *testing.T) {
		n := seq.Add(1)
		p := wallet.Payment{PaymentIntent: fmt.Sprint("pi_c", n), SessionID: fmt.Sprint("cs_c", n), UserID: u[3], Item: "course", CourseID: 9, AmountCents: 4900}
		lost := errors.New("connection lost before commit")
		var grants atomic.Int64
		grant := func(fail bool) func(context.Context, *sql.Tx) error {
			return func(ctx context.Context, tx *sql.Tx) error {
				if fail {
					return lost
				}
				grants.Add(1)
				return nil
			}
		}
		if _, err := s.CompletePayment(ctx, fmt.Sprint("evt_c", n), "checkout.session.completed", p, grant(true)); !errors.Is(err, lost) {
			t.Fatalf("got %v", err)
		}
		for range 3 {
			if _, err := s.CompletePayment(ctx, fmt.Sprint("evt_c", n), "checkout.session.completed", p, grant(false)); err != nil {
				t.Fatal(err)
			}
		}
		if grants.Load() != 1 {
			t.Fatalf("granted %d times", grants.Load())
		}
		var revoked atomic.Int64
		revoke := func(ctx context.Context, tx *sql.Tx, userID, courseID int64) error {
			if userID != u[3] || courseID != 9 {
				return fmt.Errorf("revoke(%d, %d)", userID, courseID)
			}
			revoked.Add(1)
			return nil
		}
		for range 2 {
			if _, _, err := s.RefundPayment(ctx, fmt.Sprint("evt_cr", n), "charge.refunded", p.PaymentIntent, 4900, revoke); err != nil {
				t.Fatal(err)
			}
		}
		if revoked.Load() != 1 {
			t.Fatalf("revoked %d times", revoked.Load())
		}
	})

	t.Run("a wallet holds at most 2^53-1; a tip past it is refused and changes nothing", func(t *testing.T) {
		full := u[1]
		adjust(t, s, full, wallet.MaxAmount-balance(t, s, full).Balance)
		adjust(t, s, u[0], 10)
		adjust(t, s, u[7], 10)
		before := []int64{balance(t, s, u[0]).Balance, balance(t, s, u[7]).Balance}
		for _, from := range []int64{u[0], u[7]} { // one on each side of full's id: both lock orders
			_, err := tip(s, &wallet.Key{UserID: from, Key: fmt.Sprint("full-", seq.Add(1)), Hash: "h"}, from, full, 1)
			wantCode(t, err, apperr.Validation)
		}
		if b := balance(t, s, full).Balance; b != wallet.MaxAmount {
			t.Fatalf("the full wallet holds %d", b)
		}
		if a, b := balance(t, s, u[0]).Balance, balance(t, s, u[7]).Balance; a != before[0] || b != before[1] {
			t.Fatalf("senders hold %d, %d after refused tips; want %v", a, b, before)
		}
		// A tip out of the full wallet still works.
		if _, err := tip(s, nil, full, u[0], 1); err != nil {
			t.Fatal(err)
		}
		checkLedger(t, s)
	})
}
