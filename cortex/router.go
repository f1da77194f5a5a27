// Package cortex is the gateway in front of many neurons: it polls each
// neuron's management API, keeps the fleet state, routes every OpenAI request
// to a healthy neuron serving its model, proxies the answer (SSE streams byte
// for byte, flushed per event), places models on neurons, and reports the
// fleet as JSON, Prometheus metrics and a dashboard. It speaks to neurons
// only over HTTP with the api types.
//
// This file holds the Gateway, its routes, client authentication, the
// routing decision (404 for a model the fleet does not have, 503 for one no
// healthy neuron serves now) and the serve/shutdown lifecycle.

package cortex

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/helexa/helexa/api"
)

// drainGrace is how long shutdown waits, after ending open streams at the
// drain deadline, for their handlers to write the error event and return.
const drainGrace = 2 * time.Second

// Gateway is cortex's HTTP API in front of a fleet of neurons.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	reg     *Registry
	poll    *poller
	metrics *metrics
	client  *http.Client // to the neurons: no redirects, bounded connect and headers
	keys    [][32]byte   // sha256 of each client API key
	recent  *recentLog
	mux     *http.ServeMux
	places  singleflight.Group

	draining atomic.Bool
	// abort is canceled at the drain deadline: open streams end with an
	// error event.
	abort      context.Context
	abortNow   context.CancelFunc
	httpServer *http.Server
	serveOnce  sync.Once
}

// New builds a gateway from a validated configuration.
func New(cfg Config, log *slog.Logger) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := newMetrics()
	transport := &http.Transport{
		Proxy:                 nil, // neurons are reached directly, whatever HTTP_PROXY says
		DialContext:           (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: cfg.HeaderTimeout,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     false,
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	g := &Gateway{
		cfg:     cfg,
		log:     log,
		reg:     newRegistry(cfg.FailThreshold, m),
		metrics: m,
		client:  &http.Client{Transport: transport, CheckRedirect: noRedirect},
		recent:  newRecentLog(cfg.RecentRequests),
	}
	g.abort, g.abortNow = context.WithCancel(context.Background())
	for _, k := range cfg.APIKeys {
		g.keys = append(g.keys, sha256.Sum256([]byte(k)))
	}
	g.poll = &poller{cfg: &g.cfg, reg: g.reg, log: log, resolver: net.DefaultResolver,
		client: &http.Client{Transport: transport, CheckRedirect: noRedirect}}
	g.routes()
	return g, nil
}

// routes registers the handlers.
func (g *Gateway) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", g.health)
	mux.HandleFunc("GET /ready", g.ready)
	mux.HandleFunc("GET /{$}", g.dashboard)
	mux.Handle("GET /web/", webFiles())
	mux.HandleFunc("GET /v1/models", g.auth(g.models))
	mux.HandleFunc("GET /v1/models/{id...}", g.auth(g.model))
	for _, p := range []string{"/v1/chat/completions", "/v1/completions", "/v1/embeddings"} {
		mux.HandleFunc("POST "+p, g.auth(g.route))
	}
	mux.HandleFunc("GET /cortex/status", g.auth(g.status))
	mux.HandleFunc("POST /cortex/models/load", g.auth(g.load))
	mux.HandleFunc("POST /cortex/models/unload", g.auth(g.unload))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &api.Error{Status: http.StatusNotFound, Type: api.TypeInvalidRequest,
			Message: fmt.Sprintf("cortex has no route %s %s", r.Method, r.URL.Path)})
	})
	g.mux = mux
}

// Handler returns the API handler (OpenAI routes, /cortex/*, the dashboard).
func (g *Gateway) Handler() http.Handler { return g.mux }

// MetricsHandler returns the Prometheus handler for the metrics listener.
func (g *Gateway) MetricsHandler() http.Handler { return g.metrics.handler() }

// Run polls the fleet until ctx ends.
func (g *Gateway) Run(ctx context.Context) { g.poll.run(ctx) }

// PollNow polls every neuron once and returns when done.
func (g *Gateway) PollNow(ctx context.Context) { g.poll.pollAll(ctx) }

