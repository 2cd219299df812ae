package webtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// callKey is call with an Idempotency-Key, as every wallet write needs.
func (s *site) callKey(method, path, token, key string, body any) int {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		s.t.Logf("%s %s: %d %s", method, path, res.StatusCode, out)
	}
	return res.StatusCode
}

// The wallet page shows the balance an admin's adjustment gave; a tip sent
// from it shows in both members' transactions and balances.
func TestWalletAdjustmentAndTip(t *testing.T) {
	s := newSite(t)
	root := s.admin("root")
	ann, bob := s.member("ann"), s.member("bob")
	if st := s.callKey("POST", "/api/admin/wallets/"+itoa(ann.id)+"/adjust", root.token, "adjust-ann-1", map[string]any{"amount": 250, "reason": "welcome credits"}); st/100 != 2 {
		t.Fatalf("adjust: %d", st)
	}

	a := newBrowser(t, s)
	a.signInAs(ann)
	a.open("/wallet")
	a.waitText(`[data-testid=balance]`, "250 credits")
	a.waitText("table.txs", "Adjustment")
	a.waitText("table.txs", "+250")

	// Ann tips Bob 40 credits.
	a.fill("#f-toUserId", itoa(bob.id))
	a.fill("#f-amount", "40")
	a.fill("#f-note", "thanks for the mix")
	a.clickText("Send tip")
	a.waitText(`[role=status]`, "Sent 40 credits.")
	a.waitText(`[data-testid=balance]`, "210 credits")
	a.waitText("table.txs tbody tr:first-child", "Tip sent")
	a.waitText("table.txs tbody tr:first-child", "-40")
	a.waitText("table.txs tbody tr:first-child", "210")

	// More than she has: a clear refusal, nothing changes.
	a.fill("#f-amount", "1000")
	a.clickText("Send tip")
	a.waitJS(`(document.querySelector('#main p.error[role=alert]')?.textContent ?? '') !== ''`, "an error for the tip")
	a.waitText(`[data-testid=balance]`, "210 credits")
	if n := eval[int](a, `document.querySelectorAll('table.txs tbody tr').length`); n != 2 {
		t.Fatalf("ann has %d transactions after a refused tip, want 2", n)
	}

	b := newBrowser(t, s)
	b.signInAs(bob)
	b.open("/wallet")
	b.waitText(`[data-testid=balance]`, "40 credits")
	b.waitText("table.txs tbody tr:first-child", "Tip received")
	b.waitText("table.txs tbody tr:first-child", "+40")
	noPageErrors(t, a, b)
}
