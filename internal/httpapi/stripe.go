package httpapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/courses"
	"github.com/plazahq/plaza/internal/wallet"
)

// webhookTolerance is how old a signed webhook may be (Stripe's default).
const webhookTolerance = 5 * time.Minute

func (s *Server) paymentsOn() error {
	if s.wallet.Stripe == nil {
		return apperr.New(apperr.PaymentsDisabled, "payments are not configured on this server (STRIPE_SECRET_KEY)")
	}
	return nil
}

type checkoutRequest struct {
	Item     string `json:"item"`
	Pack     string `json:"pack"`
	CourseID int64  `json:"courseId"`
}

type checkoutResponse struct {
	URL       string `json:"url"`
	SessionID string `json:"sessionId"`
}

// checkout opens a Stripe Checkout Session for a credit pack or a paid
// course. The session carries the buyer (client_reference_id) and what is
// bought (metadata), which the webhook reads back when it is paid.
func (s *Server) checkout(w http.ResponseWriter, r *http.Request) error {
	if err := s.paymentsOn(); err != nil {
		return err
	}
	var in checkoutRequest
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	me := authFrom(r).user.ID
	var (
		name, currency string
		cents          int64
		meta           map[string]string
	)
	switch in.Item {
	case "credits":
		p, ok := wallet.Find(s.wallet.Packs, in.Pack)
		if !ok {
			names := make([]string, len(s.wallet.Packs))
			for i, p := range s.wallet.Packs {
				names[i] = p.Pack
			}
			return apperr.Invalid(map[string]string{"pack": "must be one of " + strings.Join(names, ", ")})
		}
		name, cents, currency = fmt.Sprintf("%d credits", p.Credits), p.PriceCents, p.Currency
		meta = map[string]string{"item": "credits", "pack": p.Pack}
	case "course":
		if in.CourseID <= 0 {
			return apperr.Invalid(map[string]string{"courseId": "is required"})
		}
		c, err := s.courses.AdminCourse(r.Context(), in.CourseID)
		if err != nil {
			return err
		}
		if !c.Published || c.Unlock.Kind != courses.UnlockPurchase || c.PriceCents <= 0 {
			return apperr.Invalid(map[string]string{"courseId": "is not a published course sold for a price"})
		}
		name, cents, currency = c.Title, c.PriceCents, strings.ToLower(c.Currency)
		meta = map[string]string{"item": "course", "courseId": strconv.FormatInt(c.ID, 10)}
	default:
		return apperr.Invalid(map[string]string{"item": "must be credits or course"})
	}
	base := strings.TrimRight(s.wallet.BaseURL, "/")
	params := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(strconv.FormatInt(me, 10)),
		SuccessURL:        stripe.String(base + "/wallet?checkout=success&session_id={CHECKOUT_SESSION_ID}"),
		CancelURL:         stripe.String(base + "/wallet?checkout=cancel"),
		Metadata:          meta,
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripe.String(currency),
				UnitAmount:  stripe.Int64(cents),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(name)},
			},
		}},
	}
	params.Context = r.Context()
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		key, err := wallet.ParseKey(k)
		if err != nil {
			return err
		}
		params.SetIdempotencyKey("plaza-" + strconv.FormatInt(me, 10) + "-" + key)
	}
	sess, err := s.wallet.Stripe.V1CheckoutSessions.Create(r.Context(), params)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 {
			return apperr.Wrap(apperr.Validation, "the payment provider refused the checkout: "+se.Msg, err)
		}
		return &apperr.Error{Code: apperr.Unavailable, Message: "the payment provider did not answer; retry shortly", RetryAfter: 2 * time.Second, Err: err}
	}
	writeJSON(w, http.StatusOK, checkoutResponse{URL: sess.URL, SessionID: sess.ID})
	return nil
}

// stripeEvent is a verified webhook event, reduced to what Plaza acts on.
type stripeEvent struct {
	ID, Type string
	Session  *stripe.CheckoutSession // checkout.session.*
	Charge   *stripe.Charge          // charge.refunded
}

// decodeStripeEvent verifies payload's Stripe-Signature header with the
// library's own check (HMAC over the raw bytes, timestamp within the
// tolerance, the event's API version that of the pinned stripe-go) and
// decodes the objects Plaza handles. Every failure is a 400.
func decodeStripeEvent(payload []byte, header, secret string) (stripeEvent, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{Tolerance: webhookTolerance})
	if err != nil {
		msg := "the webhook's signature does not verify: " + err.Error()
		if errors.Is(err, webhook.ErrTooOld) {
			msg = "the webhook's signature is older than 5 minutes"
		}
		return stripeEvent{}, apperr.New(apperr.BadRequest, msg)
	}
	out := stripeEvent{ID: ev.ID, Type: string(ev.Type)}
	if out.ID == "" || len(out.ID) > 255 || len(out.Type) > 128 {
		return stripeEvent{}, apperr.New(apperr.BadRequest, "the event has no id or an overlong id or type")
	}
	if ev.Data == nil {
		return out, nil
	}
	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		out.Session = &stripe.CheckoutSession{}
		if err := json.Unmarshal(ev.Data.Raw, out.Session); err != nil {
			return stripeEvent{}, apperr.New(apperr.BadRequest, "the event's checkout session does not decode: "+err.Error())
		}
	case stripe.EventTypeChargeRefunded:
		out.Charge = &stripe.Charge{}
		if err := json.Unmarshal(ev.Data.Raw, out.Charge); err != nil {
			return stripeEvent{}, apperr.New(apperr.BadRequest, "the event's charge does not decode: "+err.Error())
		}
	}
	return out, nil
}

