package main

import (
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pasteur-dev/pasteur/internal/clientaddr"
	"github.com/pasteur-dev/pasteur/internal/metrics"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
)

// Connection caps.
const (
	maxConnsCeiling = 4096 // the default --max-conns, at most
	minFileReserve  = 64   // descriptors kept for the repository and the rest, at least
	maxHeaderBytes  = 32 << 10
)

// defaultMaxConns is --max-conns when not given. On the host's sockets
// every connection is a file descriptor: leave a quarter of the open-file
// limit (at least minFileReserve) to the repository's pack files, the
// logs and outgoing connections, so that the store never fails for lack
// of one. On the userspace stack connections cost memory only.
func defaultMaxConns(tap bool) int {
	if tap {
		return maxConnsCeiling
	}
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return maxConnsCeiling
	}
	return connsForFiles(int(r.Cur))
}

// connsForFiles is the connections a process with nofile descriptors
// may keep open.
func connsForFiles(nofile int) int {
	reserve := max(minFileReserve, nofile/4)
	return min(max(nofile-reserve, 1), maxConnsCeiling)
}

// newConnLimiter returns the connection caps of cfg, counted in m.
func newConnLimiter(cfg *serveConfig, m *metrics.Metrics, clients *clientaddr.Resolver, log *slog.Logger) *netx.ConnLimiter {
	n := cfg.limits.maxConns
	if n == 0 {
		n = defaultMaxConns(cfg.tap != "")
	}
	log.Info("connection limits", "max", n, "per_ip", cfg.limits.maxConnsPerIP)
	return netx.NewConnLimiter(netx.Limits{
		Max:       n,
		PerClient: cfg.limits.maxConnsPerIP,
		Exempt:    clients.Trusted,
		OnReject:  m.ConnRejected,
		OnEvict:   m.ConnEvicted,
	})
}

// trackIdle is an http.Server's ConnState hook that tells conns which
// connections wait for a request, and may be closed to make room.
func trackIdle(conns *netx.ConnLimiter) func(c net.Conn, s http.ConnState) {
	return func(c net.Conn, s http.ConnState) {
		conns.SetIdle(c, s == http.StateNew || s == http.StateIdle)
	}
}

// withQuota puts --max-repo-size in front of store: a bound on the bytes
// under --data, measured at most every 10 s (nil bound: store as it is).
func withQuota(cfg *serveConfig, store paste.Store) paste.Store {
	if cfg.limits.maxRepoSize == 0 {
		return store
	}
	return &paste.Quota{Store: store, Max: cfg.limits.maxRepoSize, Every: 10 * time.Second,
		Size: func() (int64, error) { return dirSize(cfg.data) }}
}

// dirSize is the bytes of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}
