// This file holds the fakes the server tests run against: a model manager
// that records what it is asked and checks it is never asked to free a model
// in use, and a generator that emits scripted deltas, can block between
// them, and reports when its context ended it.

package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helexa/helexa/api"
)

// fakeGen emits its script. When gate is not nil it waits on it before the
// first delta (after signalling started), and stops with ctx's error when
// ctx ends first.
type fakeGen struct {
	script []Delta
	result Result
	err    error // returned before any output
	panics bool
	// panicAfterFirst emits one delta and panics.
	panicAfterFirst bool
	gate            chan struct{}
	// delay between deltas.
	delay time.Duration

	started  chan struct{} // closed when Generate starts (once)
	once     sync.Once
	stopped  atomic.Bool // ended by ctx
	calls    atomic.Int32
	lastReq  atomic.Pointer[GenerateRequest]
	finished chan struct{} // receives after each Generate returns
}

func newFakeGen(script ...Delta) *fakeGen {
	return &fakeGen{script: script, started: make(chan struct{}), finished: make(chan struct{}, 64),
		result: Result{FinishReason: "stop", PromptTokens: 7, CompletionTokens: len(script)}}
}

func (g *fakeGen) Generate(ctx context.Context, req *GenerateRequest, emit func(Delta) error) (*Result, error) {
	g.calls.Add(1)
	g.lastReq.Store(req)
	defer func() {
		select {
		case g.finished <- struct{}{}:
		default: // nobody is counting
		}
	}()
	g.once.Do(func() { close(g.started) })
	if g.panics {
		panic("fake generator panic")
	}
	if g.panicAfterFirst {
		emit(Delta{Content: "x", Tokens: 1})
		panic("fake generator panic mid-stream")
	}
	if g.err != nil {
		return nil, g.err
	}
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			g.stopped.Store(true)
			return nil, ctx.Err()
		}
	}
	for _, d := range g.script {
		if ctx.Err() != nil {
			g.stopped.Store(true)
			return nil, ctx.Err()
		}
		if g.delay > 0 {
			select {
			case <-time.After(g.delay):
			case <-ctx.Done():
				g.stopped.Store(true)
				return nil, ctx.Err()
			}
		}
		if err := emit(d); err != nil {
			return nil, err
		}
	}
	r := g.result
	return &r, nil
}

// fakeModel is a loaded fake model.
type fakeModel struct {
	info ModelInfo
	gen  *fakeGen
	refs atomic.Int32
}

// fakeManager holds fake models. Loading a reference that starts with
// "fail" fails; "missing" is not found.
type fakeManager struct {
	mu        sync.Mutex
	models    map[string]*fakeModel
	loadDelay time.Duration
	loads     atomic.Int32
	unloads   []string
	// violations records unloads of models still acquired.
	violations []string
	unloadErr  map[string]error
	newGen     func() *fakeGen
}

func newFakeManager() *fakeManager {
	return &fakeManager{models: map[string]*fakeModel{}, unloadErr: map[string]error{},
		newGen: func() *fakeGen { return newFakeGen(Delta{Content: "hello", Tokens: 1}) }}
}

// add registers a loaded model with its generator.
func (f *fakeManager) add(id string, gen *fakeGen) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.models[id] = &fakeModel{info: ModelInfo{ID: id, Source: id, Backend: "cpu", Device: "cpu", CtxSize: 128,
		MemoryBytes: 1 << 20, KVCacheUsage: 0.25, LoadedAt: time.Unix(1700000000, 0)}, gen: gen}
}

func (f *fakeManager) Load(ctx context.Context, req api.LoadRequest) (ModelInfo, error) {
	f.loads.Add(1)
	if f.loadDelay > 0 {
		select {
		case <-time.After(f.loadDelay):
		case <-ctx.Done():
			return ModelInfo{}, ctx.Err()
		}
	}
	switch {
	case strings.HasPrefix(req.Model, "fail"):
		return ModelInfo{}, fmt.Errorf("fake: cannot load %q: broken file", req.Model)
	case strings.HasPrefix(req.Model, "missing"):
		return ModelInfo{}, fmt.Errorf("fake: %w: %q", ErrModelNotFound, req.Model)
	}
	id := modelID(req)
	f.add(id, f.newGen())
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.models[id].info, nil
}

func (f *fakeManager) Unload(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.models[id]
	if !ok {
		return fmt.Errorf("fake: %w: %q", ErrModelNotFound, id)
	}
	if err := f.unloadErr[id]; err != nil {
		return err
	}
	if m.refs.Load() != 0 {
		f.violations = append(f.violations, id)
	}
	delete(f.models, id)
	f.unloads = append(f.unloads, id)
	return nil
}

func (f *fakeManager) List() []ModelInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ModelInfo
	for _, m := range f.models {
		out = append(out, m.info)
	}
	return out
}

func (f *fakeManager) Acquire(id string) (Generator, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.models[id]
	if !ok {
		return nil, nil, fmt.Errorf("fake: %w: %q", ErrModelNotFound, id)
	}
	m.refs.Add(1)
	var once sync.Once
	return m.gen, func() { once.Do(func() { m.refs.Add(-1) }) }, nil
}

// unloaded returns the ids unloaded so far and the violations.
func (f *fakeManager) unloaded() (ids, violations []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.unloads...), append([]string(nil), f.violations...)
}

var errFake = errors.New("fake failure")
