// This file holds the wire types of POST /v1/chat/completions: the request,
// the non-streaming response, and the chunks of a streamed response.

package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ChatCompletionRequest is the body of POST /v1/chat/completions. Fields the
// OpenAI API defines but neuron does not act on (store, metadata,
// service_tier, ...) are ignored when decoded. Pointer
// fields are nil when the client left them out.
type ChatCompletionRequest struct {
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`
	GenerationParams
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Logprobs            *bool           `json:"logprobs,omitempty"`
	TopLogprobs         *int            `json:"top_logprobs,omitempty"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          *ToolChoice     `json:"tool_choice,omitempty"`
	ResponseFormat      *ResponseFormat `json:"response_format,omitempty"`
	// ChatTemplateKwargs carries template switches; neuron reads
	// enable_thinking (a bool) and ignores the others.
	ChatTemplateKwargs map[string]json.RawMessage `json:"chat_template_kwargs,omitempty"`
	// ReasoningEffort "none" turns thinking off (an alias for
	// chat_template_kwargs.enable_thinking=false); other levels keep it on.
	ReasoningEffort *string `json:"reasoning_effort,omitempty"`
	// ParallelToolCalls false allows at most one tool call per reply.
	ParallelToolCalls *bool `json:"parallel_tool_calls,omitempty"`
}

// GenerationParams are the fields chat and text completion requests share:
// the token limit, the sampling parameters, stop sequences, n and
// streaming. Both requests embed it, so its fields sit at the top level of
// the body.
type GenerationParams struct {
	MaxTokens         *int               `json:"max_tokens,omitempty"`
	Temperature       *float64           `json:"temperature,omitempty"`
	TopP              *float64           `json:"top_p,omitempty"`
	TopK              *int               `json:"top_k,omitempty"`
	MinP              *float64           `json:"min_p,omitempty"`
	Seed              *int64             `json:"seed,omitempty"`
	Stop              Stop               `json:"stop,omitempty"`
	PresencePenalty   *float64           `json:"presence_penalty,omitempty"`
	FrequencyPenalty  *float64           `json:"frequency_penalty,omitempty"`
	RepetitionPenalty *float64           `json:"repetition_penalty,omitempty"`
	LogitBias         map[string]float64 `json:"logit_bias,omitempty"`
	N                 *int               `json:"n,omitempty"` // choices, 1 to MaxChoices
	Stream            bool               `json:"stream,omitempty"`
	StreamOptions     *StreamOptions     `json:"stream_options,omitempty"`
	User              string             `json:"user,omitempty"`
	// KeepAlive (an extension) is how long the model stays loaded after
	// this request; nil takes the daemon's keep_alive.
	KeepAlive *KeepAlive `json:"keep_alive,omitempty"`
	// IgnoreEOS (an extension, as vLLM and llama.cpp read it) generates
	// through end-of-generation tokens up to max_tokens; benchmarks use it
	// for outputs of a fixed length.
	IgnoreEOS bool `json:"ignore_eos,omitempty"`
}

// MaxChoices is the largest n a request may ask for.
const MaxChoices = 8

// Choices returns the number of choices asked for (n, 1 when absent).
func (p *GenerationParams) Choices() int {
	if p.N == nil || *p.N < 1 {
		return 1
	}
	return *p.N
}

// IncludeUsage reports whether a streamed response ends with a usage chunk.
func (p *GenerationParams) IncludeUsage() bool {
	return p.StreamOptions != nil && p.StreamOptions.IncludeUsage
}

// StreamOptions are the options of a streamed response.
type StreamOptions struct {
	// IncludeUsage asks for a last chunk with usage and no choices.
	IncludeUsage bool `json:"include_usage"`
}

// ResponseFormat asks for a response shape: "text", "json_object" (one JSON
// object) or "json_schema" (a JSON value valid against JSONSchema.Schema).
type ResponseFormat struct {
	Type       string            `json:"type"`
	JSONSchema *JSONSchemaFormat `json:"json_schema,omitempty"`
}

