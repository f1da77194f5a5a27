// Tests that an oversized prompt is refused for a bounded cost: it is
// tokenized only as far as the context reaches (or not at all when its
// length alone rules it out), and logit-bias ids outside the vocabulary
// are refused before any work.

package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/helexa/helexa/engine"
)

func TestGeneratePromptBounded(t *testing.T) {
	g, b := genMini(t, engine.ContextOptions{Ctx: 64, Batch: 16})
	for _, n := range []int{200, 20000, 2000000} {
		text := strings.Repeat("lorem ipsum dolor ", n/18+1)[:n]
		full := len(g.Tokenizer().Encode(text))
		before := b.matmuls.Load()
		_, err := g.Generate(context.Background(), engine.GenerateRequest{Prompt: text, MaxTokens: 1}, nil)
		var cle *engine.ContextLengthError
		if !errors.As(err, &cle) {
			t.Fatalf("%d bytes: %v, want a context length error", n, err)
		}
		// The count it reports is true (more than fits) and, for a long
		// text, short of the full count: tokenizing stopped early.
		if cle.Prompt <= 64-1 || cle.Prompt > full || (full > 1000 && cle.Prompt >= full) {
			t.Errorf("%d bytes (%d tokens): reported %d prompt tokens", n, full, cle.Prompt)
		}
		if b.matmuls.Load() != before {
			t.Errorf("%d bytes: forward passes ran", n)
		}
	}
	if bound := g.MaxPromptBytes(); bound <= 0 {
		t.Errorf("MaxPromptBytes %d", bound)
	}
}

func TestGenerateLogitBiasOutsideVocabulary(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 64, Batch: 16})
	for _, id := range []int32{2112, 1 << 30, -1} {
		req := engine.GenerateRequest{Tokens: []int32{1, 2}, MaxTokens: 1, Sampling: engine.SamplingParams{LogitBias: map[int32]float32{id: 3}}}
		if _, err := g.Generate(context.Background(), req, nil); !errors.Is(err, engine.ErrBadRequest) || !strings.Contains(err.Error(), "logit_bias") {
			t.Errorf("bias on %d: %v", id, err)
		}
	}
}
