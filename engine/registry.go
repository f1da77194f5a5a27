// The model registry: the set of models loaded in a process. Load opens a
// GGUF file on a backend and makes a Generator for it; Acquire lends a
// Generator to one request and counts it in flight; Unload frees a model
// only once no generation uses it, waiting up to the caller's deadline and
// refusing (ErrModelBusy) otherwise; List reports each model's memory use,
// context size and load.

package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/tokenizer"
)

var (
	// ErrModelNotLoaded reports an id that names no loaded model (or one
	// being unloaded).
	ErrModelNotLoaded = errors.New("engine: model not loaded")
	// ErrModelBusy reports an Unload that gave up waiting for in-flight
	// generations.
	ErrModelBusy = errors.New("engine: model busy")
	// ErrModelExists reports a Load of an id already taken by another file.
	ErrModelExists = errors.New("engine: model id already loaded")
	// ErrBadLoad reports load options that cannot be met: a context larger
	// than the cap, a malformed device string.
	ErrBadLoad = errors.New("engine: bad load options")
	// ErrDeviceUnavailable reports a device this host does not have (or
	// whose backend could not start).
	ErrDeviceUnavailable = errors.New("engine: device unavailable")
)

// Default context sizing (DefaultCtxSize).
const (
	// defaultCtxCap caps the default context: enough for chat with tools
	// and reasoning, a fraction of Qwen3's 40960 trained positions.
	defaultCtxCap = 8192
	// defaultKVBudget bounds the default KV cache of one model, shared by
	// its sequences: 2 GiB holds 8192 positions of Qwen3-32B at f16 (64
	// layers · 2 · 1024 · 2 bytes = 256 KiB per position).
	defaultKVBudget = 2 << 30
	// ctxGranule rounds default context sizes down to a multiple of 256.
	ctxGranule = 256
)

// DefaultMaxParallel is the number of sequences a model runs at once when
// LoadOptions leaves Seqs 0 (llama-server's default number of slots).
const DefaultMaxParallel = 4

// DefaultCtxSize is the context size used when LoadOptions leaves it 0: the
// smallest of the model's trained context, 8192 positions, and the positions
// whose KV cache (seqs sequences of kv elements) fits in 2 GiB, rounded down
// to a multiple of 256 (at least 256, or the trained context if smaller).
// A load asks it for one sequence: the sequences share the paged cache
// (defaultKVBlocks).
func DefaultCtxSize(cfg Config, kv KVType, seqs int) int {
	perPos := int64(2*cfg.NLayer*cfg.KVDim()*kv.elemSize()) * int64(max(seqs, 1)) // K and V
	n := defaultCtxCap
	if perPos > 0 {
		n = min(n, int(defaultKVBudget/perPos))
	}
	n = max(n/ctxGranule*ctxGranule, ctxGranule)
	if cfg.NCtxTrain > 0 {
		n = min(n, cfg.NCtxTrain)
	}
	return n
}

// LoadOptions say which model to load and how.
type LoadOptions struct {
	// Path is the GGUF file.
	Path string
	// ID names the model in the registry; default: the file name without
	// its .gguf extension.
	ID string
	// Aliases are further names Acquire accepts.
	Aliases []string
	// Source records where the file came from (a hub reference), for List.
	Source string
	// CtxSize is the positions per sequence; 0 = DefaultCtxSize (with a
	// KVCache size, at most what the cache holds).
	CtxSize int
	// KVCache is the size of the paged KV cache all sequences share; zero
	// takes defaultKVBlocks. It must hold at least one sequence of CtxSize
	// positions.
	KVCache KVCacheSize
	// Batch is the prefill chunk in rows; 0 = the context's default.
	Batch int
	// Seqs is the number of sequences that run at once (the scheduler's
	// slots); 0 = DefaultMaxParallel.
	Seqs int
	// StepTokens is the token budget of a scheduler step; 0 =
	// DefaultStepTokens.
	StepTokens int
	// Device is "auto" (or ""), "cpu", "cuda" or "cuda:N". "auto" tries
	// CUDA and falls back to the CPU.
	Device string
	// Threads is the CPU worker count; 0 = all cores.
	Threads int
	// Exact turns off activation quantization (BackendOptions.Exact).
	Exact bool
	// NoMmap reads the weights into process memory instead of mapping
	// the file (gguf.OpenRead).
	NoMmap bool
	// KV is the KV cache element type.
	KV KVType
	// MaxCtx caps CtxSize; 0 caps it at the model's trained context
	// (<arch>.context_length). A larger CtxSize is ErrBadLoad.
	MaxCtx int
	// Admit, when set, is asked before anything is allocated whether a
	// model of this plan may load; its error refuses the load. The release
	// it returns is called once the load has ended either way (the model
	// is then in List, or gone).
	Admit func(Plan) (release func(), err error)
}

