// Tests of the daemon lifecycle over a fake model manager: the listener
// opens first (a taken port costs no load), default models load in order
// past failures and systemd then hears READY=1, SIGTERM lets a running
// stream finish and then unloads every model, the drain deadline cuts a
// stream with an error event, and a signal during the default loads stops
// the daemon at once.

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/server"
)

// fakeModels is a server.ModelManager whose models generate a fixed number
// of deltas, one every step, until their context ends.
type fakeModels struct {
	mu       sync.Mutex
	loaded   map[string]bool
	order    []string // load attempts
	unloaded []string
	steps    int
	step     time.Duration
	// loadGate, when set, blocks every Load until closed or ctx ends.
	loadGate chan struct{}
}

func newFakeModels(steps int, step time.Duration) *fakeModels {
	return &fakeModels{loaded: map[string]bool{}, steps: steps, step: step}
}

func (f *fakeModels) Load(ctx context.Context, req api.LoadRequest) (server.ModelInfo, error) {
	f.mu.Lock()
	f.order = append(f.order, req.Model)
	f.mu.Unlock()
	if f.loadGate != nil {
		select {
		case <-f.loadGate:
		case <-ctx.Done():
			return server.ModelInfo{}, ctx.Err()
		}
	}
	if strings.Contains(req.Model, "broken") {
		return server.ModelInfo{}, errors.New("fake: broken model file")
	}
	id := req.Model
	if req.Alias != "" {
		id = req.Alias
	}
	f.mu.Lock()
	f.loaded[id] = true
	f.mu.Unlock()
	return server.ModelInfo{ID: id, Source: req.Model, CtxSize: 64}, nil
}

func (f *fakeModels) Unload(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.loaded, id)
	f.unloaded = append(f.unloaded, id)
	return nil
}

func (f *fakeModels) List() []server.ModelInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []server.ModelInfo
	for id := range f.loaded {
		out = append(out, server.ModelInfo{ID: id, CtxSize: 64})
	}
	return out
}

func (f *fakeModels) Acquire(id string) (server.Generator, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.loaded[id] {
		return nil, nil, fmt.Errorf("fake: %w: %s", server.ErrModelNotFound, id)
	}
	return f, func() {}, nil
}

