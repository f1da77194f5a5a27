// Tests for request decoding and validation: every malformed or out-of-range
// body must give a 400 naming the field, and valid bodies must decode.

package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestDecodeChatCompletionRequestErrors(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	cases := []struct {
		name, body, param string
	}{
		{"empty body", ``, ""},
		{"not an object", `[1,2]`, ""},
		{"syntax error", `{"model":`, ""},
		{"trailing data", `{"model":"m",` + msgs + `} {}`, ""},
		{"missing model", `{` + msgs + `}`, "model"},
		{"model not a string", `{"model":3,` + msgs + `}`, "model"},
		{"no messages", `{"model":"m","messages":[]}`, "messages"},
		{"bad role", `{"model":"m","messages":[{"role":"robot","content":"x"}]}`, "messages[0].role"},
		{"missing role", `{"model":"m","messages":[{"content":"x"}]}`, "messages[0].role"},
		{"image part", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, ""},
		{"content number", `{"model":"m","messages":[{"role":"user","content":5}]}`, ""},
		{"n 9", `{"model":"m",` + msgs + `,"n":9}`, "n"},
		{"n 0", `{"model":"m",` + msgs + `,"n":0}`, "n"},
		{"temperature high", `{"model":"m",` + msgs + `,"temperature":2.5}`, "temperature"},
		{"temperature string", `{"model":"m",` + msgs + `,"temperature":"hot"}`, "temperature"},
		{"top_p negative", `{"model":"m",` + msgs + `,"top_p":-0.1}`, "top_p"},
		{"min_p high", `{"model":"m",` + msgs + `,"min_p":1.5}`, "min_p"},
		{"top_k negative", `{"model":"m",` + msgs + `,"top_k":-1}`, "top_k"},
		{"top_k float", `{"model":"m",` + msgs + `,"top_k":1.5}`, "top_k"},
		{"max_tokens zero", `{"model":"m",` + msgs + `,"max_tokens":0}`, "max_tokens"},
		{"max_completion_tokens negative", `{"model":"m",` + msgs + `,"max_completion_tokens":-3}`, "max_completion_tokens"},
		{"presence out of range", `{"model":"m",` + msgs + `,"presence_penalty":3}`, "presence_penalty"},
		{"frequency out of range", `{"model":"m",` + msgs + `,"frequency_penalty":-3}`, "frequency_penalty"},
		{"repetition zero", `{"model":"m",` + msgs + `,"repetition_penalty":0}`, "repetition_penalty"},
		{"stop too many", `{"model":"m",` + msgs + `,"stop":["a","b","c","d","e"]}`, "stop"},
		{"stop number", `{"model":"m",` + msgs + `,"stop":7}`, ""},
		{"stop empty string", `{"model":"m",` + msgs + `,"stop":[""]}`, "stop"},
		{"logit_bias key", `{"model":"m",` + msgs + `,"logit_bias":{"abc":1}}`, "logit_bias"},
		{"logit_bias value", `{"model":"m",` + msgs + `,"logit_bias":{"5":101}}`, "logit_bias"},
		{"top_logprobs without logprobs", `{"model":"m",` + msgs + `,"top_logprobs":2}`, "top_logprobs"},
		{"top_logprobs too many", `{"model":"m",` + msgs + `,"logprobs":true,"top_logprobs":21}`, "top_logprobs"},
		{"tool type", `{"model":"m",` + msgs + `,"tools":[{"type":"web","function":{"name":"f"}}]}`, "tools[0].type"},
		{"tool name", `{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{"name":"a b"}}]}`, "tools[0].function.name"},
		{"tool_choice unknown mode", `{"model":"m",` + msgs + `,"tool_choice":"sometimes","tools":[{"type":"function","function":{"name":"f"}}]}`, "tool_choice"},
		{"tool_choice unknown function", `{"model":"m",` + msgs + `,"tool_choice":{"type":"function","function":{"name":"g"}},"tools":[{"type":"function","function":{"name":"f"}}]}`, "tool_choice"},
		{"tool_choice auto without tools", `{"model":"m",` + msgs + `,"tool_choice":"auto"}`, "tool_choice"},
		{"response_format schema missing", `{"model":"m",` + msgs + `,"response_format":{"type":"json_schema"}}`, "response_format.json_schema"},
		{"response_format schema name", `{"model":"m",` + msgs + `,"response_format":{"type":"json_schema","json_schema":{"name":"a b","schema":{}}}}`, "response_format.json_schema.name"},
		{"response_format schema not an object", `{"model":"m",` + msgs + `,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":[1]}}}`, "response_format.json_schema.schema"},
		{"parallel_tool_calls string", `{"model":"m",` + msgs + `,"parallel_tool_calls":"no"}`, "parallel_tool_calls"},
		{"response_format unknown", `{"model":"m",` + msgs + `,"response_format":{"type":"yaml"}}`, "response_format.type"},
		{"enable_thinking string", `{"model":"m",` + msgs + `,"chat_template_kwargs":{"enable_thinking":"no"}}`, "chat_template_kwargs.enable_thinking"},
		{"reasoning_effort unknown", `{"model":"m",` + msgs + `,"reasoning_effort":"max"}`, "reasoning_effort"},
		{"stream_options without stream", `{"model":"m",` + msgs + `,"stream_options":{"include_usage":true}}`, "stream_options"},
		{"stream not bool", `{"model":"m",` + msgs + `,"stream":"yes"}`, "stream"},
		{"assistant tool call without name", `{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"arguments":"{}"}}]}]}`, "messages[0].tool_calls[0].function.name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, e := DecodeChatCompletionRequest([]byte(tc.body))
			if e == nil {
				t.Fatalf("decoded without error")
			}
			if e.Status != http.StatusBadRequest || e.Type != TypeInvalidRequest {
				t.Errorf("status %d type %q, want 400 %q", e.Status, e.Type, TypeInvalidRequest)
			}
			if tc.param != "" && e.Param != tc.param {
				t.Errorf("param %q, want %q (message %q)", e.Param, tc.param, e.Message)
			}
			if e.Message == "" {
				t.Errorf("empty message")
			}
		})
	}
}

