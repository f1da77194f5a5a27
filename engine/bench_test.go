// This file benchmarks one decode step (a single row after a 100-token
// prompt) of the reference mini models on the CPU backend; allocs/op must
// be 0.

package engine_test

import (
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

func BenchmarkDecodeStep(b *testing.B) {
	for _, name := range []string{"mini-f32", "mini-f16", "mini-q8_0", "mini-q4_k_m"} {
		b.Run(name, func(b *testing.B) {
			m := openModel(b, reftest.Model(b, name), 0)
			c, err := m.NewContext(engine.ContextOptions{Ctx: 256, Batch: 128})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Free()
			const prompt = 100
			rows := make([]engine.Row, prompt)
			for i := range rows {
				rows[i] = engine.Row{Token: int32(i * 7 % 2048), Pos: int32(i)}
			}
			if err := c.Forward(rows, nil, nil); err != nil {
				b.Fatal(err)
			}
			logits := make([]float32, m.Config().NVocab)
			step := []engine.Row{{Token: 11, Pos: prompt}}
			idx := []int{0}
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Forward(step, idx, logits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
