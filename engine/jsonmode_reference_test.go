// JSON mode on a reference mini model (random weights, real Qwen3
// vocabulary layout and template): seeded sampling at temperature 1 must
// produce one JSON object, the same one for the same seed.
package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

func TestGenerateJSONReference(t *testing.T) {
	g, _ := genModel(t, reftest.Model(t, "mini-q8_0"), engine.ContextOptions{Seqs: 1, Ctx: 512, Batch: 64})
	tok := g.Tokenizer()
	// The random model spreads its probability over the whole vocabulary,
	// where almost every token fits inside a string; a bias on the quote
	// and the closing brace lets strings and the object end within the
	// limit, as a trained model asked for JSON would.
	bias := map[int32]float32{}
	for _, s := range []string{`"`, "}"} {
		ids := tok.Encode(s)
		if len(ids) != 1 {
			t.Fatalf("%q is %d tokens", s, len(ids))
		}
		bias[ids[0]] = map[string]float32{`"`: 6, "}": 3}[s]
	}
	user := []api.Message{{Role: "user", Content: api.Content{Text: "Describe a cat as a JSON object."}}}
	plainObjects := 0
	for _, seed := range []uint64{1, 2, 3} {
		req := engine.GenerateRequest{
			Chat:      &chat.Request{Messages: user, AddGenerationPrompt: true},
			JSON:      true,
			MaxTokens: 200,
			Sampling:  engine.SamplingParams{Temperature: 1, TopP: 0.95, Seed: &seed, LogitBias: bias},
		}
		res, err := g.Generate(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.FinishReason != engine.FinishStop {
			t.Fatalf("seed %d: finish %q after %d tokens, content %q", seed, res.FinishReason, len(res.Tokens), res.Content)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(res.Content), &obj); err != nil || obj == nil {
			t.Fatalf("seed %d: content %q is not a JSON object: %v", seed, res.Content, err)
		}
		if len(obj) > 0 {
			plainObjects++
		}
		if res.Reasoning != "" {
			t.Fatalf("seed %d: reasoning %q with thinking off by default", seed, res.Reasoning)
		}
		again, err := g.Generate(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(again.Tokens, res.Tokens) {
			t.Fatalf("seed %d: a second run gave different tokens", seed)
		}
		t.Logf("seed %d: %d tokens: %s", seed, len(res.Tokens), res.Content)
	}
	if plainObjects == 0 {
		t.Fatal("every object is empty: the sampling never produced a member")
	}
}
