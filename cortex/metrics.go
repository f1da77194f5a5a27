// This file holds the gateway's Prometheus metrics, all prefixed cortex_ and
// served on the metrics listener: requests by model, neuron and status,
// upstream latency and time to first byte, retries, ejections, neurons up,
// models available and in-flight requests per neuron.

package cortex

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's collectors.
type metrics struct {
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec
	upstreamSeconds *prometheus.HistogramVec
	ttfbSeconds     *prometheus.HistogramVec
	retries         *prometheus.CounterVec
	ejections       *prometheus.CounterVec
	neuronsUp       prometheus.Gauge
	neuronsKnown    prometheus.Gauge
	modelsAvailable prometheus.Gauge
	inFlight        *prometheus.GaugeVec
}

// latencyBuckets span a proxied first byte (milliseconds) to a long
// generation (minutes).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// newMetrics registers the collectors on a new registry, with the Go and
// process collectors.
func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cortex_requests_total",
			Help: "Requests routed, by model, neuron (empty when none was chosen) and HTTP status sent to the client.",
		}, []string{"model", "neuron", "status"}),
		upstreamSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cortex_upstream_duration_seconds",
			Help:    "Time from sending a request to a neuron to the end of its response.",
			Buckets: latencyBuckets,
		}, []string{"neuron"}),
		ttfbSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cortex_upstream_ttfb_seconds",
			Help:    "Time from sending a request to a neuron to the first byte of its response body.",
			Buckets: latencyBuckets,
		}, []string{"neuron"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cortex_retries_total",
			Help: "Requests sent again to another neuron after one failed before its first byte, by model.",
		}, []string{"model"}),
		ejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cortex_ejections_total",
			Help: "Times a neuron was marked down after failed polls or requests in a row.",
		}, []string{"neuron"}),
		neuronsUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cortex_neurons_up", Help: "Neurons that answered their last poll and are not ejected.",
		}),
		neuronsKnown: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cortex_neurons", Help: "Neurons configured or discovered.",
		}),
		modelsAvailable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cortex_models_available", Help: "Distinct models ready on at least one up neuron.",
		}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cortex_in_flight_requests", Help: "Requests cortex has running on each neuron.",
		}, []string{"neuron"}),
	}
	m.registry.MustRegister(m.requests, m.upstreamSeconds, m.ttfbSeconds, m.retries, m.ejections,
		m.neuronsUp, m.neuronsKnown, m.modelsAvailable, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
