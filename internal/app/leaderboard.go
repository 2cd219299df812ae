package app

import "github.com/plazahq/plaza/internal/leaderboard"

// newBoard builds the leaderboard and hooks it to the ledger: every row
// any store's transaction writes reaches the index after that
// transaction commits. With Redis the index is shared by every instance.
func (a *App) newBoard(o Options) error {
	var shared *leaderboard.Redis
	if o.Redis != nil {
		shared = leaderboard.NewRedis(o.Redis, a.Config.RedisPrefix)
	}
	b, err := leaderboard.New(leaderboard.Config{Now: o.Now}, leaderboard.Deps{Source: a.XP, Shared: shared,
		Users: a.Accounts.UserLoader, AssetURL: a.URLs.URL, Cache: a.Cache, Publisher: a.Hub, Log: a.log})
	if err != nil {
		return err
	}
	a.Board = b
	a.XP.OnCommit(b.Record)
	return nil
}