// Plan is what a load will take, known once the file's metadata is read.
type Plan struct {
	ID       string
	Backend  string
	CtxSize  int
	CtxTrain int
	// WeightBytes are the tensors in their GGUF types; ContextBytes the KV
	// cache and scratch buffers (see ContextBytes).
	WeightBytes, ContextBytes int64
}

// ModelInfo describes a loaded model.
type ModelInfo struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases,omitempty"`
	Path     string   `json:"path"`
	Source   string   `json:"source,omitempty"`
	Arch     string   `json:"arch"`
	Backend  string   `json:"backend"`
	CtxSize  int      `json:"ctx_size"`
	CtxTrain int      `json:"ctx_train"`
	Seqs     int      `json:"seqs"`
	// KV is the KV cache's block counts and Running/Waiting the
	// scheduler's sequences, at the time of List.
	KV          KVStats   `json:"kv"`
	Running     int       `json:"running"`
	Waiting     int       `json:"waiting"`
	WeightBytes int64     `json:"weight_bytes"`
	KVBytes     int64     `json:"kv_bytes"`
	MemoryBytes int64     `json:"memory_bytes"` // weights + KV cache
	LoadedAt    time.Time `json:"loaded_at"`
	InFlight    int       `json:"in_flight"`
	// Error says why the model can no longer serve (its file faulted or
	// changed on disk, or its backend failed: HealthReporter); requests
	// fail until the model is unloaded. Empty while it is healthy.
	Error string `json:"error,omitempty"`
	// MaxPromptBytes bounds the text of a prompt that can fit the context
	// (Generator.MaxPromptBytes).
	MaxPromptBytes int64 `json:"max_prompt_bytes"`
}

// entry is one loaded model.
type entry struct {
	info      ModelInfo
	gen       *Generator
	file      *gguf.File
	backend   Backend
	inFlight  int
	unloading bool
	failLog   bool          // the backend's failure has been logged
	idle      chan struct{} // closed when inFlight drops to 0 during an unload
	release   func()        // ends the load's admission (LoadOptions.Admit)
}

// Registry holds the loaded models. It is safe for concurrent use. No lock
// is held across file I/O: a load reserves its names, opens the file
// unlocked, and commits; loads of different ids run side by side.
type Registry struct {
	log     *slog.Logger
	mu      sync.Mutex
	models  map[string]*entry
	names   map[string]string // id or alias -> id
	pending map[string]string // id or alias -> id, while that id loads
}

// NewRegistry returns an empty registry that logs to log (nil: discard).
func NewRegistry(log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{log: log, models: map[string]*entry{}, names: map[string]string{}, pending: map[string]string{}}
}

// ModelID returns the default id of a model file: its base name without
// the .gguf extension.
func ModelID(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".gguf")
}

// Load opens o.Path and makes the model available under o.ID. Loading an id
// that is already loaded from the same file returns its info; from another
// file, ErrModelExists.
func (r *Registry) Load(ctx context.Context, o LoadOptions) (ModelInfo, error) {
	if o.Path == "" {
		return ModelInfo{}, errors.New("engine: load: no model path")
	}
	if o.ID == "" {
		o.ID = ModelID(o.Path)
	}
	if info, ok, err := r.reserve(o); ok || err != nil {
		return info, err
	}
	defer r.unreserve(o)
	if err := ctx.Err(); err != nil {
		return ModelInfo{}, err
	}
	start := time.Now()
	var e *entry
	err := guardFaults(func() (err error) {
		e, err = r.open(ctx, o)
		return err
	})
	if err != nil {
		return ModelInfo{}, err
	}
	r.mu.Lock()
	// reserve checked every name and holds them in pending; Unload only
	// frees names.
	for _, n := range append([]string{o.ID}, o.Aliases...) {
		r.names[n] = o.ID
	}
	r.models[o.ID] = e
	info := e.snapshot()
	r.mu.Unlock()
	e.admitted() // the model now counts in List
	r.log.Info("model loaded", "model", o.ID, "path", o.Path, "backend", info.Backend, "ctx_size", info.CtxSize,
		"weight_bytes", info.WeightBytes, "kv_bytes", info.KVBytes, "load_ms", time.Since(start).Milliseconds())
	return info, nil
}

