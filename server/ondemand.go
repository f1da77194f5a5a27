// This file holds the on-demand side of the model lifecycle: with AutoLoad,
// a generation request that names a model which is not loaded loads it
// through the shared load path (Load in readiness.go) and then runs, so
// that concurrent first requests wait on one load. A name is looked up in
// the catalog first; otherwise it is loaded as the reference it is, from
// the allowed model directories or the hub cache only (never downloaded:
// see CacheOnly). A default or catalog model whose load failed is not
// tried again by requests for retryFailedAfter: they get the failure
// (503 model_failed) meanwhile, and POST /models/load tries at once. GET
// /v1/models and GET /models list the catalog models not loaded as
// not_loaded, which is how a gateway learns what a neuron can load.

package server

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/helexa/helexa/api"
)

// retryFailedAfter is how long requests leave a failed default or catalog
// model alone before one of them tries to load it again: long enough that
// a broken file is not re-read for every request, short enough that a
// fixed one serves again without an operator.
const retryFailedAfter = 30 * time.Second

// cacheOnlyKey marks a load context whose hub references must come from
// the cache.
type cacheOnlyKey struct{}

// CacheOnly reports whether a load must resolve hub references from the
// cache alone: an automatic load of a name that is not in the catalog must
// not make a request download a model.
func CacheOnly(ctx context.Context) bool {
	v, _ := ctx.Value(cacheOnlyKey{}).(bool)
	return v
}

// catalogEntry returns the catalog's load request of a model id.
func (s *Server) catalogEntry(id string) (api.LoadRequest, bool) {
	for _, req := range s.opts.Catalog {
		if modelID(req) == id {
			return req, true
		}
	}
	return api.LoadRequest{}, false
}

// autoLoad loads a model a request names and lends out its generator. A
// name that resolves to no model is ErrModelNotFound, as if auto-loading
// were off; a load that outlasts the load timeout is the manager's 503.
func (s *Server) autoLoad(ctx context.Context, id string) (Generator, func(), error) {
	req, known, pin := s.loadable(id)
	if err := s.failedRecently(id); err != nil {
		return nil, nil, err
	}
	m, err := s.load(ctx, req, !known)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, errClientGone
		}
		if known {
			s.loadFailed(id, req, pin, err)
		}
		var ae *api.Error
		// A name outside the catalog that is no reference (or names no
		// file or cached model) is simply an unknown model.
		if !known && (errors.Is(err, ErrModelNotFound) || errors.As(err, &ae) &&
			(ae.Status == http.StatusNotFound || ae.Status == http.StatusBadRequest && ae.Param == "model")) {
			return nil, nil, ErrModelNotFound
		}
		if errors.Is(err, ErrNoRoom) {
			return nil, nil, noRoom(err, s.opts.Evict)
		}
		return nil, nil, err
	}
	if pin { // a default model, loaded at last
		s.pin(m.ID)
	}
	return s.opts.Models.Acquire(id)
}

// loadable returns the load request of a model id a request may load: the
// request of a default model whose load failed (known, and to pin once
// loaded), else its catalog entry (known), else the id as a reference.
func (s *Server) loadable(id string) (req api.LoadRequest, known, pin bool) {
	s.mu.Lock()
	f, failed := s.failed[id]
	s.mu.Unlock()
	if failed && f.pin {
		return f.req, true, true
	}
	if req, ok := s.catalogEntry(id); ok {
		return req, true, false
	}
	if failed {
		return f.req, true, false
	}
	return api.LoadRequest{Model: id}, false, false
}

// catalogModels lists, for GET /v1/models, the catalog entries that are
// not loaded, marked as such; none without AutoLoad, as no request would
// load them.
func (s *Server) catalogModels(loaded map[string]bool) []api.Model {
	var out []api.Model
	for _, e := range s.catalogEntries(maps.Clone(loaded)) {
		out = append(out, api.Model{ID: e.ID, Object: "model", OwnedBy: "neuron", Status: e.Status})
	}
	return out
}

// catalogEntries lists, for GET /models, the catalog models not in seen
// (not loaded, loading or failed) as not_loaded; none without AutoLoad.
func (s *Server) catalogEntries(seen map[string]bool) []api.ModelEntry {
	if !s.opts.AutoLoad {
		return nil
	}
	var out []api.ModelEntry
	for _, req := range s.opts.Catalog {
		if id := modelID(req); !seen[id] {
			if seen != nil {
				seen[id] = true
			}
			out = append(out, api.ModelEntry{ID: id, Source: req.Model, Device: req.Device, CtxSize: req.CtxSize,
				Status: api.StatusNotLoaded})
		}
	}
	return out
}

// failedRecently returns the answer for a model whose last load failed
// less than retryFailedAfter ago (503 model_failed with the failure), nil
// when a request may try to load it.
func (s *Server) failedRecently(id string) error {
	s.mu.Lock()
	f, ok := s.failed[id]
	s.mu.Unlock()
	if !ok || time.Since(f.at) >= retryFailedAfter {
		return nil
	}
	return api.Unavailable(CodeModelFailed, "the model %q failed to load %s ago: %s; requests try again %s after a failure, POST /models/load at once",
		id, time.Since(f.at).Round(time.Second), f.err, retryFailedAfter)
}

// loadFailed records a request's failed load of a default or catalog model
// for failedRecently and GET /models. Failures that say nothing about the
// model (no room now, the hub or the load timeout: 503s) are not recorded.
func (s *Server) loadFailed(id string, req api.LoadRequest, pin bool, err error) {
	if errors.Is(err, ErrNoRoom) || toAPIError(err).Status == http.StatusServiceUnavailable {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed[id] = failedLoad{req: req, err: err, at: time.Now(), pin: pin}
}
