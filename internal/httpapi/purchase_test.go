package httpapi_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestCollectiblePurchase buys collectibles with credits: a limited supply
// raced by more buyers than serials sells exactly its supply, each winner
// debited once and each loser not at all; a replayed key repeats the first
// answer; short funds, a second copy and an item not for sale are refused
// with nothing changed; the ledger still balances. On both engines.
func TestCollectiblePurchase(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_RATE_PAYMENT", "off", "PLAZA_RATE_API", "off"))
		adminTok, _ := e.admin("mint")
		newCollectible := func(slug string, supply, price any) int64 {
			var c struct{ ID int64 }
			e.must(201, e.do("POST", "/api/admin/collectibles", map[string]any{"slug": slug, "name": slug, "rarity": "rare",
				"supply": supply, "priceCredits": price}, adminTok)).json(&c)
			return c.ID
		}
		limited := newCollectible("limited", 3, 40)
		open := newCollectible("open", nil, 10)
		gift := newCollectible("gift", nil, nil)

		const buyers = 8
		toks := make([]string, buyers)
		for i := range toks {
			var u struct{ ID int64 }
			toks[i], _ = e.signup(fmt.Sprint("buyer", i))
			e.must(200, e.do("GET", "/api/users/me", nil, toks[i])).json(&u)
			e.must(201, e.do("POST", fmt.Sprintf("/api/admin/wallets/%d/adjust", u.ID), map[string]any{"amount": 100, "reason": "test credits"},
				adminTok, key(fmt.Sprint("grant-", i))...))
		}
		poor, _ := e.signup("poor")
		buy := func(id int64, tok, k string) resp {
			return e.do("POST", fmt.Sprintf("/api/collectibles/%d/purchase", id), nil, tok, key(k)...)
		}
		if r := buy(limited, poor, "p1"); r.status != 409 || r.code() != "insufficient_funds" {
			t.Fatalf("without credits: %d %s", r.status, r.body)
		}

		var mu sync.Mutex
		var serials []int64
		won := map[int]resp{}
		var wg sync.WaitGroup
		for i := range buyers {
			wg.Go(func() {
				r := buy(limited, toks[i], "limited-1")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case r.status == 201:
					var o struct{ Serial int64 }
					r.json(&o)
					serials = append(serials, o.Serial)
					won[i] = r
				case r.status == 409 && r.code() == "sold_out":
				default:
					t.Errorf("buyer %d: %d %s", i, r.status, r.body)
				}
			})
		}
		wg.Wait()
		slices.Sort(serials)
		if !slices.Equal(serials, []int64{1, 2, 3}) {
			t.Fatalf("serials sold %v, want [1 2 3]", serials)
		}
		for i, tok := range toks {
			want := int64(100)
			if _, ok := won[i]; ok {
				want = 60
			}
			if got := e.balance(tok); got != want {
				t.Errorf("buyer %d balance %d, want %d", i, got, want)
			}
		}
		for i, first := range won {
			again := buy(limited, toks[i], "limited-1")
			if again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
				t.Fatalf("replay: %d %v %s", again.status, again.header, again.body)
			}
			if got := e.balance(toks[i]); got != 60 {
				t.Fatalf("a replay charged again: %d", got)
			}
			e.must(201, buy(open, toks[i], "open-1"))
			if r := buy(open, toks[i], "open-2"); r.status != 409 || r.code() != "already_owned" {
				t.Fatalf("second copy: %d %s", r.status, r.body)
			}
			if got := e.balance(toks[i]); got != 50 {
				t.Fatalf("after one open buy and a refused second: %d, want 50", got)
			}
			break
		}
		if r := buy(gift, toks[0], "gift-1"); r.status != 422 {
			t.Fatalf("not for sale: %d %s", r.status, r.body)
		}
		if r := buy(999999, toks[0], "nothing-1"); r.status != 404 {
			t.Fatalf("unknown collectible: %d %s", r.status, r.body)
		}
		var check struct {
			OK  bool
			Sum int64
		}
		e.must(200, e.do("GET", "/api/admin/ledger/check", nil, adminTok)).json(&check)
		if !check.OK || check.Sum != 0 {
			t.Fatalf("ledger check: %+v", check)
		}
		var cat struct {
			Items []struct {
				ID        int64
				Remaining *int64
			}
		}
		e.must(200, e.do("GET", "/api/collectibles", nil, "")).json(&cat)
		for _, c := range cat.Items {
			if c.ID == limited && (c.Remaining == nil || *c.Remaining != 0) {
				t.Fatalf("limited remaining %v after selling out", c.Remaining)
			}
		}
	})
}
