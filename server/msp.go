// This file holds the metrics of the Gateway API Inference Extension's Model
// Server Protocol: the figures an endpoint picker scrapes from every pod of
// an InferencePool to choose where a request goes. The protocol fixes their
// types and meanings, not their names (vLLM's are its examples), and reads
// one series per metric and pod, so these are totals over all the models a
// neuron holds, computed at scrape time from the admission gates and the
// model list:
//
//	neuron_queued_requests       gauge  TotalQueuedRequests (vllm:num_requests_waiting)
//	neuron_running_requests      gauge  TotalRunningRequests (vllm:num_requests_running)
//	neuron_kv_cache_utilization  gauge  KVCacheUtilization, 0 to 1 (vllm:kv_cache_usage_perc)
//	neuron_cache_config_info     gauge  1, labels block_size and num_gpu_blocks (vllm:cache_config_info)
//
// The KV cache is not paged yet: each sequence slot of a model owns one
// contiguous run of ctx_size positions. Described in the protocol's terms,
// that is one block of ctx_size tokens per slot, so block_size is the
// context size and num_gpu_blocks the number of slots (label name as vLLM
// spells it, whatever the device). When the paged cache lands, these become
// its fixed block size and its allocator's block count, and utilisation its
// share of allocated blocks.

package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Model Server Protocol metric names, as the endpoint picker's flags name
// them (README, section Kubernetes).
const (
	MetricQueuedRequests  = "neuron_queued_requests"
	MetricRunningRequests = "neuron_running_requests"
	MetricKVCacheUsage    = "neuron_kv_cache_utilization"
	MetricCacheConfigInfo = "neuron_cache_config_info"
)

var (
	mspQueuedDesc = prometheus.NewDesc(MetricQueuedRequests,
		"Requests waiting for a generation slot, all models together.", nil, nil)
	mspRunningDesc = prometheus.NewDesc(MetricRunningRequests,
		"Generations running, all models together.", nil, nil)
	mspKVDesc = prometheus.NewDesc(MetricKVCacheUsage,
		"Fraction of the KV-cache blocks of all loaded models held by running sequences (0 to 1).", nil, nil)
	mspCacheDesc = prometheus.NewDesc(MetricCacheConfigInfo,
		"KV-cache layout: block_size tokens per block of the paged cache and num_gpu_blocks blocks over all loaded models; value 1.",
		[]string{"block_size", "num_gpu_blocks"}, nil)
)

// mspCollector computes the protocol's metrics at scrape time.
type mspCollector struct {
	s *Server
}

// Describe sends the protocol metrics' descriptions.
func (c *mspCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- mspQueuedDesc
	ch <- mspRunningDesc
	ch <- mspKVDesc
	ch <- mspCacheDesc
}

// Collect sends the protocol metrics' current values; the cache config
// info is left out while no model is loaded.
func (c *mspCollector) Collect(ch chan<- prometheus.Metric) {
	running, queued := c.s.totalCounts()
	ch <- prometheus.MustNewConstMetric(mspQueuedDesc, prometheus.GaugeValue, float64(queued))
	ch <- prometheus.MustNewConstMetric(mspRunningDesc, prometheus.GaugeValue, float64(running))

	cache := summarizeCache(c.s.opts.Models.List())
	ch <- prometheus.MustNewConstMetric(mspKVDesc, prometheus.GaugeValue, cache.utilization)
	if cache.blockSize > 0 {
		ch <- prometheus.MustNewConstMetric(mspCacheDesc, prometheus.GaugeValue, 1,
			strconv.Itoa(cache.blockSize), strconv.Itoa(cache.blocks))
	}
}

// totalCounts sums the running and queued generations of every model.
func (s *Server) totalCounts() (running, queued int) {
	s.mu.Lock()
	gates := make([]*gate, 0, len(s.gates))
	for _, g := range s.gates {
		gates = append(gates, g)
	}
	s.mu.Unlock()
	for _, g := range gates {
		r, w := g.counts()
		running += r
		queued += w
	}
	return running, queued
}

// cacheSummary is the pod-wide KV-cache picture the protocol asks for.
type cacheSummary struct {
	blockSize   int     // tokens per block; 0 when no model is loaded
	blocks      int     // blocks over all models
	utilization float64 // positions in use over positions, 0 to 1
}

// summarizeCache folds the models' caches into one. A model that reports
// no blocks counts as one block per sequence slot of its context size.
// Models of different block sizes have no common block: the smallest is
// the block and the others count as the whole blocks their positions fill.
func summarizeCache(models []ModelInfo) cacheSummary {
	var sum cacheSummary
	var used, capacity float64
	for _, m := range models {
		if m.CtxSize <= 0 || m.Error != "" {
			continue
		}
		block, positions := m.CtxSize, float64(m.CtxSize*max(m.KVSlots, 1))
		if m.KVBlocks > 0 && m.KVBlockSize > 0 {
			block, positions = m.KVBlockSize, float64(m.KVBlocks*m.KVBlockSize)
		}
		if sum.blockSize == 0 || block < sum.blockSize {
			sum.blockSize = block
		}
		capacity += positions
		used += min(max(m.KVCacheUsage, 0), 1) * positions
	}
	if sum.blockSize > 0 {
		sum.blocks = int(capacity) / sum.blockSize
	}
	if capacity > 0 {
		sum.utilization = used / capacity
	}
	return sum
}
