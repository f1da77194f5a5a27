// This file adapts the engine's model registry and generators to the
// interfaces package server defines (server.ModelManager, server.Generator),
// resolving model references through the Hugging Face hub client: a hub
// reference is downloaded into the cache (progress in the log), a local path
// is used as it is.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/hub"
	"github.com/helexa/helexa/server"
)

// progressEvery is how often a download logs its progress per file: often
// enough to show life in the journal, rarely enough not to flood it.
const progressEvery = 5 * time.Second

// engineManager is the server's ModelManager over an engine.Registry.
type engineManager struct {
	reg *engine.Registry
	cfg EngineConfig
	log *slog.Logger
	// hub resolves references; nil when the hub client could not be made
	// (hubErr says why), in which case only local paths load.
	hub    *hub.Client
	hubErr error

	mu sync.Mutex
	// kv counts the KV-cache positions in use per model id.
	kv map[string]*atomic.Int64
}

// newEngineManager builds the manager from the configuration.
func newEngineManager(cfg *Config, log *slog.Logger) *engineManager {
	m := &engineManager{reg: engine.NewRegistry(log), cfg: cfg.Engine, log: log, kv: map[string]*atomic.Int64{}}
	o := hub.DefaultOptions()
	if cfg.Hub.CacheDir != "" {
		o.CacheDir = cfg.Hub.CacheDir
	}
	if cfg.Hub.Token != "" {
		o.Token = cfg.Hub.Token
	}
	o.Offline = o.Offline || cfg.Hub.Offline
	o.Progress = m.progressLogger()
	m.hub, m.hubErr = hub.New(o)
	if m.hubErr != nil {
		log.Warn("hub client unavailable, only local model paths will load", "error", m.hubErr.Error())
	} else {
		log.Info("hub cache", "dir", m.hub.CacheDir(), "offline", o.Offline)
	}
	return m
}

// progressLogger returns a hub progress callback that logs each file's
// download at most every progressEvery (hub.ProgressEvery sets the pace)
// and when it completes.
func (m *engineManager) progressLogger() func(hub.Progress) {
	return hub.ProgressEvery(progressEvery, func(p hub.Progress) {
		done := p.Total > 0 && p.Done >= p.Total
		attrs := []any{"file", p.File, "done_bytes", p.Done, "total_bytes", p.Total,
			"mb_per_s", float64(int64(p.BytesPerSec/1e4)) / 100}
		if p.Total > 0 {
			attrs = append(attrs, "percent", float64(p.Done*1000/p.Total)/10)
			if p.BytesPerSec > 0 && !done {
				attrs = append(attrs, "eta", (time.Duration(float64(p.Total-p.Done)/p.BytesPerSec) * time.Second).Round(time.Second).String())
			}
		}
		if done {
			m.log.Info("download complete", attrs...)
		} else {
			m.log.Info("downloading", attrs...)
		}
	})
}

// resolve returns the local file of a model reference.
func (m *engineManager) resolve(ctx context.Context, ref string) (string, error) {
	if m.hub == nil {
		if st, err := os.Stat(ref); err == nil && !st.IsDir() {
			return ref, nil
		}
		return "", server.WithKind(server.ErrModelNotFound,
			fmt.Errorf("model %q is not a local file and the hub client is unavailable: %w", ref, m.hubErr))
	}
	path, err := m.hub.Resolve(ctx, ref)
	switch {
	case err == nil:
		return path, nil
	case errors.Is(err, hub.ErrOffline):
		return "", server.WithKind(server.ErrModelNotFound,
			fmt.Errorf("model %q is not in the hub cache and the hub is offline (hub.offline or HF_HUB_OFFLINE); run `neuron pull %s` where the hub is reachable: %w", ref, ref, err))
	case errors.Is(err, hub.ErrNotFound):
		return "", server.WithKind(server.ErrModelNotFound, fmt.Errorf("model %q: %w", ref, err))
	case errors.Is(err, hub.ErrInvalidRef), errors.Is(err, hub.ErrAmbiguous):
		return "", server.WithKind(server.ErrInvalidRequest, fmt.Errorf("model %q: %w", ref, err))
	case errors.Is(err, hub.ErrUnauthorized):
		return "", server.WithKind(server.ErrInvalidRequest,
			fmt.Errorf("model %q: %w (set hub.token or HF_TOKEN for gated or private repositories)", ref, err))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "", err
	}
	return "", server.WithKind(server.ErrUnavailable, fmt.Errorf("model %q could not be fetched: %w", ref, err))
}

