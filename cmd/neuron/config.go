// This file holds the daemon's configuration: the keys of neuron.toml, their
// defaults, and how a file, NEURON_* environment variables and flags combine
// (flags over environment over file over defaults, through viper). Unknown
// keys and invalid values are errors that name the key.

package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/service"
	"github.com/helexa/helexa/manager"
	"github.com/helexa/helexa/server"
)

// Config is the daemon's configuration.
type Config struct {
	Listen string `mapstructure:"listen"`
	// AdvertiseURL is the base URL (scheme://host:port) clients reach this
	// neuron at, for GET /models/{id}/endpoint; empty: the listen address.
	AdvertiseURL string `mapstructure:"advertise_url"`
	// CORSAllowedOrigins may call the OpenAI routes from a web page.
	CORSAllowedOrigins []string       `mapstructure:"cors_allowed_origins"`
	ReadHeaderTimeout  time.Duration  `mapstructure:"read_header_timeout"`
	ReadBodyTimeout    time.Duration  `mapstructure:"read_body_timeout"`
	IdleTimeout        time.Duration  `mapstructure:"idle_timeout"`
	APIKeys            []string       `mapstructure:"api_keys"`
	APIKeyFile         string         `mapstructure:"api_key_file"`
	MaxQueue           int            `mapstructure:"max_queue"`
	ShutdownTimeout    time.Duration  `mapstructure:"shutdown_timeout"`
	LogLevel           string         `mapstructure:"log_level"`
	LogFormat          string         `mapstructure:"log_format"`
	Hub                HubConfig      `mapstructure:"hub"`
	Engine             EngineConfig   `mapstructure:"engine"`
	DefaultModels      []DefaultModel `mapstructure:"default_models"`
	// AutoLoad loads a model a request names when it is not loaded;
	// Models is the catalog of models requests may name (ondemand.go).
	AutoLoad bool           `mapstructure:"auto_load"`
	Models   []DefaultModel `mapstructure:"models"`
	// Evict unloads idle models to make room for a load: "true" or
	// "false"; "auto" (the default) follows auto_load (ondemand.go).
	Evict string `mapstructure:"evict"`
	// KeepAlive is how long a model not from default_models may stay idle
	// before it is unloaded: a duration or seconds; negative or empty: for
	// ever, "0": once its request ends (ondemand.go).
	KeepAlive string `mapstructure:"keep_alive"`
	// MetricsRequireKey, when false, serves GET /metrics without a key even
	// when api_keys are set (for Prometheus and an endpoint picker).
	MetricsRequireKey bool `mapstructure:"metrics_require_key"`
}

// HubConfig is the [hub] table: where models come from.
type HubConfig struct {
	// CacheDir is the Hugging Face cache; empty uses HF_HUB_CACHE, HF_HOME
	// or ~/.cache/huggingface/hub.
	CacheDir string `mapstructure:"cache_dir"`
	// Token authenticates to gated repositories; empty uses HF_TOKEN.
	Token string `mapstructure:"token"`
	// Offline resolves models from the cache only.
	Offline bool `mapstructure:"offline"`
}

// EngineConfig is the [engine] table: defaults for every model.
type EngineConfig struct {
	Device  string `mapstructure:"device"`  // auto, cpu, cuda, cuda:N
	Threads int    `mapstructure:"threads"` // CPU workers; 0 = all cores
	Exact   bool   `mapstructure:"exact"`   // float32 activations in matrix products
	// Mmap maps model files; false reads them into process memory.
	Mmap      bool `mapstructure:"mmap"`
	CtxSize   int  `mapstructure:"ctx_size"`   // 0 = the engine's default for the model
	BatchSize int  `mapstructure:"batch_size"` // prefill chunk in tokens; 0 = the engine's default
	// MaxParallel is the sequences a model decodes at once; StepTokens the
	// tokens of one scheduler step (decode rows plus prompt chunks).
	MaxParallel int `mapstructure:"max_parallel"`
	StepTokens  int `mapstructure:"step_tokens"`
	// ModelDirs are where local model files may be loaded from (besides the
	// hub cache); empty: the directories of the default models; "*": any.
	ModelDirs []string `mapstructure:"model_dirs"`
	// KVCacheSize is the KV cache each model's sequences share ("2GiB",
	// "4096 blocks"); "" = room for every sequence to hold ctx_size.
	KVCacheSize string `mapstructure:"kv_cache_size"`
	// MaxCtxSize caps a load's ctx_size; 0: the model's trained context.
	MaxCtxSize      int `mapstructure:"max_ctx_size"`
	MaxLoadedModels int `mapstructure:"max_loaded_models"`
	// MaxMemory is the memory the loaded models may take together ("24GiB",
	// bytes); "0": 90% of the host's memory or cgroup limit.
	MaxMemory   string        `mapstructure:"max_memory"`
	LoadTimeout time.Duration `mapstructure:"load_timeout"`
}

