// Package server is neuron's HTTP API: the OpenAI-compatible chat and
// completion endpoints, the model-management endpoints the gateway uses,
// health and Prometheus metrics, on echo v4.
//
// The server never imports the engine. This file defines the small
// interfaces it needs from it — a ModelManager that loads, lists and lends
// out models, and a Generator that turns a request into a stream of text
// deltas — in terms of the server's own and package api's types;
// cmd/neuron adapts the engine to them.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/helexa/helexa/api"
)

// ModelManager owns the loaded models.
type ModelManager interface {
	// Load loads a model and returns its description. Loading a model whose
	// id (alias, else reference) is already loaded returns the loaded one.
	// It must not block requests to other models while it runs.
	Load(ctx context.Context, req api.LoadRequest) (ModelInfo, error)
	// Unload frees a model. The server calls it only when no generation of
	// the model runs or waits.
	Unload(ctx context.Context, id string) error
	// List describes the loaded models.
	List() []ModelInfo
	// Acquire lends out a loaded model's generator; the model is not freed
	// before release is called. An unknown id is ErrModelNotFound.
	Acquire(id string) (gen Generator, release func(), err error)
}

// CapacityReporter is implemented by a ModelManager that admits loads
// against a memory budget; GET /models then reports its capacity.
type CapacityReporter interface {
	Capacity() api.Capacity
}

// ModelInfo describes a loaded model.
type ModelInfo struct {
	ID      string // the name clients use
	Source  string // the reference or path it was loaded from
	Path    string // the resolved local file
	Backend string // cpu, cuda
	Device  string // cpu, cuda:0, ...
	CtxSize int    // context length of a sequence, in tokens
	KVSlots int    // sequences the KV cache holds at once (0 counts as 1)
	// MemoryBytes is what the weights and KV cache occupy.
	MemoryBytes int64
	// KVCacheUsage is the fraction of KV-cache blocks in use, 0 to 1;
	// KVBlocks and KVBlocksUsed count them, KVBlockSize positions each.
	KVCacheUsage float64
	KVBlocks     int
	KVBlocksUsed int
	KVBlockSize  int
	LoadedAt     time.Time
	// Error says why a loaded model can no longer serve (its file changed
	// or faulted, or its device failed); GET /models shows it as failed
	// until it is unloaded. Empty while healthy.
	Error string
	// MaxPromptBytes bounds the prompt text that can fit the model's
	// context; request bodies for the model are bounded from it. 0: no
	// bound beyond the server's.
	MaxPromptBytes int64
}

// Generator runs generations on one model. Generate calls emit for each
// piece of output, in order, from the calling goroutine; when emit returns an
// error Generate stops and returns it. Generate stops with ctx's error within
// a token once ctx is done.
type Generator interface {
	Generate(ctx context.Context, req *GenerateRequest, emit func(Delta) error) (*Result, error)
}

// GenerateRequest is a generation request as the server hands it to a
// Generator. Exactly one of Messages (chat), Prompt or Tokens (raw) is set.
type GenerateRequest struct {
	// Chat mode: the template is applied and the output is parsed into
	// content, reasoning and tool calls.
	Messages []api.Message
	// Tools are the tools offered to the model (already narrowed by
	// tool_choice: none offers none, a named function offers only it).
	Tools []api.Tool
	// ToolChoice is "", "none", "auto", "required" or a function name.
	// "required" and a function name force the reply to be tool calls
	// (to the named function), with arguments valid against the
	// function's parameters schema.
	ToolChoice string
	// SingleToolCall allows at most one tool call (parallel_tool_calls
	// false).
	SingleToolCall bool
	// EnableThinking is nil for the template's default.
	EnableThinking *bool
	// JSONMode is response_format json_object: the content is constrained
	// to one JSON object and generation stops when it closes (finish
	// reason stop, or length first). Thinking is off unless EnableThinking
	// turns it on; then the reasoning is free and the content after it is
	// constrained.
	JSONMode bool
	// JSONSchema is response_format json_schema's schema: the content is
	// one JSON value valid against it, as JSONMode constrains it to an
	// object. A schema outside the supported subset fails the request
	// with ErrInvalidRequest naming the keyword.
	JSONSchema json.RawMessage

	// Raw mode.
	Prompt string
	Tokens []int32

	// N is the number of choices (0 or 1: one). The prompt is evaluated
	// once; choice i samples with seed+i.
	N int

	// MaxTokens limits the completion; 0 leaves only the context as limit.
	MaxTokens int
	Stop      []string
	Sampling  Sampling
	// Logprobs asks for the sampled tokens' log probabilities and
	// TopLogprobs for that many alternatives each.
	Logprobs    bool
	TopLogprobs int
	// IgnoreEOS generates through end-of-generation tokens.
	IgnoreEOS bool
}

