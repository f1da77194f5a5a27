// Tests of the daemon configuration: defaults, the example file, precedence
// of flags over environment over file, and errors that name the key.

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

// parseConfig loads a configuration from a file body (none when empty), an
// environment and command-line flags.
func parseConfig(t *testing.T, file string, env []string, args ...string) (*Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addConfigFlags(fs)
	if file != "" {
		path := filepath.Join(t.TempDir(), "neuron.toml")
		if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadConfig(fs, env)
}

func TestConfigDefaults(t *testing.T) {
	c, err := parseConfig(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{Listen: "127.0.0.1:13131", APIKeys: []string{}, MaxQueue: 64, ShutdownTimeout: 110 * time.Second,
		LogLevel: "info", LogFormat: "text", Engine: EngineConfig{Device: "auto", Mmap: true, ModelDirs: []string{}, MaxLoadedModels: 8,
			MaxParallel: engine.DefaultMaxParallel, StepTokens: engine.DefaultStepTokens, MaxMemory: "0", LoadTimeout: 30 * time.Minute}, DefaultModels: []DefaultModel{}, Models: []DefaultModel{}, KeepAlive: defaultKeepAlive, Evict: "auto",
		CORSAllowedOrigins: []string{}, ReadHeaderTimeout: 10 * time.Second, ReadBodyTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
		MetricsRequireKey: true}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", c, want)
	}
}

func TestConfigExampleFile(t *testing.T) {
	root, err := reftest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(root, "neuron.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig(t, string(body), nil, "--model", "Qwen/Qwen3-0.6B-GGUF:Q8_0")
	if err != nil {
		t.Fatalf("example configuration: %v", err)
	}
	if c.Listen != defaultListen || c.ShutdownTimeout != defaultShutdownTimeout || c.MaxQueue != 64 {
		t.Errorf("example differs from the defaults: %+v", c)
	}
	if len(c.DefaultModels) != 1 || c.DefaultModels[0].Model != "Qwen/Qwen3-0.6B-GGUF:Q8_0" {
		t.Errorf("--model not added: %+v", c.DefaultModels)
	}
	// Every key of the configuration is documented in the example.
	for k := range configKeys {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(string(body), leaf) {
			t.Errorf("key %s is not in neuron.example.toml", k)
		}
	}
	for _, k := range defaultModelKeys {
		if !strings.Contains(string(body), "# "+k) {
			t.Errorf("default_models key %s is not documented", k)
		}
	}
}

const fullConfig = `
listen = "0.0.0.0:9000"
api_keys = ["a", "b"]
max_queue = 3
shutdown_timeout = 30
log_level = "debug"
log_format = "json"
[hub]
cache_dir = "/cache"
token = "hf_x"
offline = true
[engine]
device = "cuda:1"
threads = 4
ctx_size = 2048
batch_size = 256
[[default_models]]
model = "Qwen/Qwen3-0.6B-GGUF:Q8_0"
alias = "small"
ctx_size = 1024
device = "cpu"
[[default_models]]
model = "/models/x.gguf"
`

func TestConfigFileEnvFlags(t *testing.T) {
	c, err := parseConfig(t, fullConfig, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{Listen: "0.0.0.0:9000", APIKeys: []string{"a", "b"}, MaxQueue: 3, ShutdownTimeout: 30 * time.Second,
		LogLevel: "debug", LogFormat: "json", Hub: HubConfig{CacheDir: "/cache", Token: "hf_x", Offline: true},
		Engine: EngineConfig{Device: "cuda:1", Threads: 4, Mmap: true, CtxSize: 2048, BatchSize: 256, ModelDirs: []string{}, MaxLoadedModels: 8,
			MaxParallel: engine.DefaultMaxParallel, StepTokens: engine.DefaultStepTokens, MaxMemory: "0", LoadTimeout: 30 * time.Minute},
		DefaultModels: []DefaultModel{{Model: "Qwen/Qwen3-0.6B-GGUF:Q8_0", Alias: "small", CtxSize: 1024, Device: "cpu"},
			{Model: "/models/x.gguf"}}, Models: []DefaultModel{}, KeepAlive: defaultKeepAlive, Evict: "auto",
		CORSAllowedOrigins: []string{}, ReadHeaderTimeout: 10 * time.Second, ReadBodyTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
		MetricsRequireKey: true}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("file\n got %+v\nwant %+v", c, want)
	}

	env := []string{"NEURON_LISTEN=127.0.0.1:1", "NEURON_ENGINE_THREADS=2", "NEURON_HUB_OFFLINE=false",
		"NEURON_API_KEYS=x,y", "NEURON_SHUTDOWN_TIMEOUT=5s", "NEURON_DEFAULT_MODELS=a.gguf,b.gguf", "HOME=/root"}
	c, err = parseConfig(t, fullConfig, env, "--listen", "127.0.0.1:2", "--max-queue", "9", "--model", "c.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:2" {
		t.Errorf("flag must beat env: listen %q", c.Listen)
	}
	if c.Engine.Threads != 2 || c.Hub.Offline || c.ShutdownTimeout != 5*time.Second || c.MaxQueue != 9 {
		t.Errorf("env/flag overrides lost: %+v", c)
	}
	if !reflect.DeepEqual(c.APIKeys, []string{"x", "y"}) {
		t.Errorf("api keys from env %q", c.APIKeys)
	}
	var models []string
	for _, m := range c.DefaultModels {
		models = append(models, m.Model)
	}
	if strings.Join(models, " ") != "a.gguf b.gguf c.gguf" {
		t.Errorf("default models %v", models)
	}
	if c.Engine.Device != "cuda:1" || c.Hub.CacheDir != "/cache" {
		t.Errorf("file values lost: %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, file string
		env        []string
		args       []string
		wantKey    string
	}{
		{name: "unknown top-level key", file: "listn = \"x:1\"\n", wantKey: "listn"},
		{name: "unknown engine key", file: "[engine]\ndevcie = \"cpu\"\n", wantKey: "engine.devcie"},
		{name: "unknown table", file: "[server]\nport = 1\n", wantKey: "server.port"},
		{name: "unknown default model key", file: "[[default_models]]\nmodel = \"a\"\naliass = \"b\"\n", wantKey: "default_models[0].aliass"},
		{name: "unknown env var", env: []string{"NEURON_LISTN=x"}, wantKey: "NEURON_LISTN"},
		{name: "bad listen", file: "listen = \"nope\"\n", wantKey: "listen"},
		{name: "bad port", file: "listen = \"127.0.0.1:99999\"\n", wantKey: "listen"},
		{name: "negative queue", file: "max_queue = -1\n", wantKey: "max_queue"},
		{name: "queue not a number", env: []string{"NEURON_MAX_QUEUE=lots"}, wantKey: "max_queue"},
		{name: "bad duration", file: "shutdown_timeout = \"soon\"\n", wantKey: "shutdown_timeout"},
		{name: "negative duration", file: "shutdown_timeout = \"-5s\"\n", wantKey: "shutdown_timeout"},
		{name: "bad log level", file: "log_level = \"loud\"\n", wantKey: "log_level"},
		{name: "bad log format", args: []string{"--log-format", "xml"}, wantKey: "log_format"},
		{name: "bad device", file: "[engine]\ndevice = \"tpu\"\n", wantKey: "engine.device"},
		{name: "negative threads", file: "[engine]\nthreads = -2\n", wantKey: "engine.threads"},
		{name: "negative ctx", file: "[engine]\nctx_size = -2\n", wantKey: "engine.ctx_size"},
		{name: "negative batch", file: "[engine]\nbatch_size = -2\n", wantKey: "engine.batch_size"},
		{name: "bad kv cache size", file: "[engine]\nkv_cache_size = \"lots\"\n", wantKey: "engine.kv_cache_size"},
		{name: "default model bad kv cache size", file: "[[default_models]]\nmodel = \"a\"\nkv_cache_size = \"-1 blocks\"\n", wantKey: "default_models[0].kv_cache_size"},
		{name: "offline not bool", env: []string{"NEURON_HUB_OFFLINE=perhaps"}, wantKey: "offline"},
		{name: "default model without model", file: "[[default_models]]\nalias = \"a\"\n", wantKey: "default_models[0].model"},
		{name: "default model bad device", file: "[[default_models]]\nmodel = \"a\"\ndevice = \"gpu\"\n", wantKey: "default_models[0].device"},
		{name: "duplicate default model", file: "[[default_models]]\nmodel = \"a\"\n[[default_models]]\nmodel = \"a\"\n", wantKey: "default_models[1]"},
		{name: "missing key file", file: "api_key_file = \"/nonexistent/keys\"\n", wantKey: "api_key_file"},
		{name: "key with space", file: "api_keys = [\"a b\"]\n", wantKey: "api_keys"},
		{name: "metrics_require_key not bool", env: []string{"NEURON_METRICS_REQUIRE_KEY=sometimes"}, wantKey: "metrics_require_key"},
		{name: "toml syntax", file: "listen = \n", wantKey: "neuron.toml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(t, tc.file, tc.env, tc.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("error %q does not name %q", err, tc.wantKey)
			}
		})
	}
}

func TestAPIKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(path, []byte("# clients\nk1\n\n  k2  \n"), 0o600)
	c, err := parseConfig(t, "api_keys = [\"k0\"]\napi_key_file = \""+path+"\"\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.APIKeys, []string{"k0", "k1", "k2"}) {
		t.Errorf("keys %q", c.APIKeys)
	}
}

// TestConfigExact checks engine.exact from the file, the environment and
// the --exact flag.
func TestConfigExact(t *testing.T) {
	for _, c := range []struct {
		name string
		file string
		env  []string
		args []string
		want bool
	}{
		{"default", "", nil, nil, false},
		{"file", "[engine]\nexact = true\n", nil, nil, true},
		{"env", "", []string{"NEURON_ENGINE_EXACT=true"}, nil, true},
		{"flag beats file", "[engine]\nexact = true\n", nil, []string{"--exact=false"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parseConfig(t, c.file, c.env, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Engine.Exact != c.want {
				t.Fatalf("engine.exact = %v, want %v", cfg.Engine.Exact, c.want)
			}
		})
	}
}

// TestConfigMetricsRequireKey checks metrics_require_key from each source
// and their precedence: on by default, off from the file, the environment
// or the flag, the flag beating the environment.
func TestConfigMetricsRequireKey(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env, args  []string
		want       bool
	}{
		{name: "default", want: true},
		{name: "file", file: "metrics_require_key = false\n", want: false},
		{name: "env", env: []string{"NEURON_METRICS_REQUIRE_KEY=false"}, want: false},
		{name: "flag", args: []string{"--metrics-require-key=false"}, want: false},
		{name: "flag over env", env: []string{"NEURON_METRICS_REQUIRE_KEY=false"}, args: []string{"--metrics-require-key=true"}, want: true},
		{name: "env over file", file: "metrics_require_key = false\n", env: []string{"NEURON_METRICS_REQUIRE_KEY=true"}, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(t, tc.file, tc.env, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsRequireKey != tc.want {
				t.Errorf("metrics_require_key %v, want %v", c.MetricsRequireKey, tc.want)
			}
		})
	}
}

func TestConfigKVCacheSize(t *testing.T) {
	file := "[engine]\nkv_cache_size = \"2GiB\"\n[[default_models]]\nmodel = \"a.gguf\"\nkv_cache_size = \"512 blocks\"\n[[default_models]]\nmodel = \"b.gguf\"\n"
	c, err := parseConfig(t, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine.KVCacheSize != "2GiB" {
		t.Errorf("engine.kv_cache_size %q, want 2GiB", c.Engine.KVCacheSize)
	}
	reqs := c.loadRequests()
	if len(reqs) != 2 || reqs[0].KVCacheSize != "512 blocks" || reqs[1].KVCacheSize != "" {
		t.Errorf("load requests %+v: want the first with kv_cache_size 512 blocks, the second with the default", reqs)
	}
	c, err = parseConfig(t, "", nil, "--kv-cache-size", "100 blocks")
	if err != nil || c.Engine.KVCacheSize != "100 blocks" {
		t.Errorf("--kv-cache-size: %q, %v", c.Engine.KVCacheSize, err)
	}
}