// DefaultModel is one [[default_models]] entry, loaded at start.
type DefaultModel struct {
	Model   string `mapstructure:"model"`
	Alias   string `mapstructure:"alias"`
	CtxSize int    `mapstructure:"ctx_size"`
	Device  string `mapstructure:"device"`
	// KVCacheSize overrides engine.kv_cache_size for this model.
	KVCacheSize string `mapstructure:"kv_cache_size"`
	// MaxParallel overrides engine.max_parallel for this model.
	MaxParallel int `mapstructure:"max_parallel"`
	// StepTokens overrides engine.step_tokens for this model.
	StepTokens int `mapstructure:"step_tokens"`
}

// Defaults of the configuration keys.
const (
	defaultListen = "127.0.0.1:13131"
	// defaultShutdownTimeout stays under the unit's TimeoutStopSec=120 so
	// that systemd never has to kill a draining daemon.
	defaultShutdownTimeout = 110 * time.Second
	// defaultReadHeaderTimeout bounds the wait for a request's headers.
	defaultReadHeaderTimeout = 10 * time.Second
	// defaultReadBodyTimeout bounds reading a request body: generous for a
	// 16 MiB body on a slow link, finite for a client that trickles.
	defaultReadBodyTimeout = 60 * time.Second
	// defaultIdleTimeout closes keep-alive connections idle this long.
	defaultIdleTimeout = 2 * time.Minute
	// defaultKeepAlive keeps loaded models for ever (a server's fixed set).
	defaultKeepAlive = "-1"
	// maxMaxQueue bounds max_queue: beyond it a queue only hides overload.
	maxMaxQueue = 100000
	// maxMaxParallel bounds max_parallel: each sequence holds a slot's
	// sampler and logits (a vocabulary of floats).
	maxMaxParallel = 256
)

// configKeys are every key with its default; nested keys are dotted.
var configKeys = map[string]any{
	"listen":                   defaultListen,
	"advertise_url":            "",
	"cors_allowed_origins":     []string{},
	"read_header_timeout":      defaultReadHeaderTimeout,
	"read_body_timeout":        defaultReadBodyTimeout,
	"idle_timeout":             defaultIdleTimeout,
	"api_keys":                 []string{},
	"api_key_file":             "",
	"metrics_require_key":      true,
	"max_queue":                server.DefaultMaxQueue,
	"shutdown_timeout":         defaultShutdownTimeout,
	"log_level":                "info",
	"log_format":               "text",
	"hub.cache_dir":            "",
	"hub.token":                "",
	"hub.offline":              false,
	"engine.device":            "auto",
	"engine.threads":           0,
	"engine.exact":             false,
	"engine.mmap":              true,
	"engine.ctx_size":          0,
	"engine.batch_size":        0,
	"engine.max_parallel":      engine.DefaultMaxParallel,
	"engine.step_tokens":       engine.DefaultStepTokens,
	"engine.model_dirs":        []string{},
	"engine.max_ctx_size":      0,
	"engine.max_loaded_models": manager.DefaultMaxLoadedModels,
	"engine.max_memory":        "0",
	"engine.kv_cache_size":     "",
	"engine.load_timeout":      manager.DefaultLoadTimeout,
	"default_models":           []DefaultModel{},
	"auto_load":                false,
	"models":                   []DefaultModel{},
	"keep_alive":               defaultKeepAlive,
	"evict":                    "auto",
}

// defaultModelKeys are the keys of a [[default_models]] entry.
var defaultModelKeys = []string{"model", "alias", "ctx_size", "device", "kv_cache_size", "max_parallel", "step_tokens"}

