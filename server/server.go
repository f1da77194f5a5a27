// This file holds the Server: its options, routes, state (starting, ready,
// draining) and the serve/shutdown lifecycle.

package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/helexa/helexa/api"
)

// Defaults of Options.
const (
	// DefaultMaxQueue is the daemon's default for max_queue, the requests
	// that may wait per model before a busy model answers 503.
	DefaultMaxQueue = 64
	// DefaultMaxBodyBytes bounds request bodies: 16 MiB holds any chat
	// history that fits a 128k-token context several times over.
	DefaultMaxBodyBytes = 16 << 20
	// DefaultUnloadTimeout is how long POST /models/unload waits for running
	// generations before answering 409.
	DefaultUnloadTimeout = 30 * time.Second
	// drainGrace is how long shutdown waits, after ending open streams at
	// the deadline, for their handlers to return before closing connections.
	drainGrace = 2 * time.Second
	// DefaultReadHeaderTimeout, DefaultReadBodyTimeout and
	// DefaultIdleTimeout are the defaults of the Options timeouts: a body
	// of DefaultMaxBodyBytes takes under a minute even at 2 Mbit/s.
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadBodyTimeout   = 60 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
)

// Options configure a Server.
type Options struct {
	Models ModelManager
	Logger *slog.Logger
	// APIKeys, when not empty, are required as "Authorization: Bearer KEY"
	// on every endpoint but /health (and /metrics with OpenMetrics).
	APIKeys []string
	// OpenMetrics serves GET /metrics without a key even when APIKeys are
	// set, for scrapers that send none (Prometheus, an inference gateway's
	// endpoint picker); the OpenAI and management routes still need one.
	OpenMetrics bool
	// MaxQueue is the number of requests that may wait per model; 0 waits
	// none (a busy model answers 503 at once).
	MaxQueue int
	// Parallel is the number of generations a model runs at once when its
	// ModelInfo reports no KVSlots (the engine's scheduler slots).
	Parallel int
	// MaxBodyBytes bounds request bodies (413 beyond); 0 means the default.
	MaxBodyBytes int64
	// UnloadTimeout is the default wait of an unload; 0 means the default.
	UnloadTimeout time.Duration
	// Registry receives the metrics; nil makes a new one.
	Registry *prometheus.Registry
	// AdvertiseURL is the base URL (scheme://host:port) GET
	// /models/{id}/endpoint answers with; empty: the listener's address.
	AdvertiseURL string
	// CORSAllowedOrigins may call the OpenAI routes (/v1/...) from a web
	// page; "*" allows any. Empty: none.
	CORSAllowedOrigins []string
	// ReadHeaderTimeout, ReadBodyTimeout and IdleTimeout bound a request's
	// headers, its body, and an idle keep-alive connection; 0 takes the
	// defaults.
	ReadHeaderTimeout, ReadBodyTimeout, IdleTimeout time.Duration
	// Build describes the binary (neuron_build_info).
	Build BuildInfo
	// AutoLoad loads a model a generation request names but that is not
	// loaded: a Catalog entry, else the reference as it is (a file in the
	// allowed directories, a cached hub reference); see ondemand.go.
	AutoLoad bool
	// Evict unloads idle unpinned models, least recently used first, when
	// a load (automatic or POST /models/load) finds no room, and answers a
	// load that cannot fit even so with 503 insufficient_memory; without
	// it such a load keeps the manager's answer (evict.go).
	Evict bool
	// Catalog are the models that may be loaded by name, keyed by id
	// (alias, else reference); GET /v1/models lists those not loaded.
	Catalog []api.LoadRequest
	// KeepAlive is how long a model may stay idle before it is unloaded,
	// unless a request sets its own keep_alive; negative or nil: for ever
	// (keepalive.go).
	KeepAlive *time.Duration
}

// State is the server's serving state, as GET /health reports it.
type State int32

// Server states.
const (
	StateStarting State = iota
	// StateLoading serves while the default models load: /health is 503
	// {"status":"loading"}.
	StateLoading
	StateReady
	StateDraining
)

// Server is neuron's HTTP API.
type Server struct {
	opts    Options
	log     *slog.Logger
	echo    *echo.Echo
	metrics *metrics
	keys    [][32]byte // sha256 of each API key
	state   atomic.Int32

	mu    sync.Mutex
	gates map[string]*gate
	// loads are the loads under way by id; pending the default models not
	// yet tried; failed the default models whose load failed.
	loads   map[string]*loadCall
	pending map[string]api.LoadRequest
	failed  map[string]failedLoad
	// usage is each loaded model's last use and idle time; holds counts
	// the requests resolving a model, not yet in its queue (keepalive.go).
	usage map[string]*modelUse
	holds map[string]int
	// bodies are the requests reading their body, which shutdown cuts.
	bodies map[*http.ResponseController]struct{}
	// addr is the listener's address, for the endpoint answer.
	addr string

	// stop is canceled at the drain deadline: every generation ends and open
	// streams get an error event.
	stop       context.Context
	cancelStop context.CancelFunc
	handlers   tracker

	httpMu sync.Mutex
	http   *http.Server
}

