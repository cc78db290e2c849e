package metrics

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pasteur-dev/pasteur/internal/clientaddr"
)

// scrape reads m's metrics the way Prometheus does.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

// value returns the metric of family name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == k && l.GetValue() == v)
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestRequests(t *testing.T) {
	m := New()
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		w.Write([]byte("hello"))
	})
	route := func(r *http.Request) string {
		if _, p := mux.Handler(r); p != "" {
			return p
		}
		return "other"
	}
	h := clientaddr.New(nil).Handler(Requests(mux, m, log, route))
	for _, path := range []string{"/abc?secret=yes", "/def", "/missing", "/a/b"} {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = "192.0.2.7:999"
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	m.RateLimited()
	m.ConnRejected("total")
	m.ConnEvicted()
	m.AuthFailed()
	m.PasteStored(100)
	m.PasteStored(1 << 20)
	fams := scrape(t, m)
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"pasteur_http_requests_total", map[string]string{"route": "GET /{id}", "code": "200"}, 2},
		{"pasteur_http_requests_total", map[string]string{"route": "GET /{id}", "code": "404"}, 1},
		{"pasteur_http_requests_total", map[string]string{"route": "other", "code": "404"}, 1},
		{"pasteur_http_request_duration_seconds", map[string]string{"route": "GET /{id}", "code": "200"}, 2},
		{"pasteur_http_requests_in_flight", nil, 0},
		{"pasteur_ratelimit_rejected_total", nil, 1},
		{"pasteur_connections_rejected_total", map[string]string{"reason": "total"}, 1},
		{"pasteur_connections_evicted_total", nil, 1},
		{"pasteur_auth_failures_total", nil, 1},
		{"pasteur_paste_bytes", nil, 2},
	} {
		if got, ok := value(fams, tt.name, tt.labels); !ok || got != tt.want {
			t.Errorf("%s%v = %v (%v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("no Go runtime or process metrics")
	}
	logs := logBuf.String()
	if strings.Count(logs, "msg=request") != 4 {
		t.Fatalf("want 4 access log lines:\n%s", logs)
	}
	for _, want := range []string{`route="GET /{id}"`, "status=200", "bytes=5", "client=192.0.2.7", "method=GET", "duration="} {
		if !strings.Contains(logs, want) {
			t.Errorf("access log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "secret") || strings.Contains(logs, "abc") {
		t.Errorf("access log shows the URL:\n%s", logs)
	}
}

func TestRegisterSnapshot(t *testing.T) {
	type status struct {
		Up    bool
		Count int
		Seen  int64
	}
	st := status{Up: true, Count: 3}
	reads := 0
	m := New()
	err := RegisterSnapshot(m, func() status { reads++; return st },
		Field[status]{Name: "t_up", Help: "up", Value: func(s status) (float64, bool) {
			if s.Up {
				return 1, true
			}
			return 0, true
		}},
		Field[status]{Name: "t_count_total", Help: "count", Kind: Counter, Value: func(s status) (float64, bool) { return float64(s.Count), true }},
		Field[status]{Name: "t_seen", Help: "seen", Value: func(s status) (float64, bool) { return float64(s.Seen), s.Seen != 0 }},
	)
	if err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, m)
	if v, _ := value(fams, "t_up", nil); v != 1 {
		t.Errorf("t_up = %v", v)
	}
	if v, _ := value(fams, "t_count_total", nil); v != 3 || fams["t_count_total"].GetType() != dto.MetricType_COUNTER {
		t.Errorf("t_count_total = %v, %v", v, fams["t_count_total"].GetType())
	}
	if _, ok := value(fams, "t_seen", nil); ok {
		t.Error("t_seen shown while unknown")
	}
	if reads != 1 {
		t.Errorf("%d reads of the snapshot in one scrape, want 1", reads)
	}
	var nilM *Metrics
	nilM.RateLimited() // a nil *Metrics records nothing
}

// TestRequestsKeepsTheController: a handler behind Requests can still set
// write deadlines and flush through http.ResponseController.
func TestRequestsKeepsTheController(t *testing.T) {
	errs := make(chan error, 2)
	h := Requests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		errs <- rc.SetWriteDeadline(time.Now().Add(time.Minute))
		w.Write([]byte("x"))
		errs <- rc.Flush()
	}), New(), nil, func(*http.Request) string { return "r" })
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if deadlineErr, flushErr := <-errs, <-errs; deadlineErr != nil || flushErr != nil {
		t.Fatalf("SetWriteDeadline: %v, Flush: %v", deadlineErr, flushErr)
	}
}

// TestRequestsConcurrent: requests of several routes and codes counted
// at once each land in their series, once.
func TestRequestsConcurrent(t *testing.T) {
	m := New()
	h := Requests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200 + len(r.URL.Path))
	}), m, nil, func(r *http.Request) string { return r.URL.Path })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				path := "/" + strings.Repeat("x", (g+i)%4)
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
			}
		}()
	}
	wg.Wait()
	fams := scrape(t, m)
	for n := range 4 {
		route, code := "/"+strings.Repeat("x", n), strconv.Itoa(201+n)
		if v, _ := value(fams, "pasteur_http_requests_total", map[string]string{"route": route, "code": code}); v != 200 {
			t.Errorf("%s %s: %v requests, want 200", route, code, v)
		}
		if v, _ := value(fams, "pasteur_http_request_duration_seconds", map[string]string{"route": route, "code": code}); v != 200 {
			t.Errorf("%s %s: %v durations, want 200", route, code, v)
		}
	}
}
