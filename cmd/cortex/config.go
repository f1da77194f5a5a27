// This file holds how cortex serve reads its configuration: the file named
// by --config (TOML, see cortex.example.toml), CORTEX_* environment variables
// and flags, each overriding the one before, through viper. An unknown key
// in the file or an unknown CORTEX_* variable is an error naming it; the
// values are checked by cortex.Config.Validate.

package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/helexa/helexa/cortex"
	"github.com/helexa/helexa/internal/service"
)

// defaultConfigFile is read when --config is not given and it exists.
const defaultConfigFile = "/etc/cortex/cortex.toml"

// envPrefix prefixes the environment variables: CORTEX_LISTEN,
// CORTEX_NEURONS=http://a:13131,http://b:13131, ...
const envPrefix = "CORTEX"

// configFlags are the serve command's flags and the keys they set.
var configFlags = []struct {
	flag, key, usage string
}{
	{"listen", "listen", "API address (host:port)"},
	{"metrics-listen", "metrics_listen", "Prometheus metrics address (host:port; empty disables)"},
	{"neuron", "neurons", "neuron base URL, e.g. http://10.0.0.5:13131 (repeatable)"},
	{"neuron-dns", "neuron_dns", "host:port or SRV name re-resolved at every poll"},
	{"poll-interval", "poll_interval", "time between polls of each neuron"},
	{"api-key", "api_keys", "API key clients must send as a bearer token (repeatable)"},
	{"upstream-api-key", "upstream_api_key", "API key cortex sends to the neurons"},
	{"shutdown-timeout", "shutdown_timeout", "how long running requests may finish at shutdown"},
	{"log-level", "log_level", "debug, info, warn or error"},
	{"log-format", "log_format", "text or json"},
}

// addConfigFlags defines the configuration flags on fs.
func addConfigFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "configuration file (TOML; see cortex.example.toml; default "+defaultConfigFile+" when it exists)")
	defaults := cortex.Defaults()
	for _, f := range configFlags {
		switch d := defaults[f.key].(type) {
		case string:
			fs.String(f.flag, d, f.usage)
		case []string:
			fs.StringSlice(f.flag, d, f.usage)
		case time.Duration:
			fs.Duration(f.flag, d, f.usage)
		default:
			panic(fmt.Sprintf("config flag %s: unhandled default %T", f.flag, d))
		}
	}
}

// loadConfig reads the configuration from the file, environ and the flags
// that were set, and validates it.
func loadConfig(fs *pflag.FlagSet, environ []string, fileExists func(string) bool) (*cortex.Config, error) {
	v := viper.New()
	defaults := cortex.Defaults()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	path, _ := fs.GetString("config")
	if path == "" && fileExists(defaultConfigFile) {
		path = defaultConfigFile
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("toml")
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		var unknown []string
		for _, k := range v.AllKeys() {
			if _, ok := defaults[k]; !ok {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, fmt.Errorf("config %s: unknown key %s", path, strings.Join(unknown, ", "))
		}
	}
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, envPrefix+"_")
		if !ok {
			continue
		}
		key := strings.ToLower(rest)
		if _, ok := defaults[key]; !ok {
			return nil, fmt.Errorf("config: unknown environment variable %s (known: %s)", name, knownEnv(defaults))
		}
		v.Set(key, val)
	}
	for _, f := range configFlags {
		if fl := fs.Lookup(f.flag); fl != nil && fl.Changed {
			switch defaults[f.key].(type) {
			case []string:
				s, _ := fs.GetStringSlice(f.flag)
				v.Set(f.key, s)
			case time.Duration:
				d, _ := fs.GetDuration(f.flag)
				v.Set(f.key, d)
			default:
				s, _ := fs.GetString(f.flag)
				v.Set(f.key, s)
			}
		}
	}
	var c cortex.Config
	hook := mapstructure.ComposeDecodeHookFunc(service.SecondsToDuration, mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","))
	if err := v.UnmarshalExact(&c, viper.DecodeHook(hook)); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if _, err := service.ParseLogLevel(c.LogLevel); err != nil {
		return nil, fmt.Errorf("config: log_level: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// knownEnv lists the CORTEX_* variables.
func knownEnv(defaults map[string]any) string {
	var out []string
	for k := range defaults {
		out = append(out, envPrefix+"_"+strings.ToUpper(k))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