type webhookResponse struct {
	Received bool `json:"received"`
	Applied  bool `json:"applied"`
}

// stripeWebhook applies a verified event exactly once: its id is recorded
// in the transaction of its effect, so a replay, or Stripe's retry after
// the database went away before the commit, applies it once.
func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.paymentsOn(); err != nil {
		return err
	}
	raw, err := s.rawBody(w, r)
	if err != nil {
		return err
	}
	ev, err := decodeStripeEvent(raw, r.Header.Get("Stripe-Signature"), s.wallet.WebhookSecret)
	if err != nil {
		return err
	}
	var applied bool
	switch {
	case ev.Session != nil:
		applied, err = s.completePayment(r.Context(), ev)
	case ev.Charge != nil:
		applied, err = s.refundCharge(r.Context(), ev)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookResponse{Received: true, Applied: applied})
	return nil
}

// paymentOf reads what a paid Checkout Session bought.
func (s *Server) paymentOf(sess *stripe.CheckoutSession) (wallet.Payment, error) {
	user, err := strconv.ParseInt(sess.ClientReferenceID, 10, 64)
	if err != nil || user <= 0 {
		return wallet.Payment{}, apperr.Invalid(map[string]string{"client_reference_id": "is not a Plaza user id"})
	}
	p := wallet.Payment{SessionID: sess.ID, UserID: user, Item: sess.Metadata["item"], AmountCents: sess.AmountTotal}
	if sess.ID == "" || len(sess.ID) > 255 {
		return wallet.Payment{}, apperr.Invalid(map[string]string{"id": "is not a checkout session id"})
	}
	if sess.PaymentIntent != nil {
		p.PaymentIntent = sess.PaymentIntent.ID
	}
	switch p.Item {
	case "credits":
		pack, ok := wallet.Find(s.wallet.Packs, sess.Metadata["pack"])
		if !ok {
			return wallet.Payment{}, apperr.Invalid(map[string]string{"metadata.pack": "is not a pack this server sells"})
		}
		p.Pack, p.Credits = pack.Pack, pack.Credits
	case "course":
		id, err := strconv.ParseInt(sess.Metadata["courseId"], 10, 64)
		if err != nil || id <= 0 {
			return wallet.Payment{}, apperr.Invalid(map[string]string{"metadata.courseId": "is not a course id"})
		}
		p.CourseID = id
	default:
		return wallet.Payment{}, apperr.Invalid(map[string]string{"metadata.item": "must be credits or course"})
	}
	return p, nil
}

func (s *Server) completePayment(ctx context.Context, ev stripeEvent) (bool, error) {
	sess := ev.Session
	// A completed session whose payment is still pending (bank debits)
	// waits for checkout.session.async_payment_succeeded.
	if sess.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid && sess.PaymentStatus != stripe.CheckoutSessionPaymentStatusNoPaymentRequired {
		return false, nil
	}
	p, err := s.paymentOf(sess)
	if err != nil {
		return false, err
	}
	var grant func(ctx context.Context, tx *sql.Tx) error
	if p.Item == "course" {
		grant = func(ctx context.Context, tx *sql.Tx) error {
			_, err := s.wallet.Courses.GrantTx(ctx, tx, p.UserID, p.CourseID, "stripe", truncate(p.SessionID, 64), s.wallet.Now())
			return err
		}
	}
	applied, err := s.wallet.Store.CompletePayment(ctx, ev.ID, ev.Type, p, grant)
	if err != nil {
		return false, err
	}
	if applied {
		s.walletChanged(ctx, p.UserID)
	}
	return applied, nil
}

func (s *Server) refundCharge(ctx context.Context, ev stripeEvent) (bool, error) {
	ch := ev.Charge
	if ch.PaymentIntent == nil || ch.PaymentIntent.ID == "" {
		return false, nil // not a Checkout payment of ours
	}
	revoke := func(ctx context.Context, tx *sql.Tx, userID, courseID int64) error {
		_, err := s.wallet.Courses.RevokeGrantTx(ctx, tx, userID, courseID)
		return err
	}
	applied, user, err := s.wallet.Store.RefundPayment(ctx, ev.ID, ev.Type, ch.PaymentIntent.ID, ch.AmountRefunded, revoke)
	if err != nil {
		return false, err
	}
	if applied {
		s.walletChanged(ctx, user)
	}
	return applied, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
