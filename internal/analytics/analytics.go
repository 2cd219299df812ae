// Package analytics rolls community activity up into daily figures (daily
// active users, messages per channel) in a background job, so the admin
// report reads a small table instead of scanning messages.
package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/jobs"
)

// JobKind rolls one day up.
const JobKind = "analytics.rollup"

// Day is a UTC calendar day, "2026-11-22".
type Day string

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day { return Day(t.UTC().Format("2006-01-02")) }

// Bounds returns the day's first millisecond and the next day's.
func (d Day) Bounds() (time.Time, time.Time, error) {
	start, err := time.Parse("2006-01-02", string(d))
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return start, start.Add(24 * time.Hour), nil
}

// Figures are one day's numbers.
type Figures struct {
	Day               Day              `json:"day"`
	ActiveUsers       int64            `json:"activeUsers"`
	Messages          int64            `json:"messages"`
	MessagesByChannel map[string]int64 `json:"messagesByChannel"`
}

// Store computes and keeps the figures.
type Store interface {
	// Rollup computes day's figures from the activity tables and replaces
	// that day's rows, in one transaction (running it twice is harmless).
	Rollup(ctx context.Context, day Day, from, to time.Time) error
	// Report returns the stored figures of the days in [from, to].
	Report(ctx context.Context, from, to Day) ([]Figures, error)
}

// Enqueuer queues jobs (jobs.Queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, js ...jobs.Job) error
}

// Service runs and schedules rollups and serves the report.
type Service struct {
	store Store
	q     Enqueuer
	log   *slog.Logger
	now   func() time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// NewService returns the service.
func NewService(store Store, q Enqueuer, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, q: q, log: log, now: now, stop: make(chan struct{})}
}

// JobKind rolls up the day in the payload.
func (s *Service) JobKind() jobs.Kind {
	return jobs.Kind{Name: JobKind, MaxAttempts: 5, Timeout: 5 * time.Minute, Handle: func(ctx context.Context, j jobs.Job) error {
		var p struct {
			Day Day `json:"day"`
		}
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return fmt.Errorf("%s payload %s: %w", JobKind, j.Payload, jobs.ErrPermanent)
		}
		from, to, err := p.Day.Bounds()
		if err != nil {
			return fmt.Errorf("%s day %q: %w", JobKind, p.Day, jobs.ErrPermanent)
		}
		return s.store.Rollup(ctx, p.Day, from, to)
	}}
}

// Schedule enqueues today's rollup every quarter hour, and yesterday's
// final one; unique keys keep instances from doubling them.
func (s *Service) Schedule(ctx context.Context) error {
	now := s.now().UTC()
	today := DayOf(now)
	slot := now.Truncate(15 * time.Minute).Format("15:04")
	todays := jobs.Must(JobKind, map[string]Day{"day": today})
	todays.UniqueKey = fmt.Sprintf("%s:%s:%s", JobKind, today, slot)
	yesterday := DayOf(now.Add(-24 * time.Hour))
	final := jobs.Must(JobKind, map[string]Day{"day": yesterday})
	final.UniqueKey = fmt.Sprintf("%s:%s:final", JobKind, yesterday)
	return s.q.Enqueue(ctx, todays, final)
}

// Start schedules rollups until Stop.
func (s *Service) Start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(15 * time.Minute)
		defer t.Stop()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.Schedule(ctx); err != nil {
				s.log.Warn("analytics: rollup not scheduled", "err", err)
			}
			cancel()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends the scheduling.
func (s *Service) Stop() {
	close(s.stop)
	s.wg.Wait()
}

// MaxDays is the longest report.
const MaxDays = 366

// Report returns the figures of the last days days, oldest first.
func (s *Service) Report(ctx context.Context, days int) ([]Figures, error) {
	if days < 1 || days > MaxDays {
		return nil, apperr.Invalid(map[string]string{"days": fmt.Sprintf("must be from 1 to %d", MaxDays)})
	}
	now := s.now().UTC()
	return s.store.Report(ctx, DayOf(now.Add(-time.Duration(days-1)*24*time.Hour)), DayOf(now))
}
