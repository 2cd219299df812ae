package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/testenv"
)

const testWebhookSecret = "whsec_plaza_test"

var paymentsOn = []string{"PLAZA_RATE_PAYMENT", "off", "STRIPE_SECRET_KEY", "sk_test_plaza", "STRIPE_WEBHOOK_SECRET", testWebhookSecret}

func (e *env) balance(tok string) int64 {
	e.t.Helper()
	var b struct{ Balance, Debt int64 }
	e.must(200, e.do("GET", "/api/wallet", nil, tok)).json(&b)
	return b.Balance
}

func key(k string) []string { return []string{"Idempotency-Key", k} }

// TestWalletTipsIdempotencyAndBadInput walks the wallet routes: keys,
// replays, refusals that change nothing, the cache, the ledger check.
func TestWalletTipsIdempotencyAndBadInput(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_RATE_PAYMENT", "off"))
		adminTok, _ := e.admin("treasurer")
		alice, a := e.signup("alice")
		bob, b := e.signup("bob")
		if e.balance(alice) != 0 || e.balance(bob) != 0 {
			t.Fatal("a new wallet holds 0")
		}
		e.must(400, e.do("POST", fmt.Sprintf("/api/admin/wallets/%d/adjust", a.ID), map[string]any{"amount": 100, "reason": "welcome"}, adminTok))
		e.must(201, e.do("POST", fmt.Sprintf("/api/admin/wallets/%d/adjust", a.ID), map[string]any{"amount": 100, "reason": "welcome"}, adminTok, key("adj-1")...))
		var audits int
		if err := db.Write().QueryRow(context.Background(), []any{&audits}, `SELECT COUNT(*) FROM audit_log WHERE action = 'wallet.adjust' AND target_id = ?`, a.ID); err != nil || audits != 1 {
			t.Fatalf("audit rows %d, %v", audits, err)
		}
		tip := map[string]any{"toUserId": b.ID, "amount": 30, "note": "great set"}
		r := e.do("POST", "/api/wallet/tips", tip, alice)
		if r.status != 400 || r.code() != "idempotency_key_required" {
			t.Fatalf("no key: %d %s", r.status, r.body)
		}
		first := e.must(201, e.do("POST", "/api/wallet/tips", tip, alice, key("tip-1")...))
		var entry struct {
			ID, Amount, BalanceAfter, Counterparty int64
			Kind                                   string
		}
		first.json(&entry)
		if entry.Amount != -30 || entry.BalanceAfter != 70 || entry.Kind != "tip_sent" || entry.Counterparty != b.ID {
			t.Fatalf("tip: %s", first.body)
		}
		again := e.must(201, e.do("POST", "/api/wallet/tips", tip, alice, key("tip-1")...))
		if again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
			t.Fatalf("replay: %v %s", again.header, again.body)
		}
		r = e.do("POST", "/api/wallet/tips", map[string]any{"toUserId": b.ID, "amount": 31}, alice, key("tip-1")...)
		if r.status != 409 || r.code() != "idempotency_key_reused" {
			t.Fatalf("reused key: %d %s", r.status, r.body)
		}
		if e.balance(alice) != 70 || e.balance(bob) != 30 {
			t.Fatalf("balances %d %d", e.balance(alice), e.balance(bob))
		}
		// Bad input: clear 4xx, nothing changed.
		if _, err := db.Write().Exec(context.Background(), `UPDATE users SET banned_at = 1 WHERE id = ?`, 0); err != nil {
			t.Fatal(err)
		}
		carol, c := e.signup("carol")
		_ = carol
		if _, err := db.Write().Exec(context.Background(), `UPDATE users SET banned_at = ? WHERE id = ?`, time.Now().UnixMilli(), c.ID); err != nil {
			t.Fatal(err)
		}
		bad := []struct {
			body   string
			status int
			code   string
		}{
			{fmt.Sprintf(`{"toUserId":%d,"amount":0}`, b.ID), 422, "validation_failed"},
			{fmt.Sprintf(`{"toUserId":%d,"amount":-5}`, b.ID), 422, "validation_failed"},
			{fmt.Sprintf(`{"toUserId":%d,"amount":1.5}`, b.ID), 422, "validation_failed"},
			{fmt.Sprintf(`{"toUserId":%d,"amount":9007199254740992}`, b.ID), 422, "validation_failed"},
			{fmt.Sprintf(`{"toUserId":%d,"amount":1e300}`, b.ID), 422, "validation_failed"},
			{fmt.Sprintf(`{"toUserId":%d,"amount":"5"}`, b.ID), 422, "validation_failed"},
			{fmt.Sprintf(`{"toUserId":%d,"amount":5}`, a.ID), 422, "validation_failed"},
			{fmt.Sprintf(`{"toUserId":%d,"amount":5}`, c.ID), 422, "validation_failed"},
			{`{"toUserId":999999,"amount":5}`, 404, "not_found"},
			{fmt.Sprintf(`{"toUserId":%d,"amount":71}`, b.ID), 409, "insufficient_funds"},
			{fmt.Sprintf(`{"toUserId":%d,"amount":5,"extra":1}`, b.ID), 400, "bad_request"},
			{`{"toUserId":`, 400, "bad_request"},
		}
		for i, tc := range bad {
			r := e.do("POST", "/api/wallet/tips", tc.body, alice, key(fmt.Sprint("bad-", i))...)
			if r.status != tc.status || r.code() != tc.code {
				t.Errorf("%s: %d %s, want %d %s", tc.body, r.status, r.body, tc.status, tc.code)
			}
		}
		if e.balance(alice) != 70 || e.balance(bob) != 30 {
			t.Fatalf("bad input changed balances: %d %d", e.balance(alice), e.balance(bob))
		}
		// Concurrent requests with one key: one effect.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				e.do("POST", "/api/wallet/tips", map[string]any{"toUserId": b.ID, "amount": 10}, alice, key("burst")...)
			})
		}
		wg.Wait()
		if e.balance(alice) != 60 || e.balance(bob) != 40 {
			t.Fatalf("one key, many requests: balances %d %d", e.balance(alice), e.balance(bob))
		}
		var page struct {
			Items []struct {
				Amount, BalanceAfter int64
				Kind                 string
			}
		}
		e.must(200, e.do("GET", "/api/wallet/transactions", nil, alice)).json(&page)
		if len(page.Items) != 3 || page.Items[0].BalanceAfter != 60 || page.Items[2].Kind != "adjustment" || page.Items[2].BalanceAfter != 100 {
			t.Fatalf("transactions: %+v", page.Items)
		}
		e.must(403, e.do("GET", "/api/admin/ledger/check", nil, alice))
		var check struct {
			OK  bool
			Sum int64
		}
		e.must(200, e.do("GET", "/api/admin/ledger/check", nil, adminTok)).json(&check)
		if !check.OK || check.Sum != 0 {
			t.Fatalf("check: %+v", check)
		}
		var packs struct{ Items []struct{ Pack string } }
		e.must(200, e.do("GET", "/api/wallet/packs", nil, "")).json(&packs)
		if len(packs.Items) != 3 || packs.Items[0].Pack != "small" {
			t.Fatalf("packs: %+v", packs)
		}
	})
}

