// Tests of the Qwen3 template beyond the shared reference cases. The
// prompts in testdata/edge-cases.json were derived by hand from the Jinja
// source, one "why" field per case explaining the derivation, and then
// re-checked against Python jinja2 configured as Hugging Face configures it
// (testdata/jinja_check.py prints "ok" for every case).

package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/internal/reftest"
)

type edgeCase struct {
	Name    string          `json:"name"`
	Why     string          `json:"why"`
	Request json.RawMessage `json:"request"`
	Prompt  string          `json:"prompt"`
}

func TestQwen3EdgeCases(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "edge-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []edgeCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("only %d edge cases in testdata", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			req, err := RequestFromJSON(c.Request)
			if err != nil {
				t.Fatalf("RequestFromJSON: %v", err)
			}
			got, err := Qwen3{}.Render(req)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != c.Prompt {
				t.Errorf("%s\n got %q\nwant %q", c.Why, got, c.Prompt)
			}
		})
	}
}

func TestQwen3RenderErrors(t *testing.T) {
	if _, err := (Qwen3{}).Render(Request{}); err == nil {
		t.Error("Render with no messages: no error")
	}
	bad := Request{
		Messages: []api.Message{{Role: "user", Content: api.Content{Text: "Q"}}},
		Tools:    []api.Tool{{Raw: json.RawMessage(`{"type":`)}},
	}
	if _, err := (Qwen3{}).Render(bad); err == nil || !strings.Contains(err.Error(), "tool 0") {
		t.Errorf("Render with a broken tool definition: error %v, want one naming tool 0", err)
	}
}

// A tool built in Go (no raw bytes) is serialized from its fields, in the
// order api.Tool declares them.
func TestQwen3ToolWithoutRaw(t *testing.T) {
	req := Request{
		Messages: []api.Message{{Role: "user", Content: api.Content{Text: "Q"}}},
		Tools: []api.Tool{{Type: "function", Function: api.FunctionDecl{Name: "f", Description: "d",
			Parameters: json.RawMessage(`{"type":"object"}`)}}},
	}
	got, err := Qwen3{}.Render(req)
	if err != nil {
		t.Fatal(err)
	}
	want := "\n" + `{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}` + "\n</tools>"
	if !strings.Contains(got, want) {
		t.Errorf("prompt %q does not contain %q", got, want)
	}
}

func TestFromSourceVariants(t *testing.T) {
	ref := reftest.Dir(t)
	src := loadReferenceTemplate(t, ref)
	// Accepted variants render identically under Jinja (checked with
	// jinja2 3.1: line endings are normalized by the lexer, the first tag's
	// dash strips leading whitespace, one trailing newline is dropped by
	// keep_trailing_newline=False and one by trim_blocks).
	accepted := map[string]string{
		"original":             src,
		"crlf":                 strings.ReplaceAll(src, "\n", "\r\n"),
		"cr":                   strings.ReplaceAll(src, "\n", "\r"),
		"leading whitespace":   " \n\t\n" + src,
		"one trailing newline": src + "\n",
		"two trailing newline": src + "\n\n",
		"crlf two trailing":    strings.ReplaceAll(src, "\n", "\r\n") + "\r\n\r\n",
	}
	for name, s := range accepted {
		t.Run("accept "+name, func(t *testing.T) {
			tm, err := FromSource(s)
			if err != nil {
				t.Fatalf("FromSource: %v", err)
			}
			if tm.Name() != "qwen3" {
				t.Errorf("Name() = %q", tm.Name())
			}
		})
	}
	// Rejected variants render differently (three trailing newlines or a
	// trailing space print a character) or are different templates.
	rejected := map[string]string{
		"empty":                  "",
		"blank":                  " \n",
		"three trailing newline": src + "\n\n\n",
		"trailing space":         src + " ",
		"changed literal":        strings.Replace(src, "# Tools", "# Tool", 1),
		"reindented":             strings.Replace(src, "\n    {{- '<|im_start|>system\\n' }}", "\n  {{- '<|im_start|>system\\n' }}", 1),
		"chatml": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
			"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
	}
	for name, s := range rejected {
		t.Run("reject "+name, func(t *testing.T) {
			tm, err := FromSource(s)
			if err == nil {
				t.Fatalf("FromSource accepted it as %q", tm.Name())
			}
			if !errors.Is(err, ErrUnsupportedTemplate) {
				t.Errorf("error %v does not wrap ErrUnsupportedTemplate", err)
			}
		})
	}
}

func TestTemplateFromConfig(t *testing.T) {
	cases := []struct {
		name, cfg, want string
		wantErr         bool
	}{
		{"string", `{"chat_template":"T"}`, "T", false},
		{"named list", `{"chat_template":[{"name":"tool_use","template":"X"},{"name":"default","template":"D"}]}`, "D", false},
		{"list without default", `{"chat_template":[{"name":"tool_use","template":"X"}]}`, "", true},
		{"missing", `{"eos_token":"x"}`, "", true},
		{"null", `{"chat_template":null}`, "", true},
		{"number", `{"chat_template":3}`, "", true},
		{"not json", `{`, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := TemplateFromConfig([]byte(c.cfg))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestQwen3RandomConversations compares the native template with Python
// jinja2 on random conversations (testdata/random-conversations.jsonl, made
// by testdata/jinja_random.py with seed 20261127 from the reference
// template; the prompts are Jinja's output).
func TestQwen3RandomConversations(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "random-conversations.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 100 {
		t.Fatalf("only %d random conversations", len(lines))
	}
	for i, line := range lines {
		var c struct {
			Request json.RawMessage `json:"request"`
			Prompt  string          `json:"prompt"`
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		req, err := RequestFromJSON(c.Request)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		got, err := Qwen3{}.Render(req)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if got != c.Prompt {
			t.Errorf("line %d: request %s\n got %q\nwant %q", i+1, c.Request, got, c.Prompt)
		}
	}
}
