// This file holds the Model Server Protocol conformance test: a real daemon
// with a real model is scraped at GET /metrics while it is idle, while one
// generation runs and others wait, and after they end; each metric an
// endpoint picker reads must have the protocol's type and labels and move
// as its meaning says.

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/server"
)

// scrape fetches and parses a daemon's /metrics.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// mspSample is the protocol's view of one scrape.
type mspSample struct {
	queued, running, kv  float64
	blockSize, numBlocks int
}

// readMSP checks the protocol metrics' types and labels and returns their
// values.
func readMSP(t *testing.T, fams map[string]*dto.MetricFamily) mspSample {
	t.Helper()
	gauge := func(name string, labels ...string) *dto.Metric {
		f := fams[name]
		if f == nil {
			t.Fatalf("metric %s missing", name)
		}
		if f.GetType() != dto.MetricType_GAUGE {
			t.Fatalf("metric %s is a %v, the protocol asks for a gauge", name, f.GetType())
		}
		if len(f.GetMetric()) != 1 {
			t.Fatalf("metric %s has %d series, the endpoint picker reads one per pod", name, len(f.GetMetric()))
		}
		m := f.GetMetric()[0]
		var got []string
		for _, l := range m.GetLabel() {
			got = append(got, l.GetName())
		}
		if strings.Join(got, ",") != strings.Join(labels, ",") {
			t.Fatalf("metric %s labels %v, want %v", name, got, labels)
		}
		return m
	}
	var s mspSample
	s.queued = gauge(server.MetricQueuedRequests).GetGauge().GetValue()
	s.running = gauge(server.MetricRunningRequests).GetGauge().GetValue()
	s.kv = gauge(server.MetricKVCacheUsage).GetGauge().GetValue()
	if s.kv < 0 || s.kv > 1 {
		t.Fatalf("%s = %v, outside 0..1", server.MetricKVCacheUsage, s.kv)
	}
	info := gauge(server.MetricCacheConfigInfo, "block_size", "num_gpu_blocks")
	if v := info.GetGauge().GetValue(); v != 1 {
		t.Fatalf("%s = %v, an info metric is 1", server.MetricCacheConfigInfo, v)
	}
	for _, l := range info.GetLabel() {
		n, err := strconv.Atoi(l.GetValue())
		if err != nil || n <= 0 {
			t.Fatalf("%s label %s=%q is not a positive integer", server.MetricCacheConfigInfo, l.GetName(), l.GetValue())
		}
		if l.GetName() == "block_size" {
			s.blockSize = n
		} else {
			s.numBlocks = n
		}
	}
	return s
}

// startStreams starts n streaming chat completions of body that read
// their streams to the end; each sends its error (nil when the stream
// ended, also by ctx's end) on the returned channel.
func startStreams(ctx context.Context, base, body string, n int) <-chan error {
	ended := make(chan error, n)
	for range n {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				ended <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				ended <- fmt.Errorf("status %s", resp.Status)
				return
			}
			io.Copy(io.Discard, resp.Body)
			ended <- nil
		}()
	}
	return ended
}

// waitMSP scrapes until cond holds or the deadline passes.
func waitMSP(t *testing.T, base, what string, cond func(mspSample) bool) mspSample {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := readMSP(t, scrape(t, base))
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: last scrape %+v", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestModelServerProtocolMetrics(t *testing.T) {
	modelPath := reftest.Model(t, "mini-f32")
	const ctxSize = 512
	base, _ := startEngine(t, &Config{
		MaxQueue:      4,
		Hub:           HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:        EngineConfig{Device: "cpu", Threads: 1, CtxSize: ctxSize, MaxParallel: 1},
		DefaultModels: []DefaultModel{{Model: modelPath, Alias: "mini"}},
	})

	idle := waitMSP(t, base, "model loaded", func(s mspSample) bool { return s.blockSize > 0 })
	if idle.queued != 0 || idle.running != 0 || idle.kv != 0 {
		t.Fatalf("idle daemon reports %+v", idle)
	}
	// The paged cache: blocks of engine.DefaultBlockSize positions, enough
	// for the one slot's context.
	if idle.blockSize != engine.DefaultBlockSize || idle.numBlocks*idle.blockSize < ctxSize {
		t.Fatalf("cache config block_size=%d num_gpu_blocks=%d, want %d and at least %d positions",
			idle.blockSize, idle.numBlocks, engine.DefaultBlockSize, ctxSize)
	}

	// Three long streams (end-of-generation banned): one runs, two wait.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := `{"model":"mini","stream":true,"max_tokens":480,"temperature":0,"logit_bias":` + banEOG(t, modelPath) +
		`,"messages":[{"role":"user","content":"count"}]}`
	const streams = 3
	ended := startStreams(ctx, base, body, streams)

	busy := waitMSP(t, base, "one running and two queued", func(s mspSample) bool {
		return s.running == 1 && s.queued == streams-1 && s.kv > 0
	})
	// Utilisation grows with each generated token of the running sequence.
	later := waitMSP(t, base, "KV utilisation grows", func(s mspSample) bool { return s.kv > busy.kv })
	t.Logf("idle %+v, busy %+v, later %+v", idle, busy, later)
	if later.kv > 1 {
		t.Fatalf("utilisation %v above 1", later.kv)
	}
	if later.blockSize != idle.blockSize || later.numBlocks != idle.numBlocks {
		t.Fatalf("cache config changed under load: %+v then %+v", idle, later)
	}

	// Clients leave: the generation stops, the queue empties, the cache frees.
	cancel()
	for range streams {
		select {
		case err := <-ended:
			if err != nil && ctx.Err() == nil {
				t.Errorf("stream: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a stream did not end after its client left")
		}
	}
	waitMSP(t, base, "back to idle", func(s mspSample) bool { return s.queued == 0 && s.running == 0 && s.kv == 0 })
}
