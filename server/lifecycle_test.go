// Tests of admission, cancellation and shutdown, over a real listener where
// connections matter: the queue bound, a client disconnect ending its
// generation, unload waiting for a generation, the drain deadline ending open
// streams with an error event, and default-model activation.

package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

// serve starts s on a loopback listener and returns its base URL.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if s.State() != StateDraining {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			s.Shutdown(ctx)
			cancel()
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// post sends a JSON body.
func post(ctx context.Context, url, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return http.DefaultClient.Do(req)
}

const streamBody = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`

func TestQueueFull(t *testing.T) {
	gen := newFakeGen(Delta{Content: "a", Tokens: 1})
	gen.gate = make(chan struct{})
	s, _ := testServer(t, Options{MaxQueue: 1}, gen)
	url := serve(t, s)

	type res struct {
		status int
		err    error
	}
	results := make(chan res, 2)
	for range 2 {
		go func() {
			resp, err := post(context.Background(), url+"/v1/chat/completions", chatBody)
			if err != nil {
				results <- res{err: err}
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			results <- res{status: resp.StatusCode}
		}()
	}
	// One runs, one waits: the next one is turned away.
	waitFor(t, "one running and one queued", func() bool { r, w, _ := s.gateCounts("m"); return r == 1 && w == 1 })
	metrics := do(s, "GET", "/metrics", "").Body.String()
	for _, want := range []string{`neuron_num_requests_waiting{model="m"} 1`, `neuron_num_requests_running{model="m"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	var list api.ModelsResponse
	json.Unmarshal(do(s, "GET", "/models", "").Body.Bytes(), &list)
	if e := list.Data[0]; e.Running != 1 || e.Queued != 1 || e.InFlight != 2 {
		t.Errorf("/models entry %+v", e)
	}
	resp, err := post(context.Background(), url+"/v1/chat/completions", chatBody)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if e := decodeError(t, body); e.Code != api.CodeQueueFull || e.Type != api.TypeUnavailable {
		t.Errorf("error %+v", e)
	}
	close(gen.gate)
	for range 2 {
		if r := <-results; r.err != nil || r.status != 200 {
			t.Errorf("queued request: %d %v", r.status, r.err)
		}
	}
	if r, w, _ := s.gateCounts("m"); r != 0 || w != 0 {
		t.Errorf("gate not empty: running %d waiting %d", r, w)
	}
}

func TestQueueIsFIFO(t *testing.T) {
	g := newGate(1, 8, nil)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.enter(context.Background()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			g.leave()
		}()
		waitFor(t, "waiter queued", func() bool { _, w := g.counts(); return w == i+1 })
	}
	g.leave()
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("admission order %v, want 0..4", order)
		}
	}
}

func TestQueuedClientLeaves(t *testing.T) {
	g := newGate(1, 8, nil)
	g.enter(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- g.enter(ctx) }()
	waitFor(t, "waiter queued", func() bool { _, w := g.counts(); return w == 1 })
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Errorf("enter returned %v", err)
	}
	if r, w := g.counts(); r != 1 || w != 0 {
		t.Errorf("running %d waiting %d after the waiter left", r, w)
	}
	g.leave()
	if r, _ := g.counts(); r != 0 {
		t.Errorf("running %d", r)
	}
}

