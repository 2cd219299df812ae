package gamification

// ReasonRemoved is the reason of the compensating row that takes back what
// a piece of content earned when a moderator removes it. Its ref is the
// content's ("message:981"), so one removal takes XP back at most once.
const ReasonRemoved Reason = "moderation.removed"