// signedEvent builds a Stripe event of typ around object, signed at ts
// with secret as Stripe signs webhooks.
func signedEvent(t *testing.T, id, typ string, object any, secret string, ts time.Time) (string, string) {
	t.Helper()
	raw, err := json.Marshal(object)
	if err != nil {
		t.Fatal(err)
	}
	payload := fmt.Sprintf(`{"id":%q,"object":"event","api_version":%q,"type":%q,"data":{"object":%s}}`, id, stripe.APIVersion, typ, raw)
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: secret, Timestamp: ts})
	return payload, sp.Header
}

func session(id string, user int64, meta map[string]string) map[string]any {
	return map[string]any{"id": id, "object": "checkout.session", "client_reference_id": fmt.Sprint(user), "payment_status": "paid",
		"amount_total": 499, "payment_intent": "pi_" + id, "metadata": meta}
}

func (e *env) webhook(id, typ string, object any, ts time.Time) resp {
	e.t.Helper()
	payload, sig := signedEvent(e.t, id, typ, object, testWebhookSecret, ts)
	return e.do("POST", "/api/stripe/webhook", payload, "", "Stripe-Signature", sig)
}

// TestStripeWebhook: signed events credit, grant and refund once; forged,
// stale and unknown ones are refused or ignored with nothing changed.
func TestStripeWebhook(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv(paymentsOn...))
		adminTok, _ := e.admin("cashier")
		dan, d := e.signup("dan")
		now := time.Now()
		paid := session("cs_1", d.ID, map[string]string{"item": "credits", "pack": "small"})
		r := e.must(200, e.webhook("evt_1", "checkout.session.completed", paid, now))
		if !strings.Contains(string(r.body), `"applied":true`) || e.balance(dan) != 500 {
			t.Fatalf("completed: %s balance %d", r.body, e.balance(dan))
		}
		for _, ev := range []struct{ id, typ string }{{"evt_1", "checkout.session.completed"}, {"evt_2", "checkout.session.async_payment_succeeded"}} {
			r := e.must(200, e.webhook(ev.id, ev.typ, paid, now))
			if !strings.Contains(string(r.body), `"applied":false`) {
				t.Fatalf("replay applied: %s", r.body)
			}
		}
		if e.balance(dan) != 500 {
			t.Fatalf("balance %d after replays", e.balance(dan))
		}
		// Forged, stale, unsigned: 400 and nothing changed.
		payload, _ := signedEvent(t, "evt_3", "checkout.session.completed", session("cs_3", d.ID, map[string]string{"item": "credits", "pack": "large"}), testWebhookSecret, now)
		_, forged := signedEvent(t, "evt_3", "checkout.session.completed", session("cs_3", d.ID, map[string]string{"item": "credits", "pack": "large"}), "whsec_other", now)
		e.must(400, e.do("POST", "/api/stripe/webhook", payload, "", "Stripe-Signature", forged))
		e.must(400, e.do("POST", "/api/stripe/webhook", payload, "", ""))
		e.must(400, e.webhook("evt_4", "checkout.session.completed", session("cs_4", d.ID, map[string]string{"item": "credits", "pack": "large"}), now.Add(-6*time.Minute)))
		e.must(404, e.webhook("evt_5", "checkout.session.completed", session("cs_5", 999999, map[string]string{"item": "credits", "pack": "small"}), now))
		e.must(422, e.webhook("evt_6", "checkout.session.completed", session("cs_6", d.ID, map[string]string{"item": "credits", "pack": "huge"}), now))
		e.must(404, e.webhook("evt_7", "checkout.session.completed", session("cs_7", d.ID, map[string]string{"item": "course", "courseId": "424242"}), now))
		e.must(200, e.webhook("evt_8", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}, now))
		if e.balance(dan) != 500 {
			t.Fatalf("refused events changed the balance: %d", e.balance(dan))
		}
		// A paid course is granted, and taken back by a full refund.
		var course struct{ ID int64 }
		e.must(201, e.do("POST", "/api/admin/courses", map[string]any{"title": "Mixing", "priceCents": 4900, "unlock": map[string]string{"kind": "purchase"}, "published": true}, adminTok)).json(&course)
		grants := func() (n int) {
			db.Write().QueryRow(context.Background(), []any{&n}, `SELECT COUNT(*) FROM course_grants WHERE user_id = ? AND course_id = ?`, d.ID, course.ID)
			return n
		}
		cs := session("cs_c", d.ID, map[string]string{"item": "course", "courseId": fmt.Sprint(course.ID)})
		cs["amount_total"] = 4900
		e.must(200, e.webhook("evt_c1", "checkout.session.completed", cs, now))
		if grants() != 1 {
			t.Fatal("course not granted")
		}
		// Refunds: half of the credits, then the rest after some were spent.
		charge := func(refunded int64, pi string) map[string]any {
			return map[string]any{"id": "ch_" + pi, "object": "charge", "amount": 499, "amount_refunded": refunded, "payment_intent": pi, "refunded": true}
		}
		bob, b := e.signup("bobby")
		_ = bob
		e.do("POST", "/api/wallet/tips", map[string]any{"toUserId": b.ID, "amount": 400}, dan, key("spend")...)
		e.must(200, e.webhook("evt_r1", "charge.refunded", charge(499, "pi_cs_1"), now))
		e.must(200, e.webhook("evt_r1", "charge.refunded", charge(499, "pi_cs_1"), now))
		var w struct{ Balance, Debt int64 }
		e.must(200, e.do("GET", "/api/wallet", nil, dan)).json(&w)
		if w.Balance != 0 || w.Debt != 400 {
			t.Fatalf("after refund: %+v, want 0 and debt 400", w)
		}
		cr := charge(4900, "pi_cs_c")
		cr["amount"] = 4900
		e.must(200, e.webhook("evt_r2", "charge.refunded", cr, now))
		if grants() != 0 {
			t.Fatal("refunded course still granted")
		}
		var check struct{ OK bool }
		e.must(200, e.do("GET", "/api/admin/ledger/check", nil, adminTok)).json(&check)
		if !check.OK {
			t.Fatal("ledger check failed")
		}
	})
}