// JSONSchemaFormat is response_format's json_schema: a named schema the
// reply must follow. neuron enforces the schema whether or not Strict is
// set; a schema outside the supported subset is refused, never ignored.
type JSONSchemaFormat struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Stop is the stop field: a string, a list of strings, or null.
type Stop []string

// UnmarshalJSON accepts a string, a list of strings, or null.
func (s *Stop) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Stop{one}
		return nil
	case len(b) > 0 && b[0] == '[':
		var many []string
		if err := json.Unmarshal(b, &many); err != nil {
			return fmt.Errorf("stop must be a string or a list of strings")
		}
		*s = many
		return nil
	}
	return fmt.Errorf("stop must be a string or a list of strings")
}

// ToolChoice is "none", "auto", "required", or a named function.
type ToolChoice struct {
	// Mode is none, auto or required; empty when Function is set.
	Mode string
	// Function is the name of the function the model must call.
	Function string
}

// UnmarshalJSON accepts a mode string or {"type":"function","function":{"name":...}}.
func (t *ToolChoice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var mode string
		if err := json.Unmarshal(b, &mode); err != nil {
			return err
		}
		*t = ToolChoice{Mode: mode}
		return nil
	}
	var named struct {
		Type     string `json:"type"`
		Function *struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(b, &named); err != nil {
		return fmt.Errorf("tool_choice must be a string or an object naming a function")
	}
	if named.Type != "function" || named.Function == nil || named.Function.Name == "" {
		return fmt.Errorf(`tool_choice object must be {"type":"function","function":{"name":...}}`)
	}
	*t = ToolChoice{Function: named.Function.Name}
	return nil
}

// MarshalJSON writes the mode string or the named-function object.
func (t ToolChoice) MarshalJSON() ([]byte, error) {
	if t.Function != "" {
		return json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": t.Function}})
	}
	return json.Marshal(t.Mode)
}

// Usage counts the tokens of a request.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	// PromptTokensDetails says how many prompt tokens came from the
	// prompt cache, as OpenAI reports it.
	PromptTokensDetails *PromptTokensDetails `json:"prompt_tokens_details,omitempty"`
}

// PromptTokensDetails breaks the prompt tokens down.
type PromptTokensDetails struct {
	// CachedTokens are the prompt tokens whose computation was reused.
	CachedTokens int `json:"cached_tokens"`
}

// ChatCompletion is the response of a non-streaming chat completion.
type ChatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"` // "chat.completion"
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint,omitempty"`
	Choices           []ChatChoice `json:"choices"`
	Usage             *Usage       `json:"usage,omitempty"`
}

// ChatChoice is one choice of a chat completion.
type ChatChoice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	Logprobs     *Logprobs       `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

// ResponseMessage is the assistant message of a chat completion. Content is
// null when the model only called tools.
type ResponseMessage struct {
	Role             string     `json:"role"`
	Content          *string    `json:"content"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	Refusal          *string    `json:"refusal"`
}

// ChatCompletionChunk is one event of a streamed chat completion. Every chunk
// of one response carries the same ID. The usage chunk has no choices.
type ChatCompletionChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"` // "chat.completion.chunk"
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint,omitempty"`
	Choices           []ChunkChoice `json:"choices"`
	Usage             *Usage        `json:"usage,omitempty"`
}

// ChunkChoice is the choice of a chunk; FinishReason is null until the last.
type ChunkChoice struct {
	Index        int       `json:"index"`
	Delta        Delta     `json:"delta"`
	Logprobs     *Logprobs `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

// Delta is the part of the assistant message a chunk adds.
type Delta struct {
	Role             string     `json:"role,omitempty"`
	Content          *string    `json:"content,omitempty"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// Logprobs holds the log probabilities of the sampled tokens.
type Logprobs struct {
	Content []TokenLogprob `json:"content"`
}

// TokenLogprob is one sampled token with its log probability and, when asked
// for, the most likely alternatives.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is one alternative at a position.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}
