package main

import (
	"context"
	"log/slog"

	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/plazahq/plaza/internal/redisx"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/redis/go-redis/v9"
)

// services is what serve and admin share: the database and Redis this
// process opened, and the services built on them (internal/app).
type services struct {
	*app.App
	db    *sqldb.DB
	redis *redis.Client // nil in in-process mode
}

func openServices(ctx context.Context, cfg config.Config, migrate bool, log *slog.Logger) (_ *services, err error) {
	s := &services{}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.db, err = openDB(ctx, cfg, migrate, log); err != nil {
		return nil, err
	}
	if cfg.RedisURL != "" {
		redisLogOnce.Do(func() { redisx.RouteLibraryLog(log) })
		if s.redis, err = redisx.New(cfg.RedisURL); err != nil {
			return nil, &exitError{exitUsage, err}
		}
	}
	mailer, err := mail.New(cfg.SMTPURL, cfg.MailFrom, cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	s.App, err = app.New(ctx, app.Options{Config: cfg, DB: s.db, Redis: s.redis, Mailer: mailer, Log: log})
	return s, err
}

// close releases what this process opened, after the services stopped.
func (s *services) close() {
	if s.redis != nil {
		s.redis.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
}