// envPrefix prefixes the environment variables: NEURON_LISTEN,
// NEURON_HUB_CACHE_DIR, NEURON_ENGINE_DEVICE, ...
const envPrefix = "NEURON"

// envName is the environment variable of a key.
func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// configFlags are the serve command's flags and the keys they set.
var configFlags = []struct {
	flag, key, usage string
}{
	{"listen", "listen", "address to listen on (host:port)"},
	{"api-key", "api_keys", "API key clients must send as a bearer token (repeatable)"},
	{"api-key-file", "api_key_file", "file with one API key per line"},
	{"metrics-require-key", "metrics_require_key", "GET /metrics needs an API key when keys are set (false: open to scrapers)"},
	{"max-queue", "max_queue", "requests that may wait per model before 503"},
	{"shutdown-timeout", "shutdown_timeout", "how long running requests may finish at shutdown"},
	{"log-level", "log_level", "debug, info, warn or error"},
	{"log-format", "log_format", "text or json"},
	{"hub-cache-dir", "hub.cache_dir", "Hugging Face cache directory"},
	{"hub-token", "hub.token", "Hugging Face access token"},
	{"hub-offline", "hub.offline", "resolve models from the cache only"},
	{"device", "engine.device", "default device: auto, cpu, cuda or cuda:N"},
	{"threads", "engine.threads", "CPU worker threads (0: all cores; fewer run while other processes keep cores busy)"},
	{"kv-cache-size", "engine.kv_cache_size", "KV cache per model, in memory (2GiB) or blocks (4096 blocks); empty: every sequence holds ctx_size"},
	{"exact", "engine.exact", "CPU: float32 activations in matrix products (no 8-bit quantization or BF16 rounding; slower)"},
	{"mmap", "engine.mmap", "map model files (false: read them into process memory, which the kernel cannot evict)"},
	{"ctx-size", "engine.ctx_size", "default context size in tokens (0: the engine's default)"},
	{"batch-size", "engine.batch_size", "prefill chunk in tokens (0: the engine's default)"},
	{"max-parallel", "engine.max_parallel", "sequences a model decodes at once"},
	{"step-tokens", "engine.step_tokens", "tokens of one scheduler step: decode rows plus prompt chunks"},
}

// addConfigFlags defines the configuration flags on fs.
func addConfigFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "configuration file (TOML; see neuron.example.toml)")
	fs.StringArray("model", nil, "model to load at start, a hub reference or a path (repeatable; added to default_models)")
	for _, f := range configFlags {
		switch d := configKeys[f.key].(type) {
		case string:
			fs.String(f.flag, d, f.usage)
		case []string:
			fs.StringSlice(f.flag, d, f.usage)
		case int:
			fs.Int(f.flag, d, f.usage)
		case bool:
			fs.Bool(f.flag, d, f.usage)
		case time.Duration:
			fs.Duration(f.flag, d, f.usage)
		default:
			panic(fmt.Sprintf("config flag %s: unhandled default %T", f.flag, d))
		}
	}
}

