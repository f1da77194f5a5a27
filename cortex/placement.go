// This file holds model placement: POST /cortex/models/load asks one neuron
// (the one named, or the up neuron with the most free memory by its last
// poll) to load a model, trying the next one when a neuron cannot (its
// answer 422 insufficient_memory included: cortex does not know what a
// model needs, only the neuron does); POST /cortex/models/unload removes a
// model from one neuron or from every neuron that has it. With auto_load, a
// request for a catalog model that no neuron has places it and waits
// (bounded) instead of answering 404.

package cortex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/helexa/helexa/api"
)

// PlaceRequest is the body of POST /cortex/models/load and unload.
type PlaceRequest struct {
	// Model is what a neuron's /models/load takes (a hub reference or a
	// path on the neuron), or for unload the model's id.
	Model string `json:"model"`
	// Neuron is the base URL of the neuron to use; empty lets cortex choose
	// (load) or means every neuron that has the model (unload).
	Neuron  string `json:"neuron,omitempty"`
	Alias   string `json:"alias,omitempty"`
	CtxSize int    `json:"ctx_size,omitempty"`
	Device  string `json:"device,omitempty"`
}

// PlaceResult is one neuron's answer to a placement.
type PlaceResult struct {
	Neuron string          `json:"neuron"`
	Model  *api.ModelEntry `json:"model,omitempty"`
	Status string          `json:"status"` // "loaded", "unloaded" or "failed"
	Error  string          `json:"error,omitempty"`
}

// PlaceResponse is the answer of both placement routes.
type PlaceResponse struct {
	Results []PlaceResult `json:"results"`
}

// decodePlace reads a placement body strictly.
func (g *Gateway) decodePlace(w http.ResponseWriter, r *http.Request) (*PlaceRequest, *api.Error) {
	body, err := readLimited(http.MaxBytesReader(w, r.Body, 1<<20), 1<<20)
	if err != nil {
		return nil, api.Invalid("", "reading the request body: %v", err)
	}
	var req PlaceRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, api.Invalid("", "the body must be {\"model\", \"neuron\"?, \"alias\"?, \"ctx_size\"?, \"device\"?}: %v", err)
	}
	if req.Model == "" {
		return nil, api.Invalid("model", "model is required")
	}
	if req.Neuron != "" {
		u, err := NormalizeURL(req.Neuron)
		if err != nil {
			return nil, api.Invalid("neuron", "%v", err)
		}
		req.Neuron = u
		if !slices.Contains(g.reg.urls(), u) {
			return nil, &api.Error{Status: http.StatusNotFound, Type: api.TypeInvalidRequest, Param: "neuron",
				Message: fmt.Sprintf("neuron %s is not part of the fleet", u)}
		}
	}
	return &req, nil
}

// load answers POST /cortex/models/load.
func (g *Gateway) load(w http.ResponseWriter, r *http.Request) {
	req, apiErr := g.decodePlace(w, r)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	res, apiErr := g.place(r.Context(), *req)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	writeJSON(w, http.StatusOK, PlaceResponse{Results: []PlaceResult{res}})
}

// place loads a model on the named neuron or on the first up neuron, in
// placementOrder, that accepts it.
func (g *Gateway) place(ctx context.Context, req PlaceRequest) (PlaceResult, *api.Error) {
	targets := []string{req.Neuron}
	if req.Neuron == "" {
		targets = g.placementOrder()
	}
	if len(targets) == 0 {
		return PlaceResult{}, api.Unavailable(api.CodeUnavailable, "no neuron is up to load %q", req.Model)
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.AutoLoadTimeout)
	defer cancel()
	var last *api.Error
	for _, u := range targets {
		var entry api.ModelEntry
		status, err := g.neuronCall(ctx, u, "/models/load",
			api.LoadRequest{Model: req.Model, Alias: req.Alias, CtxSize: req.CtxSize, Device: req.Device}, &entry)
		if err == nil {
			g.log.Info("model placed", "model", entry.ID, "neuron", u)
			g.poll.pollOne(ctx, u)
			return PlaceResult{Neuron: u, Model: &entry, Status: "loaded"}, nil
		}
		last = err
		g.log.Warn("placement failed", "model", req.Model, "neuron", u, "status", status, "error", err.Message)
		if status == http.StatusBadRequest || status == http.StatusNotFound {
			break // the request itself is wrong; another neuron will say the same
		}
	}
	return PlaceResult{}, last
}

// Placement tiers, tried in this order.
const (
	tierRoom    = iota // reports free memory and a free model slot
	tierUnknown        // does not report its capacity (older neurons)
	tierFull           // reports no free memory or no free slot
)

// room is what placement orders neurons by.
type room struct {
	url        string
	tier       int
	free, used int64
}