func (f *fakeModels) Generate(ctx context.Context, req *server.GenerateRequest, emit func(server.Delta) error) (*server.Result, error) {
	for i := range f.steps {
		select {
		case <-time.After(f.step):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if err := emit(server.Delta{Content: fmt.Sprintf("t%d ", i), Tokens: 1}); err != nil {
			return nil, err
		}
	}
	return &server.Result{FinishReason: "stop", PromptTokens: 3, CompletionTokens: f.steps}, nil
}

func (f *fakeModels) snapshot() (order, unloaded []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.order...), append([]string(nil), f.unloaded...)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon runs a daemon in the background and returns its address once
// it listens, the signal channel and the channel run's result arrives on.
func startDaemon(t *testing.T, cfg *Config, models server.ModelManager, logs io.Writer) (string, chan os.Signal, chan error) {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	sigs := make(chan os.Signal, 1)
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	d := &daemon{cfg: cfg, models: models, log: slog.New(slog.NewJSONHandler(logs, nil)), signals: sigs,
		listening: func(a net.Addr) { addr <- a }}
	go func() { done <- d.run() }()
	select {
	case a := <-addr:
		base := "http://" + a.String()
		// The daemon serves while its default models load; tests start
		// once every one has been tried.
		for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(5 * time.Millisecond) {
			if resp, err := http.Get(base + "/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable {
					break
				}
			}
		}
		return base, sigs, done
	case err := <-done:
		t.Fatalf("daemon stopped before listening: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("daemon did not start listening")
	}
	return "", nil, nil
}

// openStream starts a streaming chat and waits for its first event.
func openStream(t *testing.T, base, model string) (*http.Response, *bufio.Reader) {
	t.Helper()
	body := `{"model":"` + model + `","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream status %d", resp.StatusCode)
	}
	return resp, bufio.NewReader(resp.Body)
}

// readEvents reads the rest of a stream's data payloads.
func readEvents(r *bufio.Reader) []string {
	var out []string
	for {
		line, err := r.ReadString('\n')
		if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			out = append(out, data)
		}
		if err != nil {
			return out
		}
	}
}

// listenNotify stands in for systemd: a datagram socket named by
// NOTIFY_SOCKET for the test's duration, closed at its end.
func listenNotify(t *testing.T) *net.UnixConn {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", sock)
	return conn
}

func TestDaemonDefaultModelsAndNotify(t *testing.T) {
	conn := listenNotify(t)

	fm := newFakeModels(1, time.Millisecond)
	var logs syncBuffer
	cfg := &Config{DefaultModels: []DefaultModel{{Model: "a.gguf"}, {Model: "broken.gguf"}, {Model: "org/repo:Q8_0", Alias: "c"}}}
	base, sigs, done := startDaemon(t, cfg, fm, &logs)

	order, _ := fm.snapshot()
	if strings.Join(order, " ") != "a.gguf broken.gguf org/repo:Q8_0" {
		t.Errorf("load order %v", order)
	}
	// /models reflects the loaded defaults from the first request.
	resp, err := http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"id":"a.gguf"`) || !strings.Contains(string(b), `"id":"c"`) || strings.Contains(string(b), "broken") {
		t.Errorf("/v1/models %s", b)
	}
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"default model not loaded","model":"broken.gguf"`) {
		t.Errorf("no warning for the broken model: %s", logs.String())
	}

	// systemd heard of the start (a STATUS line while loading, then READY=1).
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	var got []string
	buf := make([]byte, 512)
	for !strings.Contains(strings.Join(got, "|"), "READY=1") {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no READY=1 (got %q): %v", got, err)
		}
		got = append(got, string(buf[:n]))
	}

	sigs <- os.Interrupt
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	_, unloaded := fm.snapshot()
	if len(unloaded) != 2 {
		t.Errorf("unloaded %v, want a.gguf and c", unloaded)
	}
}

func TestDaemonEmptyDefaults(t *testing.T) {
	var logs syncBuffer
	base, sigs, done := startDaemon(t, &Config{}, newFakeModels(1, 0), &logs)
	resp, err := http.Get(base + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health %v %v", resp, err)
	}
	resp.Body.Close()
	if strings.Contains(logs.String(), "default model") || strings.Contains(logs.String(), "WARN") {
		t.Errorf("empty default list logged: %s", logs.String())
	}
	sigs <- os.Interrupt
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

// TestDaemonMetricsAuth checks that metrics_require_key = false reaches the
// server: a keyed daemon serves /metrics without a key and still refuses
// the OpenAI and management routes.
func TestDaemonMetricsAuth(t *testing.T) {
	var logs syncBuffer
	base, sigs, done := startDaemon(t, &Config{APIKeys: []string{"k1"}, MetricsRequireKey: false}, newFakeModels(1, 0), &logs)
	for path, want := range map[string]int{"/metrics": 200, "/v1/models": 401, "/models": 401} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without a key: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	sigs <- os.Interrupt
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestDaemonSIGTERMLetsStreamFinish(t *testing.T) {
	fm := newFakeModels(8, 50*time.Millisecond)
	var logs syncBuffer
	base, sigs, done := startDaemon(t, &Config{DefaultModels: []DefaultModel{{Model: "m"}}}, fm, &logs)
	resp, r := openStream(t, base, "m")
	defer resp.Body.Close()
	sigs <- os.Interrupt
	events := readEvents(r)
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	joined := strings.Join(events, "\n")
	if n := strings.Count(joined, `"content":"t`); n != 8 || !strings.HasSuffix(joined, "[DONE]") || strings.Contains(joined, `"error"`) {
		t.Errorf("stream did not complete (%d of 8 content events): %s", n, joined)
	}
	if _, unloaded := fm.snapshot(); len(unloaded) != 1 {
		t.Errorf("models not unloaded after the drain: %v", unloaded)
	}
	log := logs.String()
	if i, j := strings.Index(log, `"msg":"requests drained","clean":true`), strings.Index(log, `"msg":"neuron stopped"`); i < 0 || j < i {
		t.Errorf("drain not logged before the stop: %s", log)
	}
}

