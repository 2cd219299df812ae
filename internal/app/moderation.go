package app

import (
	"context"

	"github.com/plazahq/plaza/internal/moderation"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// newModeration builds the moderators' and admins' service: removals are
// followed up by the domain that owns the content; revenue is 0 until a
// wallet ledger is wired (Moderation.SetRevenue).
func (a *App) newModeration(o Options) error {
	var err error
	a.Moderation, err = moderation.NewService(moderation.Deps{
		Store:     sqlstore.NewModeration(o.DB, a.XP, a.Audit),
		Publisher: a.Hub,
		Cache:     a.Cache,
		AfterRemove: map[moderation.TargetKind]func(ctx context.Context, id, channelID int64){
			moderation.KindMessage: a.Community.MessageRemoved,
			moderation.KindShout:   a.Community.ShoutRemoved,
			moderation.KindMix:     a.Music.MixRemoved,
			moderation.KindEvent:   a.Events.EventRemoved,
		},
		ChannelChanged: a.Community.ChannelChanged,
		Connections:    func() int64 { return a.Hub.Stats().Connections },
		Jobs:           func(ctx context.Context) any { return a.Jobs.Stats(ctx) },
		Now:            o.Now,
		Log:            a.log,
	})
	return err
}
