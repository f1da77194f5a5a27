// This file holds the model endpoints: OpenAI's list and retrieval (GET
// /v1/models, GET /v1/models/{id}) and
// neuron's management API — GET /models, POST /models/load (idempotent;
// concurrent loads of one id share a single load, and loading never blocks
// requests to other models), POST /models/unload (waits for the model's
// generations, else 409), GET /models/{id}/endpoint — plus the daemon's
// UnloadAll. Shared loads and the default models' states are in
// readiness.go.

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/helexa/helexa/api"
)

// modelID is the id a load request gives its model.
func modelID(r api.LoadRequest) string {
	if r.Alias != "" {
		return r.Alias
	}
	return r.Model
}

// find returns the loaded model with the given id.
func (s *Server) find(id string) (ModelInfo, bool) {
	for _, m := range s.opts.Models.List() {
		if m.ID == id {
			return m, true
		}
	}
	return ModelInfo{}, false
}

// Unload waits up to timeout for the model's running and queued
// generations (admitting no new ones meanwhile), then unloads it. When they
// do not finish in time it returns an error wrapping ErrBusy and the model
// stays loaded.
func (s *Server) Unload(ctx context.Context, id string, timeout time.Duration) error {
	if _, ok := s.find(id); !ok {
		return fmt.Errorf("%w: %q is not loaded", ErrModelNotFound, id)
	}
	g := s.gate(id)
	if !g.close(ctx, timeout) {
		return fmt.Errorf("%w: %q still has running generations after %s", ErrBusy, id, timeout)
	}
	return s.unloadClosed(ctx, id, g)
}

// unloadClosed unloads a model whose gate g was closed for it, drops its
// usage and per-model metric series, and retires the gate (requests
// waiting for the unload to end go on). When the manager refuses, the gate
// opens again.
func (s *Server) unloadClosed(ctx context.Context, id string, g *gate) error {
	if err := s.opts.Models.Unload(ctx, id); err != nil {
		g.reopen()
		return err
	}
	// Forgotten while the gate still stands: a request that waits for the
	// unload to end and loads the model again starts afresh.
	s.metrics.forget(id)
	s.forgetUsage(id)
	s.mu.Lock()
	if s.gates[id] == g {
		delete(s.gates, id)
	}
	s.mu.Unlock()
	g.retire()
	return nil
}

// UnloadAll unloads every model after shutdown. Failures are logged as
// warnings and do not stop the others.
func (s *Server) UnloadAll(ctx context.Context) {
	for _, m := range s.opts.Models.List() {
		if err := s.opts.Models.Unload(ctx, m.ID); err != nil {
			s.log.Warn("unload failed", "model", m.ID, "error", err.Error())
			continue
		}
		s.log.Debug("model unloaded", "model", m.ID)
	}
}

// entry describes a model for GET /models.
func (s *Server) entry(m ModelInfo) api.ModelEntry {
	running, waiting, closing := s.gateCounts(m.ID)
	status := api.StatusReady
	switch {
	case closing:
		status = api.StatusUnloading
	case m.Error != "":
		status = api.StatusFailed
	}
	e := api.ModelEntry{ID: m.ID, Source: m.Source, Path: m.Path, Backend: m.Backend, Device: m.Device,
		CtxSize: m.CtxSize, MemoryBytes: m.MemoryBytes, KVCacheUsage: m.KVCacheUsage, Status: status, Error: m.Error,
		KVBlocks: m.KVBlocks, KVBlocksUsed: m.KVBlocksUsed, KVBlockSize: m.KVBlockSize, MaxParallel: m.KVSlots,
		LoadedAt: m.LoadedAt, InFlight: running + waiting, Running: running, Queued: waiting}
	s.usageEntry(m, &e)
	return e
}

// sortedModels returns the loaded models by id.
func (s *Server) sortedModels() []ModelInfo {
	ms := s.opts.Models.List()
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms
}

// listModels answers GET /models: loaded models, then those loading and the
// default models that failed, then (with AutoLoad) the catalog models not
// loaded, and the capacity where the manager reports it.
func (s *Server) listModels(c echo.Context) error {
	out := api.ModelsResponse{Object: "list", Data: []api.ModelEntry{}}
	seen := map[string]bool{}
	for _, m := range s.sortedModels() {
		seen[m.ID] = true
		out.Data = append(out.Data, s.entry(m))
	}
	out.Data = append(out.Data, s.notLoadedEntries(seen)...)
	out.Data = append(out.Data, s.catalogEntries(seen)...)
	if cr, ok := s.opts.Models.(CapacityReporter); ok {
		capacity := cr.Capacity()
		out.Capacity = &capacity
	}
	return c.JSON(http.StatusOK, out)
}

