package wallet_test

import (
	"testing"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/wallet"
)

// FuzzParseKey: an Idempotency-Key is accepted only as 1-255 printable
// ASCII bytes, and its refusals are 400s.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"", "a", "550e8400-e29b-41d4-a716-446655440000", "with space", "é", string(make([]byte, 300))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		k, err := wallet.ParseKey(v)
		if err != nil {
			if apperr.Status(apperr.From(err).Code) != 400 {
				t.Fatalf("%q: %v is not a 400", v, err)
			}
			return
		}
		if k != v || len(k) == 0 || len(k) > 255 {
			t.Fatalf("%q accepted as %q", v, k)
		}
		for i := 0; i < len(k); i++ {
			if k[i] <= ' ' || k[i] > '~' {
				t.Fatalf("%q accepted with byte %#x", v, k[i])
			}
		}
		if wallet.RequestHash("POST", "/p", []byte(k)) == wallet.RequestHash("POST", "/p", []byte(k+"x")) {
			t.Fatal("two bodies hash alike")
		}
	})
}

func TestParsePacks(t *testing.T) {
	ps, err := wallet.ParsePacks(wallet.DefaultPacks, "USD")
	if err != nil || len(ps) != 3 || ps[1] != (wallet.Pack{Pack: "medium", Credits: 1200, PriceCents: 999, Currency: "usd"}) {
		t.Fatalf("%+v %v", ps, err)
	}
	for _, bad := range []string{"", "a:1", "a:0:100", "a:5:10", "A:5:100", "a:5:100,a:6:200", "a:x:100"} {
		if _, err := wallet.ParsePacks(bad, "usd"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := wallet.ParsePacks(wallet.DefaultPacks, "dollars"); err == nil {
		t.Error("a bad currency accepted")
	}
}
