// This file decodes and validates request bodies. Decoding ignores fields it
// does not know (the OpenAI API grows faster than any server), but every value
// neuron reads is checked: a wrong type or an out-of-range value is a 400
// invalid_request_error whose param names the field.

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Limits of the request fields. The ranges follow the OpenAI API reference;
// maxStop and maxTopLogprobs are the OpenAI limits (4 stop sequences, 20
// alternatives), maxCompletionLogprobs is the legacy completions limit (5).
const (
	maxStop               = 4
	maxTopLogprobs        = 20
	maxCompletionLogprobs = 5
	maxLogitBias          = 100
	// maxUnloadTimeoutSeconds bounds an unload's wait to a day, longer than
	// any generation runs and far from overflowing a time.Duration.
	maxUnloadTimeoutSeconds = 24 * 60 * 60
)

// toolName is the OpenAI rule for function names: letters, digits,
// underscores and dashes, at most 64 characters (dots are accepted as well,
// as several clients namespace tools with them).
var toolName = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)

// schemaName is the OpenAI rule for response_format json_schema names.
var schemaName = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)

// DecodeChatCompletionRequest decodes and validates a chat-completions body.
func DecodeChatCompletionRequest(body []byte) (*ChatCompletionRequest, *Error) {
	var r ChatCompletionRequest
	if e := decodeObject(body, &r); e != nil {
		return nil, e
	}
	if e := r.Validate(); e != nil {
		return nil, e
	}
	return &r, nil
}

// DecodeCompletionRequest decodes and validates a completions body.
func DecodeCompletionRequest(body []byte) (*CompletionRequest, *Error) {
	var r CompletionRequest
	if e := decodeObject(body, &r); e != nil {
		return nil, e
	}
	if e := r.Validate(); e != nil {
		return nil, e
	}
	return &r, nil
}

// DecodeLoadRequest decodes and validates a POST /models/load body.
func DecodeLoadRequest(body []byte) (*LoadRequest, *Error) {
	var r LoadRequest
	if e := decodeObject(body, &r); e != nil {
		return nil, e
	}
	if r.Model == "" {
		return nil, Invalid("model", "model is required")
	}
	if r.CtxSize < 0 {
		return nil, Invalid("ctx_size", "ctx_size must be 0 (the default) or positive, got %d", r.CtxSize)
	}
	if r.Device != "" && !ValidDevice(r.Device) {
		return nil, Invalid("device", "device must be auto, cpu, cuda or cuda:N, got %q", r.Device)
	}
	return &r, nil
}

// DecodeUnloadRequest decodes and validates a POST /models/unload body.
func DecodeUnloadRequest(body []byte) (*UnloadRequest, *Error) {
	var r UnloadRequest
	if e := decodeObject(body, &r); e != nil {
		return nil, e
	}
	if r.Model == "" {
		return nil, Invalid("model", "model is required")
	}
	if !(r.TimeoutSeconds >= 0 && r.TimeoutSeconds <= maxUnloadTimeoutSeconds) {
		return nil, Invalid("timeout_s", "timeout_s must be between 0 and %d, got %g", maxUnloadTimeoutSeconds, r.TimeoutSeconds)
	}
	return &r, nil
}

// ValidDevice reports whether s names a device: auto, cpu, cuda or cuda:N.
func ValidDevice(s string) bool {
	switch s {
	case "auto", "cpu", "cuda":
		return true
	}
	// cuda:N with N in canonical decimal form (no sign, no leading zero).
	idx, ok := strings.CutPrefix(s, "cuda:")
	n, err := strconv.Atoi(idx)
	return ok && err == nil && n >= 0 && strconv.Itoa(n) == idx
}

// decodeObject decodes one JSON object into v, turning decoding errors into
// 400s that name the field where the decoder knows it.
func decodeObject(body []byte, v any) *Error {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return Invalid("", "request body is empty; expected a JSON object")
	}
	if b[0] != '{' {
		return Invalid("", "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Invalid("", "request body has data after the JSON object")
	}
	return nil
}

// jsonError describes a decoding error.
func jsonError(err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var field *Error
	switch {
	case errors.As(err, &field): // a field's own decoder (keep_alive)
		return field
	case errors.As(err, &syn):
		return Invalid("", "request body is not valid JSON: %v (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		// The decoder names a field of an embedded struct after the
		// struct's type; the client knows it at the top level.
		field := strings.TrimPrefix(typ.Field, "GenerationParams.")
		if field == "" {
			return Invalid("", "request body: cannot use JSON %s as %s", typ.Value, typ.Type)
		}
		return Invalid(field, "%s: expected %s, got JSON %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Invalid("", "request body is truncated JSON")
	}
	return Invalid("", "request body: %v", err)
}

// jsonKind names a Go kind the way a JSON user thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	case "slice", "array":
		return "a list"
	case "map", "struct":
		return "an object"
	}
	return kind
}

