package server

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the engine's counters. The hot path only touches atomics
// and histograms; Prometheus reads the atomics when scraped. Each Server
// has its own registry (no global state).
type metrics struct {
	connections   atomic.Int64 // open WebSocket connections
	messagesIn    atomic.Int64 // messages committed
	pushesOut     atomic.Int64 // message pushes queued to sessions
	queued        atomic.Int64 // frames waiting in send queues, all connections
	slowConsumers atomic.Int64 // connections dropped because their queue filled
	mediaUploads  atomic.Int64 // media uploads stored

	commitBatch   prometheus.Histogram
	commitSeconds prometheus.Histogram
	reg           *prometheus.Registry
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jmsg_commit_batch_messages", Help: "Messages per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jmsg_commit_seconds", Help: "Time to commit one batch, fsync included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
	}
	gauge := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	m.reg.MustRegister(
		gauge("jmsg_connections", "Open client connections.", &m.connections),
		counter("jmsg_messages_in_total", "Messages committed.", &m.messagesIn),
		counter("jmsg_pushes_out_total", "Message pushes queued to sessions.", &m.pushesOut),
		counter("jmsg_media_uploads_total", "Media uploads stored.", &m.mediaUploads),
		gauge("jmsg_delivery_queue_frames", "Frames waiting in the send queues of all connections.", &m.queued),
		counter("jmsg_slow_consumers_dropped_total", "Connections dropped because their send queue filled.", &m.slowConsumers),
		m.commitBatch, m.commitSeconds,
		prometheus.NewGoCollector(),
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
	)
	return m
}

// watchSessions registers the logged-in session count, read from h.
func (m *metrics) watchSessions(h *hub) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jmsg_sessions", Help: "Logged-in sessions."},
		func() float64 { return float64(h.count()) }))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