// New builds a server in the starting state.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.UnloadTimeout <= 0 {
		o.UnloadTimeout = DefaultUnloadTimeout
	}
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.MaxQueue < 0 {
		o.MaxQueue = 0
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.ReadBodyTimeout <= 0 {
		o.ReadBodyTimeout = DefaultReadBodyTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		opts:    o,
		log:     o.Logger,
		gates:   map[string]*gate{},
		loads:   map[string]*loadCall{},
		pending: map[string]api.LoadRequest{},
		failed:  map[string]failedLoad{},
		usage:   map[string]*modelUse{},
		holds:   map[string]int{},
		bodies:  map[*http.ResponseController]struct{}{},
	}
	s.keys = hashKeys(o.APIKeys)
	s.stop, s.cancelStop = context.WithCancel(context.Background())
	s.metrics = newMetrics(o.Registry, o.Models.List)
	s.metrics.req.setBuild(o.Build)
	o.Registry.MustRegister(&mspCollector{s: s})
	s.echo = s.routes()
	return s
}

// routes builds the echo instance.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(s.requestLog, s.recoverPanic, s.cors, s.auth)

	e.GET("/health", s.health)
	e.HEAD("/health", s.health)
	e.Any(badTargetPath, badTarget)
	e.GET("/", s.chatPage)
	e.GET("/ui/*", s.chatPage)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))

	e.GET("/models", s.listModels)
	e.POST("/models/load", s.loadModel)
	e.POST("/models/unload", s.unloadModel)
	// Model ids carry slashes (org/repo:QUANT), so the routes with an id are
	// wildcards that the handlers take apart.
	e.GET("/models/*", s.modelEndpoint)

	e.GET("/v1/models", s.openAIModels)
	e.GET("/v1/models/*", s.retrieveModel)
	e.POST("/v1/chat/completions", s.chatCompletions)
	e.POST("/v1/completions", s.completions)
	e.POST("/v1/embeddings", s.embeddings)
	return e
}

// Handler returns the HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.echo }

// State returns the serving state.
func (s *Server) State() State { return State(s.state.Load()) }

// SetState changes the serving state.
func (s *Server) SetState(st State) { s.state.Store(int32(st)) }

// LoadingDone ends StateLoading: the server becomes ready unless it is
// already draining.
func (s *Server) LoadingDone() {
	s.state.CompareAndSwap(int32(StateLoading), int32(StateReady))
}

// Serve serves on ln until Shutdown; it marks the server ready once it
// accepts, unless default models are still loading (StateLoading, which
// LoadingDone ends). It also starts the keep_alive reaper. It returns nil
// after a Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		// Bodies get their own deadline while they are read (readBody); no
		// write timeout, as streams last as long as generation does.
		IdleTimeout: s.opts.IdleTimeout,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.httpMu.Lock()
	if s.http != nil {
		s.httpMu.Unlock()
		return errors.New("server: Serve called twice")
	}
	s.http = hs
	s.addr = ln.Addr().String()
	s.httpMu.Unlock()
	if s.State() == StateDraining {
		// Shutdown ran before the server was recorded: never serve.
		ln.Close()
		return nil
	}
	s.state.CompareAndSwap(int32(StateStarting), int32(StateReady))
	go s.reapIdle(s.stop)
	err := hs.Serve(targetListener{ln})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown drains the server: it stops accepting connections, lets running
// requests and streams finish until ctx ends (the drain deadline), then ends
// the generations still running (open streams get an SSE error event), and
// closes every connection. It reports whether everything finished in time.
func (s *Server) Shutdown(ctx context.Context) bool {
	s.SetState(StateDraining)
	s.httpMu.Lock()
	hs := s.http
	s.httpMu.Unlock()

	// Idle connections close at once (http.Server.Shutdown); those still
	// sending a request body are cut now rather than waited for.
	s.cutBodies()
	clean := true
	if hs != nil {
		clean = hs.Shutdown(ctx) == nil
	}
	// Requests served without the listener (tests, embedding) are waited
	// for through the handler count.
	if clean && !s.handlers.wait(ctx) {
		clean = false
	}
	if !clean {
		s.log.Warn("drain deadline reached, ending open requests")
	}
	s.cancelStop()
	grace, cancelGrace := context.WithTimeout(context.Background(), drainGrace)
	defer cancelGrace()
	if hs != nil {
		if err := hs.Shutdown(grace); err != nil {
			hs.Close()
		}
	}
	s.handlers.wait(grace)
	return clean
}

// tracker counts running handlers. Unlike a sync.WaitGroup it may be waited
// on while requests still arrive.
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0, if someone waits
}

func (t *tracker) add() {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
	t.mu.Unlock()
}

// wait waits until no handler runs or ctx ends; it reports which.
func (t *tracker) wait(ctx context.Context) bool {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return true
	}
	if t.idle == nil {
		t.idle = make(chan struct{})
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return true
	case <-ctx.Done():
		return false
	}
}

// gate returns the admission gate of a model, creating it.
func (s *Server) gate(id string) *gate {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.gates[id]
	if !ok {
		running, waiting := s.metrics.running.WithLabelValues(id), s.metrics.waiting.WithLabelValues(id)
		g = newGate(s.parallelOf(id), s.opts.MaxQueue, func(r, w int) {
			running.Set(float64(r))
			waiting.Set(float64(w))
		})
		s.gates[id] = g
	}
	return g
}

// parallelOf is the number of generations model id runs at once: its
// sequence slots, else the server's default. s.mu is held.
func (s *Server) parallelOf(id string) int {
	for _, m := range s.opts.Models.List() {
		if m.ID == id && m.KVSlots > 0 {
			return m.KVSlots
		}
	}
	return s.opts.Parallel
}

// gateCounts returns a model's running and queued generations.
func (s *Server) gateCounts(id string) (running, waiting int, closing bool) {
	s.mu.Lock()
	g := s.gates[id]
	s.mu.Unlock()
	if g == nil {
		return 0, 0, false
	}
	running, waiting = g.counts()
	return running, waiting, g.isClosing()
}
