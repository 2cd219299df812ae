package app

import (
	"fmt"
	"log/slog"

	"github.com/stripe/stripe-go/v82"

	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// newStripe returns the Stripe API client, or nil when payments are off.
// STRIPE_API_BASE points it at another API (stripe-mock in tests). The API
// version is the one stripe-go pins (stripe.APIVersion); the webhook
// endpoint must be created with that version.
func newStripe(cfg config.Config, log *slog.Logger) *stripe.Client {
	if cfg.StripeSecretKey == "" {
		return nil
	}
	bc := &stripe.BackendConfig{LeveledLogger: stripeLogger{log}, MaxNetworkRetries: stripe.Int64(2)}
	if cfg.StripeAPIBase != "" {
		bc.URL = stripe.String(cfg.StripeAPIBase)
	}
	return stripe.NewClient(cfg.StripeSecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))
}

// walletDeps are the wallet routes' dependencies.
func (a *App) walletDeps() httpapi.WalletDeps {
	return httpapi.WalletDeps{Store: a.Wallet, Packs: a.Config.WalletPacks, Stripe: a.Stripe, WebhookSecret: a.Config.StripeWebhookSecret,
		BaseURL: a.Config.BaseURL, Courses: sqlstore.NewCourses(a.DB, a.XP), Collectibles: a.AchievementStore, Audit: a.Audit, Now: a.walletNow}
}

// stripeLogger sends stripe-go's log lines to Plaza's logger.
type stripeLogger struct{ log *slog.Logger }

func (l stripeLogger) Debugf(format string, v ...any) {
	l.log.Debug("stripe: " + fmt.Sprintf(format, v...))
}
func (l stripeLogger) Infof(format string, v ...any) {
	l.log.Debug("stripe: " + fmt.Sprintf(format, v...))
}
func (l stripeLogger) Warnf(format string, v ...any) {
	l.log.Warn("stripe: " + fmt.Sprintf(format, v...))
}
func (l stripeLogger) Errorf(format string, v ...any) {
	l.log.Warn("stripe: " + fmt.Sprintf(format, v...))
}
