// This file holds the server's readiness and the shared model loads. The
// daemon binds its listener first and loads its default models while it
// serves: GET /health answers 503 {"status":"loading"} until every default
// model has been tried, GET /models lists each default model as loading,
// ready or failed (with the error), and requests for a model still loading
// get 503 model_loading with Retry-After. Concurrent loads of one id share
// one load, which is cancelled when no caller waits for it any more.

package server

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/helexa/helexa/api"
)

// Error codes of the readiness answers.
const (
	// CodeModelLoading: the model is being loaded; retry after Retry-After.
	CodeModelLoading = "model_loading"
	// CodeModelFailed: the model failed to load or can no longer serve.
	CodeModelFailed = "model_failed"
	// CodeInsufficientMemory: a model a request named does not fit, even
	// with the idle models unloaded.
	CodeInsufficientMemory = "insufficient_memory"
)

// loadCall is one load that several requests may wait for.
type loadCall struct {
	req     api.LoadRequest
	waiters int
	cancel  context.CancelFunc
	done    chan struct{}
	info    ModelInfo
	err     error
}

// failedLoad is a default (or, with AutoLoad, catalog) model whose load
// failed, and when.
type failedLoad struct {
	req api.LoadRequest
	err error
	at  time.Time
	// pin: a default model, pinned once a load succeeds.
	pin bool
}

// health answers GET and HEAD /health.
func (s *Server) health(c echo.Context) error {
	switch s.State() {
	case StateReady:
		return c.JSON(http.StatusOK, api.Health{Status: "ok"})
	case StateLoading:
		return c.JSON(http.StatusServiceUnavailable, api.Health{Status: "loading"})
	case StateDraining:
		return api.Unavailable(api.CodeShuttingDown, "neuron is shutting down")
	}
	return api.Unavailable(api.CodeStarting, "neuron is starting")
}

// Load loads a model unless a model of that id is loaded already.
// Concurrent loads of one id share one load, which runs under its own
// context: it ends when every caller's ctx has ended (nobody waits for the
// model any more) or at the drain deadline. It never holds a lock the
// request path takes.
func (s *Server) Load(ctx context.Context, req api.LoadRequest) (ModelInfo, error) {
	return s.load(ctx, req, false)
}

// load is Load; cacheOnly resolves hub references from the cache alone
// (CacheOnly), when the load starts here.
func (s *Server) load(ctx context.Context, req api.LoadRequest, cacheOnly bool) (ModelInfo, error) {
	id := modelID(req)
	// A model of that id loaded from the same reference is the answer;
	// from another, the manager refuses (409 model_exists).
	if m, ok := s.find(id); ok && m.Error == "" && m.Source == req.Model {
		return m, nil
	}
	s.mu.Lock()
	call := s.loads[id]
	if call == nil {
		lctx, cancel := context.WithCancel(context.WithValue(context.Background(), cacheOnlyKey{}, cacheOnly))
		stopWatch := context.AfterFunc(s.stop, cancel)
		call = &loadCall{req: req, cancel: cancel, done: make(chan struct{})}
		s.loads[id] = call
		go func() {
			defer stopWatch()
			defer cancel()
			start := time.Now()
			call.info, call.err = s.loadEvicting(lctx, id, req)
			if call.err == nil {
				s.metrics.loadSeconds.WithLabelValues(call.info.ID).Set(time.Since(start).Seconds())
				s.metrics.modelLoaded(call.info.ID)
				s.metrics.loads.WithLabelValues(call.info.ID).Inc()
				s.touch(call.info.ID, nil, true)
			}
			s.mu.Lock()
			delete(s.loads, id)
			if call.err == nil {
				delete(s.failed, id)
			}
			s.mu.Unlock()
			close(call.done)
		}()
	}
	call.waiters++
	s.mu.Unlock()
	select {
	case <-call.done:
		return call.info, call.err
	case <-ctx.Done():
		s.mu.Lock()
		call.waiters--
		last := call.waiters == 0
		s.mu.Unlock()
		if !last {
			return ModelInfo{}, ctx.Err()
		}
		// Nobody waits: the load must not run on. It ends promptly once
		// cancelled; a load that finished meanwhile stands.
		call.cancel()
		<-call.done
		if call.err == nil {
			return call.info, nil
		}
		return ModelInfo{}, ctx.Err()
	}
}

