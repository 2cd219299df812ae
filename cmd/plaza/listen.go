package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/connlimit"
	"github.com/plazahq/plaza/internal/monitor"
	"github.com/prometheus/client_golang/prometheus"
)

// guardListener puts the connection limits on the public listener: at most
// PLAZA_MAX_CONNS_PER_IP per client address, except loopback (a reverse
// proxy on the same host, the load generator) and PLAZA_TRUSTED_PROXIES,
// behind which every client shares one address; and in all, the process's
// open-file limit minus a reserve for the database, Redis and files
// (PLAZA_MAX_CONNECTIONS lowers it), of which the top band serves only
// /api/health, /metrics and admins.
func guardListener(ln net.Listener, cfg config.Config, m *monitor.Metrics, log *slog.Logger) *connlimit.Listener {
	nofile, err := connlimit.FileLimit()
	if err != nil {
		log.Warn("open-file limit unknown; connections capped by PLAZA_MAX_CONNECTIONS only", "err", err)
		nofile = 1 << 30
	}
	conns, band := connlimit.Budget(nofile, cfg.MaxConns)
	exempt := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	for _, p := range cfg.TrustedProxies { // config has checked them
		if a, err := netip.ParseAddr(p); err == nil {
			exempt = append(exempt, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		} else if pre, err := netip.ParsePrefix(p); err == nil {
			exempt = append(exempt, pre.Masked())
		}
	}
	g := connlimit.NewListener(ln, connlimit.Config{Max: conns, Band: band, PerAddr: cfg.MaxConnsPerAddr, Log: log,
		Exempt: func(a netip.Addr) bool {
			for _, p := range exempt {
				if p.Contains(a) {
					return true
				}
			}
			return false
		}})
	m.Gauge("plaza_http_connections_open", "Client connections open on the API listener (WebSockets included).", nil,
		func() float64 { return float64(g.Stats().Open) })
	m.Gauge("plaza_http_connections_max", "Open connections past which new ones are refused: the open-file limit minus a reserve.", nil,
		func() float64 { return float64(g.Stats().Max) })
	for reason, get := range map[string]func(connlimit.Stats) int64{
		"open_file_limit": func(s connlimit.Stats) int64 { return s.RefusedFull },
		"per_ip":          func(s connlimit.Stats) int64 { return s.RefusedPerAddr },
	} {
		m.Counter("plaza_http_connections_refused_total", "Connections answered 503 and closed at accept, by the limit they hit.",
			prometheus.Labels{"reason": reason}, func() float64 { return float64(get(g.Stats())) })
	}
	m.Counter("plaza_http_connections_restricted_total", "Connections accepted near the open-file limit, served only for health, metrics and admins.", nil,
		func() float64 { return float64(g.Stats().AcceptedLimited) })
	log.Info("connection limits", "openFileLimit", nofile, "maxConnections", conns, "priorityBand", band, "perIP", cfg.MaxConnsPerAddr)
	return g
}

// serveMetrics serves /metrics without a token on its own listener, for a
// scraper on a private network; the API port wants PLAZA_METRICS_TOKEN.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w (set PLAZA_METRICS_ADDR to a free host:port, or unset it)", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	log.Info("metrics serving", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}
