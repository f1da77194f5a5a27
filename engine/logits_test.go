// Tests of EvalLogits and TopK: every-position logits agree with the last
// position's and with a one-token-at-a-time run across batch boundaries;
// TopK orders by value, ties by id, NaN last.

package engine_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/helexa/helexa/engine"
)

func TestEvalLogits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "f32", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	m := openModel(t, path, 1)
	nVocab := m.Config().NVocab
	tokens := []int32{1, 7, 42, 300, 5, 9, 11, 2000, 3, 64} // 10 tokens: batches of 4, 4, 2
	newCtx := func(batch int) *engine.Context {
		c, err := m.NewContext(engine.ContextOptions{Ctx: 16, Batch: batch, KV: engine.KVF32})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Free)
		return c
	}
	c := newCtx(4)
	all, err := engine.EvalLogits(context.Background(), c, tokens, true)
	if err != nil {
		t.Fatal(err)
	}
	last, err := engine.EvalLogits(context.Background(), c, tokens, false)
	if err != nil {
		t.Fatal(err)
	}
	// One token per batch is the reference for the chunked run.
	one, err := engine.EvalLogits(context.Background(), newCtx(1), tokens, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(tokens)*nVocab || len(last) != nVocab || len(one) != len(all) {
		t.Fatalf("got %d, %d and %d floats, want %d, %d and %d", len(all), len(last), len(one), len(tokens)*nVocab, nVocab, len(tokens)*nVocab)
	}
	const tol = 1e-4 // f32 weights and cache; only summation order differs
	if d := maxDiff32(all[(len(tokens)-1)*nVocab:], last); !(d <= tol) {
		t.Errorf("last position of all differs from last by %.3g (tolerance %g)", d, tol)
	}
	if d := maxDiff32(all, one); !(d <= tol) {
		t.Errorf("batches of 4 differ from batches of 1 by %.3g (tolerance %g)", d, tol)
	}
	if _, err := engine.EvalLogits(context.Background(), c, nil, false); err == nil {
		t.Error("no tokens gave no error")
	}
	if _, err := engine.EvalLogits(context.Background(), c, []int32{1, int32(nVocab)}, false); !errors.Is(err, engine.ErrBadBatch) {
		t.Errorf("token outside the vocabulary: error %v, want ErrBadBatch", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := engine.EvalLogits(ctx, c, tokens, false); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v", err)
	}
}

func TestTopK(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	cases := []struct {
		name   string
		logits []float32
		k      int
		want   []int32
	}{
		{"descending", []float32{1, 5, 3, 4}, 3, []int32{1, 3, 2}},
		{"ties by lowest id", []float32{2, 7, 7, 2, 7}, 4, []int32{1, 2, 4, 0}},
		{"k beyond length", []float32{0, -1}, 5, []int32{0, 1}},
		{"k zero", []float32{0, -1}, 0, nil},
		{"nan last", []float32{nan, -inf, 1, nan, inf}, 5, []int32{4, 2, 1, 0, 3}},
		{"nan cut off", []float32{nan, 1, 2}, 2, []int32{2, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := engine.TopK(c.logits, c.k); !slices.Equal(got, c.want) {
				t.Errorf("TopK(%v, %d) = %v, want %v", c.logits, c.k, got, c.want)
			}
		})
	}
}