// Load resolves and loads a model with the engine defaults applied.
func (m *engineManager) Load(ctx context.Context, req api.LoadRequest) (server.ModelInfo, error) {
	path, err := m.resolve(ctx, req.Model)
	if err != nil {
		return server.ModelInfo{}, err
	}
	o := engine.LoadOptions{
		Path:    path,
		ID:      req.Model,
		Source:  req.Model,
		CtxSize: m.cfg.CtxSize,
		Batch:   m.cfg.BatchSize,
		Device:  m.cfg.Device,
		Threads: m.cfg.Threads,
	}
	if req.Alias != "" {
		o.ID = req.Alias
	}
	if req.CtxSize > 0 {
		o.CtxSize = req.CtxSize
	}
	if req.Device != "" {
		o.Device = req.Device
	}
	info, err := m.reg.Load(ctx, o)
	if err != nil {
		if errors.Is(err, engine.ErrModelExists) || errors.Is(err, gguf.ErrCorrupt) || errors.Is(err, gguf.ErrUnsupported) {
			return server.ModelInfo{}, server.WithKind(server.ErrInvalidRequest, err)
		}
		return server.ModelInfo{}, err
	}
	m.kvCounter(info.ID)
	return m.info(info), nil
}

// kvCounter returns the KV-position counter of a model id, creating it.
func (m *engineManager) kvCounter(id string) *atomic.Int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.kv[id]
	if c == nil {
		c = new(atomic.Int64)
		m.kv[id] = c
	}
	return c
}

// info converts the engine's model description. The engine reports the
// backend only, so the device is the backend's name (cpu, cuda).
func (m *engineManager) info(e engine.ModelInfo) server.ModelInfo {
	si := server.ModelInfo{ID: e.ID, Source: e.Source, Path: e.Path, Backend: e.Backend, Device: e.Backend,
		CtxSize: e.CtxSize, KVSlots: e.Seqs, MemoryBytes: e.MemoryBytes, LoadedAt: e.LoadedAt, Error: e.Error}
	m.mu.Lock()
	used := m.kv[e.ID]
	m.mu.Unlock()
	if capacity := e.CtxSize * max(e.Seqs, 1); used != nil && capacity > 0 {
		si.KVCacheUsage = min(float64(used.Load())/float64(capacity), 1)
	}
	return si
}

// Unload frees a model.
func (m *engineManager) Unload(ctx context.Context, id string) error {
	if err := m.reg.Unload(ctx, id); err != nil {
		switch {
		case errors.Is(err, engine.ErrModelNotLoaded):
			return server.WithKind(server.ErrModelNotFound, err)
		case errors.Is(err, engine.ErrModelBusy):
			return server.WithKind(server.ErrBusy, err)
		}
		return err
	}
	m.mu.Lock()
	delete(m.kv, id)
	m.mu.Unlock()
	return nil
}

// List describes the loaded models.
func (m *engineManager) List() []server.ModelInfo {
	var out []server.ModelInfo
	for _, e := range m.reg.List() {
		out = append(out, m.info(e))
	}
	return out
}

// Acquire lends out a model's generator.
func (m *engineManager) Acquire(id string) (server.Generator, func(), error) {
	g, release, err := m.reg.Acquire(id)
	if err != nil {
		if errors.Is(err, engine.ErrModelNotLoaded) {
			return nil, nil, server.WithKind(server.ErrModelNotFound, err)
		}
		return nil, nil, err
	}
	return &engineGenerator{g: g, used: m.kvCounter(id)}, release, nil
}

