// Benchmarks of the proxy's overhead against a trivial upstream in the same
// process: BenchmarkProxyLatency alternates a direct request and one through
// cortex in every iteration and reports the first-byte and per-chunk latency
// of both (p50, p99) and what cortex adds; BenchmarkProxyThroughput reports
// requests/s of small non-streamed requests, direct and through cortex.
// scripts/cortex-bench.sh runs both pinned to 2 cores over several rounds.

package cortex

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

// benchChunks is the number of SSE chunks of one benchmark stream.
const benchChunks = 16

// benchUpstream is a neuron serving "m" whose stream events carry the time
// they were written (ns since start), 200 µs apart, and whose plain answers
// are a small JSON object.
func benchUpstream(b *testing.B, start time.Time) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	mux.HandleFunc("GET /models", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, api.ModelsResponse{Object: "list", Data: []api.ModelEntry{{ID: "m", Status: api.StatusReady}}})
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Query().Get("plain") != "" || !strings.Contains(r.Header.Get("Accept"), "event-stream") {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}]}`)
			return
		}
		sseHead(w)
		for i := range benchChunks {
			if i > 0 {
				time.Sleep(200 * time.Microsecond)
			}
			fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":\"tok\"}}],\"t\":%d}\n\n", time.Since(start).Nanoseconds())
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, "data: [DONE]\n\n")
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv
}

// benchGateway serves a gateway in front of upstream.
func benchGateway(b *testing.B, upstream string) *httptest.Server {
	g, err := New(testConfig(upstream), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	g.PollNow(context.Background())
	srv := httptest.NewServer(g.Handler())
	b.Cleanup(srv.Close)
	return srv
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
}

// streamOnce sends one streamed request to base and appends the time to
// first byte and each chunk's delay from write to arrival.
func streamOnce(b *testing.B, c *http.Client, base string, start time.Time, ttfb, chunk *[]time.Duration) {
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true}`))
	req.Header.Set("Accept", "text/event-stream")
	sent := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	n := 0
	for {
		line, err := br.ReadString('\n')
		if rest, ok := strings.CutPrefix(line, "data: {"); ok {
			now := time.Since(start)
			if n == 0 {
				*ttfb = append(*ttfb, time.Since(sent))
			}
			i := strings.LastIndex(rest, `"t":`)
			t, perr := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest[i+4:]), "}"), 10, 64)
			if perr != nil {
				b.Fatalf("chunk %q: %v", line, perr)
			}
			*chunk = append(*chunk, now-time.Duration(t))
			n++
		}
		if err != nil {
			break
		}
	}
	if n != benchChunks {
		b.Fatalf("%d chunks, want %d", n, benchChunks)
	}
}

// pct returns the p-th percentile of ds (sorted in place).
func pct(ds []time.Duration, p float64) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

func BenchmarkProxyLatency(b *testing.B) {
	start := time.Now()
	up := benchUpstream(b, start)
	gw := benchGateway(b, up.URL)
	c := benchClient()
	var dTTFB, dChunk, cTTFB, cChunk []time.Duration
	i := 0
	for b.Loop() {
		if i%2 == 0 { // alternate which side goes first
			streamOnce(b, c, up.URL, start, &dTTFB, &dChunk)
			streamOnce(b, c, gw.URL, start, &cTTFB, &cChunk)
		} else {
			streamOnce(b, c, gw.URL, start, &cTTFB, &cChunk)
			streamOnce(b, c, up.URL, start, &dTTFB, &dChunk)
		}
		i++
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	for _, p := range []struct {
		name string
		q    float64
	}{{"p50", 0.5}, {"p99", 0.99}} {
		b.ReportMetric(us(pct(dTTFB, p.q)), "direct-ttfb-"+p.name+"-µs")
		b.ReportMetric(us(pct(cTTFB, p.q)), "cortex-ttfb-"+p.name+"-µs")
		b.ReportMetric(us(pct(cTTFB, p.q)-pct(dTTFB, p.q)), "added-ttfb-"+p.name+"-µs")
		b.ReportMetric(us(pct(dChunk, p.q)), "direct-chunk-"+p.name+"-µs")
		b.ReportMetric(us(pct(cChunk, p.q)), "cortex-chunk-"+p.name+"-µs")
		b.ReportMetric(us(pct(cChunk, p.q)-pct(dChunk, p.q)), "added-chunk-"+p.name+"-µs")
	}
}

func BenchmarkProxyThroughput(b *testing.B) {
	up := benchUpstream(b, time.Now())
	gw := benchGateway(b, up.URL)
	for _, side := range []struct{ name, base string }{{"direct", up.URL}, {"cortex", gw.URL}} {
		b.Run(side.name, func(b *testing.B) {
			c := benchClient()
			b.SetParallelism(8) // 8 clients per core
			t0 := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := c.Post(side.base+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m"}`))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "req/s")
		})
	}
}
