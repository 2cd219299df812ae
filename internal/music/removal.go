package music

import "context"

// MixRemoved follows a moderator's removal of mix id (package moderation
// committed it): its pending plays are forgotten and the cached lists drop it.
func (s *Service) MixRemoved(ctx context.Context, id, _ int64) {
	s.Plays.forget(id)
	s.Cache.InvalidateTag(ctx, tagMixes)
}
