package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/connlimit"
	"github.com/plazahq/plaza/internal/httpapi"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	ef := newEnvFlags("serve", getenv, stderr)
	ef.mirror("addr", "PLAZA_ADDR", "listen address")
	ef.mirror("data-dir", "PLAZA_DATA_DIR", "data directory: SQLite file, uploads, dev mailbox")
	ef.mirror("database-url", "DATABASE_URL", "mysql:// URL; unset for SQLite")
	noMigrate := ef.fs.Bool("no-migrate", false, "do not apply migrations at start")
	if err := ef.parse(args); err != nil {
		return err
	}
	cfg, err := ef.config()
	if err != nil {
		return err
	}
	if *noMigrate {
		cfg.AutoMigrate = false
	}
	log := newLogger(cfg, stderr)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("cannot listen on %s: %w (set PLAZA_ADDR or PORT)", cfg.Addr, err)}
	}
	defer ln.Close()

	in, err := openServices(ctx, cfg, cfg.AutoMigrate, log)
	if err != nil {
		return err
	}
	defer in.close()
	if err := in.Start(); err != nil {
		return err
	}
	api, err := httpapi.New(in.HTTP(version()))
	if err != nil {
		return err
	}
	guarded := guardListener(ln, cfg, in.Metrics, log)
	srv := &http.Server{
		Handler:           api,
		ConnContext:       connlimit.ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if cfg.DebugAddr != "" {
		stop, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		defer stop()
	}
	if cfg.MetricsAddr != "" {
		h, err := api.MetricsHandler()
		if err != nil {
			return err
		}
		stop, err := serveMetrics(cfg.MetricsAddr, h, log)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		defer stop()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(guarded) }()
	log.Info("plaza serving", "addr", ln.Addr().String(), "version", version(), "engine", cfg.Engine(),
		"dataDir", cfg.DataDir, "poolSize", cfg.PoolSize, "queueLimit", strconv.Itoa(cfg.QueueLimit), "cache", in.Cache.Backend())

	select {
	case err := <-served:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	// Shut down in order: stop accepting and finish in-flight requests
	// (bounded); then app.Stop closes WebSockets with "going away", lets
	// running jobs finish or hands them back, and stops the cache; then
	// (deferred) Redis and the pool close.
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("in-flight requests cut off at the shutdown timeout", "err", err)
		srv.Close()
	}
	if err := in.Stop(sctx); err != nil {
		log.Warn("background work cut off at the shutdown timeout", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// serveDebug serves Go's profiler (/debug/pprof/) on its own listener, so
// it is never reachable through the public address.
func serveDebug(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w (set PLAZA_DEBUG_ADDR to a free host:port, or unset it)", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	log.Info("profiler serving", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}
