// Tests of structured outputs and enforced tool calls at the HTTP layer:
// response_format json_schema and parallel_tool_calls reach the generator,
// and calls whose arguments stream in fragments arrive whole in a reply
// and as index, id and name then argument fragments in a stream.
package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/helexa/helexa/api"
)

func TestStructuredRequestFields(t *testing.T) {
	cases := []struct {
		name, extra string
		schema      string
		single      bool
	}{
		{"json_schema", `,"response_format":{"type":"json_schema","json_schema":{"name":"w","strict":true,"schema":{"type":"object"}}}`, `{"type":"object"}`, false},
		{"json_object", `,"response_format":{"type":"json_object"}`, ``, false},
		{"parallel_tool_calls false", `,"parallel_tool_calls":false,"tool_choice":"required","tools":[{"type":"function","function":{"name":"f"}}]`, ``, true},
		{"parallel_tool_calls true", `,"parallel_tool_calls":true,"tool_choice":"required","tools":[{"type":"function","function":{"name":"f"}}]`, ``, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gen := newFakeGen(Delta{Content: "{}"})
			s, _ := testServer(t, Options{}, gen)
			rec := do(s, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]`+tc.extra+`}`)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			req := gen.lastReq.Load()
			if string(req.JSONSchema) != tc.schema || req.SingleToolCall != tc.single {
				t.Errorf("schema %s single %v, want %s %v", req.JSONSchema, req.SingleToolCall, tc.schema, tc.single)
			}
		})
	}
}

func TestToolCallFragments(t *testing.T) {
	frag := func(args string) Delta {
		return Delta{ToolCalls: []api.ToolCall{{Function: api.FunctionCall{Arguments: args}}}, Tokens: 1}
	}
	head := func(name string) Delta {
		return Delta{ToolCalls: []api.ToolCall{{ID: "call_" + name, Type: "function", Function: api.FunctionCall{Name: name}}}, Tokens: 1}
	}
	gen := newFakeGen(head("f"), frag(`{"a"`), frag(`: 1}`), head("g"), frag(`{}`))
	gen.result.FinishReason = "tool_calls"
	s, _ := testServer(t, Options{}, gen)
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"required","tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}]`

	rec := do(s, "POST", "/v1/chat/completions", body+`}`)
	var cc api.ChatCompletion
	if err := json.Unmarshal(rec.Body.Bytes(), &cc); err != nil {
		t.Fatal(err)
	}
	calls := cc.Choices[0].Message.ToolCalls
	if len(calls) != 2 || calls[0].ID != "call_f" || calls[0].Function.Arguments != `{"a": 1}` || calls[1].Function.Name != "g" ||
		calls[1].Function.Arguments != `{}` || calls[0].Index != nil {
		t.Fatalf("calls %s", rec.Body)
	}

	rec = do(s, "POST", "/v1/chat/completions", body+`,"stream":true}`)
	events := sseEvents(t, rec.Body)
	type seen struct {
		idx            int
		id, name, args string
	}
	var got []seen
	for _, e := range events {
		if e == "[DONE]" || !strings.Contains(e, "tool_calls") {
			continue
		}
		var ch api.ChatCompletionChunk
		if err := json.Unmarshal([]byte(e), &ch); err != nil {
			t.Fatal(err)
		}
		for _, c := range ch.Choices[0].Delta.ToolCalls {
			if c.Index == nil {
				t.Fatalf("no index: %s", e)
			}
			got = append(got, seen{*c.Index, c.ID, c.Function.Name, c.Function.Arguments})
		}
	}
	want := []seen{{0, "call_f", "f", ""}, {0, "", "", `{"a"`}, {0, "", "", `: 1}`}, {1, "call_g", "g", ""}, {1, "", "", `{}`}}
	if len(got) != len(want) {
		t.Fatalf("tool call deltas %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delta %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