// openAIModel describes a model as GET /v1/models lists it.
func openAIModel(m ModelInfo) api.Model {
	return api.Model{ID: m.ID, Object: "model", Created: m.LoadedAt.Unix(), OwnedBy: "neuron"}
}

// openAIModels answers GET /v1/models.
func (s *Server) openAIModels(c echo.Context) error {
	out := api.ModelList{Object: "list", Data: []api.Model{}}
	loaded := map[string]bool{}
	for _, m := range s.sortedModels() {
		out.Data = append(out.Data, openAIModel(m))
		loaded[m.ID] = true
	}
	out.Data = append(out.Data, s.catalogModels(loaded)...)
	return c.JSON(http.StatusOK, out)
}

// retrieveModel answers GET /v1/models/{id}, OpenAI's model retrieval.
func (s *Server) retrieveModel(c echo.Context) error {
	id, err := pathModelID(c, "/v1/models/", "")
	if err != nil {
		return err
	}
	m, ok := s.find(id)
	if !ok {
		for _, e := range s.catalogModels(nil) { // loadable on request
			if e.ID == id {
				return c.JSON(http.StatusOK, e)
			}
		}
		return s.modelNotFound(id)
	}
	return c.JSON(http.StatusOK, openAIModel(m))
}

// pathModelID takes the model id out of a wildcard route's path, between
// prefix and suffix. Ids carry slashes (org/repo:QUANT), either as they are
// or escaped as %2F.
func pathModelID(c echo.Context, prefix, suffix string) (string, error) {
	rest, ok := strings.CutPrefix(c.Request().URL.EscapedPath(), prefix)
	if !ok {
		return "", echo.ErrNotFound
	}
	rawID, ok := strings.CutSuffix(rest, suffix)
	if !ok || rawID == "" {
		return "", echo.ErrNotFound
	}
	id, err := url.PathUnescape(rawID)
	if err != nil {
		return "", api.Invalid("id", "model id in the path is not valid URL encoding")
	}
	return id, nil
}

// loadModel answers POST /models/load. The load is shared with concurrent
// loads of the same id and stops when every client waiting for it has left
// (or at the drain deadline). With Evict, idle models give way to it, and
// one that cannot fit even so is 503 insufficient_memory (evict.go).
func (s *Server) loadModel(c echo.Context) error {
	if s.State() == StateDraining {
		return api.Unavailable(api.CodeShuttingDown, "neuron is shutting down")
	}
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	req, apiErr := api.DecodeLoadRequest(body)
	if apiErr != nil {
		return apiErr
	}
	info(c).model = modelID(*req)
	m, err := s.Load(c.Request().Context(), *req)
	if err != nil {
		if c.Request().Context().Err() != nil {
			return clientGone(c)
		}
		if s.opts.Evict && errors.Is(err, ErrNoRoom) {
			return noRoom(err, true)
		}
		return err // the error handler maps ErrModelNotFound to a 404 that keeps err's words
	}
	return c.JSON(http.StatusOK, s.entry(m))
}

// unloadModel answers POST /models/unload. Unloading a default model that
// failed to load forgets the failure.
func (s *Server) unloadModel(c echo.Context) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	req, apiErr := api.DecodeUnloadRequest(body)
	if apiErr != nil {
		return apiErr
	}
	info(c).model = req.Model
	timeout := s.opts.UnloadTimeout
	if req.TimeoutSeconds > 0 {
		timeout = time.Duration(req.TimeoutSeconds * float64(time.Second))
	}
	if err := s.Unload(c.Request().Context(), req.Model, timeout); err != nil {
		if errors.Is(err, ErrModelNotFound) {
			if s.forgetFailed(req.Model) {
				return c.JSON(http.StatusOK, api.UnloadResponse{ID: req.Model, Status: "unloaded"})
			}
			return s.modelNotFound(req.Model)
		}
		return err
	}
	return c.JSON(http.StatusOK, api.UnloadResponse{ID: req.Model, Status: "unloaded"})
}

// modelEndpoint answers GET /models/{id}/endpoint with the base URL of the
// OpenAI API serving the model: the configured advertise URL, else the
// listener's address (never the client's Host header, which it controls).
func (s *Server) modelEndpoint(c echo.Context) error {
	id, err := pathModelID(c, "/models/", "/endpoint")
	if err != nil {
		return err
	}
	if _, ok := s.find(id); !ok {
		return s.modelNotFound(id)
	}
	base := strings.TrimSuffix(s.opts.AdvertiseURL, "/")
	if base == "" {
		s.httpMu.Lock()
		base = "http://" + s.addr
		s.httpMu.Unlock()
	}
	return c.JSON(http.StatusOK, api.EndpointResponse{ID: id, Endpoint: base + "/v1"})
}
