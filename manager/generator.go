// This file adapts an engine.Generator to the server's Generator: it
// converts the request and its output and maps generation errors to the
// server's kinds.

package manager

import (
	"context"
	"errors"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/server"
)

// engineGenerator is the server's Generator over an engine.Generator.
type engineGenerator struct {
	g *engine.Generator
}

// Generate converts the request, runs it and converts its output.
func (e *engineGenerator) Generate(ctx context.Context, req *server.GenerateRequest, emit func(server.Delta) error) (*server.Result, error) {
	er := engine.GenerateRequest{
		MaxTokens:   req.MaxTokens,
		Stop:        req.Stop,
		Logprobs:    req.Logprobs,
		TopLogprobs: req.TopLogprobs,
		JSON:        req.JSONMode,
		IgnoreEOS:   req.IgnoreEOS,
		JSONSchema:  req.JSONSchema,
		// tool_choice reaches the engine, which forces the calls.
		ToolChoice:     req.ToolChoice,
		SingleToolCall: req.SingleToolCall,
		Sampling: engine.SamplingParams{
			Temperature: req.Sampling.Temperature, TopP: req.Sampling.TopP, MinP: req.Sampling.MinP,
			TopK: req.Sampling.TopK, RepetitionPenalty: req.Sampling.RepetitionPenalty,
			PresencePenalty: req.Sampling.PresencePenalty, FrequencyPenalty: req.Sampling.FrequencyPenalty,
			LogitBias: req.Sampling.LogitBias, Seed: req.Sampling.Seed,
		},
	}
	switch {
	case req.Messages != nil:
		er.Chat = &chat.Request{Messages: req.Messages, Tools: req.Tools, EnableThinking: req.EnableThinking,
			AddGenerationPrompt: true}
	case len(req.Tokens) > 0:
		er.Tokens = req.Tokens
	default:
		er.Prompt = req.Prompt
	}
	results, err := e.g.GenerateChoices(ctx, er, max(req.N, 1), func(i int, ev engine.Event) error {
		return emit(server.Delta{Index: i, Content: ev.Content, Reasoning: ev.Reasoning, ToolCalls: ev.ToolCalls,
			Tokens: len(ev.Tokens), Logprobs: logprobs(ev.Logprobs)})
	})
	if err != nil {
		return nil, requestError(err)
	}
	out := &server.Result{FinishReason: results[0].FinishReason, PromptTokens: results[0].Usage.PromptTokens,
		CachedTokens: results[0].Usage.CachedTokens}
	for _, r := range results {
		out.CompletionTokens += r.Usage.CompletionTokens
		if len(results) > 1 {
			out.FinishReasons = append(out.FinishReasons, r.FinishReason)
		}
	}
	return out, nil
}

// requestError maps an engine error of a request to the server's kinds.
func requestError(err error) error {
	var cl *engine.ContextLengthError
	switch {
	case errors.As(err, &cl):
		return &server.ContextLengthError{Prompt: cl.Prompt, Requested: cl.Requested, Ctx: cl.Ctx}
	case errors.Is(err, engine.ErrBadRequest):
		return server.WithKind(server.ErrInvalidRequest, err)
	case errors.Is(err, engine.ErrModelNotLoaded):
		return server.WithKind(server.ErrModelNotFound, err)
	case errors.Is(err, engine.ErrModelFailed):
		return modelFailed(err)
	}
	return err
}

// Embed computes embeddings with the model.
func (e *engineGenerator) Embed(ctx context.Context, texts []string, tokens [][]int32) (*server.EmbedResult, error) {
	res, err := e.g.Embed(ctx, texts, tokens)
	if err != nil {
		return nil, requestError(err)
	}
	return &server.EmbedResult{Embeddings: res.Embeddings, PromptTokens: res.PromptTokens}, nil
}

// logprobs converts the engine's token log probabilities to the API's.
func logprobs(in []engine.TokenLogprob) []api.TokenLogprob {
	if len(in) == 0 {
		return nil
	}
	out := make([]api.TokenLogprob, len(in))
	for i, lp := range in {
		top := make([]api.TopLogprob, len(lp.Top))
		for j, t := range lp.Top {
			top[j] = api.TopLogprob{Token: t.Text, Logprob: float64(t.Logprob), Bytes: textBytes(t.Text)}
		}
		out[i] = api.TokenLogprob{Token: lp.Text, Logprob: float64(lp.Logprob), Bytes: textBytes(lp.Text), TopLogprobs: top}
	}
	return out
}

// textBytes is a token's text as the list of byte values the API sends.
func textBytes(s string) []int {
	b := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		b[i] = int(s[i])
	}
	return b
}
