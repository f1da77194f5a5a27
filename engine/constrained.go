// Constrained output's engine side: a request's response_format
// (json_object, json_schema) or forced tool calls become a
// constrain.Constraint over the model's vocabulary, and the sampler draws
// only tokens the constraint allows.
//
// Checking every token of a 151k vocabulary at every step would cost more
// than the rest of sampling, so the sampler works like llama.cpp's grammar
// sampling (common_sampler_sample): it samples as usual, checks only the
// chosen token, and when that token is not allowed masks it and samples
// again; after jsonRetries rejected tokens it masks the whole vocabulary in
// one scan (answered from the constraint's per-state mask) and samples
// from what is left. Masking and redrawing from the same sampler keeps
// greedy decoding and seeded sampling deterministic.
//
// With thinking on, the reasoning is free text: the constraint starts after
// the output's first </think>, where the chat parser's content starts.
// End-of-generation tokens are held back until the constrained text is
// complete, so the output never ends early.

package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/helexa/helexa/constrain"
	"github.com/helexa/helexa/tokenizer"
)

// jsonRetries is how many sampled tokens may be rejected in one step before
// the whole vocabulary is masked. A model asked for JSON almost always
// proposes a valid token first; the bound keeps a model that insists on
// invalid ones from costing more than one full scan per step.
const jsonRetries = 4

// SampleAllowed is Sample restricted to the tokens allow accepts: the usual
// chain picks a token, and a token allow rejects is masked (its logit set
// to -Inf) and the pick repeated; after jsonRetries rejections every token
// allow rejects is masked at once. It reports false when allow accepts no
// token of the vocabulary at all. Log-probabilities are those of the
// model's distribution, as with Sample.
func (s *Sampler) SampleAllowed(logits []float32, lp *TokenLogprob, allow func(id int32) bool) (int32, bool) {
	logits = s.prepare(logits, lp)
	id := s.pick(logits)
	for try := 0; !allow(id); try++ {
		if try == jsonRetries {
			var ok bool
			if id, ok = s.pickMasked(logits, allow); !ok {
				return 0, false
			}
			break
		}
		logits[id] = float32(math.Inf(-1))
		id = s.pick(logits)
	}
	if lp != nil {
		s.logprobs(id, lp)
	}
	return id, true
}

// pickMasked masks every token allow rejects and picks among the rest. When
// all allowed tokens have -Inf (or NaN) logits the pick could land on a
// masked one; the lowest allowed id is taken then, so the result is always
// allowed.
func (s *Sampler) pickMasked(logits []float32, allow func(id int32) bool) (int32, bool) {
	first := int32(-1)
	for i := range logits {
		if !allow(int32(i)) {
			logits[i] = float32(math.Inf(-1))
		} else if first < 0 {
			first = int32(i)
		}
	}
	if first < 0 {
		return 0, false
	}
	if id := s.pick(logits); allow(id) {
		return id, true
	}
	return first, true
}

// NewVocab collects the bytes and kinds of ids [0, nVocab) for
// constraints (ids beyond the tokenizer's vocabulary are empty).
func NewVocab(tok *tokenizer.Tokenizer, nVocab int) *constrain.Vocab {
	return constrain.NewVocab(nVocab, tok.TokenBytes, func(id int32) constrain.Kind {
		var k constrain.Kind
		if int(id) < tok.VocabSize() {
			switch tok.TokenType(id) {
			case tokenizer.TypeNormal, tokenizer.TypeByte, tokenizer.TypeUndefined:
				k = constrain.Plain
			case tokenizer.TypeUserDefined:
				k = constrain.Special
			}
		}
		if tok.IsEOG(id) {
			k |= constrain.EOG
		}
		return k
	})
}

// constrained reports whether the request constrains its output.
func (req *GenerateRequest) constrained() bool {
	return req.JSON || len(req.JSONSchema) > 0 || req.forcesTools()
}

// forcesTools reports whether the request forces tool calls.
func (req *GenerateRequest) forcesTools() bool {
	return req.Chat != nil && len(req.Chat.Tools) > 0 && req.ToolChoice != "" && req.ToolChoice != "auto" && req.ToolChoice != "none"
}

// matcher compiles the request's constraint: forced tool calls first (the
// reply is then calls, whatever format the content would have), else
// json_schema, else json_object. It returns a function that makes a fresh
// matcher, one per choice (a matcher holds its choice's progress), or nil
// when the output is free. A schema that cannot be compiled is
// ErrBadRequest naming what is wrong.
func (req *GenerateRequest) matcher() (func() constrain.Matcher, error) {
	var s *constrain.Schema
	var err error
	switch {
	case req.forcesTools():
		var tools []constrain.Tool
		for _, t := range req.Chat.Tools {
			if req.ToolChoice == "required" || t.Function.Name == req.ToolChoice {
				tools = append(tools, constrain.Tool{Name: t.Function.Name, Parameters: t.Function.Parameters})
			}
		}
		if len(tools) == 0 {
			return nil, fmt.Errorf("%w: tool_choice names function %q, which is not among the tools", ErrBadRequest, req.ToolChoice)
		}
		s, err = constrain.CompileToolCalls(tools, req.SingleToolCall)
	case len(req.JSONSchema) > 0:
		s, err = constrain.Compile(req.JSONSchema)
	case req.JSON:
		return constrain.NewJSONObject, nil
	default:
		return nil, nil
	}
	if err != nil {
		return nil, badSchema(err)
	}
	return func() constrain.Matcher { return s.NewMatcher() }, nil
}

// badSchema marks a schema error as a bad request.
func badSchema(err error) error {
	if errors.Is(err, constrain.ErrSchema) {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return err
}
