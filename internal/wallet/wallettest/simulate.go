package wallettest

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/wallet"
)

// SimConfig sizes a simulation.
type SimConfig struct {
	Workers int // goroutines (default 8)
	Ops     int // operations per goroutine (default 150)
}

// Seed returns PLAZA_WALLET_SIM_SEED when set (to replay a failure), or a
// new seed.
func Seed() uint64 {
	if v := os.Getenv("PLAZA_WALLET_SIM_SEED"); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			return n
		}
	}
	return uint64(time.Now().UnixNano())
}

// simKey is an idempotency key bound to one request, as a client reuses it.
type simKey struct {
	key      wallet.Key
	from, to int64
	amount   int64
}

type simPayment struct {
	p wallet.Payment
	// events that completed it (replays and a second event type)
	events []string
}

// model is what the ledger must end with, built from the outcomes the
// store reported.
type model struct {
	mu       sync.Mutex
	net      map[int64]int64 // per user: balance minus debt
	fresh    map[string]int  // idempotency key -> writes that were not replays
	applied  map[string]int  // Stripe event id -> times applied
	paid     map[string]*simPayment
	refunded map[string]int64 // payment intent -> highest refund accepted
}

// Simulate runs seeded random tips, purchases, adjustments, replays of
// idempotency keys, Stripe payments and refunds and their replayed events
// from many goroutines at once, then checks that postings sum to zero, no
// wallet is negative, every balance equals the sum of its postings, every
// user's balance minus debt is what the reported outcomes add up to, and
// no key or event had two effects. The seed is printed on failure: rerun
// with PLAZA_WALLET_SIM_SEED=<seed>.
func Simulate(t *testing.T, env Env, seed uint64, cfg SimConfig) {
	t.Helper()
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Ops <= 0 {
		cfg.Ops = 150
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("wallet simulation failed with seed %d: rerun with PLAZA_WALLET_SIM_SEED=%d", seed, seed)
		}
	})
	s, users := env.Store, env.Users
	ctx := context.Background()
	m := &model{net: map[int64]int64{}, fresh: map[string]int{}, applied: map[string]int{}, paid: map[string]*simPayment{}, refunded: map[string]int64{}}
	for _, u := range users {
		b := balance(t, s, u)
		m.net[u] = b.Balance - b.Debt
	}
	run := fmt.Sprint(seed, "-", seq.Add(1))
	// A shared pool of keys, each bound to one request, that several
	// goroutines send: replays, some of them concurrent.
	setup := rand.New(rand.NewPCG(seed, 0))
	keys := make([]simKey, 40)
	for i := range keys {
		from := users[setup.IntN(len(users))]
		to := users[setup.IntN(len(users))]
		keys[i] = simKey{key: wallet.Key{UserID: from, Key: fmt.Sprint(run, "-k", i), Hash: fmt.Sprint("h", i)}, from: from, to: to, amount: 1 + setup.Int64N(40)}
	}
	// Some money to start.
	for _, u := range users {
		adjust(t, s, u, 200)
		m.net[u] += 200
	}
	var wg sync.WaitGroup
	var failMu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		failMu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		failMu.Unlock()
	}
	expected := func(err error) bool {
		return err == nil || apperr.Is(err, wallet.InsufficientFunds) || apperr.Is(err, apperr.Validation)
	}
	for w := range cfg.Workers {
		r := rand.New(rand.NewPCG(seed, uint64(w)+1))
		wg.Go(func() {
			for i := range cfg.Ops {
				pick := func() int64 { return users[r.IntN(len(users))] }
				switch op := r.IntN(100); {
				case op < 40: // a tip with a fresh key
					from, to, amount := pick(), pick(), 1+r.Int64N(60)
					key := &wallet.Key{UserID: from, Key: fmt.Sprint(run, "-w", w, "-", i), Hash: "x"}
					rep, err := tip(s, key, from, to, amount)
					if !expected(err) {
						fail("tip %d→%d %d: %v", from, to, amount, err)
					}
					if err == nil {
						m.mu.Lock()
						m.net[from] -= amount
						m.net[to] += amount
						if !rep.Replayed {
							m.fresh[key.Key]++
						}
						m.mu.Unlock()
					}
				case op < 60: // a request from the shared pool: often a replay
					k := keys[r.IntN(len(keys))]
					key := k.key
					rep, err := tip(s, &key, k.from, k.to, k.amount)
					if !expected(err) {
						fail("pooled tip %s: %v", key.Key, err)
					}
					if err == nil && !rep.Replayed {
						m.mu.Lock()
						m.net[k.from] -= k.amount
						m.net[k.to] += k.amount
						m.fresh[key.Key]++
						m.mu.Unlock()
					}
				case op < 72: // a purchase
					u, amount := pick(), 1+r.Int64N(80)
					_, err := s.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
						_, err := l.Debit(ctx, u, amount, wallet.Purchase, "collectible:1", "")
						return wallet.Reply{}, err
					})
					if !expected(err) {
						fail("purchase: %v", err)
					}
					if err == nil {
						m.mu.Lock()
						m.net[u] -= amount
						m.mu.Unlock()
					}
				case op < 78: // an admin adjustment either way
					u, amount := pick(), r.Int64N(100)-50
					if amount == 0 {
						amount = 1
					}
					_, err := s.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
						_, err := l.Adjust(ctx, u, amount, "sim", 0)
						return wallet.Reply{}, err
					})
					if !expected(err) {
						fail("adjust: %v", err)
					}
					if err == nil {
						m.mu.Lock()
						m.net[u] += amount
						m.mu.Unlock()
					}
				case op < 88: // a Stripe payment, delivered once or more, by two event types
					n := seq.Add(1)
					p := wallet.Payment{PaymentIntent: fmt.Sprint(run, "-pi", n), SessionID: fmt.Sprint(run, "-cs", n), UserID: pick(),
						Item: "credits", Pack: "small", Credits: 1 + r.Int64N(300), AmountCents: 100 + r.Int64N(5000)}
					events := []string{fmt.Sprint(run, "-evt", n), fmt.Sprint(run, "-evt", n), fmt.Sprint(run, "-evt-async", n)}
					for _, ev := range events[:1+r.IntN(3)] {
						applied, err := s.CompletePayment(ctx, ev, "checkout.session.completed", p, nil)
						if err != nil {
							fail("payment %s: %v", ev, err)
						}
						if applied {
							m.mu.Lock()
							m.applied[p.PaymentIntent]++
							m.net[p.UserID] += p.Credits
							m.paid[p.PaymentIntent] = &simPayment{p: p}
							m.mu.Unlock()
						}
					}
				default: // a refund of a paid payment, maybe partial, maybe replayed
					m.mu.Lock()
					var target *simPayment
					for _, sp := range m.paid { // map order: random enough
						target = sp
						break
					}
					m.mu.Unlock()
					if target == nil {
						continue
					}
					n := seq.Add(1)
					cents := 1 + r.Int64N(target.p.AmountCents)
					ev := fmt.Sprint(run, "-rf", n)
					for range 1 + r.IntN(2) {
						if _, _, err := s.RefundPayment(ctx, ev, "charge.refunded", target.p.PaymentIntent, cents, nil); err != nil {
							fail("refund %s: %v", ev, err)
							break
						}
						m.mu.Lock()
						m.refunded[target.p.PaymentIntent] = max(m.refunded[target.p.PaymentIntent], cents)
						m.mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	// Refunds are cumulative: whatever their order, a payment ends with
	// credits × highest refund ÷ amount taken back.
	for pi, cents := range m.refunded {
		p := m.paid[pi].p
		back := new(big.Int).Mul(big.NewInt(p.Credits), big.NewInt(cents))
		back.Quo(back, big.NewInt(p.AmountCents))
		m.net[p.UserID] -= back.Int64()
	}
	for k, n := range m.fresh {
		if n > 1 {
			t.Errorf("idempotency key %s had %d effects", k, n)
		}
	}
	for pi, n := range m.applied {
		if n > 1 {
			t.Errorf("payment %s applied %d times", pi, n)
		}
	}
	for _, u := range users {
		b := balance(t, s, u)
		if b.Balance < 0 {
			t.Errorf("user %d: negative balance %d", u, b.Balance)
		}
		if got := b.Balance - b.Debt; got != m.net[u] {
			t.Errorf("user %d: balance %d − debt %d = %d, the outcomes add up to %d", u, b.Balance, b.Debt, got, m.net[u])
		}
	}
	checkLedger(t, s)
}
