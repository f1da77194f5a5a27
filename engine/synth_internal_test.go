// Tests of the synthetic tensor generator: every block format decodes (with
// gguf's ggml-exact dequantization) to finite values of the intended mean
// and deviation; the vocabulary is well formed.
package engine

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/helexa/helexa/gguf"
)

func TestSynthTensorStatistics(t *testing.T) {
	const n = 256 * 256
	for _, typ := range []gguf.Type{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K} {
		for _, std := range []float64{0.05, 1 / math.Sqrt(25600)} {
			t.Run(fmt.Sprintf("%v/std=%.3g", typ, std), func(t *testing.T) {
				var buf bytes.Buffer
				if err := writeRandomTensor(&buf, typ, n, std, 9); err != nil {
					t.Fatal(err)
				}
				if want := typ.RowSize(n); int64(buf.Len()) != want {
					t.Fatalf("%d bytes, want %d", buf.Len(), want)
				}
				vals := make([]float32, n)
				if err := gguf.Dequantize(typ, buf.Bytes(), vals); err != nil {
					t.Fatal(err)
				}
				var sum, sq float64
				for i, v := range vals {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("value %d is %v", i, v)
					}
					sum += float64(v)
					sq += float64(v) * float64(v)
				}
				mean := sum / n
				dev := math.Sqrt(sq/n - mean*mean)
				// Tolerances: 5% on the deviation (f16 rounding of the
				// scale, sampling); mean within 0.05 deviations, except
				// Q4_0 whose codes q-8 average -1/2 step = -0.108 deviations.
				meanTol := 0.05
				if typ == gguf.TypeQ4_0 {
					meanTol = 0.12
				}
				if math.Abs(dev/std-1) > 0.05 || math.Abs(mean) > meanTol*std {
					t.Fatalf("std target %.4g: mean %.3g, deviation %.4g (ratio %.3f)", std, mean, dev, dev/std)
				}
			})
		}
	}
}

func TestSynthNormWeights(t *testing.T) {
	var buf bytes.Buffer
	if err := writeNormWeights(&buf, 1000, 3); err != nil {
		t.Fatal(err)
	}
	vals := make([]float32, 1000)
	if err := gguf.Dequantize(gguf.TypeF32, buf.Bytes(), vals); err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if v < 0.9 || v > 1.1 {
			t.Fatalf("norm weight %d = %v outside [0.9, 1.1]", i, v)
		}
	}
}

func TestSynthVocab(t *testing.T) {
	for _, p := range qwen3Presets[:2] {
		t.Run(p.Name, func(t *testing.T) {
			v := synthVocab(p)
			if len(v.tokens) != p.NVocab || len(v.types) != p.NVocab {
				t.Fatalf("%d tokens, %d types; want %d", len(v.tokens), len(v.types), p.NVocab)
			}
			seen := map[string]int{}
			for i, tok := range v.tokens {
				if j, dup := seen[tok]; dup {
					t.Fatalf("token %q at ids %d and %d", tok, j, i)
				}
				seen[tok] = i
			}
			want := map[int]string{0: "!", 94: "¡", 188: "Ā", 220 - 0: "Ġ", p.NBPE: "<|endoftext|>", p.NBPE + 2: "<|im_end|>", p.NBPE + 24: "<think>", p.NBPE + 25: "</think>"}
			for id, tok := range want {
				if v.tokens[id] != tok {
					t.Fatalf("token %d = %q, want %q", id, v.tokens[id], tok)
				}
			}
			if v.types[p.NBPE+2] != tokControl || v.types[p.NBPE+24] != tokUserDefined || v.types[p.NVocab-1] != tokUnused && p.NVocab > p.NBPE+26 {
				t.Fatalf("token types of <|im_end|>, <think>, last row: %d %d %d", v.types[p.NBPE+2], v.types[p.NBPE+24], v.types[p.NVocab-1])
			}
			for _, m := range v.merges {
				a, b, _ := bytes.Cut([]byte(m), []byte(" "))
				if _, ok := seen[string(a)+string(b)]; !ok {
					t.Fatalf("merge %q makes a token not in the vocabulary", m)
				}
			}
		})
	}
}