// validate checks the shared fields but max_tokens, which each request
// checks in its own order.
func (p *GenerationParams) validate() *Error {
	if p.N != nil && (*p.N < 1 || *p.N > MaxChoices) {
		return Unsupported("n", "n must be between 1 and %d (got %d)", MaxChoices, *p.N)
	}
	if e := inRange("temperature", p.Temperature, 0, 2); e != nil {
		return e
	}
	if e := inRange("top_p", p.TopP, 0, 1); e != nil {
		return e
	}
	if e := inRange("min_p", p.MinP, 0, 1); e != nil {
		return e
	}
	if e := inRange("presence_penalty", p.PresencePenalty, -2, 2); e != nil {
		return e
	}
	if e := inRange("frequency_penalty", p.FrequencyPenalty, -2, 2); e != nil {
		return e
	}
	if p.RepetitionPenalty != nil && !(*p.RepetitionPenalty > 0) {
		return Invalid("repetition_penalty", "repetition_penalty must be positive (1 disables it), got %g", *p.RepetitionPenalty)
	}
	if p.TopK != nil && *p.TopK < 0 {
		return Invalid("top_k", "top_k must be 0 (disabled) or positive, got %d", *p.TopK)
	}
	if len(p.Stop) > maxStop {
		return Invalid("stop", "stop takes at most %d sequences, got %d", maxStop, len(p.Stop))
	}
	for i, st := range p.Stop {
		if st == "" {
			return Invalid("stop", "stop[%d] is empty", i)
		}
	}
	for k, v := range p.LogitBias {
		id, err := strconv.ParseInt(k, 10, 32)
		if err != nil || id < 0 {
			return Invalid("logit_bias", "logit_bias keys must be token ids, got %q", k)
		}
		if v < -maxLogitBias || v > maxLogitBias {
			return Invalid("logit_bias", "logit_bias[%s] must be between -100 and 100, got %g", k, v)
		}
	}
	if p.StreamOptions != nil && !p.Stream {
		return Invalid("stream_options", "stream_options is only allowed when stream is true")
	}
	return nil
}

// inRange checks an optional number against [lo, hi] (NaN fails).
func inRange(param string, v *float64, lo, hi float64) *Error {
	if v != nil && !(*v >= lo && *v <= hi) {
		return Invalid(param, "%s must be between %g and %g, got %g", param, lo, hi, *v)
	}
	return nil
}

// maxTokens checks an optional token limit.
func maxTokens(param string, v *int) *Error {
	if v != nil && *v < 1 {
		return Invalid(param, "%s must be at least 1, got %d", param, *v)
	}
	return nil
}