// reserve returns the info of an already loaded id (true), or an error when
// the id is being loaded or unloaded or one of the requested names belongs
// to another model; otherwise it holds the names for this load until
// unreserve.
func (r *Registry) reserve(o LoadOptions) (ModelInfo, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.models[o.ID]
	if !ok {
		names := append([]string{o.ID}, o.Aliases...)
		for _, n := range names {
			if id, taken := r.names[n]; taken {
				return ModelInfo{}, false, fmt.Errorf("%w: %q already names model %q (loaded from %s)", ErrModelExists, n, id, r.models[id].info.Path)
			}
			if id, loading := r.pending[n]; loading {
				return ModelInfo{}, false, fmt.Errorf("%w: %q names model %q, which is being loaded", ErrModelBusy, n, id)
			}
		}
		for _, n := range names {
			r.pending[n] = o.ID
		}
		return ModelInfo{}, false, nil
	}
	if filepath.Clean(e.info.Path) != filepath.Clean(o.Path) {
		return ModelInfo{}, false, fmt.Errorf("%w: %q is loaded from %s, not %s", ErrModelExists, o.ID, e.info.Path, o.Path)
	}
	if e.unloading {
		return ModelInfo{}, false, fmt.Errorf("%w: %q is being unloaded; load it again once that is done", ErrModelBusy, o.ID)
	}
	return e.snapshot(), true, nil
}

// unreserve frees the names a load held.
func (r *Registry) unreserve(o LoadOptions) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range append([]string{o.ID}, o.Aliases...) {
		if r.pending[n] == o.ID {
			delete(r.pending, n)
		}
	}
}

// open loads a model file on a backend and builds its generator.
func (r *Registry) open(ctx context.Context, o LoadOptions) (_ *entry, err error) {
	open := gguf.Open
	if o.NoMmap {
		open = gguf.OpenRead
	}
	f, err := open(o.Path)
	if err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", o.Path, err)
	}
	e := &entry{file: f}
	ok := false
	defer func() { // also on a fault's panic, which guardFaults recovers above
		if !ok {
			e.free()
			e.admitted()
		}
	}()
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", o.Path, err)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", o.Path, err)
	}
	seqs := o.Seqs
	if seqs <= 0 {
		seqs = DefaultMaxParallel
	}
	nCtx := o.CtxSize
	if nCtx == 0 {
		nCtx = DefaultCtxSize(cfg, o.KV, 1)
	}
	maxCtx := o.MaxCtx
	if maxCtx <= 0 {
		maxCtx = cfg.NCtxTrain
	}
	if nCtx > maxCtx {
		return nil, fmt.Errorf("%w: ctx_size %d is larger than %d (the model's trained context is %d; the daemon's engine.max_ctx_size can raise the cap)",
			ErrBadLoad, nCtx, maxCtx, cfg.NCtxTrain)
	}
	blocks, nCtx, err := kvCacheBlocks(cfg, o, nCtx)
	if err != nil {
		return nil, err
	}
	if blocks == 0 {
		blocks = defaultKVBlocks(cfg, o.KV, seqs, nCtx)
	}
	if e.backend, err = openDevice(o.Device, BackendOptions{Threads: o.Threads, Exact: o.Exact}, r.log); err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", o.Path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	copts := ContextOptions{Seqs: seqs, Ctx: nCtx, Batch: o.Batch, KV: o.KV, Blocks: blocks}
	if err := CheckFit(e.backend, f, copts); err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", o.Path, err)
	}
	if o.Admit != nil {
		plan := Plan{ID: o.ID, Backend: e.backend.Name(), CtxSize: nCtx, CtxTrain: cfg.NCtxTrain}
		if plan.ContextBytes, err = ContextBytes(cfg, copts); err != nil {
			return nil, fmt.Errorf("engine: load %s: %w", o.Path, err)
		}
		for _, t := range f.Tensors {
			plan.WeightBytes += t.Size
		}
		if e.release, err = o.Admit(plan); err != nil {
			return nil, err
		}
	}
	m, err := LoadModel(f, e.backend)
	if err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", o.Path, invalidModel(err))
	}
	if err := ctx.Err(); err != nil { // nobody waits for it any more
		m.Free()
		return nil, err
	}
	c, err := m.NewContext(copts)
	if err != nil {
		m.Free()
		return nil, fmt.Errorf("engine: load %s: %w", o.Path, err)
	}
	tmpl, tmplErr := chat.FromSource(tok.ChatTemplate())
	if tmplErr != nil {
		r.log.Warn("chat template not supported; chat requests to this model will fail", "model", o.ID, "err", tmplErr)
	}
	e.gen = NewGenerator(m, c, tok, tmpl, tmplErr)
	e.gen.SetStepTokens(o.StepTokens)
	e.info = ModelInfo{
		ID: o.ID, Aliases: slices.Clone(o.Aliases), Path: o.Path, Source: o.Source, Arch: cfg.Arch,
		Backend: e.backend.Name(), CtxSize: c.Options().Ctx, CtxTrain: cfg.NCtxTrain, Seqs: seqs,
		WeightBytes: m.Bytes(), KVBytes: c.KVBytes(), LoadedAt: time.Now(),
	}
	e.info.MemoryBytes = e.info.WeightBytes + e.info.KVBytes
	e.info.MaxPromptBytes = e.gen.MaxPromptBytes()
	ok = true
	return e, nil
}

