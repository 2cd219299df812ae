package community

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/mail"
)

// DigestKind mails a user who is away what they missed.
const DigestKind = "notify.digest"

// DigestDelay batches a burst of messages into one mail.
const DigestDelay = 10 * time.Minute

// digestJob is one pending digest per user: while one waits, more DMs and
// mentions join it (unique key) instead of queueing more mails.
func (s *Service) digestJob(user int64) jobs.Job {
	j := jobs.Must(DigestKind, map[string]int64{"userId": user})
	j.UniqueKey = DigestKind + ":" + strconv.FormatInt(user, 10)
	j.RunAt = s.Now().Add(DigestDelay)
	j.MaxAttempts = 5
	return j
}

// DigestJobKind sends digests. A user connected when it runs saw
// everything live and gets no mail; the notifications stay unmailed and
// join a later digest if they go away.
func (s *Service) DigestJobKind() jobs.Kind {
	return jobs.Kind{Name: DigestKind, MaxAttempts: 5, Timeout: time.Minute, Handle: func(ctx context.Context, j jobs.Job) error {
		var p struct {
			UserID int64 `json:"userId"`
		}
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.UserID == 0 {
			return fmt.Errorf("%s payload %s: %w", DigestKind, j.Payload, jobs.ErrPermanent)
		}
		if s.Presence.Online(ctx, account.UserRoom(p.UserID)) > 0 {
			return nil
		}
		notes, err := s.Store.Unmailed(ctx, p.UserID, 50)
		if err != nil || len(notes) == 0 {
			return err
		}
		ids := []int64{p.UserID}
		for _, n := range notes {
			ids = append(ids, n.ActorID)
		}
		users, err := s.Users().LoadMany(ctx, ids)
		if err != nil {
			return err
		}
		me, ok := users[p.UserID]
		if !ok {
			return nil // the account is gone
		}
		dms, mentions := 0, 0
		var lines []string
		for _, n := range notes {
			who := "someone"
			if a, ok := users[n.ActorID]; ok {
				who = "@" + a.Username
			}
			switch n.Kind {
			case "dm":
				dms++
				lines = append(lines, fmt.Sprintf("- %s sent you a message: %s/messages/%d", who, s.BaseURL, n.ContextID))
			case "mention":
				mentions++
				lines = append(lines, fmt.Sprintf("- %s mentioned you: %s/channels/%d#m%d", who, s.BaseURL, n.ContextID, n.RefID))
			}
		}
		subject := fmt.Sprintf("You have %d new message(s) and %d mention(s)", dms, mentions)
		text := fmt.Sprintf("Hello %s,\n\nwhile you were away:\n\n%s\n", me.Username, strings.Join(lines, "\n"))
		if err := s.Mailer.Send(ctx, mail.Message{To: me.Email, Subject: subject, Text: text}); err != nil {
			return err
		}
		mailed := make([]int64, len(notes))
		for i, n := range notes {
			mailed[i] = n.ID
		}
		return s.Store.MarkMailed(ctx, mailed, s.Now())
	}}
}
