package community

import (
	"context"
	"strconv"
)

// MessageRemoved is what the community does after a moderator removed
// message id of channel channelID (package moderation committed it): the
// channel's cached pages drop it and its room gets message.deleted, so
// open clients take it down; the room's history drops its earlier events,
// so a reconnecting client's replay shows only its deletion.
func (s *Service) MessageRemoved(ctx context.Context, id, channelID int64) {
	s.messagesChanged(ctx, channelID) // the cached pages and the newest page kept in memory
	s.publishRemoval(ctx, "channel:"+strconv.FormatInt(channelID, 10), "message.deleted",
		map[string]any{"id": id, "channelId": channelID, "removed": true}, KindMessage, id)
}

// ShoutRemoved is MessageRemoved for a shout (the chat room).
func (s *Service) ShoutRemoved(ctx context.Context, id, _ int64) {
	s.Cache.InvalidateTag(ctx, tagShouts)
	s.publishRemoval(ctx, "chat", "shout.deleted", map[string]any{"id": id, "removed": true}, KindShout, id)
}

// ChannelChanged follows an admin's edit of a channel: the cached lists
// drop it, its room hears channel.updated, and a channel made private has
// its subscribers re-checked, so those who may no longer read it stop
// receiving its events.
func (s *Service) ChannelChanged(ctx context.Context, before, after Channel) {
	s.Cache.InvalidateTag(ctx, tagChannels, tagChannelMessages(after.ID))
	room := "channel:" + strconv.FormatInt(after.ID, 10)
	if after.Private && !before.Private {
		s.accessRemoved(ctx, room)
	}
	s.publish(ctx, room, "channel.updated", after)
}
