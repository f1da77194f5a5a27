// Tests of the reference-data locator: the environment override, the path
// check on what a test asks for, and the repository root.

package reftest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestRepoRootHoldsGoMod(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("RepoRoot() = %s, which holds no go.mod: %v", root, err)
	}
}

func TestFindEnvOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "m.gguf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDir, dir)
	tests := []struct {
		name    string
		elems   []string
		want    string
		missing bool
	}{
		{"directory", nil, dir, false},
		{"model", []string{"models", "m.gguf"}, filepath.Join(dir, "models", "m.gguf"), false},
		{"absent file", []string{"expected", "m.json"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Find(tt.elems...)
			if tt.missing {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Find(%q) = %q, %v; want an error wrapping fs.ErrNotExist", tt.elems, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Find(%q) = %q, %v; want %q", tt.elems, got, err, tt.want)
			}
		})
	}
}

func TestLoadExpected(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "expected"), 0o755); err != nil {
		t.Fatal(err)
	}
	body := `{"model":"m","prompts":[[1,2]],"greedy":[[3]],"greedy_margins":[[0.5]],` +
		`"step_top_ids":[[[3,4]]],"step_top_logits":[[[2.5,2.0]]],"last_logits":[[0.1,0.2]]}`
	if err := os.WriteFile(filepath.Join(dir, "expected", "m.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDir, dir)
	exp := LoadExpected(t, "m")
	if len(exp.Prompts) != 1 || exp.Prompts[0][1] != 2 || exp.Greedy[0][0] != 3 || exp.GreedyMargins[0][0] != 0.5 ||
		exp.StepTopIDs[0][0][1] != 4 || exp.StepTopLogits[0][0][0] != 2.5 || exp.LastLogits[0][1] != 0.2 {
		t.Errorf("LoadExpected = %+v", exp)
	}
}
