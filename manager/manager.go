// Package manager owns neuron's models: it adapts the engine's registry to
// the server's ModelManager. A load resolves the reference (resolve.go),
// checks the request against the daemon's limits — the context cap, the
// number of loaded models, the memory budget — before anything is
// allocated (admit), and runs under a deadline; every failure is classified
// as the caller's (4xx with a specific code) or ours (500) in errors.go.
// Generation goes through the adapter in generator.go.
package manager

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/hub"
	"github.com/helexa/helexa/internal/sysmem"
	"github.com/helexa/helexa/server"
)

// Defaults of Options.
const (
	// DefaultMaxLoadedModels caps the models loaded at once.
	DefaultMaxLoadedModels = 8
	// DefaultLoadTimeout bounds one load (a download included).
	DefaultLoadTimeout = 30 * time.Minute
	// defaultBudgetShare is the share of the host's memory (or cgroup
	// limit) the loaded models may take together when no budget is set;
	// the rest is left to the process's own heap and the system.
	defaultBudgetShare = 0.9
)

// Options configure a Manager.
type Options struct {
	// Device, Threads, CtxSize and BatchSize are the defaults of a load
	// (engine.device, engine.threads, ...); 0 or "" take the engine's.
	Device    string
	Threads   int
	CtxSize   int
	BatchSize int
	// MaxParallel is the sequences a model runs at once and StepTokens
	// the token budget of a scheduler step; 0 takes the engine's.
	MaxParallel int
	StepTokens  int
	// Exact turns off the CPU's 8-bit activation quantization
	// (engine.exact).
	Exact bool
	// NoMmap reads models into process memory instead of mapping them
	// (engine.mmap = false).
	NoMmap bool
	// MaxCtx caps a load's ctx_size; 0 caps it at the model's trained
	// context.
	MaxCtx int
	// KVCacheSize is the default size of a model's KV cache
	// (engine.kv_cache_size); zero takes the engine's.
	KVCacheSize engine.KVCacheSize
	// ModelDirs are the directories local model files may be loaded from,
	// besides the hub cache; AnyDir allows any path.
	ModelDirs []string
	// MaxLoadedModels caps the models loaded at once; 0 takes the default.
	MaxLoadedModels int
	// MaxMemory is the bytes the loaded models (weights and context) may
	// take together; 0 takes 90% of the host's memory or cgroup limit.
	MaxMemory int64
	// LoadTimeout bounds one load; 0 takes the default.
	LoadTimeout time.Duration
	// Hub configures the hub client (its Progress is set by the manager).
	Hub hub.Options
	Log *slog.Logger
}

// Manager is the server's ModelManager over an engine.Registry.
type Manager struct {
	reg *engine.Registry
	o   Options
	log *slog.Logger
	res *Resolver
	// cached resolves hub references from the cache alone, for on-demand
	// loads of names outside the catalog (server.CacheOnly).
	cached *Resolver
	// hostMem reads the host's memory (tests fix it).
	hostMem func() sysmem.Info

	mu sync.Mutex
	// Loads admitted but not yet listed by the registry.
	reservedModels int
	reservedBytes  int64
}

// The server reports the manager's capacity in GET /models.
var _ server.CapacityReporter = (*Manager)(nil)

// New builds a manager.
func New(o Options) *Manager {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxLoadedModels <= 0 {
		o.MaxLoadedModels = DefaultMaxLoadedModels
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = DefaultLoadTimeout
	}
	if o.MaxMemory <= 0 {
		if total := sysmem.Read().Total; total > 0 {
			o.MaxMemory = int64(float64(total) * defaultBudgetShare)
		}
	}
	m := &Manager{reg: engine.NewRegistry(o.Log), o: o, log: o.Log, hostMem: sysmem.Read}
	ho := o.Hub
	ho.Progress = progressLogger(o.Log)
	m.res = NewResolver(ho, o.ModelDirs)
	ho.Offline = true
	m.cached = NewResolver(ho, o.ModelDirs)
	if c, err := m.res.Hub(); err != nil {
		m.log.Warn("hub client unavailable, only local model paths will load", "error", err.Error())
	} else {
		m.log.Info("hub cache", "dir", c.CacheDir(), "offline", ho.Offline)
	}
	m.log.Info("model limits", "model_dirs", m.res.Dirs(), "max_loaded_models", o.MaxLoadedModels,
		"max_memory_bytes", o.MaxMemory, "max_ctx_size", o.MaxCtx)
	return m
}

