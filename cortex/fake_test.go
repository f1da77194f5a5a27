// Test helpers: a fake neuron (an httptest server with the management API
// and a pluggable OpenAI handler) and a gateway in front of fake neurons
// with short timeouts.

package cortex

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/helexa/helexa/api"
)

// fakeNeuron is a neuron that serves models with a test's handler.
type fakeNeuron struct {
	t      *testing.T
	srv    *httptest.Server
	addr   string
	mu     sync.Mutex
	models []api.ModelEntry
	// gen answers the OpenAI routes; hits counts them.
	gen  http.HandlerFunc
	hits atomic.Int64
	// health, when set, answers GET /health instead.
	health http.HandlerFunc
	// modelsHandler, when set, answers GET /models instead.
	modelsHandler http.HandlerFunc
	// loadErr, when set, is the answer to every POST /models/load; loads
	// counts the loads asked.
	loadErr *api.Error
	loads   atomic.Int64
	// budget, when set, is the memory budget GET /models reports, free
	// being the budget less the models' memory (as a neuron reports it).
	budget int64
}

// newFakeNeuron starts a fake neuron serving the models (ready) with gen.
func newFakeNeuron(t *testing.T, gen http.HandlerFunc, models ...string) *fakeNeuron {
	t.Helper()
	f := &fakeNeuron{t: t, gen: gen}
	for _, m := range models {
		f.models = append(f.models, api.ModelEntry{ID: m, Status: api.StatusReady, MemoryBytes: 1 << 20})
	}
	f.srv = httptest.NewServer(f.handler())
	f.addr = f.srv.Listener.Addr().String()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNeuron) url() string { return "http://" + f.addr }

func (f *fakeNeuron) setModels(ms ...api.ModelEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.models = ms
}

// setBudget makes the fake report a memory budget in GET /models.
func (f *fakeNeuron) setBudget(bytes int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.budget = bytes
}

func (f *fakeNeuron) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		h := f.health
		f.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
	})
	mux.HandleFunc("GET /models", func(w http.ResponseWriter, r *http.Request) {
		if f.modelsHandler != nil {
			f.modelsHandler(w, r)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		out := api.ModelsResponse{Object: "list", Data: f.models}
		if f.budget > 0 {
			out.Capacity = &api.Capacity{MemoryBudgetBytes: f.budget, MemoryFreeBytes: f.budget,
				LoadedModels: len(f.models), MaxLoadedModels: 8}
			for _, m := range f.models {
				out.MemoryFreeBytes = max(out.MemoryFreeBytes-m.MemoryBytes, 0)
			}
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /models/load", func(w http.ResponseWriter, r *http.Request) {
		f.loads.Add(1)
		var req api.LoadRequest
		json.NewDecoder(r.Body).Decode(&req)
		if f.loadErr != nil {
			writeError(w, f.loadErr)
			return
		}
		id := req.Alias
		if id == "" {
			id = req.Model
		}
		e := api.ModelEntry{ID: id, Source: req.Model, Status: api.StatusReady, MemoryBytes: 100 << 20}
		f.mu.Lock()
		f.models = append(f.models, e)
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, e)
	})
	mux.HandleFunc("POST /models/unload", func(w http.ResponseWriter, r *http.Request) {
		var req api.UnloadRequest
		json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, m := range f.models {
			if m.ID == req.Model {
				f.models = append(f.models[:i], f.models[i+1:]...)
				writeJSON(w, http.StatusOK, api.UnloadResponse{ID: req.Model, Status: "unloaded"})
				return
			}
		}
		writeError(w, api.ModelNotFound(req.Model))
	})
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.gen(w, r)
	})
	return mux
}

// stop closes the fake neuron: connections to it are refused.
func (f *fakeNeuron) stop() { f.srv.Close() }

// restart serves again on the same address.
func (f *fakeNeuron) restart() {
	f.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after Close
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		f.t.Fatalf("restart on %s: %v", f.addr, err)
	}
	f.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: f.handler()}}
	f.srv.Start()
	f.t.Cleanup(f.srv.Close)
}

// testConfig is a configuration with short timeouts and no background poll
// (tests poll with PollNow).
func testConfig(neurons ...string) Config {
	return Config{
		Listen: "127.0.0.1:0", Neurons: neurons, NeuronScheme: "http",
		PollInterval: time.Hour, PollTimeout: 2 * time.Second, FailThreshold: 2,
		ConnectTimeout: time.Second, HeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
		MaxRetries: 2, MaxBodyBytes: DefaultMaxBodyBytes, ShutdownTimeout: time.Second,
		AutoLoadTimeout: 5 * time.Second, RecentRequests: 10, LogLevel: "info", LogFormat: "text",
	}
}

// newTestGateway builds a gateway with cfg, polls once and serves it.
func newTestGateway(t *testing.T, cfg Config) (*Gateway, *httptest.Server) {
	t.Helper()
	g, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	g.PollNow(context.Background())
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return g, srv
}

// postChat sends a chat request for model through the gateway.
func postChat(t *testing.T, base, model string, stream bool) *http.Response {
	t.Helper()
	body := `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}],"stream":` + map[bool]string{true: "true", false: "false"}[stream] + `}`
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// readAPIError decodes an OpenAI error body.
func readAPIError(t *testing.T, resp *http.Response) *api.Error {
	t.Helper()
	defer resp.Body.Close()
	var er api.ErrorResponse
	if err := json.NewDecoder(resp.Body).Decode(&er); err != nil || er.Error == nil {
		t.Fatalf("status %d: body is not an OpenAI error: %v", resp.StatusCode, err)
	}
	return er.Error
}

// sseEvents reads a whole SSE body into its events (each with its
// terminating blank line).
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var events []string
	var cur strings.Builder
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		cur.WriteString(line)
		if line == "\n" {
			events = append(events, cur.String())
			cur.Reset()
		}
		if err != nil {
			if cur.Len() > 0 {
				events = append(events, cur.String())
			}
			return events
		}
	}
}

// chunk is the i-th SSE chunk a fake neuron sends.
func chunk(i int) string {
	return `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok` +
		strings.Repeat("x", i%3) + string(rune('a'+i%26)) + `"}}]}` + "\n\n"
}

// sseHead starts an SSE answer.
func sseHead(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
}

// okStream answers with n chunks and [DONE].
func okStream(n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sseHead(w)
		for i := range n {
			io.WriteString(w, chunk(i))
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}
}

// okJSON answers a plain completion naming who answered.
func okJSON(who string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		writeJSON(w, http.StatusOK, map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "who": who})
	}
}

// counterValue reads a counter or gauge.
func counterValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if c := out.GetCounter(); c != nil {
		return c.GetValue()
	}
	return out.GetGauge().GetValue()
}

// neuronStatus returns one neuron of the gateway's status.
func neuronStatus(t *testing.T, g *Gateway, url string) NeuronStatus {
	t.Helper()
	for _, n := range g.snapshot().Neurons {
		if n.URL == url {
			return n
		}
	}
	t.Fatalf("no neuron %s in the status", url)
	return NeuronStatus{}
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