func TestDecodeChatCompletionRequestValid(t *testing.T) {
	body := `{"model":"qwen","messages":[{"role":"system","content":"be brief"},
		{"role":"user","content":[{"type":"text","text":"hel"},{"type":"text","text":"lo"}]}],
		"max_tokens":5,"max_completion_tokens":7,"temperature":0.5,"top_p":0.9,"top_k":40,"min_p":0.05,
		"seed":42,"stop":"END","logit_bias":{"15":-100},"logprobs":true,"top_logprobs":3,
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],
		"tool_choice":{"type":"function","function":{"name":"get_weather"}},
		"response_format":{"type":"json_object"},"reasoning_effort":"none","n":1,
		"stream":true,"stream_options":{"include_usage":true},"user":"u1",
		"store":false,"metadata":{"a":"b"},"parallel_tool_calls":true}`
	r, e := DecodeChatCompletionRequest([]byte(body))
	if e != nil {
		t.Fatalf("decode: %v (param %s)", e, e.Param)
	}
	if got := r.Messages[1].Content.Text; got != "hello" {
		t.Errorf("content parts joined to %q, want hello", got)
	}
	if len(r.Stop) != 1 || r.Stop[0] != "END" {
		t.Errorf("stop %q", r.Stop)
	}
	if r.CompletionLimit() != 7 {
		t.Errorf("limit %d, want max_completion_tokens 7", r.CompletionLimit())
	}
	if th := r.EnableThinking(); th == nil || *th {
		t.Errorf("reasoning_effort none should disable thinking, got %v", th)
	}
	if r.ToolChoice.Function != "get_weather" {
		t.Errorf("tool_choice %+v", r.ToolChoice)
	}
	if !r.StreamOptions.IncludeUsage {
		t.Errorf("include_usage lost")
	}
}

