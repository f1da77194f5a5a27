// Benchmarks of constrained sampling's fallback: masking the whole Qwen3
// vocabulary (151936 rows) in one step, inside a string (almost every token
// allowed) and between tokens (few), for a state seen the first time
// (computed) and again (the constraint's per-state mask).
package engine

import (
	"testing"

	"github.com/helexa/helexa/constrain"
	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/tokenizer"
)

func BenchmarkJSONFullScan(b *testing.B) {
	tok, err := tokenizer.FromFiles(reftest.Path(b, "qwen3-tokenizer", "tokenizer.json"), "")
	if err != nil {
		b.Fatal(err)
	}
	const nVocab = 151936 // Qwen3's output rows (config vocab_size)
	voc := NewVocab(tok, nVocab)
	logits := make([]float32, nVocab)
	work := make([]float32, nVocab)
	for i := range logits {
		logits[i] = float32(i%97) / 10
	}
	for _, bc := range []struct{ name, prefix string }{
		{"in string", `{"key": "some text`},
		{"after value", `{"key": 12`},
	} {
		for _, cached := range []bool{false, true} {
			name := bc.name + "/computed"
			if cached {
				name = bc.name + "/cached"
			}
			b.Run(name, func(b *testing.B) {
				m := constrain.NewJSONObject()
				if !m.Feed([]byte(bc.prefix)) {
					b.Fatal("bad prefix")
				}
				s := NewSampler(nVocab, 1024, SamplingParams{}, 0)
				c := constrain.New(voc, m, false)
				for b.Loop() {
					if !cached {
						c = constrain.New(voc, m, false)
					}
					copy(work, logits)
					if _, ok := s.pickMasked(work, c.Allowed); !ok {
						b.Fatal("nothing allowed")
					}
				}
			})
		}
	}
}
