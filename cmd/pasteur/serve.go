package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pasteur-dev/pasteur/internal/auth"
	"github.com/pasteur-dev/pasteur/internal/clientaddr"
	"github.com/pasteur-dev/pasteur/internal/metrics"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/web"
)

// serve runs the server until ctx ends: network, listener, store, handler,
// serve.
func serve(ctx context.Context, cfg *serveConfig, logOut io.Writer) error {
	// Before anything opens: a shard left out would answer 404 for its
	// pastes.
	if err := checkNoShardsBeyond(cfg.data, cfg.shards); err != nil {
		return err
	}
	log, flushLog := newServerLog(logOut, cfg.logLevel)
	defer flushLog()

	network, addr, closeNet, err := openNetwork(cfg, log)
	if err != nil {
		return err
	}
	defer closeNet()
	if cfg.debug != "" {
		stop, err := serveDebug(cfg.debug, network, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	m := metrics.New()
	clients := clientaddr.New(cfg.limits.trusted)
	conns := newConnLimiter(cfg, m, clients, log)
	ln, err := network.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	ln = conns.Listener(ln)
	defer ln.Close()
	ln80, err := listenHTTP(cfg, network, addr, log)
	if err != nil {
		return err
	}
	if ln80 != nil {
		ln80 = conns.Listener(ln80)
		defer ln80.Close()
	}

	// The cache forgets the pastes that fetches find removed; it is made
	// after the stores it is in front of.
	var cache atomic.Pointer[paste.Cache]
	stores, err := openStores(ctx, cfg, network, log, func(ids []string) {
		if c := cache.Load(); c != nil {
			c.Forget(ids...)
		}
	})
	if err != nil {
		return err
	}
	defer stores.Close()
	go returnMemory(ctx, func() storeActivity {
		c := stores.counters()
		return storeActivity{commits: c.Commits, remote: c.Syncs + c.Pushes}
	}, settleStores(stores, log))

	pastes := withQuota(cfg, observedStore{stores.pastes, m})
	if cfg.cache > 0 {
		c := paste.NewCache(pastes, cfg.cache)
		cache.Store(c)
		pastes = c
	}
	handler, err := web.NewHandler(web.Config{
		Store:         pastes,
		Logger:        log.With("component", "http"),
		MaxSize:       cfg.maxSize,
		IDLength:      cfg.length,
		DefaultExpiry: cfg.life.defaultExpiry,
		MaxExpiry:     cfg.life.maxExpiry,
		NewID:         stores.newID,

		Title:       cfg.compat.title,
		Subtitle:    cfg.compat.subtitle,
		JSONAnswers: cfg.compat.jsonAnswers,
		User:        func(r *http.Request) (string, bool) { return auth.User(r.Context()) },
		WriteStep:   writeStep(cfg.tap != ""),
	})
	if err != nil {
		return err
	}

	certs, err := newCertManager(cfg, network, log)
	if err != nil {
		return err
	}
	site, err := front(withHealth(handler, certs, stores.statuses()...), &cfg.limits, clients, m, log)
	if err != nil {
		return err
	}
	if err := registerStatus(m, stores.combined(), certs, network); err != nil {
		return err
	}
	if err := registerCounters(m, stores.counters); err != nil {
		return err
	}
	stopMetrics, err := serveMetrics(cfg, network, m, healthDetails(certs, stores.statuses()...), log)
	if err != nil {
		return err
	}
	defer stopMetrics()

	srv := &http.Server{
		Handler:           site,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         trackIdle(conns),
		ConnContext:       clients.ConnContext, // site's clientaddr.Handler finds the peer there
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 3)
	var redirect *http.Server
	if certs != nil {
		redirect = serveHTTPS(ctx, cfg, certs, srv, ln, ln80, displayAddr(ln.Addr(), addr, network), errc, log)
	} else {
		go func() { errc <- srv.Serve(ln) }()
		log.Info("serving", "url", "http://"+displayAddr(ln.Addr(), addr, network), "remote", cfg.remote, "data", cfg.data)
	}

	// Start-up is over: the pages of the binary it touched go (startpages.go).
	if n, err := dropStartPages(); err != nil {
		log.Debug("start pages kept", "err", err)
	} else {
		log.Debug("start pages dropped", "bytes", n)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if redirect != nil {
		redirect.Close()
	}
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// syncInterval maps --sync-interval to gitsync's: 0 turns it off.
func syncInterval(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// addresser is a network that knows its own addresses (the userspace
// stack; the host's sockets do not say).
type addresser interface{ Addrs() []netip.Addr }

// displayAddr names the listening address for the log: where the server
// is reached. A listener on every address of a network that knows its own
// is named by the first of them (IPv4 first), not by its empty host.
func displayAddr(a net.Addr, fallback string, network netx.Network) string {
	if a == nil {
		return fallback
	}
	if t, ok := a.(*net.TCPAddr); ok && (t.IP == nil || t.IP.IsUnspecified()) {
		if n, ok := network.(addresser); ok {
			if ips := n.Addrs(); len(ips) > 0 {
				return netip.AddrPortFrom(ips[0], uint16(t.Port)).String()
			}
		}
	}
	return a.String()
}

// tapWriteStep is how much of an answer one write carries on the
// userspace stack, whose TCP makes segments of each write as it comes:
// 32 KiB writes went out as a 32 KiB frame each, 256 KiB ones go out as
// 64 KiB frames (BENCHMARKS.md, issue 16's "Larger writes for
// downloads"). A client then has the write stall (a minute) to take each
// 256 KiB, 4.4 KB/s at least.
const tapWriteStep = 256 << 10

// writeStep is web.Config.WriteStep: larger on the userspace stack; on
// the host's sockets the kernel gathers writes itself, and writes of
// 256 KiB measured slower there than web's default.
func writeStep(tap bool) int {
	if tap {
		return tapWriteStep
	}
	return 0
}
