// This file benchmarks MatMul's float paths at the batch sizes of batched
// decoding and a prompt chunk: F32, F16 and BF16 weights, and Q8_0 and
// Q4_K on an exact backend (the fused block kernels).

package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

func BenchmarkMatMulFloatRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	const ne0, ne1 = 1024, 3072
	for _, c := range []struct {
		typ   gguf.Type
		exact bool
	}{{gguf.TypeF32, false}, {gguf.TypeF16, false}, {gguf.TypeBF16, false}, {gguf.TypeQ8_0, true}, {gguf.TypeQ4_K, true}} {
		be := New(engine.BackendOptions{Exact: c.exact})
		data := randomWeight(rng, c.typ, ne0, ne1)
		w, err := be.LoadWeight("w", c.typ, ne0, ne1, data)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{1, 2, 3, 4, 6, 8, 64} {
			name := fmt.Sprintf("%s/%dx%d/rows=%d", c.typ, ne1, ne0, n)
			if c.exact {
				name = "exact-" + name
			}
			b.Run(name, func(b *testing.B) {
				x := newBuffer(b, be, randomVec(rng, n*ne0))
				dst := newBuffer(b, be, make([]float32, n*ne1))
				b.ReportAllocs()
				for b.Loop() {
					be.MatMul(dst, w, x, n)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1e3, "µs/row")
			})
		}
		be.Close()
	}
}
