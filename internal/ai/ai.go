// Package ai owns AI requests: a user submits one, a background job sends it
// to an OpenAI-compatible chat-completions server (AI_BASE_URL), stores the
// answer and tells the user's room. Without AI_BASE_URL the feature answers
// 503 ai_disabled.
package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/jobs"
)

// Statuses of a request.
const (
	Pending = "pending"
	Done    = "done"
	Failed  = "failed"
)

// JobKind is the job that runs a request.
const JobKind = "ai.request"

// MaxInput is the longest input accepted.
const MaxInput = 8000

// prompts are the kinds of request and the instructions each gives.
var prompts = map[string]string{
	"chat":      "You are the helpful assistant of an online music and learning community. Answer briefly.",
	"summarize": "Summarize the following text in a few sentences.",
	"describe":  "Write a short, lively description (at most 80 words) of the DJ mix or track described below.",
}

// Request is one AI request and, once done, its answer.
type Request struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"userId"`
	Kind      string    `json:"kind"`
	Input     string    `json:"input"`
	Status    string    `json:"status"`
	Output    string    `json:"output"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Store keeps requests.
type Store interface {
	// Create stores r and its outbox jobs in one transaction.
	Create(ctx context.Context, r Request, outbox ...jobs.Job) (Request, error)
	Get(ctx context.Context, id int64) (Request, error)
	// Finish records the outcome of a pending request; false if it was not pending.
	Finish(ctx context.Context, id int64, status, output, errMsg string, now time.Time) (bool, error)
}

// Notifier wakes job workers after a commit (jobs.Queue).
type Notifier interface{ Notify(ctx context.Context) }

// Publisher tells a room (realtime.Hub).
type Publisher interface {
	Publish(ctx context.Context, room, typ string, data any) error
}

// Client talks to an OpenAI-compatible chat-completions server.
type Client struct {
	base, key, model string
	http             *http.Client
}

// NewClient returns a client for baseURL (e.g. http://127.0.0.1:11434/v1).
func NewClient(baseURL, key, model string) *Client {
	if model == "" {
		model = "gpt-4o-mini"
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: key, model: model, http: &http.Client{Timeout: 90 * time.Second}}
}

// errClient marks answers that retrying will not change (4xx).
var errClient = errors.New("the AI server refused the request")

// Complete asks for one chat completion.
func (c *Client) Complete(ctx context.Context, system, input string) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"model":    c.model,
		"messages": []map[string]string{{"role": "system", "content": system}, {"role": "user", "content": input}},
	})
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("AI server unreachable: %w", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	switch {
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return "", fmt.Errorf("AI server answered %s: %.200s", res.Status, raw)
	case res.StatusCode >= 400:
		return "", fmt.Errorf("%w: %s: %.200s", errClient, res.Status, raw)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Choices) == 0 {
		return "", fmt.Errorf("%w: unexpected answer %.200s", errClient, raw)
	}
	return out.Choices[0].Message.Content, nil
}

// Service is the AI requests logic.
type Service struct {
	store  Store
	client *Client // nil: disabled
	jobs   Notifier
	pub    Publisher
	log    *slog.Logger
	now    func() time.Time
}

// NewService returns the service; client nil means AI is disabled.
func NewService(store Store, client *Client, n Notifier, pub Publisher, log *slog.Logger) *Service {
	return &Service{store: store, client: client, jobs: n, pub: pub, log: log, now: time.Now}
}

var errDisabled = &apperr.Error{Code: apperr.AIDisabled, Message: "AI is not configured on this server (set AI_BASE_URL)"}

// Submit stores a request and queues it; the answer arrives later.
func (s *Service) Submit(ctx context.Context, u account.User, kind, input string) (Request, error) {
	if s.client == nil {
		return Request{}, errDisabled
	}
	fe := apperr.FieldErrors{}
	if _, ok := prompts[kind]; !ok {
		fe.Add("kind", "must be chat, summarize or describe")
	}
	input = strings.TrimSpace(input)
	switch {
	case input == "":
		fe.Add("input", "is required")
	case !utf8.ValidString(input) || utf8.RuneCountInString(input) > MaxInput:
		fe.Add("input", "must be valid text of at most 8000 characters")
	}
	if err := fe.Err(); err != nil {
		return Request{}, err
	}
	now := s.now()
	r := Request{UserID: u.ID, Kind: kind, Input: input, Status: Pending, CreatedAt: now, UpdatedAt: now}
	job := jobs.Job{Kind: JobKind, MaxAttempts: 4}
	r, err := s.store.Create(ctx, r, job)
	if err != nil {
		return Request{}, err
	}
	s.jobs.Notify(ctx)
	return r, nil
}

// Get returns a request to its owner (or an admin).
func (s *Service) Get(ctx context.Context, u account.User, id int64) (Request, error) {
	r, err := s.store.Get(ctx, id)
	if err == nil && r.UserID != u.ID && !u.Role.AtLeast(account.RoleAdmin) {
		err = apperr.New(apperr.NotFound, "AI request not found")
	}
	return r, err
}

// JobKind runs ai.request jobs. The request id travels in the payload;
// a request no longer pending is done already (the job ran before).
func (s *Service) JobKind() jobs.Kind {
	return jobs.Kind{Name: JobKind, MaxAttempts: 4, Timeout: 2 * time.Minute, Handle: func(ctx context.Context, j jobs.Job) error {
		var p struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.ID == 0 {
			return fmt.Errorf("ai.request payload %s: %w", j.Payload, jobs.ErrPermanent)
		}
		r, err := s.store.Get(ctx, p.ID)
		if apperr.Is(err, apperr.NotFound) {
			return fmt.Errorf("AI request %d is gone: %w", p.ID, jobs.ErrPermanent)
		}
		if err != nil || r.Status != Pending {
			return err
		}
		if s.client == nil {
			return s.finish(ctx, r, Failed, "", "AI was disabled before the request ran")
		}
		out, err := s.client.Complete(ctx, prompts[r.Kind], r.Input)
		switch {
		case err == nil:
			return s.finish(ctx, r, Done, out, "")
		case errors.Is(err, errClient) || j.Attempts >= j.MaxAttempts:
			if ferr := s.finish(ctx, r, Failed, "", err.Error()); ferr != nil {
				return ferr
			}
			return fmt.Errorf("%w: %w", err, jobs.ErrPermanent)
		}
		return err // retried with backoff
	}}
}

func (s *Service) finish(ctx context.Context, r Request, status, output, errMsg string) error {
	changed, err := s.store.Finish(ctx, r.ID, status, output, errMsg, s.now())
	if err != nil || !changed {
		return err
	}
	typ := "ai.completed"
	if status == Failed {
		typ = "ai.failed"
	}
	if err := s.pub.Publish(ctx, account.UserRoom(r.UserID), typ, map[string]any{"id": r.ID, "status": status}); err != nil {
		s.log.Warn("ai: completion not published", "request", r.ID, "err", err)
	}
	return nil
}
