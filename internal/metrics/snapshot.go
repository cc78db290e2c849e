package metrics

import "github.com/prometheus/client_golang/prometheus"

// Kind is how a Field's value behaves.
type Kind int

// Kinds of Field.
const (
	Gauge   Kind = iota // goes up and down
	Counter             // only goes up, from 0 at start
)

// Field is one metric read from a status snapshot of type T.
type Field[T any] struct {
	Name string // e.g. pasteur_remote_reachable
	Help string
	Kind Kind
	// Value reads the metric from a snapshot; false leaves it out of
	// this scrape (a time not known yet).
	Value func(T) (float64, bool)
}

// RegisterSnapshot adds fields to m, read from one call of read per
// scrape: the package that owns the state keeps a plain Status method
// and never imports Prometheus.
func RegisterSnapshot[T any](m *Metrics, read func() T, fields ...Field[T]) error {
	c := &snapshot[T]{read: read, fields: fields}
	for _, f := range fields {
		c.descs = append(c.descs, prometheus.NewDesc(f.Name, f.Help, nil, nil))
	}
	return m.reg.Register(c)
}

// snapshot is a prometheus.Collector of Fields.
type snapshot[T any] struct {
	read   func() T
	fields []Field[T]
	descs  []*prometheus.Desc
}

func (c *snapshot[T]) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *snapshot[T]) Collect(ch chan<- prometheus.Metric) {
	v := c.read()
	for i, f := range c.fields {
		x, ok := f.Value(v)
		if !ok {
			continue
		}
		t := prometheus.GaugeValue
		if f.Kind == Counter {
			t = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(c.descs[i], t, x)
	}
}
