// This file holds the request-level metrics that vLLM and llama-server users
// look for: end-to-end latency, finished requests by finish_reason, prompt
// and generation lengths per request, time spent queued, the build, and the
// number of loaded models. Every per-model series is created when the model
// loads, so dashboards see zeros rather than missing series before the
// first request.

package server

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BuildInfo describes the binary for the neuron_build_info gauge.
type BuildInfo struct {
	Version string // the release, e.g. v0.3.0 or a git describe
	Flavour string // the GPU flavour the binary was built as: generic, ampere, ada, ...
	Backend string // the backends linked in, e.g. cpu+cuda
}

// finishReasons are the reasons a request can finish with, pre-created for
// each model.
var finishReasons = []string{"stop", "length", "tool_calls"}

// Buckets. End-to-end latency spans a few milliseconds to many minutes, as
// vLLM's e2e_request_latency_seconds does; queue time spans nothing (an idle
// model) to minutes behind long generations; token counts follow powers of
// two up to 128k, about the longest context served.
var (
	e2eBuckets   = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920}
	queueBuckets = []float64{0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	tokenBuckets = prometheus.ExponentialBuckets(1, 2, 18) // 1 .. 131072
)

// requestMetrics are the per-request instruments.
type requestMetrics struct {
	e2e         *prometheus.HistogramVec // model
	finished    *prometheus.CounterVec   // model, finish_reason
	promptLen   *prometheus.HistogramVec // model
	genLen      *prometheus.HistogramVec // model
	queueTime   *prometheus.HistogramVec // model
	buildInfo   *prometheus.GaugeVec     // version, flavour, backend, goversion
	modelsCount prometheus.GaugeFunc
}

func newRequestMetrics(reg prometheus.Registerer, list func() []ModelInfo) *requestMetrics {
	m := &requestMetrics{
		e2e: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "neuron_e2e_request_latency_seconds", Help: "Time from a generation request's arrival to its last output.",
			Buckets: e2eBuckets,
		}, []string{"model"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "neuron_request_success_total", Help: "Generation requests that finished, by finish_reason.",
		}, []string{"model", "finish_reason"}),
		promptLen: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "neuron_request_prompt_tokens", Help: "Prompt length of finished requests, in tokens.",
			Buckets: tokenBuckets,
		}, []string{"model"}),
		genLen: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "neuron_request_generation_tokens", Help: "Tokens generated per finished request (all choices).",
			Buckets: tokenBuckets,
		}, []string{"model"}),
		queueTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "neuron_request_queue_time_seconds", Help: "Time a generation request waited in its model's queue.",
			Buckets: queueBuckets,
		}, []string{"model"}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "neuron_build_info", Help: "Always 1; the labels describe the running binary.",
		}, []string{"version", "flavour", "backend", "goversion"}),
		modelsCount: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "neuron_models_loaded", Help: "Models loaded and ready to serve.",
		}, func() float64 { return float64(len(list())) }),
	}
	reg.MustRegister(m.e2e, m.finished, m.promptLen, m.genLen, m.queueTime, m.buildInfo, m.modelsCount)
	return m
}

// setBuild publishes the build description.
func (m *requestMetrics) setBuild(b BuildInfo) {
	if b.Version == "" {
		b.Version = "dev"
	}
	m.buildInfo.WithLabelValues(b.Version, b.Flavour, b.Backend, runtime.Version()).Set(1)
}

// observe records a finished generation.
func (m *requestMetrics) observe(model string, res *Result, sinceArrival time.Duration) {
	m.e2e.WithLabelValues(model).Observe(sinceArrival.Seconds())
	m.finished.WithLabelValues(model, res.FinishReason).Inc()
	m.promptLen.WithLabelValues(model).Observe(float64(res.PromptTokens))
	m.genLen.WithLabelValues(model).Observe(float64(res.CompletionTokens))
}

// modelLoaded creates the per-request series of a model, at zero.
func (r *requestMetrics) modelLoaded(model string) {
	r.e2e.WithLabelValues(model)
	r.promptLen.WithLabelValues(model)
	r.genLen.WithLabelValues(model)
	r.queueTime.WithLabelValues(model)
	for _, f := range finishReasons {
		r.finished.WithLabelValues(model, f)
	}
}

// forget drops the per-request series of an unloaded model.
func (r *requestMetrics) forget(model string) {
	for _, v := range []interface{ DeleteLabelValues(...string) bool }{r.e2e, r.promptLen, r.genLen, r.queueTime} {
		v.DeleteLabelValues(model)
	}
	r.finished.DeletePartialMatch(prometheus.Labels{"model": model})
}
