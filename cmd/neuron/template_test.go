// Tests of `neuron template` against the shared reference chat cases.

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunTemplateReference(t *testing.T) {
	ref := filepath.Join("..", "..", "..", "shared", "reference")
	data, err := os.ReadFile(filepath.Join(ref, "chat-cases.json"))
	if err != nil {
		t.Skipf("reference data not found at %s (<repo>/../shared/reference): %v", ref, err)
	}
	var cases []struct {
		Messages json.RawMessage `json:"messages"`
		Tools    json.RawMessage `json:"tools"`
		Prompt   string          `json:"prompt"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	// Case 6 has a system message, tools, a tool call with object arguments
	// and a tool result: the richest of the reference cases.
	c := cases[6]
	if c.Tools == nil {
		t.Fatal("reference case 6 has no tools; the file changed")
	}
	body, _ := json.Marshal(map[string]any{"model": "m", "messages": c.Messages, "tools": c.Tools})
	req := filepath.Join(t.TempDir(), "request.json")
	if err := os.WriteFile(req, body, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{
		filepath.Join(ref, "models", "mini-q8_0.gguf"),
		filepath.Join(ref, "qwen3-tokenizer", "tokenizer_config.json"),
	} {
		t.Run(filepath.Base(model), func(t *testing.T) {
			var out bytes.Buffer
			if err := runTemplate(&out, nil, model, req); err != nil {
				t.Fatal(err)
			}
			if out.String() != c.Prompt {
				t.Errorf("prompt differs\n got %q\nwant %q", out.String(), c.Prompt)
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		var out bytes.Buffer
		in := strings.NewReader(`{"messages":[{"role":"user","content":"Hello!"}]}`)
		if err := runTemplate(&out, in, filepath.Join(ref, "qwen3-tokenizer", "tokenizer_config.json"), "-"); err != nil {
			t.Fatal(err)
		}
		if want := cases[0].Prompt; out.String() != want {
			t.Errorf("got %q, want %q", out.String(), want)
		}
	})
}
