package httpapi

import (
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/plazahq/plaza/internal/apperr"
)

// FuzzStripeEvent feeds decodeStripeEvent payloads signed with the right
// secret (so decoding, not only verification, is reached) and raw headers:
// it never panics, and what it refuses is a 400.
func FuzzStripeEvent(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","object":"event","api_version":"`+stripe.APIVersion+`","type":"checkout.session.completed","data":{"object":{"id":"cs_1","client_reference_id":"7","payment_status":"paid","metadata":{"item":"credits","pack":"small"}}}}`), "")
	f.Add([]byte(`{"id":"evt_2","api_version":"`+stripe.APIVersion+`","type":"charge.refunded","data":{"object":{"amount_refunded":"x","payment_intent":{}}}}`), "t=1,v1=00")
	f.Add([]byte(`{}`), "t=,v1=")
	const secret = "whsec_fuzz"
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		for _, h := range []string{header, webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()}).Header} {
			ev, err := decodeStripeEvent(payload, h, secret)
			if err != nil {
				if apperr.Status(apperr.From(err).Code) != 400 {
					t.Fatalf("refusal %v is not a 400", err)
				}
				continue
			}
			if ev.ID == "" {
				t.Fatal("an event without an id was accepted")
			}
		}
	})
}