// Validate checks every field neuron reads.
func (r *ChatCompletionRequest) Validate() *Error {
	if r.Model == "" {
		return Invalid("model", "model is required")
	}
	if len(r.Messages) == 0 {
		return Invalid("messages", "messages must hold at least one message")
	}
	for i, m := range r.Messages {
		param := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		case "":
			return Invalid(param+".role", "%s.role is required", param)
		default:
			return Invalid(param+".role", "%s.role must be system, developer, user, assistant or tool, got %q", param, m.Role)
		}
		for j, tc := range m.ToolCalls {
			if m.Role != "assistant" {
				return Invalid(param+".tool_calls", "%s: only assistant messages carry tool_calls", param)
			}
			if tc.Function.Name == "" {
				return Invalid(fmt.Sprintf("%s.tool_calls[%d].function.name", param, j), "%s.tool_calls[%d]: function name is required", param, j)
			}
		}
	}
	if e := maxTokens("max_tokens", r.MaxTokens); e != nil {
		return e
	}
	if e := maxTokens("max_completion_tokens", r.MaxCompletionTokens); e != nil {
		return e
	}
	if e := r.GenerationParams.validate(); e != nil {
		return e
	}
	if r.TopLogprobs != nil {
		if *r.TopLogprobs < 0 || *r.TopLogprobs > maxTopLogprobs {
			return Invalid("top_logprobs", "top_logprobs must be between 0 and %d, got %d", maxTopLogprobs, *r.TopLogprobs)
		}
		if *r.TopLogprobs > 0 && (r.Logprobs == nil || !*r.Logprobs) {
			return Invalid("top_logprobs", "top_logprobs requires logprobs to be true")
		}
	}
	names := map[string]bool{}
	for i, t := range r.Tools {
		if t.Type != "function" {
			return Invalid(fmt.Sprintf("tools[%d].type", i), "tools[%d].type must be \"function\", got %q", i, t.Type)
		}
		if !toolName.MatchString(t.Function.Name) {
			return Invalid(fmt.Sprintf("tools[%d].function.name", i), "tools[%d].function.name must be 1-64 letters, digits, '_', '-' or '.', got %q", i, t.Function.Name)
		}
		if p := bytes.TrimSpace(t.Function.Parameters); len(p) > 0 && p[0] != '{' && string(p) != "null" {
			return Invalid(fmt.Sprintf("tools[%d].function.parameters", i), "tools[%d].function.parameters must be a JSON schema object", i)
		}
		names[t.Function.Name] = true
	}
	if tc := r.ToolChoice; tc != nil {
		switch {
		case tc.Function != "":
			if !names[tc.Function] {
				return Invalid("tool_choice", "tool_choice names function %q, which is not in tools", tc.Function)
			}
		case tc.Mode == "none":
		case tc.Mode == "auto" || tc.Mode == "required":
			if len(r.Tools) == 0 {
				return Invalid("tool_choice", "tool_choice %q needs tools", tc.Mode)
			}
		default:
			return Invalid("tool_choice", "tool_choice must be none, auto, required or a named function, got %q", tc.Mode)
		}
	}
	if rf := r.ResponseFormat; rf != nil {
		switch rf.Type {
		case "text", "json_object":
		case "json_schema":
			js := rf.JSONSchema
			switch {
			case js == nil:
				return Invalid("response_format.json_schema", "response_format json_schema needs a json_schema object")
			case !schemaName.MatchString(js.Name):
				return Invalid("response_format.json_schema.name", "response_format.json_schema.name must be 1-64 letters, digits, '_' or '-', got %q", js.Name)
			}
			if s := bytes.TrimSpace(js.Schema); len(s) == 0 || s[0] != '{' {
				return Invalid("response_format.json_schema.schema", "response_format.json_schema.schema must be a JSON schema object")
			}
		default:
			return Invalid("response_format.type", "response_format.type must be text, json_object or json_schema, got %q", rf.Type)
		}
	}
	if raw, ok := r.ChatTemplateKwargs["enable_thinking"]; ok {
		var b *bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return Invalid("chat_template_kwargs.enable_thinking", "chat_template_kwargs.enable_thinking must be a boolean")
		}
	}
	if r.ReasoningEffort != nil {
		switch *r.ReasoningEffort {
		case "none", "minimal", "low", "medium", "high":
		default:
			return Invalid("reasoning_effort", "reasoning_effort must be none, minimal, low, medium or high, got %q", *r.ReasoningEffort)
		}
	}
	return nil
}

// EnableThinking returns the thinking switch the request asks for: the
// chat_template_kwargs.enable_thinking value, else false for reasoning_effort
// "none", else nil (the template's default). Call it after Validate.
func (r *ChatCompletionRequest) EnableThinking() *bool {
	if raw, ok := r.ChatTemplateKwargs["enable_thinking"]; ok {
		var b *bool
		if json.Unmarshal(raw, &b) == nil && b != nil {
			return b
		}
	}
	if r.ReasoningEffort != nil && *r.ReasoningEffort == "none" {
		f := false
		return &f
	}
	return nil
}

// CompletionLimit returns max_completion_tokens, else max_tokens, else 0
// (no limit but the context).
func (r *ChatCompletionRequest) CompletionLimit() int {
	switch {
	case r.MaxCompletionTokens != nil:
		return *r.MaxCompletionTokens
	case r.MaxTokens != nil:
		return *r.MaxTokens
	}
	return 0
}

// Validate checks every field neuron reads.
func (r *CompletionRequest) Validate() *Error {
	if r.Model == "" {
		return Invalid("model", "model is required")
	}
	if !r.Prompt.Set {
		return Invalid("prompt", "prompt is required")
	}
	for i, id := range r.Prompt.Tokens {
		if id < 0 {
			return Invalid("prompt", "prompt token %d is negative (%d)", i, id)
		}
	}
	if e := maxTokens("max_tokens", r.MaxTokens); e != nil {
		return e
	}
	if e := r.GenerationParams.validate(); e != nil {
		return e
	}
	if r.Logprobs != nil && (*r.Logprobs < 0 || *r.Logprobs > maxCompletionLogprobs) {
		return Invalid("logprobs", "logprobs must be between 0 and %d, got %d", maxCompletionLogprobs, *r.Logprobs)
	}
	if r.Echo {
		return Unsupported("echo", "echo is not supported")
	}
	if r.Suffix != nil && *r.Suffix != "" {
		return Unsupported("suffix", "suffix is not supported")
	}
	if r.BestOf != nil && *r.BestOf != 1 {
		return Unsupported("best_of", "best_of must be 1, got %d", *r.BestOf)
	}
	return nil
}

// completionDefaultMaxTokens is the OpenAI completions API's default for
// max_tokens.
const completionDefaultMaxTokens = 16

// CompletionLimit returns max_tokens, or the API's default of 16.
func (r *CompletionRequest) CompletionLimit() int {
	if r.MaxTokens != nil {
		return *r.MaxTokens
	}
	return completionDefaultMaxTokens
}
