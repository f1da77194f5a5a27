// Tests of embeddings on the reference mini model: the last-token vector,
// mapped through the model's own output matrix, gives llama.cpp's logits up
// to the scale the normalization removed; inputs batched in one call equal
// each input alone; the pooling type is read from the file (cls and mean
// pool differently, none is refused); bad inputs are refused.

package engine_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/knownmodel"
	"github.com/helexa/helexa/internal/reftest"
)

// unitNorm reports how far v is from unit length.
func unitNorm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Abs(math.Sqrt(s) - 1)
}

func TestEmbedLastTokenAgainstLlamaCppLogits(t *testing.T) {
	path := reftest.Model(t, "mini-f32")
	exp := reftest.LoadExpected(t, "mini-f32")
	g, _ := genModel(t, path, engine.ContextOptions{Ctx: 256, Batch: 64})
	res, err := g.Embed(context.Background(), nil, exp.Prompts)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ti, err := f.Tensor("output.weight")
	if err != nil {
		t.Fatal(err)
	}
	w, err := f.TensorFloat32(ti) // [nVocab rows of nEmbd]
	if err != nil {
		t.Fatal(err)
	}
	nEmbd := int(ti.Shape[0])
	total := 0
	for p, e := range res.Embeddings {
		total += len(exp.Prompts[p])
		if len(e) != nEmbd || unitNorm(e) > 1e-5 {
			t.Fatalf("prompt %d: %d dims, |norm-1| = %g", p, len(e), unitNorm(e))
		}
		// W·e is llama.cpp's logit vector divided by the hidden state's norm:
		// fit that one scale, then compare every logit.
		want := exp.LastLogits[p]
		got := make([]float64, len(want))
		var num, den float64
		for i := range want {
			var d float64
			for j := range nEmbd {
				d += float64(w[i*nEmbd+j]) * float64(e[j])
			}
			got[i] = d
			num += d * want[i]
			den += d * d
		}
		scale := num / den
		var maxErr, maxAbs float64
		for i := range want {
			maxErr = max(maxErr, math.Abs(got[i]*scale-want[i]))
			maxAbs = max(maxAbs, math.Abs(want[i]))
		}
		t.Logf("prompt %d: max logit error %.3g of largest %.3g", p, maxErr, maxAbs)
		if maxErr > 1e-3*maxAbs {
			t.Errorf("prompt %d: max logit error %.3g (largest logit %.3g, scale %.3g)", p, maxErr, maxAbs, scale)
		}
	}
	if res.PromptTokens != total {
		t.Errorf("prompt tokens %d, want %d", res.PromptTokens, total)
	}
}

