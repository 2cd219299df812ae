package gamification

import "strconv"

// Rules say how much XP each action is worth. A zero amount turns the rule
// off; a zero cap means no daily cap.
type Rules struct {
	MessagePosted    int64 // per channel message posted
	MessageDailyCap  int64 // at most this much XP a UTC day from messages
	ReactionReceived int64 // per distinct reactor per item, never your own
	MixPlayed        int64 // to a mix's creator per play by another listener (counted plays only)
	MixPlayDailyCap  int64 // at most this much XP a UTC day from plays
}

// DefaultRules are the contract's defaults.
var DefaultRules = Rules{MessagePosted: 1, MessageDailyCap: 20, ReactionReceived: 1, MixPlayed: 1, MixPlayDailyCap: 50}

// MessageAward is the award for posting message id; ok is false when the
// rule is off.
func (r Rules) MessageAward(author, messageID int64) (Award, bool) {
	return Award{UserID: author, Amount: r.MessagePosted, Reason: ReasonMessage,
		Ref: "message:" + strconv.FormatInt(messageID, 10), DailyCap: r.MessageDailyCap}, r.MessagePosted > 0
}

// ReactionAward is the award to author when reactor reacts to the item
// kind:id (kind "message" or "shout"). The ref names the reactor but not
// the emoji, so one reactor earns the author XP once per item however many
// emoji they add, remove and add again; reacting to your own item earns
// nothing.
func (r Rules) ReactionAward(author int64, kind string, itemID, reactor int64) (Award, bool) {
	return Award{UserID: author, Amount: r.ReactionReceived, Reason: ReasonReaction,
			Ref: kind + ":" + strconv.FormatInt(itemID, 10) + ":" + strconv.FormatInt(reactor, 10)},
		r.ReactionReceived > 0 && author != reactor && author > 0
}
