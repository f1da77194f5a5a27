// This file holds the gateway's configuration: the keys of cortex.toml with
// their defaults and the checks on their values. Reading the file, CORTEX_*
// variables and flags is the command's job (cmd/cortex); the Config it builds
// is validated here so that a test or another embedding gets the same rules.

package cortex

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the gateway's configuration.
type Config struct {
	// Listen is the API listener (OpenAI routes, /cortex/*, the dashboard).
	Listen string `mapstructure:"listen"`
	// MetricsListen is the Prometheus listener; empty disables it.
	MetricsListen string `mapstructure:"metrics_listen"`
	// Neurons are the base URLs of the neurons, e.g. http://10.0.0.5:13131.
	Neurons []string `mapstructure:"neurons"`
	// NeuronDNS is a name re-resolved at every poll: "host:port" takes its
	// A/AAAA records with that port, "_service._proto.name" its SRV records.
	NeuronDNS string `mapstructure:"neuron_dns"`
	// NeuronScheme is the scheme of the neurons found through NeuronDNS.
	NeuronScheme string `mapstructure:"neuron_scheme"`
	// PollInterval is the time between two polls of each neuron.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// PollTimeout bounds one poll of one neuron (all its requests).
	PollTimeout time.Duration `mapstructure:"poll_timeout"`
	// FailThreshold is the number of failed polls, or failed requests, in a
	// row after which a neuron is marked down.
	FailThreshold int `mapstructure:"fail_threshold"`
	// ConnectTimeout bounds the TCP connection to a neuron.
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
	// HeaderTimeout bounds the wait for a neuron's response headers (for a
	// non-streamed request, the whole generation).
	HeaderTimeout time.Duration `mapstructure:"header_timeout"`
	// IdleTimeout bounds the silence between two reads of a response body;
	// a stream quiet for longer is ended with an error event.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// MaxRetries is how many other neurons a request may be retried on
	// before its first byte reached the client.
	MaxRetries int `mapstructure:"max_retries"`
	// MaxBodyBytes bounds request bodies (413 beyond).
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// APIKeys, when not empty, are required from clients as bearer tokens
	// on everything but /health, /ready and the dashboard's static files.
	APIKeys []string `mapstructure:"api_keys"`
	// UpstreamAPIKey is sent to the neurons as a bearer token.
	UpstreamAPIKey string `mapstructure:"upstream_api_key"`
	// ShutdownTimeout bounds the drain of running requests at shutdown.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
	// AutoLoad places a model of Catalog that no neuron serves when a
	// request asks for it, and waits up to AutoLoadTimeout.
	AutoLoad        bool          `mapstructure:"auto_load"`
	Catalog         []string      `mapstructure:"catalog"`
	AutoLoadTimeout time.Duration `mapstructure:"auto_load_timeout"`
	// RecentRequests is how many finished requests the status keeps.
	RecentRequests int    `mapstructure:"recent_requests"`
	LogLevel       string `mapstructure:"log_level"`
	LogFormat      string `mapstructure:"log_format"`
}

// Defaults of the configuration keys.
const (
	DefaultListen        = "127.0.0.1:31313"
	DefaultMetricsListen = "127.0.0.1:31314"
	// DefaultShutdownTimeout stays under the unit's TimeoutStopSec=120.
	DefaultShutdownTimeout = 110 * time.Second
	// DefaultMaxBodyBytes matches neuron's bound on request bodies.
	DefaultMaxBodyBytes = 16 << 20
)

// Defaults returns the configuration with every key at its default, keyed
// as in cortex.toml; cmd/cortex feeds it to viper.
func Defaults() map[string]any {
	return map[string]any{
		"listen":            DefaultListen,
		"metrics_listen":    DefaultMetricsListen,
		"neurons":           []string{},
		"neuron_dns":        "",
		"neuron_scheme":     "http",
		"poll_interval":     5 * time.Second,
		"poll_timeout":      3 * time.Second,
		"fail_threshold":    3,
		"connect_timeout":   2 * time.Second,
		"header_timeout":    10 * time.Minute,
		"idle_timeout":      2 * time.Minute,
		"max_retries":       2,
		"max_body_bytes":    int64(DefaultMaxBodyBytes),
		"api_keys":          []string{},
		"upstream_api_key":  "",
		"shutdown_timeout":  DefaultShutdownTimeout,
		"auto_load":         false,
		"catalog":           []string{},
		"auto_load_timeout": 5 * time.Minute,
		"recent_requests":   50,
		"log_level":         "info",
		"log_format":        "text",
	}
}

// Validate checks every value, naming the key of the first bad one.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
	}
	if err := checkHostPort(c.Listen); err != nil {
		return bad("listen", "%v", err)
	}
	if c.MetricsListen != "" {
		if err := checkHostPort(c.MetricsListen); err != nil {
			return bad("metrics_listen", "%v", err)
		}
	}
	for i, n := range c.Neurons {
		if _, err := NormalizeURL(n); err != nil {
			return bad(fmt.Sprintf("neurons[%d]", i), "%v", err)
		}
	}
	if len(c.Neurons) == 0 && c.NeuronDNS == "" {
		return bad("neurons", "no neurons: set neurons or neuron_dns")
	}
	if c.NeuronDNS != "" && !strings.HasPrefix(c.NeuronDNS, "_") {
		if err := checkHostPort(c.NeuronDNS); err != nil {
			return bad("neuron_dns", "want host:port or an SRV name (_service._proto.name): %v", err)
		}
	}
	if c.NeuronScheme != "http" && c.NeuronScheme != "https" {
		return bad("neuron_scheme", "want http or https, got %q", c.NeuronScheme)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"poll_interval", c.PollInterval}, {"poll_timeout", c.PollTimeout}, {"connect_timeout", c.ConnectTimeout},
		{"header_timeout", c.HeaderTimeout}, {"idle_timeout", c.IdleTimeout}, {"auto_load_timeout", c.AutoLoadTimeout}} {
		if d.v <= 0 {
			return bad(d.key, "must be positive, got %s", d.v)
		}
	}
	if c.ShutdownTimeout < 0 {
		return bad("shutdown_timeout", "must not be negative, got %s", c.ShutdownTimeout)
	}
	if c.FailThreshold < 1 {
		return bad("fail_threshold", "must be at least 1, got %d", c.FailThreshold)
	}
	if c.MaxRetries < 0 {
		return bad("max_retries", "must not be negative, got %d", c.MaxRetries)
	}
	if c.MaxBodyBytes <= 0 {
		return bad("max_body_bytes", "must be positive, got %d", c.MaxBodyBytes)
	}
	if c.RecentRequests < 0 {
		return bad("recent_requests", "must not be negative, got %d", c.RecentRequests)
	}
	for i, k := range c.APIKeys {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t\r\n") {
			return bad("api_keys", "key %d is empty or contains whitespace", i)
		}
	}
	if strings.ContainsAny(c.UpstreamAPIKey, " \t\r\n") {
		return bad("upstream_api_key", "contains whitespace")
	}
	if c.AutoLoad && len(c.Catalog) == 0 {
		return bad("catalog", "auto_load is on but the catalog is empty")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("log_format", "want text or json, got %q", c.LogFormat)
	}
	return nil
}

// checkHostPort checks a host:port with a numeric port.
func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port, got %q", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// NormalizeURL checks a neuron's base URL (http or https, a host, no query)
// and returns it without a trailing slash.
func NormalizeURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("neuron URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("neuron URL %q: want http:// or https://", s)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("neuron URL %q: want scheme://host:port[/path] without user, query or fragment", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
