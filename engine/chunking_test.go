// This file tests that a prompt read in chunks gives the greedy tokens and
// log-probabilities it gives read whole: the scheduler splits prompts at
// its step budget, and prompt-prefix reuse resumes a prompt wherever its
// cached blocks end, so neither may change the logits.

package engine_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

func TestChunkedPrefillMatchesWhole(t *testing.T) {
	reftest.Dir(t)
	c := batchCase{prompt: 70, max: 8}
	for _, name := range referenceTypes {
		t.Run(name, func(t *testing.T) {
			var toks [2][]int32
			var lps [2][]engine.TokenLogprob
			// One chunk of 70, then chunks of 5 (14 steps).
			for k, budget := range []int{128, 5} {
				g, _ := genModel(t, reftest.Model(t, name), engine.ContextOptions{Seqs: 1, Ctx: 128, Batch: 128})
				g.SetStepTokens(budget)
				res, err := g.Generate(context.Background(), batchRequest(0, c), nil)
				if err != nil {
					t.Fatal(err)
				}
				toks[k], lps[k] = res.Tokens, res.Logprobs
			}
			if !slices.Equal(toks[1], toks[0]) {
				t.Fatalf("chunks of 5: tokens %v; whole %v", toks[1], toks[0])
			}
			if !reflect.DeepEqual(lps[1], lps[0]) {
				t.Errorf("chunks of 5: the same tokens with other log-probabilities (the logits differ):\nchunked %v\nwhole   %v", lps[1], lps[0])
			}
		})
	}
}
