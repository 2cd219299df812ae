package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"github.com/plazahq/plaza/internal/achievements"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/wallet"
)

// WalletDeps are what the wallet and payment routes need.
type WalletDeps struct {
	Store wallet.Store
	// Collectibles hands out serials inside a purchase's transaction
	// (sqlstore.Achievements).
	Collectibles CollectibleClaims
	Packs        []wallet.Pack
	// Stripe is the API client; nil: payments are off (503
	// payments_disabled), as without STRIPE_SECRET_KEY.
	Stripe        *stripe.Client
	WebhookSecret string
	// BaseURL is where Checkout sends the buyer back.
	BaseURL string
	Courses CourseGrants
	Audit   AuditAppender
	Now     func() time.Time
}

// CourseGrants opens and closes paid courses inside a payment's
// transaction (sqlstore.Courses).
type CourseGrants interface {
	GrantTx(ctx context.Context, tx *sql.Tx, userID, courseID int64, source, ref string, now time.Time) (bool, error)
	RevokeGrantTx(ctx context.Context, tx *sql.Tx, userID, courseID int64) (bool, error)
}

// AuditAppender records admin actions in their transaction (sqlstore.Audit).
type AuditAppender interface {
	AppendTx(ctx context.Context, tx *sql.Tx, e audit.Entry) (audit.Record, error)
}

// walletKey is the cache key of a user's GET /api/wallet.
func walletKey(userID int64) string { return "wallet:" + strconv.FormatInt(userID, 10) }

func (s *Server) myWallet(w http.ResponseWriter, r *http.Request) error {
	id := authFrom(r).user.ID
	b, err := s.cache.Get(r.Context(), cache.Short, walletKey(id), "", func(ctx context.Context) ([]byte, error) {
		bal, err := s.wallet.Store.Balance(ctx, id)
		if err != nil {
			return nil, err
		}
		return json.Marshal(bal)
	})
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) walletTransactions(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	es, err := s.wallet.Store.Entries(r.Context(), authFrom(r).user.ID, p.Before, p.Limit)
	if err != nil {
		return err
	}
	out := list[wallet.Entry]{Items: es}
	if out.Items == nil {
		out.Items = []wallet.Entry{}
	}
	if len(es) == p.Limit && len(es) > 0 {
		out.NextCursor = strconv.FormatInt(es[len(es)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) walletPacks(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"items": s.wallet.Packs})
	return nil
}

// idempotent serves a wallet write under its Idempotency-Key (PRODUCT.md):
// it requires the header, reads the raw body (whose bytes, with the method
// and path, identify the request), decodes it into in, and runs fn in one
// transaction that also records the response under the key. A replay
// answers with the recorded response and Idempotent-Replayed: true; after
// a fresh write, the cached balances of the users touched() names (read
// once the body is decoded) are dropped.
//
// Any wallet write uses it, e.g. POST /api/collectibles/{id}/purchase:
//
//	return s.idempotent(w, r, &in, func(ctx context.Context, l wallet.Ledger) (int, any, error) {
//		e, err := l.Debit(ctx, me, price, wallet.Purchase, "collectible:12", "")  // or sqlstore.Wallet.DebitTx(ctx, l.Tx(), ...)
//		... write the serial with l.Tx() ...
//		return http.StatusCreated, view, err
//	}, func() []int64 { return []int64{me} })
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, in any, fn func(ctx context.Context, l wallet.Ledger) (int, any, error), touched func() []int64) error {
	keyValue, err := wallet.ParseKey(r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	raw, err := s.rawBody(w, r)
	if err != nil {
		return err
	}
	if in != nil {
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if err := s.decode(w, r, in); err != nil {
			return err
		}
	}
	me := authFrom(r).user.ID
	key := &wallet.Key{UserID: me, Key: keyValue, Hash: wallet.RequestHash(r.Method, r.URL.Path, raw)}
	// The wallets it touches, named up front: the store may lock them
	// first, in one order, for a whole group-commit batch.
	ctx := wallet.Touching(r.Context(), touched()...)
	reply, err := s.wallet.Store.Do(ctx, key, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
		status, v, err := fn(ctx, l)
		if err != nil {
			return wallet.Reply{}, err
		}
		body, err := json.Marshal(v)
		return wallet.Reply{Status: status, Body: body}, err
	})
	if err != nil {
		return err
	}
	if reply.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	} else {
		s.walletChanged(r.Context(), touched()...)
	}
	writeRaw(w, reply.Status, reply.Body)
	return nil
}