// LoadDefaults loads the daemon's default models one after the other
// (parallel loads would contend for memory); each is listed as loading
// from the start. A failure is logged and kept for GET /models, and the
// next model is tried; it returns the number loaded. It stops early when
// ctx ends.
func (s *Server) LoadDefaults(ctx context.Context, models []api.LoadRequest) int {
	s.ExpectDefaults(models)
	defer func() {
		s.mu.Lock()
		clear(s.pending)
		s.mu.Unlock()
	}()
	n := 0
	for i, req := range models {
		if ctx.Err() != nil {
			s.log.Warn("default model loading interrupted", "remaining", len(models)-i)
			break
		}
		start := time.Now()
		s.log.Info("loading default model", "model", req.Model, "alias", req.Alias)
		m, err := s.Load(ctx, req)
		s.mu.Lock()
		delete(s.pending, modelID(req))
		if err != nil && ctx.Err() == nil {
			s.failed[modelID(req)] = failedLoad{req: req, err: err, at: time.Now(), pin: true}
		}
		s.mu.Unlock()
		if err != nil {
			s.log.Warn("default model not loaded", "model", req.Model, "error", err.Error())
			continue
		}
		n++
		s.pin(m.ID)
		s.log.Info("default model loaded", "model", m.ID, "source", m.Source, "device", m.Device,
			"ctx_size", m.CtxSize, "memory_bytes", m.MemoryBytes, "load_s", time.Since(start).Round(time.Millisecond).Seconds())
	}
	return n
}

// ExpectDefaults lists the default models as loading and puts the server
// in StateLoading, before it serves, so that no request sees it ready or
// without them; LoadDefaults then loads them.
func (s *Server) ExpectDefaults(models []api.LoadRequest) {
	if len(models) == 0 {
		return
	}
	s.mu.Lock()
	for _, req := range models {
		s.pending[modelID(req)] = req
	}
	s.mu.Unlock()
	s.state.CompareAndSwap(int32(StateStarting), int32(StateLoading))
}

// notServing explains why a model that is not loaded cannot serve yet or
// at all: 503 model_loading while it loads (or waits to, as a default
// model), 503 model_failed when its default load failed; nil when it is
// simply unknown.
func (s *Server) notServing(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, loading := s.loads[id]
	_, pending := s.pending[id]
	if loading || pending {
		return api.Unavailable(CodeModelLoading, "the model %q is loading; retry shortly", id)
	}
	if f, ok := s.failed[id]; ok {
		return api.Unavailable(CodeModelFailed, "the model %q failed to load: %s", id, f.err)
	}
	return nil
}

// notLoadedEntries lists, for GET /models, the models being loaded or
// waiting to be, and the default (or catalog) models that failed, except
// those in seen; with AutoLoad, a failure older than retryFailedAfter is
// listed as not_loaded (with its error), since a request loads it again.
func (s *Server) notLoadedEntries(seen map[string]bool) []api.ModelEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []api.ModelEntry
	add := func(id string, req api.LoadRequest, status, errMsg string) {
		if seen[id] {
			return
		}
		seen[id] = true
		out = append(out, api.ModelEntry{ID: id, Source: req.Model, Device: req.Device, CtxSize: req.CtxSize,
			Status: status, Error: errMsg})
	}
	for id, c := range s.loads {
		add(id, c.req, api.StatusLoading, "")
	}
	for id, req := range s.pending {
		add(id, req, api.StatusLoading, "")
	}
	for id, f := range s.failed {
		status := api.StatusFailed
		if s.opts.AutoLoad && time.Since(f.at) >= retryFailedAfter {
			// The next request tries again: loadable, as a gateway
			// in front needs to know (the last error stays).
			status = api.StatusNotLoaded
		}
		add(id, f.req, status, f.err.Error())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// forgetFailed drops the record of a failed default model (POST
// /models/unload of it); it reports whether there was one.
func (s *Server) forgetFailed(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.failed[id]
	delete(s.failed, id)
	return ok
}

// errModelFailed is the error of a loaded model that can no longer serve.
func errModelFailed(m ModelInfo) error {
	return api.Unavailable(CodeModelFailed, "the model %q can no longer serve: %s", m.ID, m.Error)
}
