// Package metrics is what an operator sees of a running pasteur: counters
// and histograms in Prometheus' format (with prometheus/client_golang,
// in a registry of its own), and an access log line per request.
//
// Other packages never import Prometheus: the HTTP layer is observed by
// the Requests middleware, limits report through the small methods of
// Metrics, and the state of the store, the certificate and the network
// stack is read from their status snapshots at scrape time
// (RegisterSnapshot).
package metrics

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds pasteur's metrics. Its methods are safe for concurrent
// use; a nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	inFlight     prometheus.Gauge
	rateLimited  prometheus.Counter
	connRejected *prometheus.CounterVec
	connEvicted  prometheus.Counter
	authFailed   prometheus.Counter
	pasteBytes   prometheus.Histogram

	// series are the requests' and durations' series by route and
	// code, as found (see routeCode); seriesMu orders the additions.
	series   atomic.Pointer[map[routeKey]routeSeries]
	seriesMu sync.Mutex
}

// New returns the metrics, with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.series.Store(&map[routeKey]routeSeries{})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pasteur_http_requests_total",
		Help: "HTTP requests answered, by route and status code.",
	}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "pasteur_http_request_duration_seconds",
		Help:    "Time from a request's headers to the end of its answer, by route and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "code"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "pasteur_http_requests_in_flight",
		Help: "HTTP requests being answered.",
	})
	m.rateLimited = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pasteur_ratelimit_rejected_total",
		Help: "Requests refused with 429 by the rate limit.",
	})
	m.connRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pasteur_connections_rejected_total",
		Help: "Connections closed at once for a connection limit: total or per_client.",
	}, []string{"reason"})
	m.connEvicted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pasteur_connections_evicted_total",
		Help: "Idle connections closed to make room for new ones.",
	})
	m.authFailed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pasteur_auth_failures_total",
		Help: "Requests refused with 401 for missing or wrong credentials.",
	})
	m.pasteBytes = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "pasteur_paste_bytes",
		Help:    "Sizes of the pastes stored (its count is the pastes stored; refusals are pasteur_http_requests_total by status).",
		Buckets: prometheus.ExponentialBuckets(64, 4, 10), // 64 B to 16 MiB
	})
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.rateLimited, m.connRejected, m.connEvicted, m.authFailed, m.pasteBytes,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus' formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{MaxRequestsInFlight: 4})
}

// RateLimited counts a request refused by the rate limit.
func (m *Metrics) RateLimited() {
	if m != nil {
		m.rateLimited.Inc()
	}
}

// ConnRejected counts a connection refused by a limit, for reason.
func (m *Metrics) ConnRejected(reason string) {
	if m != nil {
		m.connRejected.WithLabelValues(reason).Inc()
	}
}

// ConnEvicted counts an idle connection closed to make room.
func (m *Metrics) ConnEvicted() {
	if m != nil {
		m.connEvicted.Inc()
	}
}

// AuthFailed counts a request refused for its credentials.
func (m *Metrics) AuthFailed() {
	if m != nil {
		m.authFailed.Inc()
	}
}

// PasteStored counts a paste of n bytes stored.
func (m *Metrics) PasteStored(n int) {
	if m != nil {
		m.pasteBytes.Observe(float64(n))
	}
}

// GaugeFunc adds a gauge whose value f gives at scrape time.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) error {
	return m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}