// room returns the neuron's room as its last poll reported it; the
// Registry's lock is held.
func (n *neuron) room() room {
	c := room{url: n.url, tier: tierUnknown}
	for _, m := range n.models {
		c.used += m.MemoryBytes
	}
	// A neuron that knows neither its budget nor the host's memory
	// reports zeros: that is not knowing, not being full.
	if cp := n.capacity; cp != nil && (cp.MemoryBudgetBytes > 0 || cp.MemoryFreeBytes > 0) {
		c.tier, c.free = tierRoom, cp.MemoryFreeBytes
		if cp.MemoryFreeBytes == 0 || (cp.MaxLoadedModels > 0 && cp.LoadedModels >= cp.MaxLoadedModels) {
			c.tier = tierFull
		}
	}
	return c
}

// roomBefore reports whether a neuron with room a is tried before one with
// b: by tier, then the most free memory, then the least memory in use, then
// by URL.
func roomBefore(a, b room) bool {
	switch {
	case a.tier != b.tier:
		return a.tier < b.tier
	case a.free != b.free:
		return a.free > b.free
	case a.used != b.used:
		return a.used < b.used
	}
	return a.url < b.url
}

// placementOrder returns the up neurons: first those that report room, the
// most free memory first; then those that do not report their capacity,
// the least memory in use first; last those that report none left (still
// tried, since their answer is what counts).
func (g *Gateway) placementOrder() []string {
	var cs []room
	g.reg.mu.RLock()
	for _, n := range g.reg.neurons {
		if n.up {
			cs = append(cs, n.room())
		}
	}
	g.reg.mu.RUnlock()
	sort.Slice(cs, func(i, j int) bool { return roomBefore(cs[i], cs[j]) })
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.url
	}
	return out
}

// unload answers POST /cortex/models/unload.
func (g *Gateway) unload(w http.ResponseWriter, r *http.Request) {
	req, apiErr := g.decodePlace(w, r)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	targets := []string{req.Neuron}
	if req.Neuron == "" {
		targets = nil
		for _, m := range g.snapshot().Models {
			if m.ID == req.Model {
				targets = m.Neurons
			}
		}
		if len(targets) == 0 {
			writeError(w, g.notFound(req.Model))
			return
		}
	}
	out := PlaceResponse{Results: []PlaceResult{}}
	for _, u := range targets {
		var ur api.UnloadResponse
		_, err := g.neuronCall(r.Context(), u, "/models/unload", api.UnloadRequest{Model: req.Model}, &ur)
		res := PlaceResult{Neuron: u, Status: "unloaded"}
		if err != nil {
			res.Status, res.Error = "failed", err.Message
		} else {
			g.log.Info("model unloaded", "model", req.Model, "neuron", u)
		}
		g.poll.pollOne(r.Context(), u)
		out.Results = append(out.Results, res)
	}
	writeJSON(w, http.StatusOK, out) // each result says how it went on its neuron
}

// neuronCall POSTs in to a neuron's management path and decodes a 200
// answer into out; anything else comes back as an OpenAI error with the
// neuron's status.
func (g *Gateway) neuronCall(ctx context.Context, base, path string, in, out any) (int, *api.Error) {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return 0, api.ServerError("%v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	setUpstreamAuth(req, g.cfg.UpstreamAPIKey)
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, api.Unavailable(api.CodeUnavailable, "neuron %s unreachable: %v", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, upstreamError(resp, base)
	}
	body, err := readLimited(resp.Body, maxErrorBody)
	if err == nil {
		err = json.Unmarshal(body, out)
	}
	if err != nil {
		return resp.StatusCode, &api.Error{Status: http.StatusBadGateway, Type: api.TypeServer,
			Message: fmt.Sprintf("neuron %s answered %s with something unreadable: %v", base, path, err)}
	}
	return resp.StatusCode, nil
}

// autoPlace places a catalog model that no neuron has and waits until a
// neuron serves it, once for all the requests that ask at the same time.
func (g *Gateway) autoPlace(ctx context.Context, model string) *api.Error {
	ch := g.places.DoChan(model, func() (any, error) {
		// The placement goes on if the first client leaves: the others wait.
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.AutoLoadTimeout)
		defer cancel()
		if _, e := g.place(ctx, PlaceRequest{Model: model}); e != nil {
			return nil, e
		}
		for {
			if c, _ := g.reg.candidates(model); len(c) > 0 {
				return nil, nil
			}
			select {
			case <-ctx.Done():
				return nil, api.Unavailable(api.CodeUnavailable, "model %q was placed but is not ready after %s", model, g.cfg.AutoLoadTimeout)
			case <-time.After(100 * time.Millisecond):
				g.poll.pollAll(ctx)
			}
		}
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			var e *api.Error
			if errors.As(res.Err, &e) {
				return e
			}
			return api.ServerError("placing %q: %v", model, res.Err)
		}
		return nil
	case <-ctx.Done():
		return api.Unavailable(api.CodeUnavailable, "the client left while %q was being placed", model)
	}
}
