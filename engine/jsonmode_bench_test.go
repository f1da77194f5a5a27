// Benchmarks of JSON mode: the validator's throughput, and the cost of the
// fallback that masks the whole Qwen3 vocabulary (151936 rows) in one step,
// inside a string (almost every token allowed) and between tokens (few).
package engine

import (
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/tokenizer"
)

func BenchmarkJSONValidator(b *testing.B) {
	doc := []byte(`{"name": "Widget", "tags": ["a", "b\u00e9", "c\n"], "price": -12.5e3, "ok": true, "none": null, ` +
		`"nested": {"x": [1, 2, 3, {"y": "` + strings.Repeat("text ", 100) + `"}]}}`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		var v JSONValidator
		if !v.Feed(doc) || !v.Complete() {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkJSONFullScan(b *testing.B) {
	tok, err := tokenizer.FromFiles(reftest.Path(b, "qwen3-tokenizer", "tokenizer.json"), "")
	if err != nil {
		b.Fatal(err)
	}
	const nVocab = 151936 // Qwen3's output rows (config vocab_size)
	tab := newTokenTable(tok, nVocab)
	logits := make([]float32, nVocab)
	work := make([]float32, nVocab)
	for i := range logits {
		logits[i] = float32(i%97) / 10
	}
	for _, bc := range []struct{ name, prefix string }{
		{"in string", `{"key": "some text`},
		{"after value", `{"key": 12`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := newJSONConstraint(tab, false)
			if !c.v.Feed([]byte(bc.prefix)) {
				b.Fatal("bad prefix")
			}
			s := NewSampler(nVocab, 1024, SamplingParams{}, 0)
			for b.Loop() {
				copy(work, logits)
				if _, ok := s.pickMasked(work, c.allowed); !ok {
					b.Fatal("nothing allowed")
				}
			}
		})
	}
}