// Registry returns the engine registry the manager loads into.
func (m *Manager) Registry() *engine.Registry { return m.reg }

// Load resolves and loads a model with the defaults applied, under the
// load deadline.
func (m *Manager) Load(ctx context.Context, req api.LoadRequest) (server.ModelInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, m.o.LoadTimeout)
	defer cancel()
	res := m.res
	if server.CacheOnly(ctx) {
		res = m.cached
	}
	path, err := res.Resolve(ctx, req.Model)
	if err != nil {
		return server.ModelInfo{}, classify(err, req)
	}
	o := engine.LoadOptions{
		Path:       path,
		ID:         req.Model,
		Source:     req.Model,
		CtxSize:    m.o.CtxSize,
		Batch:      m.o.BatchSize,
		Seqs:       m.o.MaxParallel,
		StepTokens: m.o.StepTokens,
		Device:     m.o.Device,
		Threads:    m.o.Threads,
		Exact:      m.o.Exact,
		NoMmap:     m.o.NoMmap,
		MaxCtx:     m.o.MaxCtx,
		Admit:      func(p engine.Plan) (func(), error) { return m.admit(p, server.Evictable(ctx)) },
	}
	if req.Alias != "" {
		o.ID = req.Alias
	}
	if req.CtxSize != 0 {
		o.CtxSize = req.CtxSize
	}
	if req.MaxParallel != 0 {
		o.Seqs = req.MaxParallel
	}
	if req.StepTokens != 0 {
		o.StepTokens = req.StepTokens
	}
	if req.Device != "" {
		o.Device = req.Device
	}
	o.KVCache = m.o.KVCacheSize
	if req.KVCacheSize != "" {
		if o.KVCache, err = engine.ParseKVCacheSize(req.KVCacheSize); err != nil {
			return server.ModelInfo{}, api.Invalid("kv_cache_size", "%v", err)
		}
	}
	info, err := m.reg.Load(ctx, o)
	if err != nil {
		return server.ModelInfo{}, classify(err, req)
	}
	return m.info(info), nil
}

// admit checks a planned load against the caps on loaded models and memory
// and holds its share until the registry lists the model. A refusal is
// marked server.ErrNoRoom when unloading the evictable models would make
// the load fit.
func (m *Manager) admit(p engine.Plan, evictable map[string]bool) (func(), error) {
	loaded := m.reg.List()
	m.mu.Lock()
	defer m.mu.Unlock()
	need := p.WeightBytes + p.ContextBytes
	used := m.reservedBytes
	var freeable int
	var freeableBytes int64
	for _, l := range loaded {
		used += l.MemoryBytes
		if evictable[l.ID] {
			freeable++
			freeableBytes += l.MemoryBytes
		}
	}
	n := len(loaded) + m.reservedModels
	tooMany := func() error {
		return &api.Error{Status: 409, Type: api.TypeConflict, Code: CodeTooManyModels,
			Message: fmt.Sprintf("%d models are loaded or loading, the most this neuron holds (engine.max_loaded_models = %d); unload one first", n, m.o.MaxLoadedModels)}
	}
	tooBig := func() error {
		return &api.Error{Status: 422, Type: api.TypeInvalidRequest, Param: "ctx_size", Code: CodeInsufficientMemory,
			Message: fmt.Sprintf("model %q with ctx_size %d needs %s (weights %s, KV cache and buffers %s), but only %s of the %s memory budget are free (%s used by %d models; engine.max_memory)",
				p.ID, p.CtxSize, mib(need), mib(p.WeightBytes), mib(p.ContextBytes), mib(max(m.o.MaxMemory-used, 0)), mib(m.o.MaxMemory), mib(used), len(loaded))}
	}
	countOK := n < m.o.MaxLoadedModels
	memOK := m.o.MaxMemory <= 0 || used+need <= m.o.MaxMemory
	if !countOK || !memOK {
		// Say what stands even with the evictable models unloaded; when
		// nothing does, mark the refusal as one eviction lifts.
		memAfter := m.o.MaxMemory <= 0 || used-freeableBytes+need <= m.o.MaxMemory
		countAfter := n-freeable < m.o.MaxLoadedModels
		switch {
		case !countAfter:
			return nil, server.WithKind(server.ErrNoRoom, tooMany())
		case !memAfter:
			return nil, server.WithKind(server.ErrNoRoom, tooBig())
		case !countOK:
			return nil, server.WithKind(server.ErrEvictionHelps, server.WithKind(server.ErrNoRoom, tooMany()))
		default:
			return nil, server.WithKind(server.ErrEvictionHelps, server.WithKind(server.ErrNoRoom, tooBig()))
		}
	}
	m.reservedModels++
	m.reservedBytes += need
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			m.reservedModels--
			m.reservedBytes -= need
			m.mu.Unlock()
		})
	}, nil
}

