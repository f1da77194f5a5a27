// Several choices from one prompt (OpenAI's n): the prompt is tokenized,
// checked, admitted and prefilled once, in one sequence slot; each choice then decodes
// from the prompt's last logits in that slot, one after the other. Decoding
// writes only the positions after the prompt, and a row attends to
// positions 0..Pos of its sequence, so the prompt's KV entries are shared
// by every choice without a copy. Each choice samples with its own random
// stream: seed, seed+1, ..., from the request's seed or the one drawn for
// the first choice.

package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/helexa/helexa/constrain"
)

// MaxChoices is the most choices one request may ask for (OpenAI allows
// 128; eight covers best-of sampling and keeps one request from holding a
// model for long).
const MaxChoices = 8

// promptLogits holds the prompt's last logits for the later choices; nil
// logits until the first choice has prefilled the prompt.
type promptLogits struct {
	logits []float32
}

// GenerateChoices runs req n times from one prefill of its prompt and
// returns the n results in order; emit receives each event with its choice
// index (choice 0's events first, then choice 1's, ...). On an error it
// returns the results so far, the last one partial, with the error. The
// prompt's tokens count once per result in Usage.PromptTokens (the caller
// adds completion tokens up over the choices).
func (g *Generator) GenerateChoices(ctx context.Context, req GenerateRequest, n int, emit func(choice int, ev Event) error) ([]*Result, error) {
	start := time.Now()
	if n < 1 || n > MaxChoices {
		return nil, fmt.Errorf("%w: %d choices asked, want 1 to %d", ErrBadRequest, n, MaxChoices)
	}
	if err := g.Failed(); err != nil {
		return nil, err
	}
	if err := g.checkBias(req.Sampling.LogitBias); err != nil {
		return nil, err
	}
	prompt, err := g.boundedPromptTokens(ctx, &req)
	if err != nil {
		return nil, err
	}
	limit, err := g.checkLength(len(prompt), req.MaxTokens)
	if err != nil {
		return nil, err
	}
	newMatcher, err := req.matcher() // a bad schema is refused before a slot is taken
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A reservation larger than the whole cache would wait for ever.
	if kv := g.KVStats(); kv.Total > 0 && kv.BlockSize > 0 && (len(prompt)+limit+kv.BlockSize-1)/kv.BlockSize > kv.Total {
		return nil, &ContextLengthError{Prompt: len(prompt), Requested: limit, Ctx: kv.Total * kv.BlockSize}
	}
	slot, cached, err := g.sched.admit(ctx, prompt, len(prompt)+limit)
	if err != nil {
		return nil, err
	}
	s := g.seqs[slot]
	s.cached = cached
	var out []*Result
	defer func() {
		// The cache then holds the prompt and the last choice's tokens
		// but its last (which was sampled, not run); after an error its
		// contents are not offered for reuse.
		var kept []int32
		if n := len(out); err == nil && n > 0 {
			kept = append(prompt[:len(prompt):len(prompt)], out[n-1].Tokens...)
			kept = kept[:len(kept)-1]
		}
		g.sched.leave(slot, kept)
	}()
	var shared *promptLogits
	if n > 1 {
		shared = &promptLogits{}
	}
	out = make([]*Result, 0, n)
	for i := range n {
		creq := req
		if i > 0 {
			// Choice i samples with seed+i, where seed is the request's or
			// the one drawn for choice 0: one seed reproduces every choice.
			seed := out[0].Seed + uint64(i)
			creq.Sampling.Seed = &seed
		}
		var each func(Event) error
		if emit != nil {
			each = func(ev Event) error { return emit(i, ev) }
		}
		var m constrain.Matcher
		if newMatcher != nil {
			m = newMatcher() // each choice has its own progress
		}
		var res *Result
		res, err = g.runChoice(ctx, s, &creq, prompt, limit, start, shared, m, each)
		res.Usage.CachedTokens = cached
		out = append(out, res)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
