// This file holds the Prometheus metrics served at GET /metrics, on a registry
// of the server's own (no global state, so several servers can live in one
// test binary).

package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's instruments.
type metrics struct {
	registry         *prometheus.Registry
	requests         *prometheus.CounterVec   // route, method, status
	promptTokens     *prometheus.CounterVec   // model
	generationTokens *prometheus.CounterVec   // model
	ttft             *prometheus.HistogramVec // model
	interToken       *prometheus.HistogramVec // model
	waiting          *prometheus.GaugeVec     // model
	running          *prometheus.GaugeVec     // model
	loadSeconds      *prometheus.GaugeVec     // model
	loads            *prometheus.CounterVec   // model
	idleUnloads      *prometheus.CounterVec   // model
	evictions        *prometheus.CounterVec   // model
	req              *requestMetrics
}

// Latency buckets in seconds. TTFT spans a few milliseconds (a warm GPU, a
// short prompt) to minutes (a long prompt on a CPU); inter-token latency
// spans sub-millisecond to about a second. Both follow the spacing vLLM
// uses for the same metrics.
var (
	ttftBuckets       = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640}
	interTokenBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5}
)

func newMetrics(reg *prometheus.Registry, list func() []ModelInfo) *metrics {
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "neuron_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		promptTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "neuron_prompt_tokens_total", Help: "Prompt tokens processed.",
		}, []string{"model"}),
		generationTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "neuron_generation_tokens_total", Help: "Tokens generated.",
		}, []string{"model"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "neuron_time_to_first_token_seconds", Help: "Time from request arrival to the first generated output.",
			Buckets: ttftBuckets,
		}, []string{"model"}),
		interToken: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "neuron_inter_token_latency_seconds", Help: "Time between consecutive generated tokens.",
			Buckets: interTokenBuckets,
		}, []string{"model"}),
		waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "neuron_num_requests_waiting", Help: "Requests queued for a model.",
		}, []string{"model"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "neuron_num_requests_running", Help: "Generations running on a model.",
		}, []string{"model"}),
		loadSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "neuron_model_load_seconds", Help: "Duration of a model's last load.",
		}, []string{"model"}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "neuron_model_loads_total", Help: "Models loaded (explicitly, as defaults or on demand).",
		}, []string{"model"}),
		idleUnloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "neuron_model_idle_unloads_total", Help: "Models unloaded after their keep_alive passed idle.",
		}, []string{"model"}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "neuron_model_evictions_total", Help: "Idle models unloaded to make room for another model's load.",
		}, []string{"model"}),
	}
	reg.MustRegister(m.requests, m.promptTokens, m.generationTokens, m.ttft, m.interToken,
		m.waiting, m.running, m.loadSeconds, m.loads, m.idleUnloads, m.evictions, &kvCollector{list: list},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.req = newRequestMetrics(reg, list)
	return m
}

// kvCollector reports each loaded model's KV-cache utilisation at scrape time.
type kvCollector struct {
	list func() []ModelInfo
}

var (
	kvDesc = prometheus.NewDesc("neuron_kv_cache_usage_ratio",
		"Fraction of a model's KV-cache blocks in use (0 to 1).", []string{"model"}, nil)
	kvBlocksDesc = prometheus.NewDesc("neuron_kv_cache_blocks",
		"Blocks of a model's KV cache.", []string{"model"}, nil)
	kvBlocksUsedDesc = prometheus.NewDesc("neuron_kv_cache_blocks_used",
		"Blocks of a model's KV cache held by running sequences.", []string{"model"}, nil)
)

func (k *kvCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- kvDesc
	ch <- kvBlocksDesc
	ch <- kvBlocksUsedDesc
}

func (k *kvCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range k.list() {
		ch <- prometheus.MustNewConstMetric(kvDesc, prometheus.GaugeValue, m.KVCacheUsage, m.ID)
		if m.KVBlocks > 0 {
			ch <- prometheus.MustNewConstMetric(kvBlocksDesc, prometheus.GaugeValue, float64(m.KVBlocks), m.ID)
			ch <- prometheus.MustNewConstMetric(kvBlocksUsedDesc, prometheus.GaugeValue, float64(m.KVBlocksUsed), m.ID)
		}
	}
}

// modelLoaded creates every per-model series of a model, at zero.
func (m *metrics) modelLoaded(model string) {
	m.waiting.WithLabelValues(model).Set(0)
	m.running.WithLabelValues(model).Set(0)
	m.promptTokens.WithLabelValues(model)
	m.generationTokens.WithLabelValues(model)
	m.ttft.WithLabelValues(model)
	m.interToken.WithLabelValues(model)
	m.req.modelLoaded(model)
}

// forget drops the per-model series of an unloaded model: its queue,
// token counters, latency histograms and load time, so that a workstation
// cycling through models does not keep a series set per model it ever
// served. The lifecycle counters (neuron_model_loads_total,
// neuron_model_idle_unloads_total, neuron_model_evictions_total) stay:
// they count events of models that come and go, unloads included.
func (m *metrics) forget(model string) {
	for _, v := range []interface{ DeleteLabelValues(...string) bool }{m.waiting, m.running,
		m.promptTokens, m.generationTokens, m.ttft, m.interToken, m.loadSeconds} {
		v.DeleteLabelValues(model)
	}
	m.req.forget(model)
}
