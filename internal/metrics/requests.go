package metrics

import (
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pasteur-dev/pasteur/internal/clientaddr"
)

// Requests returns next observed: each request is counted and timed in m
// (when not nil) under the route route names (a bounded set of names,
// such as the pattern that serves it), and logged on log (when not nil)
// with its method, route, status, size, duration and client address
// (clientaddr.From). The log never holds the URL's query, contents or
// headers: they may be secret.
func Requests(next http.Handler, m *Metrics, log *slog.Logger, route func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if m != nil {
			m.inFlight.Inc()
			defer m.inFlight.Dec()
		}
		rec := &recorder{ResponseWriter: w}
		defer func() {
			// Also when the handler panics (http.ErrAbortHandler): the
			// request is still counted, then the panic goes on.
			d := time.Since(start)
			code := rec.status()
			name := route(r)
			if m != nil {
				o := m.routeCode(name, code)
				o.requests.Inc()
				o.duration.Observe(d.Seconds())
			}
			// The attributes are built only for a log that keeps the
			// line (the client's address is a string made for it).
			if log != nil && log.Enabled(r.Context(), slog.LevelInfo) {
				log.LogAttrs(r.Context(), slog.LevelInfo, "request",
					slog.String("method", r.Method),
					slog.String("route", name),
					slog.Int("status", code),
					slog.Int64("bytes", rec.bytes),
					slog.Duration("duration", d),
					slog.String("client", clientaddr.From(r.Context()).String()))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// recorder notes the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// WriteString passes a string on without copying it, when the writer
// underneath takes strings.
func (r *recorder) WriteString(s string) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := io.WriteString(r.ResponseWriter, s)
	r.bytes += int64(n)
	return n, err
}

// Flush passes a flush on, for answers that stream.
func (r *recorder) Flush() {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the writer underneath, for write
// deadlines.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// status is the code sent: 200 when the handler wrote nothing.
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// routeKey names the series of a route and status code.
type routeKey struct {
	route string
	code  int
}

// routeSeries are the request counter and duration histogram of one route
// and status code.
type routeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// routeCode returns the series of route and code. They are looked up by
// their labels (a hash of the strings, the code formatted) the first time
// only, then read from a map that is copied on each addition: routes are
// a bounded set, codes those the handlers answer, and the vectors keep
// each series for good anyway.
func (m *Metrics) routeCode(route string, code int) routeSeries {
	k := routeKey{route, code}
	if s, ok := (*m.series.Load())[k]; ok {
		return s
	}
	m.seriesMu.Lock()
	defer m.seriesMu.Unlock()
	old := *m.series.Load()
	if s, ok := old[k]; ok {
		return s
	}
	c := strconv.Itoa(code)
	s := routeSeries{m.requests.WithLabelValues(route, c), m.duration.WithLabelValues(route, c)}
	added := make(map[routeKey]routeSeries, len(old)+1)
	maps.Copy(added, old)
	added[k] = s
	m.series.Store(&added)
	return s
}