// kvCacheBlocks returns the blocks of the KV cache o asks for (0: the
// context's default) and the context size: a default one (o.CtxSize 0) is
// capped at what a cache of o.KVCache holds, and an explicit one must fit.
func kvCacheBlocks(cfg Config, o LoadOptions, nCtx int) (blocks, ctx int, err error) {
	if o.KVCache.IsZero() {
		return 0, nCtx, nil
	}
	blocks = o.KVCache.blocks(cfg, o.KV, DefaultBlockSize)
	if blocks < 1 {
		return 0, 0, fmt.Errorf("%w: kv_cache_size %s holds no block of %d positions (%d bytes each)",
			ErrBadLoad, o.KVCache, DefaultBlockSize, KVBlockBytes(cfg, o.KV, DefaultBlockSize))
	}
	if o.CtxSize == 0 {
		nCtx = min(max(nCtx, DefaultCtxSize(cfg, o.KV, 1)), blocks*DefaultBlockSize)
	}
	if nCtx > blocks*DefaultBlockSize {
		return 0, 0, fmt.Errorf("%w: ctx_size %d does not fit a kv cache of %d blocks (%d positions); raise kv_cache_size or lower ctx_size",
			ErrBadLoad, nCtx, blocks, blocks*DefaultBlockSize)
	}
	return blocks, nCtx, nil
}

// defaultKVBlocks is the KV cache of a load that does not size it: room
// for seqs sequences of nCtx positions, but no more than the 2 GiB default
// budget allows, and never less than one sequence of nCtx positions. Few
// requests fill their context: sequences that would overrun the cache
// together wait for their turn (their reservations, Context.Reserve).
func defaultKVBlocks(cfg Config, kv KVType, seqs, nCtx int) int {
	perSeq := (nCtx + DefaultBlockSize - 1) / DefaultBlockSize
	budget := int(defaultKVBudget / KVBlockBytes(cfg, kv, DefaultBlockSize))
	return min(seqs*perSeq, max(perSeq, budget))
}

// admitted ends the load's admission (LoadOptions.Admit), once.
func (e *entry) admitted() {
	if e.release != nil {
		e.release()
		e.release = nil
	}
}

// openDevice opens the device of a load, telling a malformed device string
// (ErrBadLoad) from a device this host cannot open (ErrDeviceUnavailable).
func openDevice(device string, opts BackendOptions, log *slog.Logger) (Backend, error) {
	if _, _, err := ParseDevice(device); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLoad, err)
	}
	b, err := OpenDevice(device, opts, log)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDeviceUnavailable, err)
	}
	return b, nil
}

// ParseDevice splits a device string: "" and "auto" give ("auto", -1),
// "cpu" ("cpu", -1), "cuda" ("cuda", -1: any device), "cuda:N" ("cuda", N).
func ParseDevice(s string) (name string, ordinal int, err error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "auto", -1, nil
	}
	name, ord, hasOrd := strings.Cut(s, ":")
	switch name {
	case "auto", "cpu", "cuda":
	default:
		return "", 0, fmt.Errorf("engine: device %q: want auto, cpu, cuda or cuda:N", s)
	}
	if !hasOrd {
		return name, -1, nil
	}
	n, err := strconv.Atoi(ord)
	if err != nil || n < 0 || name != "cuda" {
		return "", 0, fmt.Errorf("engine: device %q: want auto, cpu, cuda or cuda:N", s)
	}
	return name, n, nil
}

// snapshot copies the entry's info with the current in-flight count; the
// caller holds the registry lock.
func (e *entry) snapshot() ModelInfo {
	info := e.info
	info.Aliases = slices.Clone(info.Aliases)
	info.InFlight = e.inFlight
	if e.gen != nil {
		info.KV = e.gen.KVStats()
		st := e.gen.Stats()
		info.Running, info.Waiting = st.Running, st.Waiting
	}
	if err := e.failure(); err != nil {
		info.Error = err.Error()
	}
	return info
}