func TestEmbedBatchedEqualsAlone(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 256, Batch: 16})
	texts := []string{"Hello, world!", "The quick brown fox jumps over the lazy dog, again and again.", "a", "Hello, world!"}
	all, err := g.Embed(context.Background(), texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		one, err := g.Embed(context.Background(), []string{text}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var d float64
		for j := range one.Embeddings[0] {
			d = max(d, math.Abs(float64(one.Embeddings[0][j]-all.Embeddings[i][j])))
		}
		if d > 1e-5 {
			t.Errorf("input %d batched differs from alone by %.3g", i, d)
		}
	}
	var same float64
	for j := range all.Embeddings[0] {
		same = max(same, math.Abs(float64(all.Embeddings[0][j]-all.Embeddings[3][j])))
	}
	if same > 1e-6 {
		t.Errorf("the same text twice in a batch differs by %.3g", same)
	}
	if cos := dot(all.Embeddings[0], all.Embeddings[1]); cos > 0.9999 {
		t.Errorf("different texts, cosine %.6f", cos)
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// withPooling writes a copy of mini-f32 with qwen3.pooling_type set to a
// llama.cpp llama_pooling_type value (0 none, 1 mean, 2 cls, 3 last).
func withPooling(t *testing.T, pooling uint32) string {
	t.Helper()
	f, err := gguf.Open(reftest.Model(t, "mini-f32"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	path := filepath.Join(t.TempDir(), "pooled.gguf")
	knownmodel.Rewrite(t, f, path, map[string]any{"qwen3.pooling_type": pooling}, nil)
	return path
}

func TestEmbedPoolingType(t *testing.T) {
	ctx := context.Background()
	input := [][]int32{{11, 22, 33, 44, 55}}
	embed := func(path string, in [][]int32) []float32 {
		g, _ := genModel(t, path, engine.ContextOptions{Ctx: 64, Batch: 2}) // several calls per input
		res, err := g.Embed(ctx, nil, in)
		if err != nil {
			t.Fatal(err)
		}
		return res.Embeddings[0]
	}
	last := embed(reftest.Model(t, "mini-f32"), input)
	if l := embed(withPooling(t, 3), input); dot(l, last) < 1-1e-6 {
		t.Errorf("pooling_type last differs from the default, cosine %.6f", dot(l, last))
	}
	cls := embed(withPooling(t, 2), input)
	first := embed(reftest.Model(t, "mini-f32"), [][]int32{{11}})
	if dot(cls, first) < 1-1e-6 {
		t.Errorf("cls pooling is not the first token's vector, cosine %.6f", dot(cls, first))
	}
	mean := embed(withPooling(t, 1), input)
	if unitNorm(mean) > 1e-5 || dot(mean, last) > 0.9999 || dot(mean, cls) > 0.9999 {
		t.Errorf("mean pooling: norm off by %g, cosine with last %.6f, with cls %.6f", unitNorm(mean), dot(mean, last), dot(mean, cls))
	}
	g, _ := genModel(t, withPooling(t, 0), engine.ContextOptions{Ctx: 64})
	if _, err := g.Embed(ctx, nil, input); !errors.Is(err, engine.ErrBadRequest) {
		t.Errorf("pooling none: %v", err)
	}
}

func TestEmbedBadInputs(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 32, Batch: 16})
	ctx := context.Background()
	long := make([]int32, 33)
	for _, tc := range []struct {
		name   string
		texts  []string
		tokens [][]int32
		want   error
	}{
		{"nothing", nil, nil, engine.ErrBadRequest},
		{"both", []string{"a"}, [][]int32{{1}}, engine.ErrBadRequest},
		{"empty text", []string{"a", ""}, nil, engine.ErrBadRequest},
		{"empty ids", nil, [][]int32{{}}, engine.ErrBadRequest},
		{"id outside vocabulary", nil, [][]int32{{1, 999999}}, engine.ErrBadRequest},
		{"longer than the context", nil, [][]int32{long}, engine.ErrContextLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := g.Embed(ctx, tc.texts, tc.tokens); !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestEmbedAddEOS checks that a vocabulary with add_eos_token (as
// Qwen3-Embedding's) ends text inputs with EOS: the text's vector equals
// that of its token ids with EOS appended, and differs from them without.
func TestEmbedAddEOS(t *testing.T) {
	f, err := gguf.Open(reftest.Model(t, "mini-f32"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	path := filepath.Join(t.TempDir(), "eos.gguf")
	knownmodel.Rewrite(t, f, path, map[string]any{"tokenizer.ggml.add_eos_token": true}, nil)
	g, _ := genModel(t, path, engine.ContextOptions{Ctx: 64, Batch: 16})
	if !g.Tokenizer().AddEOS() {
		t.Fatal("add_eos_token not read")
	}
	eos, _ := g.Tokenizer().EOS()
	ids := g.Tokenizer().Encode("Hello, world!")
	res, err := g.Embed(context.Background(), []string{"Hello, world!"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	with, err := g.Embed(context.Background(), nil, [][]int32{append(slices.Clone(ids), eos), ids})
	if err != nil {
		t.Fatal(err)
	}
	if res.PromptTokens != len(ids)+1 || dot(res.Embeddings[0], with.Embeddings[0]) < 1-1e-6 || dot(res.Embeddings[0], with.Embeddings[1]) > 0.9999 {
		t.Errorf("%d tokens; cosine with EOS %.6f, without %.6f", res.PromptTokens,
			dot(res.Embeddings[0], with.Embeddings[0]), dot(res.Embeddings[0], with.Embeddings[1]))
	}
}
