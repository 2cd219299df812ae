package events

import "context"

// EventRemoved follows a moderator's removal of event id (package
// moderation committed it): the cached lists and detail drop it.
func (s *Service) EventRemoved(ctx context.Context, id, _ int64) { s.changed(ctx, id) }
