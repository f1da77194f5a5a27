// Tests of the configuration checks and of the SSE event boundary finder.

package cortex

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" = valid
	}{
		{"defaults with a neuron", func(c *Config) {}, ""},
		{"dns only", func(c *Config) { c.Neurons, c.NeuronDNS = nil, "neurons.default.svc:13131" }, ""},
		{"srv name", func(c *Config) { c.Neurons, c.NeuronDNS = nil, "_http._tcp.neurons.default.svc" }, ""},
		{"no neurons", func(c *Config) { c.Neurons = nil }, "neurons: no neurons"},
		{"bad neuron scheme", func(c *Config) { c.Neurons = []string{"ftp://x:1"} }, "neurons[0]"},
		{"neuron with query", func(c *Config) { c.Neurons = []string{"http://x:1/?a=b"} }, "neurons[0]"},
		{"bad listen", func(c *Config) { c.Listen = "31313" }, "listen"},
		{"bad metrics port", func(c *Config) { c.MetricsListen = "127.0.0.1:99999" }, "metrics_listen"},
		{"dns without port", func(c *Config) { c.NeuronDNS = "neurons" }, "neuron_dns"},
		{"zero poll interval", func(c *Config) { c.PollInterval = 0 }, "poll_interval"},
		{"zero threshold", func(c *Config) { c.FailThreshold = 0 }, "fail_threshold"},
		{"negative retries", func(c *Config) { c.MaxRetries = -1 }, "max_retries"},
		{"key with space", func(c *Config) { c.APIKeys = []string{"a b"} }, "api_keys"},
		{"auto_load without catalog", func(c *Config) { c.AutoLoad = true }, "catalog"},
		{"bad log format", func(c *Config) { c.LogFormat = "xml" }, "log_format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig("http://127.0.0.1:13131")
			c.MetricsListen = DefaultMetricsListen
			c.PollInterval = 5 * time.Second
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Errorf("valid config refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestLastEventEnd(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"data: a", 0},
		{"data: a\n", 0},
		{"data: a\n\n", 9},
		{"data: a\n\ndata: b", 9},
		{"data: a\n\ndata: b\n\n", 18},
		{"data: a\r\n\r\n", 11},
		{"data: a\r\n\r\ndata: b\n\n", 20},
	} {
		if got := lastEventEnd([]byte(tc.in)); got != tc.want {
			t.Errorf("lastEventEnd(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
