package demo

import (
	"context"
	"fmt"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/wallet"
)

// seedCollectibles makes a small catalog: one granted by the first-message
// achievement, two limited editions for sale, one unlimited.
func seedCollectibles(ctx context.Context, e *Env) error {
	n := func(v int64) *int64 { return &v }
	first, err := e.firstMessageAchievement(ctx)
	if err != nil {
		return err
	}
	by := audit.Actor{ID: e.Admin.ID, IP: "127.0.0.1"}
	for _, in := range []achievements.CollectibleInput{
		{Slug: e.slug("first-words-pin"), Name: "First Words pin", Rarity: achievements.Common, AchievementID: n(first)},
		{Slug: e.slug("golden-vinyl"), Name: "Golden Vinyl", Rarity: achievements.Legendary, Supply: n(10), PriceCredits: n(500)},
		{Slug: e.slug("night-shift-poster"), Name: "Night Shift poster", Rarity: achievements.Rare, Supply: n(50), PriceCredits: n(150)},
		{Slug: e.slug("plaza-sticker"), Name: "Plaza sticker", Rarity: achievements.Common, PriceCredits: n(20)},
	} {
		c, err := e.App.Achievements.CreateCollectible(ctx, by, in)
		if err != nil {
			return err
		}
		e.Collectibles = append(e.Collectibles, c)
	}
	e.Progress("%d collectibles", len(e.Collectibles))
	return nil
}

// firstMessageAchievement finds the built-in "first message" achievement.
func (e *Env) firstMessageAchievement(ctx context.Context) (int64, error) {
	var id int64
	err := e.DB.Read().QueryRow(ctx, []any{&id}, `SELECT id FROM achievements WHERE slug = 'first-message'`)
	return id, err
}

// seedAchievements runs the rules over everything the earlier steps made,
// as `plaza achievements backfill` would.
func seedAchievements(ctx context.Context, e *Env) error {
	p, err := e.App.Achievements.Backfill(ctx, 500, nil)
	if err != nil {
		return err
	}
	e.Progress("%d achievements awarded to %d users", p.Awarded, p.Users)
	return nil
}

// seedWallets gives everyone credits (admin adjustments), then has people
// tip each other and buy collectibles, all through the ledger.
func seedWallets(ctx context.Context, e *Env) error {
	var tips, buys int
	for _, u := range e.Users {
		amount := int64(600 + e.Rnd.IntN(900)) // enough for a tip and the dearest collectible
		if _, err := e.App.Wallet.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
			_, err := l.Adjust(ctx, u.ID, amount, "demo credits", e.Admin.ID)
			return wallet.Reply{}, err
		}); err != nil {
			return fmt.Errorf("credits for %s: %w", u.Username, err)
		}
	}
	for i, u := range e.Users {
		to := e.Users[(i+1+e.Rnd.IntN(len(e.Users)-1))%len(e.Users)]
		if _, err := e.App.Wallet.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
			_, err := l.Tip(ctx, u.ID, to.ID, int64(5+e.Rnd.IntN(50)), "great set")
			return wallet.Reply{}, err
		}); err != nil {
			return fmt.Errorf("tip from %s: %w", u.Username, err)
		}
		tips++
	}
	for i, u := range e.Users {
		c := e.Collectibles[1+i%(len(e.Collectibles)-1)]
		if c.PriceCredits == nil || i%3 == 2 {
			continue
		}
		_, err := e.App.Wallet.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
			o, err := e.App.AchievementStore.ClaimTx(ctx, l.Tx(), c.ID, u.ID, achievements.SourcePurchase, e.Now)
			if err != nil {
				return wallet.Reply{}, err
			}
			_, err = l.Debit(ctx, u.ID, *o.Collectible.PriceCredits, wallet.Purchase, fmt.Sprint("collectible:", c.ID), c.Name)
			return wallet.Reply{}, err
		})
		if err != nil {
			return fmt.Errorf("%s buying %s: %w", u.Username, c.Name, err)
		}
		buys++
	}
	e.Progress("credits for %d people, %d tips, %d collectibles bought", len(e.Users), tips, buys)
	return nil
}
