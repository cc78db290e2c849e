package metrics

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

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
				c := strconv.Itoa(code)
				m.requests.WithLabelValues(name, c).Inc()
				m.duration.WithLabelValues(name, c).Observe(d.Seconds())
			}
			if log != nil {
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
