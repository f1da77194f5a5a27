// Tests of `neuron template` against the shared reference chat cases.

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

func TestRunTemplateReference(t *testing.T) {
	data, err := os.ReadFile(reftest.Path(t, "chat-cases.json"))
	if err != nil {
		t.Fatal(err)
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
		reftest.Model(t, "mini-q8_0"),
		reftest.Path(t, "qwen3-tokenizer", "tokenizer_config.json"),
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
		if err := runTemplate(&out, in, reftest.Path(t, "qwen3-tokenizer", "tokenizer_config.json"), "-"); err != nil {
			t.Fatal(err)
		}
		if want := cases[0].Prompt; out.String() != want {
			t.Errorf("got %q, want %q", out.String(), want)
		}
	})
}