func TestDaemonDrainDeadline(t *testing.T) {
	fm := newFakeModels(1000, 50*time.Millisecond)
	var logs syncBuffer
	cfg := &Config{ShutdownTimeout: 300 * time.Millisecond, DefaultModels: []DefaultModel{{Model: "m"}}}
	base, sigs, done := startDaemon(t, cfg, fm, &logs)
	resp, r := openStream(t, base, "m")
	defer resp.Body.Close()
	start := time.Now()
	sigs <- os.Interrupt
	events := readEvents(r)
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("shutdown took %s with a 300ms deadline", took)
	}
	n := len(events)
	if n < 2 || events[n-1] != "[DONE]" || !strings.Contains(events[n-2], `"code":"shutting_down"`) {
		t.Errorf("stream not ended with an error event: %q", events[max(n-3, 0):])
	}
	if _, unloaded := fm.snapshot(); len(unloaded) != 1 {
		t.Errorf("models not unloaded: %v", unloaded)
	}
}

func TestDaemonSignalDuringDefaultLoads(t *testing.T) {
	fm := newFakeModels(1, 0)
	fm.loadGate = make(chan struct{})
	sigs := make(chan os.Signal, 1)
	listened := false
	d := &daemon{cfg: &Config{Listen: "127.0.0.1:0", DefaultModels: []DefaultModel{{Model: "a"}, {Model: "b"}}},
		models: fm, log: slog.New(slog.DiscardHandler), signals: sigs, listening: func(net.Addr) { listened = true }}
	done := make(chan error, 1)
	go func() { done <- d.run() }()
	deadline := time.Now().Add(2 * time.Second)
	for order, _ := fm.snapshot(); len(order) == 0; order, _ = fm.snapshot() {
		if time.Now().After(deadline) {
			t.Fatal("no load started")
		}
		time.Sleep(time.Millisecond)
	}
	sigs <- os.Interrupt
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("daemon ignored a signal during loading")
	}
	// It listened first (loads run while it serves), and loaded no more
	// after the signal.
	if order, _ := fm.snapshot(); len(order) != 1 || !listened {
		t.Errorf("went on after the signal: loads %v, listened %v", order, listened)
	}
}

func TestDaemonListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fm := newFakeModels(1, 0)
	d := &daemon{cfg: &Config{Listen: ln.Addr().String(), DefaultModels: []DefaultModel{{Model: "a"}}},
		models: fm, log: slog.New(slog.DiscardHandler), signals: make(chan os.Signal)}
	if err := d.run(); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("run on a taken port: %v", err)
	}
	// The port is bound before any model loads: a taken port costs no load.
	if loaded, _ := fm.snapshot(); len(loaded) != 0 {
		t.Errorf("models loaded before the listener failed: %v", loaded)
	}
}

func TestDaemonSecondSignalEndsDrain(t *testing.T) {
	fm := newFakeModels(1000, 50*time.Millisecond)
	var logs syncBuffer
	cfg := &Config{ShutdownTimeout: time.Minute, DefaultModels: []DefaultModel{{Model: "m"}}}
	base, sigs, done := startDaemon(t, cfg, fm, &logs)
	resp, r := openStream(t, base, "m")
	defer resp.Body.Close()
	sigs <- syscall.SIGTERM
	time.Sleep(200 * time.Millisecond) // the stream goes on while draining
	start := time.Now()
	sigs <- syscall.SIGTERM
	events := readEvents(r)
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("second signal took %s to end the drain", took)
	}
	n := len(events)
	if n < 4 || events[n-1] != "[DONE]" || !strings.Contains(events[n-2], `"code":"shutting_down"`) {
		t.Errorf("stream not ended with an error event: %q", events[max(n-3, 0):])
	}
	if !strings.Contains(logs.String(), "second signal") {
		t.Errorf("second signal not logged")
	}
}