// loadConfig reads the configuration: the file named by --config (if any),
// then NEURON_* variables from environ, then the flags that were set. Every
// --model adds a default model.
func loadConfig(fs *pflag.FlagSet, environ []string) (*Config, error) {
	v := viper.New()
	for k, d := range configKeys {
		v.SetDefault(k, d)
	}
	path, _ := fs.GetString("config")
	if path != "" {
		if err := checkConfigFile(path); err != nil {
			return nil, err
		}
		v.SetConfigFile(path)
		v.SetConfigType("toml")
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	env, err := configEnv(environ)
	if err != nil {
		return nil, err
	}
	for k, val := range env {
		v.Set(k, val)
	}
	for _, f := range configFlags {
		if fl := fs.Lookup(f.flag); fl != nil && fl.Changed {
			v.Set(f.key, flagValue(fs, f.flag, configKeys[f.key]))
		}
	}

	var c Config
	hook := mapstructure.ComposeDecodeHookFunc(service.SecondsToDuration, mapstructure.StringToTimeDurationHookFunc(),
		stringToDefaultModel, mapstructure.StringToSliceHookFunc(","))
	if err := v.Unmarshal(&c, viper.DecodeHook(hook)); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	models, _ := fs.GetStringArray("model")
	for _, m := range models {
		c.DefaultModels = append(c.DefaultModels, DefaultModel{Model: m})
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.APIKeyFile != "" {
		keys, err := readKeyFile(c.APIKeyFile)
		if err != nil {
			return nil, err
		}
		c.APIKeys = append(c.APIKeys, keys...)
	}
	return &c, nil
}

// flagValue reads a flag with the type of its key's default.
func flagValue(fs *pflag.FlagSet, name string, def any) any {
	switch def.(type) {
	case []string:
		v, _ := fs.GetStringSlice(name)
		return v
	case int:
		v, _ := fs.GetInt(name)
		return v
	case bool:
		v, _ := fs.GetBool(name)
		return v
	case time.Duration:
		v, _ := fs.GetDuration(name)
		return v
	}
	v, _ := fs.GetString(name)
	return v
}

// configEnv collects the NEURON_* variables as keys; an unknown NEURON_*
// variable is an error, as an unknown key in the file is.
func configEnv(environ []string) (map[string]string, error) {
	byEnv := map[string]string{}
	for k := range configKeys {
		byEnv[envName(k)] = k
	}
	out := map[string]string{}
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix+"_") {
			continue
		}
		key, ok := byEnv[name]
		if !ok {
			return nil, fmt.Errorf("config: unknown environment variable %s (known: %s)", name, strings.Join(sortedKeys(byEnv), ", "))
		}
		out[key] = val
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// checkConfigFile rejects keys the configuration does not have, naming
// them with their table (engine.devcie, default_models[1].aliass).
func checkConfigFile(path string) error {
	raw := viper.New()
	raw.SetConfigFile(path)
	raw.SetConfigType("toml")
	if err := raw.ReadInConfig(); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	var unknown []string
	for key, val := range raw.AllSettings() {
		switch t := val.(type) {
		case map[string]any:
			for sub := range t {
				if _, ok := configKeys[key+"."+sub]; !ok {
					unknown = append(unknown, key+"."+sub)
				}
			}
			if _, ok := configKeys[key]; ok {
				unknown = append(unknown, key+" (not a table)")
			}
			continue
		case []any:
			if key == "default_models" || key == "models" {
				for i, e := range t {
					m, ok := e.(map[string]any)
					if !ok {
						return fmt.Errorf("config %s: %s[%d]: want a table with model, alias, ctx_size, device, kv_cache_size, max_parallel, step_tokens", path, key, i)
					}
					for sub := range m {
						if !slices.Contains(defaultModelKeys, sub) {
							unknown = append(unknown, fmt.Sprintf("%s[%d].%s", key, i, sub))
						}
					}
				}
				continue
			}
		}
		if _, ok := configKeys[key]; !ok || strings.Contains(key, ".") {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config %s: unknown key %s", path, strings.Join(unknown, ", "))
	}
	return nil
}

// stringToDefaultModel reads a bare reference as a default model, so that
// NEURON_DEFAULT_MODELS=ref1,ref2 works.
func stringToDefaultModel(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String {
		return data, nil
	}
	switch to {
	case reflect.TypeOf(DefaultModel{}):
		return DefaultModel{Model: strings.TrimSpace(data.(string))}, nil
	case reflect.TypeOf([]DefaultModel{}):
		var out []DefaultModel
		for _, ref := range strings.Split(data.(string), ",") {
			if ref = strings.TrimSpace(ref); ref != "" {
				out = append(out, DefaultModel{Model: ref})
			}
		}
		return out, nil
	}
	return data, nil
}

// validate checks every value, naming the key of the first bad one.
func (c *Config) validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		return bad("listen", "want host:port, got %q", c.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return bad("listen", "port %q is not a number from 0 to 65535", port)
	}
	if c.MaxQueue < 0 || c.MaxQueue > maxMaxQueue {
		return bad("max_queue", "want 0 to %d, got %d", maxMaxQueue, c.MaxQueue)
	}
	if c.ShutdownTimeout < 0 {
		return bad("shutdown_timeout", "must not be negative, got %s", c.ShutdownTimeout)
	}
	if _, err := service.ParseLogLevel(c.LogLevel); err != nil {
		return bad("log_level", "%v", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("log_format", "want text or json, got %q", c.LogFormat)
	}
	for i, k := range c.APIKeys {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t\r\n") {
			return bad("api_keys", "key %d is empty or contains whitespace", i)
		}
	}
	if !api.ValidDevice(c.Engine.Device) {
		return bad("engine.device", "want auto, cpu, cuda or cuda:N, got %q", c.Engine.Device)
	}
	if c.Engine.Threads < 0 {
		return bad("engine.threads", "must not be negative, got %d", c.Engine.Threads)
	}
	if _, err := engine.ParseKVCacheSize(c.Engine.KVCacheSize); err != nil {
		return bad("engine.kv_cache_size", "%v", err)
	}
	if c.Engine.CtxSize < 0 {
		return bad("engine.ctx_size", "must not be negative, got %d", c.Engine.CtxSize)
	}
	if c.Engine.BatchSize < 0 {
		return bad("engine.batch_size", "must not be negative, got %d", c.Engine.BatchSize)
	}
	if c.Engine.MaxParallel < 1 || c.Engine.MaxParallel > maxMaxParallel {
		return bad("engine.max_parallel", "want 1 to %d, got %d", maxMaxParallel, c.Engine.MaxParallel)
	}
	if c.Engine.StepTokens < 1 {
		return bad("engine.step_tokens", "must be positive, got %d", c.Engine.StepTokens)
	}
	if err := c.validateLimits(bad); err != nil {
		return err
	}
	if _, err := c.keepAlive(); err != nil {
		return bad("keep_alive", "%v", err)
	}
	if _, err := c.evict(); err != nil {
		return bad("evict", "%v", err)
	}
	if err := validateModelList("default_models", c.DefaultModels, bad); err != nil {
		return err
	}
	return validateModelList("models", c.Models, bad)
}

// validateModelList checks the entries of [[default_models]] or [[models]]:
// a model each, valid ctx_size and device, and no id twice.
func validateModelList(table string, models []DefaultModel, bad func(key, format string, args ...any) error) error {
	ids := map[string]int{}
	for i, m := range models {
		key := fmt.Sprintf("%s[%d]", table, i)
		if strings.TrimSpace(m.Model) == "" {
			return bad(key+".model", "is required")
		}
		if m.CtxSize < 0 {
			return bad(key+".ctx_size", "must not be negative, got %d", m.CtxSize)
		}
		if m.Device != "" && !api.ValidDevice(m.Device) {
			return bad(key+".device", "want auto, cpu, cuda or cuda:N, got %q", m.Device)
		}
		if _, err := engine.ParseKVCacheSize(m.KVCacheSize); err != nil {
			return bad(key+".kv_cache_size", "%v", err)
		}
		if m.MaxParallel < 0 || m.MaxParallel > maxMaxParallel {
			return bad(key+".max_parallel", "want 0 (engine.max_parallel) to %d, got %d", maxMaxParallel, m.MaxParallel)
		}
		if m.StepTokens < 0 {
			return bad(key+".step_tokens", "must not be negative, got %d", m.StepTokens)
		}
		id := m.Alias
		if id == "" {
			id = m.Model
		}
		if j, dup := ids[id]; dup {
			return bad(key, "model id %q is also %s[%d]'s", id, table, j)
		}
		ids[id] = i
	}
	return nil
}

// readKeyFile reads API keys, one per line; blank lines and lines starting
// with # are skipped.
func readKeyFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: api_key_file: %w", err)
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("config: api_key_file %s: line %d: a key must not contain whitespace", path, n)
		}
		keys = append(keys, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config: api_key_file %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, errors.New("config: api_key_file " + path + ": no keys in the file")
	}
	return keys, nil
}

// loadRequests turns the default models into load requests; the model
// manager fills in the [engine] defaults for the fields left empty.
func (c *Config) loadRequests() []api.LoadRequest { return toLoadRequests(c.DefaultModels) }

// toLoadRequests turns [[default_models]] or [[models]] entries into load
// requests.
func toLoadRequests(models []DefaultModel) []api.LoadRequest {
	out := make([]api.LoadRequest, 0, len(models))
	for _, m := range models {
		out = append(out, api.LoadRequest{Model: m.Model, Alias: m.Alias, CtxSize: m.CtxSize, Device: m.Device, KVCacheSize: m.KVCacheSize,
			MaxParallel: m.MaxParallel, StepTokens: m.StepTokens})
	}
	return out
}
