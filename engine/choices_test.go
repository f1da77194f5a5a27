// Tests of several choices per request on the reference mini model: each
// choice equals a fresh single generation with seed+i (so the shared prompt
// KV is exact), the prompt is prefilled once (counted in matmuls), events
// arrive per choice in order, and bad counts and cancellation behave.

package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/helexa/helexa/engine"
)

func TestGenerateChoicesMatchSeededSingles(t *testing.T) {
	g, b := genMini(t, engine.ContextOptions{Ctx: 256, Batch: 4})
	prompt := make([]int32, 40) // ten prefill chunks of 4
	for i := range prompt {
		prompt[i] = int32(200 + 7*i)
	}
	seed := uint64(99)
	const k = 10
	req := engine.GenerateRequest{Tokens: prompt, MaxTokens: k, IgnoreEOS: true,
		Sampling: engine.SamplingParams{Temperature: 1.5, Seed: &seed}}

	var order []int
	var evTokens [3][]int32
	before := b.matmuls.Load()
	res, err := g.GenerateChoices(context.Background(), req, 3, func(choice int, ev engine.Event) error {
		if len(order) == 0 || order[len(order)-1] != choice {
			order = append(order, choice)
		}
		evTokens[choice] = append(evTokens[choice], ev.Tokens...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m3 := b.matmuls.Load() - before
	if len(res) != 3 || !slices.Equal(order, []int{0, 1, 2}) {
		t.Fatalf("%d results, events in choice order %v", len(res), order)
	}
	distinct := false
	for i, r := range res {
		if r.Seed != seed+uint64(i) || len(r.Tokens) != k || r.Usage.PromptTokens != len(prompt) || r.FinishReason != engine.FinishLength {
			t.Errorf("choice %d: seed %d, %d tokens, usage %+v, finish %s", i, r.Seed, len(r.Tokens), r.Usage, r.FinishReason)
		}
		if !slices.Equal(evTokens[i], r.Tokens) {
			t.Errorf("choice %d: events carried %v, result %v", i, evTokens[i], r.Tokens)
		}
		// A fresh request with seed+i (its own prefill) gives the same tokens.
		s := seed + uint64(i)
		single := req
		single.Sampling.Seed = &s
		one, err := g.Generate(context.Background(), single, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one.Tokens, r.Tokens) {
			t.Errorf("choice %d: %v; alone with seed %d: %v", i, r.Tokens, s, one.Tokens)
		}
		distinct = distinct || !slices.Equal(r.Tokens, res[0].Tokens)
	}
	if !distinct {
		t.Error("three choices at temperature 1.5 are identical: the streams are not separate")
	}

	// Matmuls: a single request costs P (prefill) + (k-1)·D (decode steps),
	// a prefill-only request (one token) P; three choices with one prefill
	// cost P + 3(k-1)·D = 3·single - 2·prefill.
	// Each counted request has a prompt of its own, so that none reuses
	// the cached prefix of another.
	variant := int32(0)
	count := func(r engine.GenerateRequest) int64 {
		variant++
		r.Tokens = slices.Clone(r.Tokens)
		for i := range r.Tokens {
			r.Tokens[i] = (r.Tokens[i] + 300*variant) % 2000
		}
		before := b.matmuls.Load()
		if _, err := g.Generate(context.Background(), r, nil); err != nil {
			t.Fatal(err)
		}
		return b.matmuls.Load() - before
	}
	single := count(req)
	onlyPrefill := req
	onlyPrefill.MaxTokens = 1
	p := count(onlyPrefill)
	if want := 3*single - 2*p; m3 != want {
		t.Errorf("three choices ran %d matmuls, want %d (single %d, prefill %d): the prompt was not shared", m3, want, single, p)
	}
}

func TestGenerateChoicesDrawnSeed(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 128, Batch: 16})
	req := engine.GenerateRequest{Prompt: "Hello, world!", MaxTokens: 4, IgnoreEOS: true, Sampling: engine.SamplingParams{Temperature: 1}}
	res, err := g.GenerateChoices(context.Background(), req, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[1].Seed != res[0].Seed+1 {
		t.Errorf("seeds %d, %d: want the drawn seed and the next", res[0].Seed, res[1].Seed)
	}
}

func TestGenerateChoicesErrors(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 128, Batch: 16})
	req := engine.GenerateRequest{Prompt: "Hello", MaxTokens: 50, IgnoreEOS: true}
	for _, n := range []int{0, -1, engine.MaxChoices + 1} {
		if _, err := g.GenerateChoices(context.Background(), req, n, nil); !errors.Is(err, engine.ErrBadRequest) {
			t.Errorf("n=%d: %v", n, err)
		}
	}
	// Cancelled in the second choice: the first whole, the second partial.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := g.GenerateChoices(ctx, req, 3, func(choice int, ev engine.Event) error {
		if choice == 1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || len(res) != 2 || len(res[0].Tokens) != 50 || len(res[1].Tokens) == 0 || len(res[1].Tokens) >= 50 {
		t.Fatalf("err %v, %d results", err, len(res))
	}
}
