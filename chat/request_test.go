// Tests of the chat-completions request decoding.

package chat

import (
	"strings"
	"testing"

	"github.com/helexa/helexa/api"
)

func TestRequestFromJSON(t *testing.T) {
	f, tr := false, true
	cases := []struct {
		name      string
		body      string
		think     *bool
		addGen    bool
		arguments string // first tool call's arguments, when there is one
	}{
		{"defaults", `{"messages":[{"role":"user","content":"x"}]}`, nil, true, ""},
		{"thinking off", `{"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"enable_thinking":false}}`, &f, true, ""},
		{"thinking on", `{"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"enable_thinking":true}}`, &tr, true, ""},
		{"thinking null", `{"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"enable_thinking":null}}`, nil, true, ""},
		{"reasoning effort none", `{"messages":[{"role":"user","content":"x"}],"reasoning_effort":"none"}`, &f, true, ""},
		{"reasoning effort high", `{"messages":[{"role":"user","content":"x"}],"reasoning_effort":"high"}`, nil, true, ""},
		{"kwargs win over effort", `{"messages":[{"role":"user","content":"x"}],"reasoning_effort":"none","chat_template_kwargs":{"enable_thinking":true}}`, &tr, true, ""},
		{"no generation prompt", `{"messages":[{"role":"user","content":"x"}],"add_generation_prompt":false}`, nil, false, ""},
		{"string arguments kept", `{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{\"b\":1,\"a\":2}"}}]}]}`, nil, true, `{"b":1,"a":2}`},
		{"object arguments as json.dumps", `{"messages":[{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"b":1,"a":"é"}}}]}]}`, nil, true, `{"b": 1, "a": "é"}`},
		{"flat tool call", `{"messages":[{"role":"assistant","tool_calls":[{"name":"f","arguments":{"x":1}}]}]}`, nil, true, `{"x": 1}`},
		{"null arguments", `{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":null}}]}]}`, nil, true, `null`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := RequestFromJSON([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if (r.EnableThinking == nil) != (c.think == nil) || (c.think != nil && *r.EnableThinking != *c.think) {
				t.Errorf("EnableThinking = %v, want %v", r.EnableThinking, c.think)
			}
			if r.AddGenerationPrompt != c.addGen {
				t.Errorf("AddGenerationPrompt = %v, want %v", r.AddGenerationPrompt, c.addGen)
			}
			if c.arguments != "" {
				if len(r.Messages[0].ToolCalls) != 1 {
					t.Fatalf("tool calls: %+v", r.Messages[0].ToolCalls)
				}
				if got := r.Messages[0].ToolCalls[0].Function.Name; got != "f" {
					t.Errorf("name = %q, want f", got)
				}
				if got := r.Messages[0].ToolCalls[0].Function.Arguments; got != c.arguments {
					t.Errorf("arguments = %q, want %q", got, c.arguments)
				}
			}
		})
	}
}

func TestRequestFromJSONErrors(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"not json", `{`, "chat: request"},
		{"no messages", `{"model":"m"}`, "no messages"},
		{"no role", `{"messages":[{"content":"x"}]}`, "message 0: no role"},
		{"bad enable_thinking", `{"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"enable_thinking":"yes"}}`, "enable_thinking"},
		{"missing arguments", `{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f"}}]}]}`, "tool call 0: function.arguments missing"},
		{"image part", `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, "image_url"},
		{"bad tool", `{"messages":[{"role":"user","content":"x"}],"tools":[3]}`, "chat: request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := RequestFromJSON([]byte(c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestRequestFromAPI(t *testing.T) {
	effort := "none"
	req := &api.ChatCompletionRequest{
		Messages:        []api.Message{{Role: "user", Content: api.Content{Text: "x"}}},
		ReasoningEffort: &effort,
	}
	r, err := RequestFromAPI(req)
	if err != nil {
		t.Fatal(err)
	}
	if !r.AddGenerationPrompt || r.EnableThinking == nil || *r.EnableThinking || len(r.Messages) != 1 {
		t.Errorf("RequestFromAPI = %+v", r)
	}
}

func FuzzRequestFromJSON(f *testing.F) {
	f.Add([]byte(`{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"<think>a</think>b","tool_calls":[{"function":{"name":"f","arguments":{"a":[1,2]}}}]},{"role":"tool","content":"r"}],"tools":[{"type":"function","function":{"name":"f"}}]}`))
	f.Add([]byte(`{"messages":[{"role":"system","content":"s"}],"chat_template_kwargs":{"enable_thinking":false},"add_generation_prompt":false}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := RequestFromJSON(body)
		if err != nil {
			return
		}
		// Rendering a decoded request never panics; it fails only on an
		// empty conversation or a tool definition that is not JSON.
		if _, err := (Qwen3{}).Render(r); err != nil && len(r.Messages) > 0 && len(r.Tools) == 0 {
			t.Fatalf("Render: %v", err)
		}
	})
}