// free releases everything the entry holds, in dependency order.
func (e *entry) free() {
	if e.gen != nil {
		if e.gen.ctx != nil {
			e.gen.ctx.Free()
		}
		if e.gen.model != nil {
			e.gen.model.Free()
		}
	}
	if e.backend != nil {
		e.backend.Close()
	}
	if e.file != nil {
		e.file.Close()
	}
}

// List returns the loaded models, sorted by id. Each model's file is
// checked (one fstat): a model whose file changed on disk is reported with
// its Error.
func (r *Registry) List() []ModelInfo {
	r.mu.Lock()
	es := make([]*entry, 0, len(r.models))
	for _, e := range r.models {
		es = append(es, e)
	}
	r.mu.Unlock()
	for _, e := range es {
		e.health()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ModelInfo, 0, len(es))
	for _, e := range es {
		info := e.snapshot()
		if info.Error != "" && !e.failLog {
			e.failLog = true
			msg := "model failed"
			if h, ok := e.backend.(HealthReporter); ok && h.Failed() != nil {
				msg = "model backend failed"
			}
			r.log.Error(msg, "model", info.ID, "backend", info.Backend, "error", info.Error)
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b ModelInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// failure returns why the model can no longer serve as known so far: its
// generator's failure, else its backend's (HealthReporter), else nil.
func (e *entry) failure() error {
	if e.gen != nil {
		if err := e.gen.Failed(); err != nil {
			return err
		}
	}
	if h, ok := e.backend.(HealthReporter); ok {
		if err := h.Failed(); err != nil {
			return fmt.Errorf("%w: %w", ErrModelFailed, err)
		}
	}
	return nil
}

// health returns why the model can no longer serve, an error wrapping
// ErrModelFailed, or nil. A file that changed on disk fails the model.
func (e *entry) health() error {
	if err := e.failure(); err != nil {
		return err
	}
	if e.file == nil || e.gen == nil {
		return nil
	}
	if err := e.file.Check(); err != nil {
		e.gen.Fail(err)
		return e.gen.Failed()
	}
	return nil
}

// Acquire lends the generator of model id (or an alias) to one request. The
// model stays loaded until release is called; release may be called more
// than once. A model that failed (see ModelInfo.Error) is refused with an
// error wrapping ErrModelFailed.
func (r *Registry) Acquire(id string) (*Generator, func(), error) {
	r.mu.Lock()
	e := r.models[r.names[id]]
	if e == nil || e.unloading {
		r.mu.Unlock()
		return nil, nil, fmt.Errorf("%w: %q", ErrModelNotLoaded, id)
	}
	e.inFlight++
	r.mu.Unlock()
	var once sync.Once
	release := func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			e.inFlight--
			if e.inFlight == 0 && e.idle != nil {
				close(e.idle)
				e.idle = nil
			}
		})
	}
	if err := e.health(); err != nil {
		release()
		return nil, nil, err
	}
	return e.gen, release, nil
}

// Unload frees model id once no generation uses it. New requests are
// refused while it waits; if ctx ends first, the model stays loaded and
// Unload returns an error wrapping ErrModelBusy.
func (r *Registry) Unload(ctx context.Context, id string) error {
	r.mu.Lock()
	key := r.names[id]
	e := r.models[key]
	if e == nil || e.unloading {
		r.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrModelNotLoaded, id)
	}
	e.unloading = true
	var idle chan struct{}
	if e.inFlight > 0 {
		idle = make(chan struct{})
		e.idle = idle
	}
	r.mu.Unlock()
	if idle != nil {
		select {
		case <-idle:
		case <-ctx.Done():
			r.mu.Lock()
			n := e.inFlight
			if n == 0 { // the last request ended just now
				r.mu.Unlock()
				break
			}
			e.unloading = false
			e.idle = nil
			r.mu.Unlock()
			return fmt.Errorf("%w: %q has %d generations in flight: %w", ErrModelBusy, id, n, ctx.Err())
		}
	}
	r.mu.Lock()
	delete(r.models, key)
	for n, target := range r.names {
		if target == key {
			delete(r.names, n)
		}
	}
	r.mu.Unlock()
	e.free()
	r.log.Info("model unloaded", "model", key)
	return nil
}

// Close unloads every model, waiting for in-flight generations up to ctx's
// deadline; it returns the first error.
func (r *Registry) Close(ctx context.Context) error {
	var first error
	for _, m := range r.List() {
		if err := r.Unload(ctx, m.ID); err != nil && first == nil {
			first = err
		}
	}
	return first
}
