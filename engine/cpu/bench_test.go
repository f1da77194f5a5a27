// This file benchmarks MatMul for every weight type at the matrix shapes of
// a Qwen3-0.6B decode step (one activation row).

package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func BenchmarkMatMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	be := New(engineOpts(0))
	defer be.Close()
	// Qwen3-0.6B: nEmbd 1024 (attn_q/attn_output are 1024x2048 in fact,
	// attn_k/v 1024x1024), nFF 3072.
	shapes := []struct{ ne0, ne1 int }{{1024, 1024}, {1024, 3072}, {3072, 1024}}
	for _, typ := range allTypes {
		for _, s := range shapes {
			b.Run(fmt.Sprintf("%s/%dx%d", typ, s.ne1, s.ne0), func(b *testing.B) {
				data := randomWeight(rng, typ, s.ne0, s.ne1)
				w, err := be.LoadWeight("w", typ, s.ne0, s.ne1, data)
				if err != nil {
					b.Fatal(err)
				}
				x := newBuffer(b, be, randomVec(rng, s.ne0))
				dst := newBuffer(b, be, make([]float32, s.ne1))
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					be.MatMul(dst, w, x, 1)
				}
			})
		}
	}
}

// BenchmarkMatMulPrefill multiplies a 64-row batch, the prompt-processing
// shape, through the dequantize-then-dot path.
func BenchmarkMatMulPrefill(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	be := New(engineOpts(0))
	defer be.Close()
	const n, ne0, ne1 = 64, 1024, 1024
	for _, typ := range allTypes {
		b.Run(fmt.Sprintf("%s/%dx%dx%d", typ, n, ne1, ne0), func(b *testing.B) {
			data := randomWeight(rng, typ, ne0, ne1)
			w, err := be.LoadWeight("w", typ, ne0, ne1, data)
			if err != nil {
				b.Fatal(err)
			}
			x := newBuffer(b, be, randomVec(rng, n*ne0))
			dst := newBuffer(b, be, make([]float32, n*ne1))
			b.ReportAllocs()
			for b.Loop() {
				be.MatMul(dst, w, x, n)
			}
			b.ReportMetric(float64(2*n*ne0*ne1)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