// Sampling holds the sampling parameters with the OpenAI defaults applied
// (temperature 1, top_p 1, top_k 0 = off, min_p 0 = off, penalties off).
type Sampling struct {
	Temperature       float32
	TopP              float32
	TopK              int
	MinP              float32
	RepetitionPenalty float32 // 1 = off
	PresencePenalty   float32
	FrequencyPenalty  float32
	LogitBias         map[int32]float32
	Seed              *uint64
}

// Delta is one piece of generated output; one of Content, Reasoning or
// ToolCalls is set. Tokens counts the tokens it covers (for latency metrics).
// Index is the choice it belongs to (0 unless the request asked for
// several).
type Delta struct {
	Index     int
	Content   string
	Reasoning string
	ToolCalls []api.ToolCall
	Tokens    int
	Logprobs  []api.TokenLogprob
}

// Result ends a generation.
type Result struct {
	// FinishReason is stop, length or tool_calls (choice 0's).
	FinishReason string
	// FinishReasons has every choice's finish reason when the request
	// asked for several.
	FinishReasons []string
	// PromptTokens counts the prompt once; CompletionTokens adds up all
	// choices.
	PromptTokens     int
	CompletionTokens int
	// CachedTokens are the leading prompt tokens whose KV entries came
	// from the cache (usage.prompt_tokens_details.cached_tokens).
	CachedTokens int
}

// finishOf returns choice i's finish reason.
func (r *Result) finishOf(i int) string {
	if i < len(r.FinishReasons) {
		return r.FinishReasons[i]
	}
	return r.FinishReason
}

// Errors a ModelManager or Generator returns (wrapped with %w), which the
// server maps to HTTP statuses. A *api.Error is sent as it is.
var (
	// ErrModelNotFound: the model is not loaded, or the reference names no
	// model (404 model_not_found).
	ErrModelNotFound = errors.New("server: model not found")
	// ErrInvalidRequest: the request cannot be served as asked (400).
	ErrInvalidRequest = errors.New("server: invalid request")
	// ErrUnavailable: try again later (503 with Retry-After).
	ErrUnavailable = errors.New("server: unavailable")
	// ErrBusy: the model is in use (409).
	ErrBusy = errors.New("server: model busy")
	// ErrNoRoom marks a load refused for want of room: too many models
	// loaded, or not enough memory. A request's automatic load answers it
	// with 503 insufficient_memory.
	ErrNoRoom = errors.New("server: no room for the model")
	// ErrEvictionHelps marks an ErrNoRoom refusal that unloading the models
	// in the load's Evictable set would lift; the server then evicts them,
	// least recently used first (evict.go).
	ErrEvictionHelps = errors.New("server: evicting idle models makes room")
)

// ContextLengthError reports a prompt plus completion limit that do not fit
// the model's context (400 context_length_exceeded).
type ContextLengthError struct {
	Prompt, Requested, Ctx int
}

func (e *ContextLengthError) Error() string {
	return fmt.Sprintf("server: prompt of %d tokens plus %d requested exceeds the context of %d", e.Prompt, e.Requested, e.Ctx)
}

// WithKind marks err as one of the kinds above (ErrModelNotFound, ...)
// without changing its message: errors.Is(WithKind(k, err), k) holds, and
// the client reads err's own words.
func WithKind(kind, err error) error { return &kindError{kind: kind, err: err} }

type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }
