// Tests of the on-demand lifecycle over fake managers, where timing can be
// controlled: a request that has resolved its model is never refused
// because an idle unload or an eviction came between, a request that
// arrives during an unload loads the model again, failed loads back off,
// eviction follows the Evict switch, and an unload drops the model's
// metric series.

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

// hookedManager is a fake manager that calls its hooks after a successful
// Acquire and before an Unload.
type hookedManager struct {
	*fakeManager
	onAcquire func(id string)
	onUnload  func(id string)
}

func (h *hookedManager) Acquire(id string) (Generator, func(), error) {
	gen, release, err := h.fakeManager.Acquire(id)
	if err == nil && h.onAcquire != nil {
		h.onAcquire(id)
	}
	return gen, release, err
}

func (h *hookedManager) Unload(ctx context.Context, id string) error {
	if h.onUnload != nil {
		h.onUnload(id)
	}
	return h.fakeManager.Unload(ctx, id)
}

// chatTo posts a short chat naming model.
func chatTo(s *Server, model string) *httptest.ResponseRecorder {
	return do(s, "POST", "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)
}

// A request that has acquired its model but is not yet in its queue holds
// the model: the reaper and eviction leave it loaded, and the request is
// served.
func TestResolvedModelNotUnloadedUnderRequest(t *testing.T) {
	fm := newFakeManager()
	fm.add("m", newFakeGen(Delta{Content: "hi", Tokens: 1}))
	acquired, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hm := &hookedManager{fakeManager: fm, onAcquire: func(string) {
		once.Do(func() { close(acquired); <-proceed })
	}}
	zero := time.Duration(0) // idle as soon as nothing runs
	s := New(Options{Models: hm, AutoLoad: true, Evict: true, KeepAlive: &zero})
	s.SetState(StateReady)

	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- chatTo(s, "m") }()
	<-acquired
	// Between the model's lookup and its queue: past keep_alive, nothing
	// running or queued, and yet in use.
	if ids := s.idleModels(time.Now().Add(time.Hour)); len(ids) != 0 {
		t.Errorf("idle models while a request holds m: %v", ids)
	}
	if v := s.evictable(nil); len(v) != 0 {
		t.Errorf("evictable models while a request holds m: %v", v)
	}
	if err := s.unloadUnused(context.Background(), "m"); !errors.Is(err, ErrBusy) {
		t.Errorf("unloading a held model: %v, want ErrBusy", err)
	}
	close(proceed)
	if rec := <-done; rec.Code != 200 {
		t.Fatalf("request that held its model: %d %s", rec.Code, rec.Body)
	}
	if ids, violations := fm.unloaded(); len(ids) != 0 || len(violations) != 0 {
		t.Errorf("unloaded %v (in use: %v) under the request", ids, violations)
	}
	// Once the request has ended the model is idle, and the reaper's step
	// unloads it.
	s.unloadIdle(context.Background(), "m")
	if ids, violations := fm.unloaded(); !slices.Equal(ids, []string{"m"}) || len(violations) != 0 {
		t.Errorf("after the request: unloaded %v, in use %v; want m", ids, violations)
	}
}

// A request that arrives while its model is being unloaded for idleness
// waits for the unload to end and loads the model again (AutoLoad),
// instead of 503 model_unloading.
func TestRequestDuringIdleUnloadLoadsAgain(t *testing.T) {
	fm := newFakeManager()
	fm.add("m", newFakeGen(Delta{Content: "hi", Tokens: 1}))
	unloading, finish := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hm := &hookedManager{fakeManager: fm, onUnload: func(string) {
		once.Do(func() { close(unloading); <-finish })
	}}
	var mu sync.Mutex
	var logs bytes.Buffer
	zero := time.Duration(0)
	s := New(Options{Models: hm, AutoLoad: true, Catalog: []api.LoadRequest{{Model: "m"}}, KeepAlive: &zero,
		Logger: slog.New(slog.NewJSONHandler(lockedWriter{mu: &mu, w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	s.SetState(StateReady)

	reaped := make(chan struct{})
	go func() {
		s.unloadIdle(context.Background(), "m")
		close(reaped)
	}()
	<-unloading // the gate is closed and the manager is freeing m
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- chatTo(s, "m") }()
	waitFor(t, "the request to wait for the unload", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), "request waits for its model's unload to end")
	})
	close(finish)
	<-reaped
	if rec := <-done; rec.Code != 200 {
		t.Fatalf("request during the unload: %d %s", rec.Code, rec.Body)
	}
	reloadedOnce(t, fm)
	if _, ok := s.find("m"); !ok {
		t.Error("m not loaded again")
	}
}

// reloadedOnce checks that m was unloaded once, while nothing used it,
// and loaded again once.
func reloadedOnce(t *testing.T, fm *fakeManager) {
	t.Helper()
	if n := fm.loads.Load(); n != 1 {
		t.Errorf("%d loads after the unload, want 1", n)
	}
	if ids, violations := fm.unloaded(); !slices.Equal(ids, []string{"m"}) || len(violations) != 0 {
		t.Errorf("unloaded %v, in use %v; want m once", ids, violations)
	}
}

// ageFailure makes a recorded load failure old enough to be tried again.
func ageFailure(s *Server, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.failed[id]
	f.at = f.at.Add(-retryFailedAfter)
	s.failed[id] = f
}

// A default or catalog model whose load failed is not loaded again by every
// request: they get the failure until retryFailedAfter has passed; an
// explicit load tries at once.
func TestFailedModelBackoff(t *testing.T) {
	s, fm := testServer(t, Options{AutoLoad: true, Catalog: []api.LoadRequest{{Model: "fail-c", Alias: "c"}}}, nil)
	if n := s.LoadDefaults(context.Background(), []api.LoadRequest{{Model: "fail-d", Alias: "d"}}); n != 0 {
		t.Fatalf("%d default models loaded, want 0", n)
	}
	failedAnswer := func(model string) {
		t.Helper()
		rec := chatTo(s, model)
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"code":"model_failed"`) || !strings.Contains(rec.Body.String(), "broken file") {
			t.Errorf("request for failed %s: %d %s", model, rec.Code, rec.Body)
		}
	}
	loads := func(want int32) {
		t.Helper()
		if n := fm.loads.Load(); n != want {
			t.Errorf("%d loads, want %d", n, want)
		}
	}
	for range 3 {
		failedAnswer("d")
	}
	loads(1) // the default load only
	// Past the backoff the next request tries again, with the default's own
	// load request (the alias alone would load as a fake model).
	ageFailure(s, "d")
	if rec := chatTo(s, "d"); rec.Code == 200 {
		t.Errorf("retry of d succeeded: %s", rec.Body)
	}
	loads(2)
	failedAnswer("d")
	loads(2)
	// POST /models/load does not wait.
	if rec := do(s, "POST", "/models/load", `{"model":"fail-d","alias":"d"}`); rec.Code == 200 {
		t.Errorf("explicit load of fail-d succeeded: %s", rec.Body)
	}
	loads(3)

	// A catalog model: the first request tries, the next get the failure.
	if rec := chatTo(s, "c"); rec.Code == 200 {
		t.Errorf("request for c succeeded: %s", rec.Body)
	}
	loads(4)
	failedAnswer("c")
	loads(4)
	var list api.ModelsResponse
	if err := json.Unmarshal(do(s, "GET", "/models", "").Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Data {
		if e.ID == "c" && (e.Status != api.StatusFailed || !strings.Contains(e.Error, "broken file")) {
			t.Errorf("c in GET /models: %+v", e)
		}
	}
	// Past the backoff it is loadable again, as GET /models says (for a
	// gateway in front), with the last error.
	ageFailure(s, "c")
	list = api.ModelsResponse{}
	if err := json.Unmarshal(do(s, "GET", "/models", "").Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Data {
		if e.ID == "c" && (e.Status != api.StatusNotLoaded || !strings.Contains(e.Error, "broken file")) {
			t.Errorf("c in GET /models past the backoff: %+v", e)
		}
	}
}

// slotManager is a fake manager that holds at most slots models and, like
// the real one, marks a refusal ErrEvictionHelps when unloading the load's
// Evictable models would make room.
type slotManager struct {
	*fakeManager
	slots int
}

func (m slotManager) Load(ctx context.Context, req api.LoadRequest) (ModelInfo, error) {
	n, free := 0, 0
	for _, l := range m.List() {
		if l.ID == modelID(req) {
			return l, nil
		}
		n++
		if Evictable(ctx)[l.ID] {
			free++
		}
	}
	if n >= m.slots {
		e := &api.Error{Status: 409, Type: api.TypeConflict, Code: "too_many_models",
			Message: fmt.Sprintf("%d models are loaded, the most this neuron holds (engine.max_loaded_models = %d)", n, m.slots)}
		if n-free < m.slots {
			return ModelInfo{}, WithKind(ErrEvictionHelps, WithKind(ErrNoRoom, e))
		}
		return ModelInfo{}, WithKind(ErrNoRoom, e)
	}
	return m.fakeManager.Load(ctx, req)
}

// Evict decides whether a load that finds no room unloads idle models,
// explicit loads included; without it an explicit load keeps the manager's
// answer and nothing is unloaded.
func TestEvictSwitch(t *testing.T) {
	for _, evict := range []bool{false, true} {
		t.Run(fmt.Sprintf("evict=%v", evict), func(t *testing.T) {
			fm := newFakeManager()
			s := New(Options{Models: slotManager{fakeManager: fm, slots: 1}, AutoLoad: true, Evict: evict})
			s.SetState(StateReady)
			if rec := do(s, "POST", "/models/load", `{"model":"a"}`); rec.Code != 200 {
				t.Fatalf("load a: %d %s", rec.Code, rec.Body)
			}
			rec := do(s, "POST", "/models/load", `{"model":"b"}`)
			ids, violations := fm.unloaded()
			if len(violations) != 0 {
				t.Errorf("unloaded models in use: %v", violations)
			}
			if !evict {
				// A fixed set: the manager's answer, a kept loaded.
				if rec.Code != 409 || decodeError(t, rec.Body.Bytes()).Code != "too_many_models" || len(ids) != 0 {
					t.Errorf("load b without eviction: %d %s, unloaded %v", rec.Code, rec.Body, ids)
				}
				// A request's automatic load is 503 and says why.
				rec = chatTo(s, "b")
				if e := decodeError(t, rec.Body.Bytes()); rec.Code != 503 || e.Code != CodeInsufficientMemory ||
					!strings.Contains(e.Message, "max_loaded_models = 1") || !strings.Contains(e.Message, "eviction is off") {
					t.Errorf("request for b without eviction: %d %s", rec.Code, rec.Body)
				}
				return
			}
			if rec.Code != 200 || !slices.Equal(ids, []string{"a"}) {
				t.Fatalf("load b with eviction: %d %s, unloaded %v", rec.Code, rec.Body, ids)
			}
			// With b pinned nothing can give way: 503 naming the limit,
			// nothing evicted, b still serving.
			s.pin("b")
			rec = do(s, "POST", "/models/load", `{"model":"c"}`)
			if e := decodeError(t, rec.Body.Bytes()); rec.Code != 503 || e.Code != CodeInsufficientMemory ||
				!strings.Contains(e.Message, "max_loaded_models = 1") || rec.Header().Get("Retry-After") == "" {
				t.Errorf("load c with b pinned: %d %s", rec.Code, rec.Body)
			}
			if ids, _ := fm.unloaded(); !slices.Equal(ids, []string{"a"}) {
				t.Errorf("unloaded %v, want a only", ids)
			}
			if rec := chatTo(s, "b"); rec.Code != 200 {
				t.Errorf("b after the refused load: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// An unload drops the model's per-model series; the lifecycle counters
// stay.
func TestUnloadDropsModelSeries(t *testing.T) {
	s, _ := testServer(t, Options{}, nil)
	if rec := do(s, "POST", "/models/load", `{"model":"x"}`); rec.Code != 200 {
		t.Fatalf("load: %d %s", rec.Code, rec.Body)
	}
	if rec := chatTo(s, "x"); rec.Code != 200 {
		t.Fatalf("chat: %d %s", rec.Code, rec.Body)
	}
	series := func() []string {
		var out []string
		for _, l := range strings.Split(do(s, "GET", "/metrics", "").Body.String(), "\n") {
			if strings.Contains(l, `model="x"`) {
				name, _, _ := strings.Cut(l, "{")
				out = append(out, strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count"))
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	before := series()
	for _, want := range []string{"neuron_prompt_tokens_total", "neuron_generation_tokens_total", "neuron_time_to_first_token_seconds",
		"neuron_num_requests_running", "neuron_model_load_seconds", "neuron_request_success_total", "neuron_e2e_request_latency_seconds",
		"neuron_model_loads_total"} {
		if !slices.Contains(before, want) {
			t.Errorf("series %s of x missing before the unload: %v", want, before)
		}
	}
	if rec := do(s, "POST", "/models/unload", `{"model":"x"}`); rec.Code != 200 {
		t.Fatalf("unload: %d %s", rec.Code, rec.Body)
	}
	if after := series(); !slices.Equal(after, []string{"neuron_model_loads_total"}) {
		t.Errorf("series of x after its unload: %v, want the load counter only", after)
	}
}

// GET /models lists the catalog models not loaded as not_loaded, with
// AutoLoad only.
func TestModelsListsCatalog(t *testing.T) {
	for _, auto := range []bool{false, true} {
		s, _ := testServer(t, Options{AutoLoad: auto, Catalog: []api.LoadRequest{{Model: "m"}, {Model: "/models/b.gguf", Alias: "b", CtxSize: 512}}},
			newFakeGen())
		var list api.ModelsResponse
		if err := json.Unmarshal(do(s, "GET", "/models", "").Body.Bytes(), &list); err != nil {
			t.Fatal(err)
		}
		want := 1
		if auto {
			want = 2
		}
		if len(list.Data) != want || list.Data[0].ID != "m" || list.Data[0].Status != api.StatusReady {
			t.Fatalf("auto_load %v: GET /models %+v", auto, list.Data)
		}
		if b := list.Data[len(list.Data)-1]; auto && (b.ID != "b" || b.Status != api.StatusNotLoaded || b.Source != "/models/b.gguf" || b.CtxSize != 512) {
			t.Errorf("catalog entry b: %+v", b)
		}
	}
}

// With AutoLoad, a request whose model an explicit unload takes after the
// request has looked it up (the manager waits for the request to let go,
// as the engine's registry does) waits for the unload and loads it again.
func TestRequestRacingExplicitUnloadLoadsAgain(t *testing.T) {
	fm := newFakeManager()
	fm.add("m", newFakeGen(Delta{Content: "hi", Tokens: 1}))
	acquired, proceed, unloading := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var onceA, onceU sync.Once
	hm := &hookedManager{fakeManager: fm,
		onAcquire: func(string) { onceA.Do(func() { close(acquired); <-proceed }) },
		onUnload: func(id string) {
			onceU.Do(func() { close(unloading) })
			fm.mu.Lock()
			m := fm.models[id]
			fm.mu.Unlock()
			waitFor(t, "the request to let go of the model", func() bool { return m.refs.Load() == 0 })
		}}
	s := New(Options{Models: hm, AutoLoad: true, Catalog: []api.LoadRequest{{Model: "m"}}})
	s.SetState(StateReady)

	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- chatTo(s, "m") }()
	<-acquired
	unloaded := make(chan error)
	go func() { unloaded <- s.Unload(context.Background(), "m", time.Second) }()
	<-unloading // the gate is closed; the manager waits for the request's hold on m
	close(proceed)
	if err := <-unloaded; err != nil {
		t.Fatalf("unload: %v", err)
	}
	if rec := <-done; rec.Code != 200 {
		t.Fatalf("request racing the unload: %d %s", rec.Code, rec.Body)
	}
	reloadedOnce(t, fm)
}

// flakyManager fails every load while broken is set; last is the
// reference of the last load asked.
type flakyManager struct {
	*fakeManager
	broken *atomic.Bool
	last   *atomic.Value
}

func (f flakyManager) Load(ctx context.Context, req api.LoadRequest) (ModelInfo, error) {
	f.last.Store(req.Model)
	if f.broken.Load() {
		f.loads.Add(1)
		return ModelInfo{}, fmt.Errorf("fake: %q: file not readable yet", req.Model)
	}
	return f.fakeManager.Load(ctx, req)
}

// A default model that failed at start and loads on a later request is
// pinned, as a default model is.
func TestFailedDefaultPinnedOnceLoaded(t *testing.T) {
	var broken atomic.Bool
	var last atomic.Value
	broken.Store(true)
	fm := newFakeManager()
	s := New(Options{Models: flakyManager{fakeManager: fm, broken: &broken, last: &last}, AutoLoad: true})
	s.SetState(StateReady)
	if n := s.LoadDefaults(context.Background(), []api.LoadRequest{{Model: "/models/d.gguf", Alias: "d"}}); n != 0 {
		t.Fatalf("%d default models loaded, want 0", n)
	}
	broken.Store(false)
	ageFailure(s, "d")
	if rec := chatTo(s, "d"); rec.Code != 200 {
		t.Fatalf("d once its file is fixed: %d %s", rec.Code, rec.Body)
	}
	var list api.ModelsResponse
	if err := json.Unmarshal(do(s, "GET", "/models", "").Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 || list.Data[0].ID != "d" || !list.Data[0].Pinned || list.Data[0].Status != api.StatusReady {
		t.Errorf("GET /models: %+v", list.Data)
	}
	if got := last.Load(); got != "/models/d.gguf" {
		t.Errorf("the request loaded %v, want the default's reference", got)
	}
}
