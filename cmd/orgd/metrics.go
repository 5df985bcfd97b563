package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/orgd/orgd/store"
)

// metrics are the server's Prometheus metrics, on a registry of its own so
// that two servers in one process (tests) never collide.
type metrics struct {
	reg         *prometheus.Registry
	httpReqs    *prometheus.CounterVec
	httpLatency *prometheus.HistogramVec
	jobRuns     *prometheus.CounterVec
	jobItems    *prometheus.CounterVec
	jobLatency  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgd_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orgd_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgd_job_runs_total",
			Help: "Background job runs, by job and result (ok, error, cancelled).",
		}, []string{"job", "result"}),
		jobItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgd_job_items_total",
			Help: "Items background jobs handled: mails sent or logged, domains re-checked, imports expired.",
		}, []string{"job"}),
		jobLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orgd_job_duration_seconds",
			Help:    "Duration of background job runs.",
			Buckets: []float64{.005, .025, .1, .5, 1, 5, 30, 120, 600},
		}, []string{"job"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpReqs, m.httpLatency, m.jobRuns, m.jobItems, m.jobLatency,
	)
	return m
}

// watchWriter exports the work of SQLite's single writer (store.WriterStats):
// writes/batches is the mean batch size, and the rate of busy seconds the
// share of time it had work (near 1, writes queue behind it).
func (m *metrics) watchWriter(stats func() store.WriterStats) {
	counter := func(name, help string, v func(store.WriterStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return v(stats()) })
	}
	m.reg.MustRegister(
		counter("orgd_sqlite_writer_batches_total", "Transactions SQLite's single writer ran (each carries one or more writes).",
			func(s store.WriterStats) float64 { return float64(s.Batches) }),
		counter("orgd_sqlite_writer_writes_total", "Writes (transactions of the service) SQLite's single writer carried.",
			func(s store.WriterStats) float64 { return float64(s.Writes) }),
		counter("orgd_sqlite_writer_busy_seconds_total", "Time SQLite's single writer spent running batches, commits included.",
			func(s store.WriterStats) float64 { return s.Busy.Seconds() }),
		counter("orgd_sqlite_writer_commit_seconds_total", "Time SQLite's single writer spent committing.",
			func(s store.WriterStats) float64 { return s.Commit.Seconds() }),
	)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *metrics) observeHTTP(method, route string, code int, d time.Duration) {
	method = methodLabel(method)
	m.httpReqs.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	m.httpLatency.WithLabelValues(method, route).Observe(d.Seconds())
}

func (m *metrics) observeJob(job, result string, items int, d time.Duration) {
	m.jobRuns.WithLabelValues(job, result).Inc()
	m.jobItems.WithLabelValues(job).Add(float64(items))
	m.jobLatency.WithLabelValues(job).Observe(d.Seconds())
}

// methodLabel keeps the method label to the standard methods, so that a
// client cannot grow the metric without bound.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
