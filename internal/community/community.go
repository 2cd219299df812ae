// Package community owns channels and their messages, direct-message
// threads, shouts and the contact inbox: who may read and write what, how
// lists are paged, and which real-time events each write publishes (after
// it commits). Storage is behind Store; sqlstore implements it on both
// engines and communitytest checks it.
package community

import (
	"context"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/jobs"
)

// Channel is a chat room. Private channels are readable by members only.
type Channel struct {
	ID          int64     `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Private     bool      `json:"private"`
	Topic       string    `json:"topic"`
	Archived    bool      `json:"archived"` // archived channels refuse new posts
	CreatedAt   time.Time `json:"createdAt"`
}

// Message is a channel message.
type Message struct {
	ID        int64
	ChannelID int64
	SenderID  int64
	Body      string
	CreatedAt time.Time
	EditedAt  *time.Time
	Deleted   bool
}

// Thread is the one conversation between two users; UserA < UserB.
type Thread struct {
	ID            int64
	UserA, UserB  int64
	CreatedAt     time.Time
	LastMessageAt time.Time
	LastMessageID int64
	Unread        int // for the user who listed it
}

// Other returns the participant who is not me.
func (t Thread) Other(me int64) int64 {
	if t.UserA == me {
		return t.UserB
	}
	return t.UserA
}

// Has reports whether u takes part in t.
func (t Thread) Has(u int64) bool { return t.UserA == u || t.UserB == u }

// ThreadMessage is a direct message.
type ThreadMessage struct {
	ID        int64
	ThreadID  int64
	SenderID  int64
	Body      string
	CreatedAt time.Time
}

// Shout is a short public post.
type Shout struct {
	ID        int64
	UserID    int64
	Body      string
	CreatedAt time.Time
}

// ItemKind names what a reaction is on.
type ItemKind string

// The kinds of items users react to.
const (
	KindMessage ItemKind = "message" // channel messages
	KindShout   ItemKind = "shout"
)

// Reaction is one user's emoji on one item. Author is the item's author,
// who may earn XP from it.
type Reaction struct {
	Kind      ItemKind
	ItemID    int64
	Author    int64
	UserID    int64
	Emoji     string
	CreatedAt time.Time
}

// ReactionChange is what React did.
type ReactionChange struct {
	Changed bool                // a row was added or removed
	Count   int                 // reactions with this emoji on the item after it
	XP      gamification.Result // the author's award (zero when none)
}

// ReactionCount is one emoji's tally on an item, as clients see it.
type ReactionCount struct {
	Emoji string `json:"emoji"`
	Count int    `json:"count"`
	Mine  bool   `json:"mine"`
}

// ContactMessage is what the public contact form sends to the admins.
type ContactMessage struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Message   string    `json:"message"`
	IP        string    `json:"ip"`
	Read      bool      `json:"read"`
	CreatedAt time.Time `json:"createdAt"`
}

// Notification is something a user should hear about if they are away:
// a direct message or a mention.
type Notification struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"userId"`
	Kind      string    `json:"kind"` // dm, mention
	ActorID   int64     `json:"actorId"`
	ContextID int64     `json:"contextId"` // thread or channel
	RefID     int64     `json:"refId"`     // message
	CreatedAt time.Time `json:"createdAt"`
}

// Page selects a page of a list ordered newest first: items with an id (or
// for threads, a last-message id) below Before, at most Limit of them.
type Page struct {
	Before int64
	Limit  int
}

// Store is the storage community needs. Missing rows are apperr NotFound
// errors; a taken slug is an apperr Conflict.
type Store interface {
	CreateChannel(ctx context.Context, c Channel, creator int64) (Channel, error)
	Channel(ctx context.Context, id int64) (Channel, error)
	// Channels pages, newest first, the public channels and the private
	// ones viewer belongs to (all of them when allPrivate).
	Channels(ctx context.Context, viewer int64, allPrivate bool, p Page) ([]Channel, error)
	IsMember(ctx context.Context, channelID, userID int64) (bool, error)
	AddMember(ctx context.Context, channelID, userID int64, now time.Time) error
	RemoveMember(ctx context.Context, channelID, userID int64) error

	// PostMessage stores m, notifies the mentioned users, enqueues the
	// outbox jobs and awards the author the message's XP, in one
	// transaction; it reports what the award did.
	PostMessage(ctx context.Context, m Message, mentioned []int64, outbox ...jobs.Job) (Message, gamification.Result, error)
	Message(ctx context.Context, id int64) (Message, error)
	// ChannelMessages pages the channel's messages that are not deleted.
	ChannelMessages(ctx context.Context, channelID int64, p Page) ([]Message, error)
	EditMessage(ctx context.Context, id int64, body string, now time.Time) (Message, error)
	DeleteMessage(ctx context.Context, id int64, now time.Time) (Message, error)

	// ThreadBetween returns the pair's thread, creating it if needed.
	ThreadBetween(ctx context.Context, a, b int64, now time.Time) (Thread, bool, error)
	Thread(ctx context.Context, id int64) (Thread, error)
	// ThreadsOf pages the user's threads by latest message, with unread
	// counts for that user.
	ThreadsOf(ctx context.Context, userID int64, p Page) ([]Thread, error)
	// PostThreadMessage stores m, moves the thread's latest message, marks
	// it read for its sender, notifies the recipient and enqueues the
	// outbox jobs, in one transaction.
	PostThreadMessage(ctx context.Context, m ThreadMessage, recipient int64, outbox ...jobs.Job) (ThreadMessage, error)
	ThreadMessages(ctx context.Context, threadID int64, p Page) ([]ThreadMessage, error)
	// MarkRead records that userID has read threadID up to messageID.
	MarkRead(ctx context.Context, threadID, userID, messageID int64) error

	PostShout(ctx context.Context, s Shout) (Shout, error)
	Shouts(ctx context.Context, p Page) ([]Shout, error)
	Shout(ctx context.Context, id int64) (Shout, error)

	// React adds (on) or removes one reaction. Adding awards the item's
	// author the reaction's XP in the same transaction (once per reactor
	// and item); removing takes nothing back. Adding an existing reaction
	// or removing a missing one changes nothing (Changed false).
	React(ctx context.Context, r Reaction, on bool) (ReactionChange, error)
	// Reactions counts the reactions on the items of kind ids, in one
	// query; Mine is set for viewer's own (none when viewer is 0).
	Reactions(ctx context.Context, kind ItemKind, ids []int64, viewer int64) (map[int64][]ReactionCount, error)
	// MyReactions returns viewer's emoji on the items of kind ids, in one
	// query.
	MyReactions(ctx context.Context, kind ItemKind, ids []int64, viewer int64) (map[int64][]string, error)

	// UserIDsByUsername resolves lowercased usernames.
	UserIDsByUsername(ctx context.Context, names []string) (map[string]int64, error)
	// Unmailed returns a user's notifications not yet mailed, oldest first.
	Unmailed(ctx context.Context, userID int64, limit int) ([]Notification, error)
	MarkMailed(ctx context.Context, ids []int64, now time.Time) error

	AddContact(ctx context.Context, m ContactMessage) (ContactMessage, error)
	ContactMessages(ctx context.Context, unreadOnly bool, p Page) ([]ContactMessage, error)
	SetContactRead(ctx context.Context, id int64, read bool) (ContactMessage, error)
}
