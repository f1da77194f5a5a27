// Tests against the shared reference data: the chat cases rendered by
// Python Jinja exactly as Hugging Face's apply_chat_template renders them,
// and the template source in the reference tokenizer_config.json.

package chat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

// chatCase is one entry of chat-cases.json.
type chatCase struct {
	Messages            json.RawMessage `json:"messages"`
	Tools               json.RawMessage `json:"tools"`
	EnableThinking      *bool           `json:"enable_thinking"`
	AddGenerationPrompt *bool           `json:"add_generation_prompt"`
	Prompt              string          `json:"prompt"`
}

// body turns the case into an OpenAI chat-completions request body, so the
// test covers the request decoding as well as the template.
func (c chatCase) body(t *testing.T) []byte {
	req := map[string]any{"model": "qwen3", "messages": c.Messages}
	if c.Tools != nil {
		req["tools"] = c.Tools
	}
	if c.EnableThinking != nil {
		req["chat_template_kwargs"] = map[string]any{"enable_thinking": *c.EnableThinking}
	}
	if c.AddGenerationPrompt != nil {
		req["add_generation_prompt"] = *c.AddGenerationPrompt
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadReferenceTemplate(t *testing.T, ref string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ref, "qwen3-tokenizer", "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := TemplateFromConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestReferenceChatCases(t *testing.T) {
	ref := reftest.Dir(t)
	data, err := os.ReadFile(reftest.Path(t, "chat-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []chatCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("chat-cases.json holds no cases")
	}
	tmpl, err := FromSource(loadReferenceTemplate(t, ref))
	if err != nil {
		t.Fatalf("FromSource(reference template): %v", err)
	}
	if tmpl.Name() != "qwen3" {
		t.Fatalf("reference template recognised as %q, want qwen3", tmpl.Name())
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("case%02d", i), func(t *testing.T) {
			req, err := RequestFromJSON(c.body(t))
			if err != nil {
				t.Fatalf("RequestFromJSON: %v", err)
			}
			got, err := tmpl.Render(req)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != c.Prompt {
				t.Errorf("prompt differs\n got %q\nwant %q", got, c.Prompt)
			}
		})
	}
}
