// This file checks that the neuron configuration the Kubernetes manifests
// carry (deploy/k8s, rendered from the Helm chart) is one the daemon
// accepts: the chart test in deploy/ cannot load it, being its own module.

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

// manifestConfigs returns each neuron.toml block in a manifest: the lines
// indented under "neuron.toml: |", unindented.
func manifestConfigs(manifest string) []string {
	var out []string
	lines := strings.Split(manifest, "\n")
	for i, l := range lines {
		key, ok := strings.CutSuffix(l, "neuron.toml: |")
		if !ok || strings.TrimSpace(key) != "" {
			continue
		}
		indent := len(key) + 2
		var body []string
		for _, b := range lines[i+1:] {
			if strings.TrimSpace(b) != "" && (len(b) < indent || strings.TrimSpace(b[:indent]) != "") {
				break
			}
			body = append(body, strings.TrimPrefix(b, strings.Repeat(" ", indent)))
		}
		out = append(out, strings.Join(body, "\n"))
	}
	return out
}

func TestKubernetesManifestConfigs(t *testing.T) {
	root, err := reftest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "deploy", "k8s", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests in deploy/k8s")
	}
	keyFile := filepath.Join(t.TempDir(), "api-keys")
	if err := os.WriteFile(keyFile, []byte("k1\nk2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			configs := manifestConfigs(string(body))
			if len(configs) != 1 {
				t.Fatalf("%d neuron.toml blocks, want 1", len(configs))
			}
			// The Secret's mount point, here a file of our own.
			toml := strings.ReplaceAll(configs[0], "/etc/neuron/keys/api-keys", keyFile)
			c, err := parseConfig(t, toml, nil)
			if err != nil {
				t.Fatalf("neuron rejects the manifest's configuration: %v\n%s", err, configs[0])
			}
			if c.Listen != "0.0.0.0:13131" || len(c.DefaultModels) == 0 || c.ShutdownTimeout <= 0 {
				t.Errorf("configuration %+v", c)
			}
			if strings.Contains(configs[0], "api_key_file") && len(c.APIKeys) != 2 {
				t.Errorf("API keys from the key file: %v", c.APIKeys)
			}
			// The endpoint picker scrapes /metrics without a key: keyed
			// neurons in an InferencePool must leave /metrics open.
			pool := strings.Contains(string(body), "\nkind: InferencePool\n")
			if keyed := len(c.APIKeys) > 0; keyed && c.MetricsRequireKey == pool {
				t.Errorf("keyed neurons, InferencePool %v: metrics_require_key = %v", pool, c.MetricsRequireKey)
			}
		})
	}
}
