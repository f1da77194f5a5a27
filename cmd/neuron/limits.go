// This file holds the configuration of the daemon's limits — timeouts, the
// advertised URL, CORS origins, model directories, the caps on context size,
// loaded models and memory — their validation, and the options they give
// the model manager and the server.

package main

import (
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/hub"
	"github.com/helexa/helexa/manager"
)

// validateLimits checks the limit keys; bad formats the error of a key.
func (c *Config) validateLimits(bad func(key, format string, args ...any) error) error {
	for key, d := range map[string]interface{ Seconds() float64 }{
		"read_header_timeout": c.ReadHeaderTimeout, "read_body_timeout": c.ReadBodyTimeout,
		"idle_timeout": c.IdleTimeout, "engine.load_timeout": c.Engine.LoadTimeout,
	} {
		if d.Seconds() < 0 {
			return bad(key, "must not be negative, got %gs", d.Seconds())
		}
	}
	if c.AdvertiseURL != "" {
		u, err := url.Parse(c.AdvertiseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("advertise_url", "want http(s)://host[:port], got %q", c.AdvertiseURL)
		}
	}
	for _, o := range c.CORSAllowedOrigins {
		if o == "*" {
			continue
		}
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			return bad("cors_allowed_origins", "want origins like https://app.example.com or *, got %q", o)
		}
	}
	if c.Engine.MaxCtxSize < 0 {
		return bad("engine.max_ctx_size", "must not be negative, got %d", c.Engine.MaxCtxSize)
	}
	if c.Engine.MaxLoadedModels < 0 {
		return bad("engine.max_loaded_models", "must not be negative, got %d", c.Engine.MaxLoadedModels)
	}
	if _, err := parseBytes(c.Engine.MaxMemory); err != nil {
		return bad("engine.max_memory", "%v", err)
	}
	for _, d := range c.Engine.ModelDirs {
		if strings.TrimSpace(d) == "" {
			return bad("engine.model_dirs", "an entry is empty")
		}
	}
	return nil
}

// parseBytes reads a size: a number of bytes or a number with a unit (KB,
// MiB, G, ...; powers of 1024 with "i", of 1000 without). "" is 0.
func parseBytes(s string) (int64, error) { return engine.ParseBytes(s) }

// modelDirs are the directories local models may load from: the configured
// ones, else the directories of the local default models.
func (c *Config) modelDirs() []string {
	if len(c.Engine.ModelDirs) > 0 {
		return c.Engine.ModelDirs
	}
	var dirs []string
	for _, m := range append(slices.Clip(c.DefaultModels), c.Models...) {
		if manager.IsLocalRef(m.Model) {
			if abs, err := filepath.Abs(m.Model); err == nil {
				dirs = append(dirs, filepath.Dir(abs))
			}
		}
	}
	return dirs
}

// newEngineManager builds the model manager of the configuration.
func newEngineManager(cfg *Config, log *slog.Logger) *manager.Manager {
	ho := hub.DefaultOptions()
	if cfg.Hub.CacheDir != "" {
		ho.CacheDir = cfg.Hub.CacheDir
	}
	if cfg.Hub.Token != "" {
		ho.Token = cfg.Hub.Token
	}
	ho.Offline = ho.Offline || cfg.Hub.Offline
	// kv_cache_size is validated, as max_memory is.
	kvSize, _ := engine.ParseKVCacheSize(cfg.Engine.KVCacheSize)
	maxMem, _ := parseBytes(cfg.Engine.MaxMemory) // validated
	return manager.New(manager.Options{
		Device: cfg.Engine.Device, Threads: cfg.Engine.Threads, CtxSize: cfg.Engine.CtxSize, BatchSize: cfg.Engine.BatchSize,
		MaxParallel: cfg.Engine.MaxParallel, StepTokens: cfg.Engine.StepTokens,
		Exact:  cfg.Engine.Exact,
		NoMmap: !cfg.Engine.Mmap,
		MaxCtx: cfg.Engine.MaxCtxSize, ModelDirs: cfg.modelDirs(), MaxLoadedModels: cfg.Engine.MaxLoadedModels,
		MaxMemory: maxMem, LoadTimeout: cfg.Engine.LoadTimeout, Hub: ho, Log: log,
		KVCacheSize: kvSize,
	})
}
