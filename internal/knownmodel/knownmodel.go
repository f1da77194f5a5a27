// Package knownmodel writes a Qwen3 GGUF whose next-token distribution is
// known in advance and the same at every position: it takes the reference
// mini model's metadata, tokenizer and shapes (mini-f32, via reftest) and
// replaces its weights so that
//
//   - every token embeds to the same vector of ones,
//   - each layer's attn_output and ffn_down are zero, so neither attention
//     nor the feed-forward network adds anything to the residual stream,
//   - output_norm is ones, so the final hidden state is the normalized ones
//     vector h (each element 1/sqrt(1+eps), eps = 1e-6),
//   - output row i holds logits[i]/nEmbd in every column, so the logit of
//     token i is logits[i] (to within the f32 rounding and eps).
//
// Sampling tests use it through the whole stack (HTTP, server, engine,
// sampler) to check what temperature, top-k, top-p, min-p and the penalties
// do to a distribution they can compute by hand. Rewrite, the copy with
// changes it is built on, serves tests that need a variant of a model file
// (another metadata value, other weights). It is imported by tests only.
package knownmodel

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/tokenizer"
)

// Floor is the logit of every token the caller does not name: e^-30 of
// the mass per token, about 2e-10 over the whole mini vocabulary.
const Floor = -30

// Write writes the model to the test's temp directory and returns its path
// and the ids of the named tokens. logits maps token texts, each of which
// must be one token of the mini vocabulary, to their logits.
func Write(t testing.TB, logits map[string]float32) (string, map[string]int32) {
	t.Helper()
	src := reftest.Model(t, "mini-f32")
	f, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int32{}
	for text := range logits {
		enc := tok.Encode(text)
		if len(enc) != 1 {
			t.Fatalf("knownmodel: %q is %d tokens, want one", text, len(enc))
		}
		ids[text] = enc[0]
	}

	path := filepath.Join(t.TempDir(), "known.gguf")
	Rewrite(t, f, path, nil, func(ti *gguf.TensorInfo) []byte {
		if ti.Type != gguf.TypeF32 {
			t.Fatalf("knownmodel: %s is %v, want f32", ti.Name, ti.Type)
		}
		out := make([]float32, ti.Elements())
		switch name := ti.Name; {
		case name == "token_embd.weight" || name == "output_norm.weight":
			fill(out, 1)
		case strings.HasSuffix(name, ".attn_output.weight") || strings.HasSuffix(name, ".ffn_down.weight"):
			// zero: the layer adds nothing
		case name == "output.weight":
			nEmbd, nVocab := int(ti.Shape[0]), int(ti.Shape[1])
			row := make([]float32, nVocab)
			fill(row, Floor)
			for text, l := range logits {
				row[ids[text]] = l
			}
			for i := range nVocab {
				fill(out[i*nEmbd:(i+1)*nEmbd], row[i]/float32(nEmbd))
			}
		default:
			return nil
		}
		return f32Bytes(out)
	})
	return path, ids
}

// Rewrite writes a copy of f to path with the metadata of extra added (or
// replacing keys of the same name) and each tensor's data replaced by what
// replace returns for it, when replace is not nil and returns non-nil.
func Rewrite(t testing.TB, f *gguf.File, path string, extra map[string]any, replace func(*gguf.TensorInfo) []byte) {
	t.Helper()
	w := gguf.NewWriter()
	for _, kv := range f.KV {
		if _, ok := extra[kv.Key]; !ok {
			w.AddKV(kv.Key, kv.Value)
		}
	}
	for k, v := range extra {
		w.AddKV(k, v)
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		var data []byte
		if replace != nil {
			data = replace(ti)
		}
		if data == nil {
			var err error
			if data, err = f.TensorData(ti); err != nil {
				t.Fatal(err)
			}
		}
		w.AddTensor(ti.Name, ti.Type, ti.Shape, data)
	}
	if err := w.WriteFile(path); err != nil {
		t.Fatalf("knownmodel: %v", err)
	}
}

func fill(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}

func f32Bytes(s []float32) []byte {
	b := make([]byte, 4*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// Probs returns the softmax of the named logits (the Floor tokens left out).
func Probs(logits map[string]float32, temperature float64) map[string]float64 {
	var sum float64
	out := map[string]float64{}
	for k, l := range logits {
		out[k] = math.Exp(float64(l) / temperature)
		sum += out[k]
	}
	for k := range out {
		out[k] /= sum
	}
	return out
}