func TestEnableThinkingPrecedence(t *testing.T) {
	cases := []struct {
		name, extra string
		want        string // "nil", "true", "false"
	}{
		{"default", ``, "nil"},
		{"kwargs true", `,"chat_template_kwargs":{"enable_thinking":true}`, "true"},
		{"kwargs false", `,"chat_template_kwargs":{"enable_thinking":false}`, "false"},
		{"effort none", `,"reasoning_effort":"none"`, "false"},
		{"effort high", `,"reasoning_effort":"high"`, "nil"},
		{"kwargs wins", `,"reasoning_effort":"none","chat_template_kwargs":{"enable_thinking":true}`, "true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, e := DecodeChatCompletionRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}]` + tc.extra + `}`))
			if e != nil {
				t.Fatal(e)
			}
			got := "nil"
			if b := r.EnableThinking(); b != nil {
				got = map[bool]string{true: "true", false: "false"}[*b]
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDecodeCompletionRequest(t *testing.T) {
	cases := []struct {
		name, body, param string
		ok                bool
		text              string
		tokens            int
	}{
		{"string", `{"model":"m","prompt":"abc"}`, "", true, "abc", 0},
		{"list of one string", `{"model":"m","prompt":["abc"]}`, "", true, "abc", 0},
		{"tokens", `{"model":"m","prompt":[1,2,3]}`, "", true, "", 3},
		{"nested tokens", `{"model":"m","prompt":[[1,2]]}`, "", true, "", 2},
		{"batch", `{"model":"m","prompt":["a","b"]}`, "", false, "", 0},
		{"missing prompt", `{"model":"m"}`, "prompt", false, "", 0},
		{"negative token", `{"model":"m","prompt":[-1]}`, "prompt", false, "", 0},
		{"echo", `{"model":"m","prompt":"a","echo":true}`, "echo", false, "", 0},
		{"suffix", `{"model":"m","prompt":"a","suffix":"z"}`, "suffix", false, "", 0},
		{"best_of", `{"model":"m","prompt":"a","best_of":3}`, "best_of", false, "", 0},
		{"logprobs", `{"model":"m","prompt":"a","logprobs":6}`, "logprobs", false, "", 0},
		{"n 3", `{"model":"m","prompt":"a","n":3}`, "", true, "a", 0},
		{"n 9", `{"model":"m","prompt":"a","n":9}`, "n", false, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, e := DecodeCompletionRequest([]byte(tc.body))
			if !tc.ok {
				if e == nil || e.Status != http.StatusBadRequest {
					t.Fatalf("want a 400, got %v", e)
				}
				if tc.param != "" && e.Param != tc.param {
					t.Errorf("param %q, want %q", e.Param, tc.param)
				}
				return
			}
			if e != nil {
				t.Fatal(e)
			}
			if r.Prompt.Text != tc.text || len(r.Prompt.Tokens) != tc.tokens {
				t.Errorf("prompt %+v", r.Prompt)
			}
			if r.CompletionLimit() != 16 {
				t.Errorf("default max_tokens %d, want the API's 16", r.CompletionLimit())
			}
		})
	}
}

func TestErrorJSON(t *testing.T) {
	b, err := json.Marshal(ErrorResponse{Error: Invalid("", "bad")})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":"invalid_value"}}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	b, _ = json.Marshal(ErrorResponse{Error: ContextLengthExceeded(100, 50, 128)})
	if !strings.Contains(string(b), `"n_prompt_tokens":100`) || !strings.Contains(string(b), `"n_ctx":128`) {
		t.Errorf("context error lacks counts: %s", b)
	}
	var back ErrorResponse
	if err := json.Unmarshal([]byte(`{"error":{"message":"m","type":"t","param":null,"code":400}}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.Error.Code != "400" || back.Error.Param != "" {
		t.Errorf("decoded %+v", back.Error)
	}
}

func TestValidDevice(t *testing.T) {
	for s, want := range map[string]bool{"auto": true, "cpu": true, "cuda": true, "cuda:0": true, "cuda:12": true,
		"cuda:": false, "cuda:-1": false, "cuda:01": false, "gpu": false, "": false, "cuda:x": false} {
		if got := ValidDevice(s); got != want {
			t.Errorf("ValidDevice(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestDecodeUnloadRequest(t *testing.T) {
	cases := []struct {
		name, body, param string // param "" when the body is valid
		timeout           float64
	}{
		{"default wait", `{"model":"m"}`, "", 0},
		{"fraction of a second", `{"model":"m","timeout_s":0.5}`, "", 0.5},
		{"a day", `{"model":"m","timeout_s":86400}`, "", 86400},
		{"no model", `{"timeout_s":1}`, "model", 0},
		{"negative", `{"model":"m","timeout_s":-1}`, "timeout_s", 0},
		{"beyond a day", `{"model":"m","timeout_s":86401}`, "timeout_s", 0},
		{"beyond a time.Duration", `{"model":"m","timeout_s":1e12}`, "timeout_s", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, e := DecodeUnloadRequest([]byte(c.body))
			switch {
			case c.param == "" && e != nil:
				t.Fatalf("rejected: %v", e)
			case c.param == "" && r.TimeoutSeconds != c.timeout:
				t.Errorf("timeout_s %g, want %g", r.TimeoutSeconds, c.timeout)
			case c.param != "" && (e == nil || e.Param != c.param || e.Status != http.StatusBadRequest):
				t.Errorf("got %+v, want a 400 about %s", e, c.param)
			}
		})
	}
}

// FuzzDecodeChatCompletionRequest checks that no body panics and that every
// rejection is a 400 with a message.
func FuzzDecodeChatCompletionRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"stop":["x"],"tool_choice":"auto","tools":[{"type":"function","function":{"name":"f","parameters":{}}}]}`,
		`{"model":"m","messages":[],"logit_bias":{"1":2},"chat_template_kwargs":{"enable_thinking":false}}`,
		`{"model":"m","messages":[{"role":"user","content":null}],"n":1,"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"w","strict":true,"schema":{"type":"object"}}},"parallel_tool_calls":false}`,
		`[]`, `null`, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, e := DecodeChatCompletionRequest(b)
		if e != nil {
			if e.Status != http.StatusBadRequest || e.Message == "" {
				t.Fatalf("bad rejection %+v", e)
			}
			return
		}
		if r.Model == "" || len(r.Messages) == 0 {
			t.Fatalf("accepted a request without model or messages: %s", b)
		}
		r.EnableThinking()
		r.CompletionLimit()
		if rf := r.ResponseFormat; rf != nil && rf.Type == "json_schema" &&
			(rf.JSONSchema == nil || !strings.HasPrefix(strings.TrimSpace(string(rf.JSONSchema.Schema)), "{")) {
			t.Fatalf("accepted json_schema without a schema object: %s", b)
		}
	})
}