// walletChanged drops cached balances after a write.
func (s *Server) walletChanged(ctx context.Context, users ...int64) {
	keys := make([]string, len(users))
	for i, id := range users {
		keys[i] = walletKey(id)
	}
	if len(keys) > 0 {
		s.cache.Invalidate(context.WithoutCancel(ctx), keys...)
	}
}

// rawBody reads a JSON request body whole, within the size limit.
func (s *Server) rawBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, apperr.New(apperr.TooLarge, "the body is larger than "+strconv.FormatInt(s.cfg.MaxBodyBytes, 10)+" bytes")
	}
	return b, err
}

// tipRequest is POST /api/wallet/tips.
type tipRequest struct {
	ToUserID int64  `json:"toUserId"`
	Amount   int64  `json:"amount"`
	Note     string `json:"note"`
}

func (s *Server) sendTip(w http.ResponseWriter, r *http.Request) error {
	var in tipRequest
	me := authFrom(r).user.ID
	return s.idempotent(w, r, &in, func(ctx context.Context, l wallet.Ledger) (int, any, error) {
		if err := wallet.CheckNote("note", in.Note, false); err != nil {
			return 0, nil, err
		}
		if in.ToUserID <= 0 {
			return 0, nil, apperr.Invalid(map[string]string{"toUserId": "is required"})
		}
		e, err := l.Tip(ctx, me, in.ToUserID, in.Amount, in.Note)
		return http.StatusCreated, e, err
	}, func() []int64 { return []int64{me, in.ToUserID} })
}

// CollectibleClaims claims the next serial of a collectible for a user in
// the caller's transaction (sqlstore.Achievements); the returned
// collectible carries the price to charge (nil: not for sale).
type CollectibleClaims interface {
	ClaimTx(ctx context.Context, tx *sql.Tx, collectibleID, userID int64, source string, now time.Time) (achievements.Owned, error)
}

// purchaseCollectible is POST /api/collectibles/{id}/purchase: the serial
// (supply) and the debit commit together in one idempotent transaction,
// so a limited supply is never oversold and never sold without payment.
func (s *Server) purchaseCollectible(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if s.wallet.Collectibles == nil {
		return apperr.New(apperr.NotFound, "collectible not found")
	}
	me := authFrom(r).user.ID
	err = s.idempotent(w, r, nil, func(ctx context.Context, l wallet.Ledger) (int, any, error) {
		o, err := s.wallet.Collectibles.ClaimTx(ctx, l.Tx(), id, me, achievements.SourcePurchase, s.wallet.Now())
		if err != nil {
			return 0, nil, err
		}
		if o.Collectible.PriceCredits == nil {
			return 0, nil, apperr.Invalid(map[string]string{"collectible": "is not for sale"})
		}
		if _, err := l.Debit(ctx, me, *o.Collectible.PriceCredits, wallet.Purchase, "collectible:"+strconv.FormatInt(id, 10), o.Collectible.Name); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, o, nil
	}, func() []int64 { return []int64{me} })
	if err == nil && s.achievements != nil {
		s.achievements.Claimed(r.Context(), me)
	}
	return err
}

// adjustRequest is POST /api/admin/wallets/{userId}/adjust.
type adjustRequest struct {
	Amount int64  `json:"amount"`
	Reason string `json:"reason"`
}

func (s *Server) adjustWallet(w http.ResponseWriter, r *http.Request) error {
	userID, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	admin := authFrom(r).user.ID
	ip := s.proxies.clientIP(r)
	var in adjustRequest
	return s.idempotent(w, r, &in, func(ctx context.Context, l wallet.Ledger) (int, any, error) {
		if err := wallet.CheckNote("reason", in.Reason, true); err != nil {
			return 0, nil, err
		}
		e, err := l.Adjust(ctx, userID, in.Amount, in.Reason, admin)
		if err != nil {
			return 0, nil, err
		}
		if s.wallet.Audit != nil {
			if _, err := s.wallet.Audit.AppendTx(ctx, l.Tx(), audit.Entry{Actor: audit.Actor{ID: admin, IP: ip}, Action: "wallet.adjust",
				TargetKind: "user", TargetID: userID, Before: map[string]int64{"balance": e.BalanceAfter - e.Amount},
				After: map[string]int64{"balance": e.BalanceAfter, "amount": e.Amount, "transaction": e.ID}, Reason: in.Reason}); err != nil {
				return 0, nil, err
			}
		}
		return http.StatusCreated, e, nil
	}, func() []int64 { return []int64{userID} })
}

func (s *Server) ledgerCheck(w http.ResponseWriter, r *http.Request) error {
	c, err := s.wallet.Store.Check(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