func TestPaymentsDisabledWithoutKeys(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("eve")
	for _, path := range []string{"/api/stripe/checkout", "/api/stripe/webhook"} {
		r := e.do("POST", path, map[string]any{"item": "credits", "pack": "small"}, tok)
		if r.status != 503 || r.code() != "payments_disabled" {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
}

// stripeMock returns the stripe-mock URL the tests use
// (PLAZA_TEST_STRIPE_MOCK), skipping when unset and failing under CI=true
// when it is unset or does not answer.
func stripeMock(t *testing.T) string {
	t.Helper()
	u := testenv.Lookup(t, "PLAZA_TEST_STRIPE_MOCK", "Stripe checkout (stripe-mock)")
	p, err := url.Parse(u)
	if err == nil {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", p.Host, 2*time.Second); err == nil {
			c.Close()
			return u
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("stripe-mock at %s does not answer: %v", u, err)
	}
	t.Skipf("stripe-mock at %s does not answer: %v", u, err)
	return ""
}

// TestStripeCheckoutAgainstStripeMock creates Checkout Sessions through
// stripe-go against stripe-mock.
func TestStripeCheckoutAgainstStripeMock(t *testing.T) {
	mock := stripeMock(t)
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv(append(paymentsOn, "STRIPE_API_BASE", mock)...))
	adminTok, _ := e.admin("shopkeeper")
	tok, _ := e.signup("frank")
	var out struct{ URL, SessionID string }
	e.must(200, e.do("POST", "/api/stripe/checkout", map[string]any{"item": "credits", "pack": "medium"}, tok)).json(&out)
	if !strings.HasPrefix(out.SessionID, "cs_") || out.URL == "" {
		t.Fatalf("checkout: %+v", out)
	}
	e.must(422, e.do("POST", "/api/stripe/checkout", map[string]any{"item": "credits", "pack": "giant"}, tok))
	e.must(422, e.do("POST", "/api/stripe/checkout", map[string]any{"item": "gold"}, tok))
	e.must(404, e.do("POST", "/api/stripe/checkout", map[string]any{"item": "course", "courseId": 777}, tok))
	var open, paid struct{ ID int64 }
	e.must(201, e.do("POST", "/api/admin/courses", map[string]any{"title": "Free", "published": true}, adminTok)).json(&open)
	e.must(422, e.do("POST", "/api/stripe/checkout", map[string]any{"item": "course", "courseId": open.ID}, tok))
	e.must(201, e.do("POST", "/api/admin/courses", map[string]any{"title": "Paid", "priceCents": 2500, "unlock": map[string]string{"kind": "purchase"}, "published": true}, adminTok)).json(&paid)
	e.must(200, e.do("POST", "/api/stripe/checkout", map[string]any{"item": "course", "courseId": paid.ID}, tok, key("co-1")...)).json(&out)
	if !strings.HasPrefix(out.SessionID, "cs_") {
		t.Fatalf("course checkout: %+v", out)
	}
}

// TestWebhookAppliesOnceWhenTheDatabaseIsLost: the database goes away
// while Stripe delivers an event; the 503 makes Stripe retry, and the
// retry applies the event once.
func TestWebhookAppliesOnceWhenTheDatabaseIsLost(t *testing.T) {
	direct, proxiedURL, proxy := sqldbtest.ProxiedMySQL(t)
	ddb, err := sqldb.Open(context.Background(), sqldb.Config{URL: direct})
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Close()
	if err := ddb.Migrate(context.Background(), sqldbtest.Quiet()); err != nil {
		t.Fatal(err)
	}
	db, err := sqldb.Open(context.Background(), sqldb.Config{URL: proxiedURL, QueryTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := newEnv(t, db, withEnv(paymentsOn...))
	tok, u := e.signup("gina")
	ev := session("cs_lost", u.ID, map[string]string{"item": "credits", "pack": "small"})
	proxy.Cut()
	r := e.webhook("evt_lost", "checkout.session.completed", ev, time.Now())
	if r.status < 500 {
		t.Fatalf("with the database gone: %d %s", r.status, r.body)
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = e.webhook("evt_lost", "checkout.session.completed", ev, time.Now())
		if r.status == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.must(200, r)
	e.must(200, e.webhook("evt_lost", "checkout.session.completed", ev, time.Now()))
	var n int64
	if err := ddb.Write().QueryRow(context.Background(), []any{&n}, `SELECT balance FROM wallet_accounts WHERE user_id = ? AND kind = 'wallet'`, u.ID); err != nil || n != 500 {
		t.Fatalf("balance %d (%v), want 500 once", n, err)
	}
	_ = tok
}

// TestAdminUsersBalancesBatched: the admins' user list shows each user's
// balance, loaded in one query for the page: a page of 8 costs what a
// page of 2 does.
func TestAdminUsersBalancesBatched(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_RATE_PAYMENT", "off"))
		adminTok, _ := e.admin("auditor")
		want := map[int64]int64{}
		for i := range 8 {
			_, u := e.signup(fmt.Sprint("saver", i))
			want[u.ID] = 0
			if i%3 != 0 {
				want[u.ID] = int64(10 * i)
				e.must(201, e.do("POST", fmt.Sprintf("/api/admin/wallets/%d/adjust", u.ID), map[string]any{"amount": 10 * i, "reason": "seed"},
					adminTok, key(fmt.Sprint("seed-", i))...))
			}
		}
		e.jobs.Stop(context.Background()) // its polling would count as queries too
		e.must(200, e.do("GET", "/api/users/me", nil, adminTok))
		cost := func(limit int) int64 {
			least := int64(-1)
			for range 3 {
				before := e.db.Queries()
				var page struct {
					Items []struct {
						ID      int64
						Balance *int64
					}
				}
				e.must(200, e.do("GET", fmt.Sprintf("/api/admin/users?status=active&limit=%d", limit), nil, adminTok)).json(&page)
				n := e.db.Queries() - before
				if len(page.Items) != limit {
					t.Fatalf("page of %d: %d items", limit, len(page.Items))
				}
				for _, it := range page.Items {
					if it.Balance == nil {
						t.Fatalf("user %d has no balance", it.ID)
					}
					if w, ok := want[it.ID]; ok && *it.Balance != w {
						t.Fatalf("user %d: balance %d, want %d", it.ID, *it.Balance, w)
					}
				}
				if least < 0 || n < least {
					least = n
				}
			}
			return least
		}
		if small, large := cost(2), cost(8); small != large {
			t.Fatalf("a page of 2 costs %d queries, of 8 %d", small, large)
		}
	})
}
