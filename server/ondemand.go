// This file holds the on-demand side of the model lifecycle: with AutoLoad,
// a generation request that names a model which is not loaded loads it
// through the shared load path (Load in readiness.go) and then runs, so
// that concurrent first requests wait on one load. A name is looked up in
// the catalog first; otherwise it is loaded as the reference it is, from
// the allowed model directories or the hub cache only (never downloaded:
// see CacheOnly).

package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/helexa/helexa/api"
)

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
	req, inCatalog := s.catalogEntry(id)
	if !inCatalog {
		req = api.LoadRequest{Model: id}
	}
	if _, err := s.load(ctx, req, !inCatalog); err != nil {
		if ctx.Err() != nil {
			return nil, nil, errClientGone
		}
		var ae *api.Error
		// A name outside the catalog that is no reference (or names no
		// file or cached model) is simply an unknown model.
		if !inCatalog && (errors.Is(err, ErrModelNotFound) || errors.As(err, &ae) &&
			(ae.Status == http.StatusNotFound || ae.Status == http.StatusBadRequest && ae.Param == "model")) {
			return nil, nil, ErrModelNotFound
		}
		if errors.Is(err, ErrNoRoom) {
			return nil, nil, noRoom(err)
		}
		return nil, nil, err
	}
	return s.opts.Models.Acquire(id)
}

// catalogModels lists, for GET /v1/models, the catalog entries that are
// not loaded, marked as such; none without AutoLoad, as no request would
// load them.
func (s *Server) catalogModels(loaded map[string]bool) []api.Model {
	if !s.opts.AutoLoad {
		return nil
	}
	var out []api.Model
	for _, req := range s.opts.Catalog {
		if id := modelID(req); !loaded[id] {
			out = append(out, api.Model{ID: id, Object: "model", OwnedBy: "neuron", Status: api.StatusNotLoaded})
		}
	}
	return out
}
