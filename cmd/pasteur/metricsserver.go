package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/pasteur-dev/pasteur/acme"
	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/internal/metrics"
	"github.com/pasteur-dev/pasteur/netstack"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
)

// serveMetrics serves /metrics and the detailed /healthz on
// --metrics-addr, listened on through network (the userspace stack in
// TAP mode). It returns a function that stops serving; nothing is served
// without --metrics-addr.
func serveMetrics(cfg *serveConfig, network netx.Network, m *metrics.Metrics, details http.Handler, log *slog.Logger) (func(), error) {
	addr := cfg.limits.metricsAddr
	if addr == "" {
		return func() {}, nil
	}
	ln, err := network.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	conns := netx.NewConnLimiter(netx.Limits{Max: 16})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("GET /healthz", details)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         trackIdle(conns),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go srv.Serve(conns.Listener(ln))
	log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { srv.Close() }, nil
}

// registerStatus adds to m the state of the parts that keep one: the git
// remote, the certificate (certs may be nil) and the userspace stack (when
// network is one), read at each scrape.
func registerStatus(m *metrics.Metrics, store remoteStatus, certs *acme.Manager, network netx.Network) error {
	type F = metrics.Field[gitsync.Status]
	err := metrics.RegisterSnapshot(m, store.Status,
		F{Name: "pasteur_remote_reachable", Help: "1 when the last exchange with the git remote succeeded.",
			Value: func(s gitsync.Status) (float64, bool) { return bool01(s.Reachable), s.Remote != "" }},
		F{Name: "pasteur_remote_queued", Help: "Pastes acknowledged that wait for a push to the git remote.",
			Value: func(s gitsync.Status) (float64, bool) { return float64(s.Queued), s.Remote != "" }},
		F{Name: "pasteur_remote_logged", Help: "With --ack disk, pastes answered from the write-ahead log that wait for their commit (and then their push).",
			Value: func(s gitsync.Status) (float64, bool) { return float64(s.Logged), s.Remote != "" }},
		F{Name: "pasteur_remote_unpushed", Help: "1 when the local branch holds commits the git remote lacks.",
			Value: func(s gitsync.Status) (float64, bool) { return bool01(s.Unpushed), s.Remote != "" }},
		F{Name: "pasteur_remote_last_push_timestamp_seconds", Help: "When the last push or sync with the git remote succeeded.",
			Value: func(s gitsync.Status) (float64, bool) { return unixTime(s.LastPush) }},
	)
	if err != nil {
		return err
	}
	if certs != nil {
		type C = metrics.Field[acme.Status]
		err := metrics.RegisterSnapshot(m, certs.Status,
			C{Name: "pasteur_certificate_valid", Help: "1 when a certificate that has not expired is served.",
				Value: func(s acme.Status) (float64, bool) { return bool01(s.Valid), true }},
			C{Name: "pasteur_certificate_expiry_timestamp_seconds", Help: "When the certificate served expires.",
				Value: func(s acme.Status) (float64, bool) { return unixTimePtr(s.NotAfter) }},
			C{Name: "pasteur_certificate_renewal_failures", Help: "Failed attempts in a row to renew the certificate.",
				Value: func(s acme.Status) (float64, bool) { return float64(s.Failures), true }},
		)
		if err != nil {
			return err
		}
	}
	if st, ok := network.(*netstack.Stack); ok {
		type N = metrics.Field[netstack.Stats]
		counter := func(name, help string, v func(netstack.Stats) uint64) N {
			return N{Name: name, Help: help, Kind: metrics.Counter,
				Value: func(s netstack.Stats) (float64, bool) { return float64(v(s)), true }}
		}
		return metrics.RegisterSnapshot(m, st.Stats,
			counter("pasteur_netstack_frames_in_total", "Frames read from the TAP device.", func(s netstack.Stats) uint64 { return s.FramesIn }),
			counter("pasteur_netstack_frames_out_total", "Frames written to the TAP device.", func(s netstack.Stats) uint64 { return s.FramesOut }),
			counter("pasteur_netstack_bytes_in_total", "Bytes of the frames read.", func(s netstack.Stats) uint64 { return s.BytesIn }),
			counter("pasteur_netstack_bytes_out_total", "Bytes of the frames written.", func(s netstack.Stats) uint64 { return s.BytesOut }),
			counter("pasteur_netstack_write_errors_total", "Frames the TAP device failed to write (dropped).", func(s netstack.Stats) uint64 { return s.WriteErrors }),
			counter("pasteur_netstack_bad_frames_total", "Inbound frames dropped for a bad header or checksum.", func(s netstack.Stats) uint64 { return s.BadFrames }),
			counter("pasteur_netstack_tcp_retransmits_total", "TCP segments sent again.", func(s netstack.Stats) uint64 { return s.Retransmits }),
		)
	}
	return nil
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixTime(t time.Time) (float64, bool) {
	return float64(t.UnixNano()) / 1e9, !t.IsZero()
}

func unixTimePtr(t *time.Time) (float64, bool) {
	if t == nil {
		return 0, false
	}
	return unixTime(*t)
}

// observedStore counts the pastes its Store took, and their sizes.
type observedStore struct {
	paste.Store
	m *metrics.Metrics
}

func (s observedStore) Create(ctx context.Context, p *paste.Paste) error {
	err := s.Store.Create(ctx, p)
	if err == nil {
		s.m.PasteStored(len(p.Contents))
	}
	return err
}

// registerCounters exposes the git writer's totals: commits, pastes per
// commit, commit and push time.
func registerCounters(m *metrics.Metrics, counters func() gitsync.Counters) error {
	type G = metrics.Field[gitsync.Counters]
	counter := func(name, help string, v func(gitsync.Counters) float64) G {
		return G{Name: name, Help: help, Kind: metrics.Counter,
			Value: func(c gitsync.Counters) (float64, bool) { return v(c), true }}
	}
	return metrics.RegisterSnapshot(m, counters,
		counter("pasteur_git_commits_total", "Commits of pastes (one per group of pastes that arrived together).",
			func(c gitsync.Counters) float64 { return float64(c.Commits) }),
		counter("pasteur_git_committed_pastes_total", "Pastes those commits hold; over pasteur_git_commits_total, the mean group.",
			func(c gitsync.Counters) float64 { return float64(c.Pastes) }),
		counter("pasteur_git_commit_seconds_total", "Time spent committing groups, fsync included.",
			func(c gitsync.Counters) float64 { return c.CommitSeconds }),
		counter("pasteur_git_pushes_total", "Pushes of a group that the git remote took.",
			func(c gitsync.Counters) float64 { return float64(c.Pushes) }),
		counter("pasteur_git_push_seconds_total", "Time spent on those pushes.",
			func(c gitsync.Counters) float64 { return c.PushSeconds }),
		counter("pasteur_git_syncs_total", "Periodic fetches of the git remote (--sync-interval), failed ones too.",
			func(c gitsync.Counters) float64 { return float64(c.Syncs) }),
	)
}