// Serve serves the API on ln until Shutdown; it returns nil after a
// Shutdown.
func (g *Gateway) Serve(ln net.Listener) error {
	g.serveOnce.Do(func() {
		g.httpServer = &http.Server{Handler: g.mux, ReadHeaderTimeout: 30 * time.Second}
	})
	if err := g.httpServer.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting requests, lets running ones finish until ctx
// ends, then ends open streams with an error event and closes what is left.
// It reports whether everything finished in time.
func (g *Gateway) Shutdown(ctx context.Context) bool {
	g.draining.Store(true)
	if g.httpServer == nil {
		return true
	}
	if err := g.httpServer.Shutdown(ctx); err == nil {
		return true
	}
	g.abortNow()
	grace, cancel := context.WithTimeout(context.Background(), drainGrace)
	defer cancel()
	if g.httpServer.Shutdown(grace) != nil {
		g.httpServer.Close()
	}
	return false
}

// auth requires one of the API keys, when there are any, as a bearer token.
func (g *Gateway) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if len(g.keys) > 0 {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
			found := 0
			for _, k := range g.keys {
				found |= subtle.ConstantTimeCompare(sum[:], k[:])
			}
			if !ok || found == 0 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="cortex"`)
				writeError(w, &api.Error{Status: http.StatusUnauthorized, Type: api.TypeInvalidRequest,
					Code: api.CodeInvalidAPIKey, Message: "missing or invalid API key (send Authorization: Bearer KEY)"})
				return
			}
		}
		next(w, r)
	}
}

// health answers GET /health: liveness.
func (g *Gateway) health(w http.ResponseWriter, r *http.Request) {
	if g.draining.Load() {
		writeError(w, api.Unavailable(api.CodeShuttingDown, "cortex is shutting down"))
		return
	}
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
}

// ready answers GET /ready: 200 while at least one neuron is up.
func (g *Gateway) ready(w http.ResponseWriter, r *http.Request) {
	switch {
	case g.draining.Load():
		writeError(w, api.Unavailable(api.CodeShuttingDown, "cortex is shutting down"))
	case !g.reg.anyUp():
		writeError(w, api.Unavailable(api.CodeUnavailable, "no neuron is up"))
	default:
		writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
	}
}

// models answers GET /v1/models: the union of the models ready on up
// neurons, each with the neurons serving it, then the models only
// loadable (some up neuron lists it as not_loaded: a request loads it),
// marked as such, each with the neurons that would load it.
func (g *Gateway) models(w http.ResponseWriter, r *http.Request) {
	type model struct {
		api.Model
		Neurons []string `json:"neurons"`
	}
	served, loadable := g.reg.served(), g.reg.loadable()
	out := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	for _, id := range sortedIDs(served) {
		out.Data = append(out.Data, model{Model: api.Model{ID: id, Object: "model", Created: time.Now().Unix(), OwnedBy: "cortex"},
			Neurons: served[id]})
	}
	for _, id := range sortedIDs(loadable) {
		if _, ok := served[id]; !ok {
			out.Data = append(out.Data, model{Model: api.Model{ID: id, Object: "model", Created: time.Now().Unix(), OwnedBy: "cortex",
				Status: api.StatusNotLoaded}, Neurons: loadable[id]})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// model answers GET /v1/models/{id}; a model only loadable is marked
// not_loaded.
func (g *Gateway) model(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m := api.Model{ID: id, Object: "model", Created: time.Now().Unix(), OwnedBy: "cortex"}
	if _, ok := g.reg.served()[id]; !ok {
		if _, ok := g.reg.loadable()[id]; !ok {
			writeError(w, g.notFound(id))
			return
		}
		m.Status = api.StatusNotLoaded
	}
	writeJSON(w, http.StatusOK, m)
}

// notFound is the 404 for a model no neuron has, listing what the fleet
// serves and what it can load.
func (g *Gateway) notFound(model string) *api.Error {
	e := api.ModelNotFound(model)
	ids := g.reg.servedIDs()
	if len(ids) == 0 {
		e.Message += "; the fleet serves no model now"
	} else {
		e.Message += "; the fleet serves: " + strings.Join(ids, ", ")
	}
	var more []string
	for _, id := range sortedIDs(g.reg.loadable()) {
		if !slices.Contains(ids, id) {
			more = append(more, id)
		}
	}
	if len(more) > 0 {
		e.Message += "; and loads on request: " + strings.Join(more, ", ")
	}
	return e
}

// requestHead is what routing reads of a request body.
type requestHead struct {
	Model  string `json:"model"`
	Stream bool   `json:"stream"`
}

// route answers the OpenAI generation routes: it reads the body, finds the
// neurons serving its model and hands the request to the proxy.
func (g *Gateway) route(w http.ResponseWriter, r *http.Request) {
	rec := &requestRecord{Time: time.Now(), Path: r.URL.Path}
	defer g.finish(rec)
	if g.draining.Load() {
		rec.fail(w, api.Unavailable(api.CodeShuttingDown, "cortex is shutting down"))
		return
	}
	body, err := readLimited(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes), g.cfg.MaxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) || errors.Is(err, errTooLarge) {
			rec.fail(w, &api.Error{Status: http.StatusRequestEntityTooLarge, Type: api.TypeInvalidRequest,
				Code: api.CodeRequestTooLarge, Message: fmt.Sprintf("request body over %d bytes", g.cfg.MaxBodyBytes)})
			return
		}
		rec.fail(w, api.Invalid("", "reading the request body: %v", err))
		return
	}
	var head requestHead
	if err := json.Unmarshal(body, &head); err != nil {
		rec.fail(w, api.Invalid("", "the request body is not a JSON object: %v", err))
		return
	}
	rec.Model, rec.Stream = head.Model, head.Stream
	if head.Model == "" {
		rec.fail(w, api.Invalid("model", "model is required"))
		return
	}
	cands, known := g.reg.candidates(head.Model)
	if !known && g.cfg.AutoLoad && slices.Contains(g.cfg.Catalog, head.Model) {
		if err := g.autoPlace(r.Context(), head.Model); err != nil {
			rec.fail(w, err)
			return
		}
		cands, known = g.reg.candidates(head.Model)
	}
	switch {
	case !known:
		rec.fail(w, g.notFound(head.Model))
		return
	case len(cands) == 0:
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(g.cfg.PollInterval.Round(time.Second)/time.Second))))
		rec.fail(w, api.Unavailable(api.CodeUnavailable, "no healthy neuron serves the model %q now", head.Model))
		return
	}
	g.proxy(w, r, rec, body, cands)
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError writes an OpenAI error body with e's status.
func writeError(w http.ResponseWriter, e *api.Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, api.ErrorResponse{Error: e})
}