// Capacity reports the budget admit checks loads against and what of it is
// free: the budget less the loaded and admitted models' memory, and no more
// than the host has available now. Without a budget (the host's memory is
// unknown) the budget is 0 and what is free is what the host has available.
func (m *Manager) Capacity() api.Capacity {
	loaded := m.reg.List()
	avail := m.hostMem().Available
	m.mu.Lock()
	defer m.mu.Unlock()
	c := api.Capacity{MemoryBudgetBytes: m.o.MaxMemory, LoadedModels: len(loaded) + m.reservedModels,
		MaxLoadedModels: m.o.MaxLoadedModels}
	used := m.reservedBytes
	for _, l := range loaded {
		used += l.MemoryBytes
	}
	c.MemoryFreeBytes = avail
	if m.o.MaxMemory > 0 {
		c.MemoryFreeBytes = max(m.o.MaxMemory-used, 0)
		if avail > 0 {
			c.MemoryFreeBytes = min(c.MemoryFreeBytes, avail)
		}
	}
	return c
}

// mib formats bytes in MiB.
func mib(n int64) string { return fmt.Sprintf("%d MiB", (n+(1<<20)-1)>>20) }

// info converts the engine's model description. The engine reports the
// backend only, so the device is the backend's name (cpu, cuda).
func (m *Manager) info(e engine.ModelInfo) server.ModelInfo {
	si := server.ModelInfo{ID: e.ID, Source: e.Source, Path: e.Path, Backend: e.Backend, Device: e.Backend,
		CtxSize: e.CtxSize, KVSlots: e.Seqs, MemoryBytes: e.MemoryBytes, LoadedAt: e.LoadedAt, Error: e.Error,
		MaxPromptBytes: e.MaxPromptBytes}
	if e.KV.Total > 0 {
		si.KVCacheUsage = min(float64(e.KV.Used)/float64(e.KV.Total), 1)
	}
	si.KVBlocks, si.KVBlocksUsed, si.KVBlockSize = e.KV.Total, e.KV.Used, e.KV.BlockSize
	return si
}

// Unload frees a model.
func (m *Manager) Unload(ctx context.Context, id string) error {
	if err := m.reg.Unload(ctx, id); err != nil {
		return classify(err, api.LoadRequest{Model: id})
	}
	return nil
}

// List describes the loaded models.
func (m *Manager) List() []server.ModelInfo {
	var out []server.ModelInfo
	for _, e := range m.reg.List() {
		out = append(out, m.info(e))
	}
	return out
}

// Acquire lends out a model's generator.
func (m *Manager) Acquire(id string) (server.Generator, func(), error) {
	g, release, err := m.reg.Acquire(id)
	if err != nil {
		return nil, nil, classify(err, api.LoadRequest{Model: id})
	}
	return &engineGenerator{g: g}, release, nil
}
