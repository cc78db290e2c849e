package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"

	"github.com/pasteur-dev/pasteur/netstack"
	"github.com/pasteur-dev/pasteur/netx"
)

// serveDebug serves, for benchmarks, Go's profiles under /debug/pprof/ and
// the counters of the userspace stack (if network is one) and of the Go
// runtime at /debug/stats, on addr: a loopback address of the host's
// sockets, even in TAP mode. It returns a function that stops serving.
func serveDebug(addr string, network netx.Network, log *slog.Logger) (func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--debug-addr %q: want a loopback address and port, like 127.0.0.1:6060", addr)
	}
	ln, err := (&netx.Host{}).Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/stats", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Netstack   *netstack.Stats `json:",omitempty"`
			HeapInuse  uint64
			StackInuse uint64
			Sys        uint64
			Goroutines int
		}
		if st, ok := network.(*netstack.Stack); ok {
			s := st.Stats()
			body.Netstack = &s
		}
		if r.URL.Query().Has("gc") {
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		body.HeapInuse, body.StackInuse, body.Sys = ms.HeapInuse, ms.StackInuse, ms.Sys
		body.Goroutines = runtime.NumGoroutine()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	})
	srv := &http.Server{Handler: mux, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	log.Info("debug endpoints", "url", "http://"+addr+"/debug/")
	return func() { srv.Close() }, nil
}
