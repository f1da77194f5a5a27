// Tests of how cortex serve reads its configuration (file, CORTEX_*
// variables, flags, unknown keys) and of cortex.example.toml.

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/helexa/helexa/cortex"
)

// parse builds the serve flags from args and loads the configuration.
func parse(t *testing.T, args []string, env []string) (*cortex.Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadConfig(fs, env, func(string) bool { return false })
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cortex.toml")
	os.WriteFile(file, []byte(`
listen = "127.0.0.1:4000"
neurons = ["http://10.0.0.5:13131", "http://10.0.0.6:13131/"]
poll_interval = "2s"
shutdown_timeout = 30
api_keys = ["k1"]
`), 0o600)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("listen = \"127.0.0.1:1\"\nneurons = [\"http://a:1\"]\npoll_intervall = \"1s\"\n"), 0o600)

	t.Run("values", func(t *testing.T) {
		// The flag beats the environment, which beats the file.
		c, err := parse(t, []string{"--config", file, "--listen", "127.0.0.1:5000"},
			[]string{"CORTEX_LISTEN=127.0.0.1:4500", "CORTEX_UPSTREAM_API_KEY=up", "OTHER=x"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Listen != "127.0.0.1:5000" || c.UpstreamAPIKey != "up" || c.PollInterval != 2*time.Second ||
			c.ShutdownTimeout != 30*time.Second || len(c.Neurons) != 2 || c.APIKeys[0] != "k1" ||
			c.MetricsListen != "127.0.0.1:31314" {
			t.Errorf("config %+v", c)
		}
	})
	t.Run("env list", func(t *testing.T) {
		c, err := parse(t, nil, []string{"CORTEX_NEURONS=http://a:1,http://b:2", "CORTEX_POLL_INTERVAL=250ms"})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Neurons) != 2 || c.Neurons[1] != "http://b:2" || c.PollInterval != 250*time.Millisecond {
			t.Errorf("config %+v", c)
		}
	})
	for name, tc := range map[string]struct {
		args, env []string
		want      string
	}{
		"unknown key in the file": {[]string{"--config", bad}, nil, "unknown key poll_intervall"},
		"unknown env":             {nil, []string{"CORTEX_NEURON=http://a:1"}, "unknown environment variable CORTEX_NEURON"},
		"bad duration":            {[]string{"--neuron", "http://a:1"}, []string{"CORTEX_POLL_INTERVAL=soon"}, "poll_interval"},
		"no neurons":              {nil, nil, "no neurons"},
		"bad log level":           {[]string{"--neuron", "http://a:1", "--log-level", "loud"}, nil, "log_level"},
		"missing file":            {[]string{"--config", filepath.Join(dir, "absent.toml")}, nil, "absent.toml"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parse(t, tc.args, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestExampleConfig checks that cortex.example.toml loads and documents
// every key, with the default as its value.
func TestExampleConfig(t *testing.T) {
	path := filepath.Join("..", "..", "cortex.example.toml")
	c, err := parse(t, []string{"--config", path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	for key := range cortex.Defaults() {
		if !strings.Contains(string(raw), "\n"+key+" = ") {
			t.Errorf("cortex.example.toml does not document %s", key)
		}
	}
	def, err := parse(t, []string{"--neuron", "http://127.0.0.1:13131"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", *c) != fmt.Sprintf("%+v", *def) {
		t.Errorf("the example differs from the defaults:\nexample  %+v\ndefaults %+v", *c, *def)
	}
}