// engineGenerator is the server's Generator over an engine.Generator.
type engineGenerator struct {
	g    *engine.Generator
	used *atomic.Int64 // KV positions in use by this model's sequences
}

// Generate converts the request, runs it and converts its output.
func (e *engineGenerator) Generate(ctx context.Context, req *server.GenerateRequest, emit func(server.Delta) error) (*server.Result, error) {
	er := engine.GenerateRequest{
		MaxTokens:   req.MaxTokens,
		Stop:        req.Stop,
		Logprobs:    req.Logprobs,
		TopLogprobs: req.TopLogprobs,
		JSON:        req.JSONMode,
		Sampling: engine.SamplingParams{
			Temperature: req.Sampling.Temperature, TopP: req.Sampling.TopP, MinP: req.Sampling.MinP,
			TopK: req.Sampling.TopK, RepetitionPenalty: req.Sampling.RepetitionPenalty,
			PresencePenalty: req.Sampling.PresencePenalty, FrequencyPenalty: req.Sampling.FrequencyPenalty,
			LogitBias: req.Sampling.LogitBias, Seed: req.Sampling.Seed,
		},
	}
	switch {
	case req.Messages != nil:
		er.Chat = &chat.Request{Messages: req.Messages, Tools: req.Tools, EnableThinking: req.EnableThinking,
			AddGenerationPrompt: true}
	case len(req.Tokens) > 0:
		er.Tokens = req.Tokens
	default:
		er.Prompt = req.Prompt
	}
	// KV usage: the prompt's positions once the engine has tokenized it
	// and the request holds a sequence slot, then one per generated token;
	// all released when the request ends.
	var used int64
	er.OnPrompt = func(n int) {
		used += int64(n)
		e.used.Add(int64(n))
	}
	defer func() { e.used.Add(-used) }()

	res, err := e.g.Generate(ctx, er, func(ev engine.Event) error {
		used += int64(len(ev.Tokens))
		e.used.Add(int64(len(ev.Tokens)))
		return emit(server.Delta{Content: ev.Content, Reasoning: ev.Reasoning, ToolCalls: ev.ToolCalls,
			Tokens: len(ev.Tokens), Logprobs: logprobs(ev.Logprobs)})
	})
	if err != nil {
		var cl *engine.ContextLengthError
		switch {
		case errors.As(err, &cl):
			return nil, &server.ContextLengthError{Prompt: cl.Prompt, Requested: cl.Requested, Ctx: cl.Ctx}
		case errors.Is(err, engine.ErrBadRequest):
			return nil, server.WithKind(server.ErrInvalidRequest, err)
		case errors.Is(err, engine.ErrModelNotLoaded):
			return nil, server.WithKind(server.ErrModelNotFound, err)
		}
		return nil, err
	}
	return &server.Result{FinishReason: res.FinishReason, PromptTokens: res.Usage.PromptTokens,
		CompletionTokens: res.Usage.CompletionTokens}, nil
}

// logprobs converts the engine's token log probabilities to the API's.
func logprobs(in []engine.TokenLogprob) []api.TokenLogprob {
	if len(in) == 0 {
		return nil
	}
	out := make([]api.TokenLogprob, len(in))
	for i, lp := range in {
		top := make([]api.TopLogprob, len(lp.Top))
		for j, t := range lp.Top {
			top[j] = api.TopLogprob{Token: t.Text, Logprob: float64(t.Logprob), Bytes: textBytes(t.Text)}
		}
		out[i] = api.TokenLogprob{Token: lp.Text, Logprob: float64(lp.Logprob), Bytes: textBytes(lp.Text), TopLogprobs: top}
	}
	return out
}

// textBytes is a token's text as the list of byte values the API sends.
func textBytes(s string) []int {
	b := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		b[i] = int(s[i])
	}
	return b
}
