// Package reftest locates the shared reference data (README.md beside it:
// the Qwen3 tokenizer, chat cases, mini GGUF models with llama.cpp's outputs,
// ggml's dequantization) for the tests of every package, and loads the
// expected outputs of the mini models. The data lives next to the repository
// in <repo>/../shared/reference; the device check carries a copy of the
// models and expected outputs in <repo>/.gpu/reference; HELEXA_REFERENCE
// names another place. A test that needs data that is absent is skipped with
// a message naming where it was looked for, never passed silently.
//
// It is imported by tests only.
package reftest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// EnvDir is the environment variable that, when set, names the reference
// directory and overrides the search (scripts/gpu-check.sh sets it).
const EnvDir = "HELEXA_REFERENCE"

// RepoRoot returns the repository root: the nearest directory above the
// working directory that holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("reftest: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("reftest: no go.mod above the test directory")
		}
		dir = parent
	}
}

// Find returns the path of elems inside the reference directory (the
// directory itself without elems): $HELEXA_REFERENCE when set, else the
// first of <repo>/../shared/reference and <repo>/.gpu/reference that exists.
// Its error names the places looked at, or the path that is missing.
func Find(elems ...string) (string, error) {
	ref, err := findDir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(append([]string{ref}, elems...)...)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("reftest: reference data incomplete: %w", err)
	}
	return p, nil
}

// findDir returns the reference directory, see Find.
func findDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	candidates := []string{
		filepath.Join(root, "..", "shared", "reference"),
		filepath.Join(root, ".gpu", "reference"),
	}
	for _, ref := range candidates {
		if fi, err := os.Stat(ref); err == nil && fi.IsDir() {
			return ref, nil
		}
	}
	return "", fmt.Errorf("reftest: reference data not found at %s or %s (set %s to use another place)", candidates[0], candidates[1], EnvDir)
}

// Dir returns the reference directory, skipping the test when there is none.
func Dir(t testing.TB) string {
	t.Helper()
	return Path(t)
}

// Path returns the path of elems inside the reference directory, skipping
// the test when it does not exist.
func Path(t testing.TB, elems ...string) string {
	t.Helper()
	p, err := Find(elems...)
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	return p
}

// Model returns the path of the reference model models/<name>.gguf, skipping
// the test when it is absent.
func Model(t testing.TB, name string) string {
	t.Helper()
	return Path(t, "models", name+".gguf")
}

// Expected is llama.cpp's output for the three prompts of one reference
// model, expected/<name>.json (reference README): prompt i's tokens, its
// 24 greedy tokens with the top-1/top-2 logit margin of each step, the ids
// and logits of the top 8 at every step (step 0 is the prompt's last
// position, step s follows greedy tokens 0..s-1), and all logits of the
// prompt's last position.
type Expected struct {
	Prompts       [][]int32     `json:"prompts"`
	Greedy        [][]int32     `json:"greedy"`
	GreedyMargins [][]float64   `json:"greedy_margins"`
	StepTopIDs    [][][]int32   `json:"step_top_ids"`
	StepTopLogits [][][]float64 `json:"step_top_logits"`
	LastLogits    [][]float64   `json:"last_logits"`
}

// LoadExpected reads expected/<name>.json of the reference model name,
// skipping the test when it is absent and failing it when it does not parse.
func LoadExpected(t testing.TB, name string) Expected {
	t.Helper()
	path := Path(t, "expected", name+".json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var exp Expected
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return exp
}

// MiniShapes returns the tensor shapes of the mini models by GGUF tensor
// name, ne0 first (reference README: hidden 256, feed-forward 512, 2
// layers, 4 heads and 2 KV heads of 64, 2112 vocabulary rows); tied leaves
// out output.weight, as mini-tied-f32 does.
func MiniShapes(tied bool) map[string][]int64 {
	m := map[string][]int64{"token_embd.weight": {256, 2112}, "output_norm.weight": {256}}
	if !tied {
		m["output.weight"] = []int64{256, 2112}
	}
	for l := range 2 {
		p := "blk." + strconv.Itoa(l) + "."
		for name, shape := range map[string][]int64{
			"attn_norm": {256}, "attn_q": {256, 256}, "attn_k": {256, 128}, "attn_v": {256, 128},
			"attn_output": {256, 256}, "attn_q_norm": {64}, "attn_k_norm": {64}, "ffn_norm": {256},
			"ffn_gate": {256, 512}, "ffn_up": {256, 512}, "ffn_down": {512, 256},
		} {
			m[p+name+".weight"] = shape
		}
	}
	return m
}