func TestDisconnectStopsGeneration(t *testing.T) {
	for _, stream := range []bool{false, true} {
		gen := newFakeGen(Delta{Content: "a", Tokens: 1})
		gen.gate = make(chan struct{}) // blocks until the client leaves
		s, _ := testServer(t, Options{}, gen)
		url := serve(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		body := chatBody
		if stream {
			body = streamBody
		}
		errc := make(chan error, 1)
		go func() {
			resp, err := post(ctx, url+"/v1/chat/completions", body)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		<-gen.started
		cancel()
		<-errc
		select {
		case <-gen.finished:
		case <-time.After(2 * time.Second):
			t.Fatalf("stream=%v: generation still running after the client left", stream)
		}
		if !gen.stopped.Load() {
			t.Errorf("stream=%v: generation was not ended by its context", stream)
		}
		waitFor(t, "slot freed", func() bool { r, w, _ := s.gateCounts("m"); return r == 0 && w == 0 })
	}
}

func TestUnloadDuringGeneration(t *testing.T) {
	gen := newFakeGen(Delta{Content: "a", Tokens: 1})
	gen.gate = make(chan struct{})
	s, fm := testServer(t, Options{}, gen)
	url := serve(t, s)
	done := make(chan int)
	go func() {
		resp, err := post(context.Background(), url+"/v1/chat/completions", chatBody)
		if err != nil {
			done <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-gen.started

	// The generation outlives the unload's wait: 409, model kept.
	resp, err := post(context.Background(), url+"/models/unload", `{"model":"m","timeout_s":0.1}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 409 || decodeError(t, b).Code != api.CodeModelBusy {
		t.Fatalf("unload during generation: %d %s", resp.StatusCode, b)
	}
	if ids, _ := fm.unloaded(); len(ids) != 0 {
		t.Fatalf("model unloaded under a running generation")
	}
	if _, ok := s.find("m"); !ok {
		t.Fatalf("model gone after a refused unload")
	}

	// An unload that waits long enough succeeds once the generation ends.
	unloaded := make(chan int)
	go func() {
		resp, err := post(context.Background(), url+"/models/unload", `{"model":"m","timeout_s":5}`)
		if err != nil {
			unloaded <- 0
			return
		}
		resp.Body.Close()
		unloaded <- resp.StatusCode
	}()
	waitFor(t, "unload waiting", func() bool { _, _, closing := s.gateCounts("m"); return closing })
	// New requests are turned away while the unload waits.
	resp, err = post(context.Background(), url+"/v1/chat/completions", chatBody)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("request during unload: %d, want 503", resp.StatusCode)
	}
	close(gen.gate)
	if st := <-done; st != 200 {
		t.Errorf("generation status %d", st)
	}
	if st := <-unloaded; st != 200 {
		t.Errorf("unload status %d", st)
	}
	ids, violations := fm.unloaded()
	if len(ids) != 1 || len(violations) != 0 {
		t.Errorf("unloads %v, violations %v", ids, violations)
	}
}

// startStream opens a streaming chat and returns the response once headers
// arrived.
func startStream(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := post(context.Background(), url+"/v1/chat/completions", streamBody)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream status %d", resp.StatusCode)
	}
	return resp
}

func TestShutdownLetsStreamFinish(t *testing.T) {
	gen := newFakeGen(Delta{Content: "a", Tokens: 1}, Delta{Content: "b", Tokens: 1}, Delta{Content: "c", Tokens: 1})
	gen.delay = 100 * time.Millisecond
	s, _ := testServer(t, Options{}, gen)
	url := serve(t, s)
	resp := startStream(t, url) // headers come with the first delta
	shut := make(chan bool)
	go func() { shut <- s.Shutdown(timeoutCtx(t, 5*time.Second)) }()
	events := sseEvents(t, resp.Body)
	resp.Body.Close()
	if !<-shut {
		t.Errorf("shutdown did not finish cleanly")
	}
	if len(events) != 6 || events[5] != "[DONE]" || strings.Contains(strings.Join(events, ""), `"error"`) {
		t.Errorf("stream cut by a graceful shutdown: %q", events)
	}
	// New connections are refused after shutdown.
	if _, err := post(context.Background(), url+"/v1/chat/completions", chatBody); err == nil {
		t.Errorf("request accepted after shutdown")
	}
}

func TestDrainDeadlineEndsStream(t *testing.T) {
	// The generator emits one delta, then waits for its context.
	s, fm := testServer(t, Options{}, nil)
	fm.add("m", newFakeGen())
	blocking := &blockingGen{block: make(chan struct{})}
	s.opts.Models = &genOverride{fakeManager: fm, gen: blocking}
	url := serve(t, s)
	resp := startStream(t, url)
	start := time.Now()
	shut := make(chan bool)
	go func() { shut <- s.Shutdown(timeoutCtx(t, 200*time.Millisecond)) }()
	events := sseEvents(t, resp.Body)
	resp.Body.Close()
	if <-shut {
		t.Errorf("shutdown reported a clean drain although a stream was cut")
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("drain took %s", time.Since(start))
	}
	n := len(events)
	if n < 4 || events[n-1] != "[DONE]" {
		t.Fatalf("events %q", events)
	}
	var er api.ErrorResponse
	if err := json.Unmarshal([]byte(events[n-2]), &er); err != nil || er.Error == nil || er.Error.Code != api.CodeShuttingDown {
		t.Errorf("last event before [DONE] is not a shutting_down error: %s", events[n-2])
	}
	if !blocking.stopped.Load() {
		t.Errorf("generation not ended at the deadline")
	}
}

// blockingGen emits one delta and then waits for its context.
type blockingGen struct {
	block   chan struct{}
	stopped atomic.Bool
}

func (g *blockingGen) Generate(ctx context.Context, req *GenerateRequest, emit func(Delta) error) (*Result, error) {
	if err := emit(Delta{Content: "a", Tokens: 1}); err != nil {
		return nil, err
	}
	select {
	case <-g.block:
		return &Result{FinishReason: "stop"}, nil
	case <-ctx.Done():
		g.stopped.Store(true)
		return nil, ctx.Err()
	}
}

// genOverride serves every model with one generator.
type genOverride struct {
	*fakeManager
	gen Generator
}

func (o *genOverride) Acquire(id string) (Generator, func(), error) {
	_, release, err := o.fakeManager.Acquire(id)
	if err != nil {
		return nil, nil, err
	}
	return o.gen, release, nil
}

func TestLoadDefaults(t *testing.T) {
	cases := []struct {
		name   string
		models []string
		loaded []string
	}{
		{"empty", nil, nil},
		{"all load", []string{"a.gguf", "b.gguf"}, []string{"a.gguf", "b.gguf"}},
		{"failure in the middle", []string{"a.gguf", "fail.gguf", "missing/x:Q8_0", "c.gguf"}, []string{"a.gguf", "c.gguf"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf strings.Builder
			var mu sync.Mutex
			s, fm := testServer(t, Options{Logger: newTestLogger(&buf, &mu)}, nil)
			var reqs []api.LoadRequest
			for _, m := range tc.models {
				reqs = append(reqs, api.LoadRequest{Model: m})
			}
			n := s.LoadDefaults(context.Background(), reqs)
			if n != len(tc.loaded) || int(fm.loads.Load()) != len(tc.models) {
				t.Errorf("loaded %d of %d tries, want %d of %d", n, fm.loads.Load(), len(tc.loaded), len(tc.models))
			}
			for _, id := range tc.loaded {
				if _, ok := s.find(id); !ok {
					t.Errorf("%s not loaded", id)
				}
			}
			mu.Lock()
			log := buf.String()
			mu.Unlock()
			if len(tc.models) == 0 && log != "" {
				t.Errorf("empty list logged: %s", log)
			}
			if got := strings.Count(log, `"level":"WARN"`); got != len(tc.models)-len(tc.loaded) {
				t.Errorf("%d warnings, want %d: %s", got, len(tc.models)-len(tc.loaded), log)
			}
			if got := strings.Count(log, `"load_s"`); got != len(tc.loaded) {
				t.Errorf("%d timed load lines, want %d", got, len(tc.loaded))
			}
		})
	}
}

func TestLoadDefaultsInterrupted(t *testing.T) {
	// The load of a.gguf ends the context: of four models, one failed and
	// one loaded before it, two were never tried.
	var buf strings.Builder
	var mu sync.Mutex
	s, fm := testServer(t, Options{Logger: newTestLogger(&buf, &mu)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.opts.Models = &cancelOnLoad{fakeManager: fm, model: "a.gguf", cancel: cancel}
	reqs := []api.LoadRequest{{Model: "fail.gguf"}, {Model: "a.gguf"}, {Model: "b.gguf"}, {Model: "c.gguf"}}
	if n := s.LoadDefaults(ctx, reqs); n != 1 {
		t.Errorf("loaded %d, want 1", n)
	}
	mu.Lock()
	log := buf.String()
	mu.Unlock()
	if !strings.Contains(log, `"msg":"default model loading interrupted","remaining":2`) {
		t.Errorf("no interruption line with 2 remaining: %s", log)
	}
}

// cancelOnLoad calls cancel after loading model.
type cancelOnLoad struct {
	*fakeManager
	model  string
	cancel context.CancelFunc
}

func (c *cancelOnLoad) Load(ctx context.Context, req api.LoadRequest) (ModelInfo, error) {
	m, err := c.fakeManager.Load(ctx, req)
	if req.Model == c.model {
		c.cancel()
	}
	return m, err
}

func TestUnloadAllContinuesPastFailures(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	s, fm := testServer(t, Options{Logger: newTestLogger(&buf, &mu)}, nil)
	for _, id := range []string{"a", "b", "c"} {
		fm.add(id, newFakeGen())
	}
	fm.unloadErr["b"] = errFake
	s.UnloadAll(context.Background())
	ids, _ := fm.unloaded()
	if len(ids) != 2 {
		t.Errorf("unloaded %v, want a and c", ids)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), `"level":"WARN","msg":"unload failed","model":"b"`) {
		t.Errorf("no warning for b: %s", buf.String())
	}
}

// timeoutCtx returns a context that ends after d, canceled at the end of
// the test at the latest.
func timeoutCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestShutdownBeforeServe(t *testing.T) {
	s, _ := testServer(t, Options{}, nil)
	s.Shutdown(timeoutCtx(t, time.Second))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after shutdown: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve after Shutdown serves forever")
	}
}
