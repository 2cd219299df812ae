package httpapi

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
	"github.com/plazahq/plaza/internal/wallet"
)

// BenchmarkWebhook measures one checkout.session.completed webhook:
// signature verification, decoding, and the credit with its event id
// committed; it reports the p50 and p99 of those.
func BenchmarkWebhook(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b, sqldb.Config{})
			u, err := sqlstore.NewAccounts(db).CreateUser(context.Background(), account.NewUser{Email: "hook@example.com", Username: "hook",
				PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			packs, _ := wallet.ParsePacks(wallet.DefaultPacks, "usd")
			s := &Server{wallet: WalletDeps{Store: sqlstore.NewWallet(db, nil), Packs: packs, Now: time.Now}}
			const secret = "whsec_bench"
			run := time.Now().UnixNano() // b.N grows between runs: fresh ids each time
			payloads := make([][]byte, b.N)
			headers := make([]string, b.N)
			for i := range b.N {
				payloads[i] = fmt.Appendf(nil, `{"id":"evt_%d_%d","object":"event","api_version":%q,"type":"checkout.session.completed","data":{"object":{"id":"cs_%d_%d","client_reference_id":"%d","payment_status":"paid","amount_total":499,"payment_intent":"pi_%d_%d","metadata":{"item":"credits","pack":"small"}}}}`,
					run, i, stripe.APIVersion, run, i, u.ID, run, i)
				headers[i] = webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payloads[i], Secret: secret}).Header
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				ev, err := decodeStripeEvent(payloads[i], headers[i], secret)
				if err != nil {
					b.Fatal(err)
				}
				p, err := s.paymentOf(ev.Session)
				if err != nil {
					b.Fatal(err)
				}
				if applied, err := s.wallet.Store.CompletePayment(context.Background(), ev.ID, ev.Type, p, nil); err != nil || !applied {
					b.Fatal(applied, err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
