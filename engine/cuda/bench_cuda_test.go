//go:build cuda

// Benchmarks of the CUDA kernels through the backend (go test -tags cuda
// -bench . ./engine/cuda): the matrix product for each weight type at a
// decode batch (1 row) and a prefill batch (512 rows) on a 4096x4096 weight,
// timed over the stream with a Sync per iteration. SetBytes is the weight
// size, so the MB/s column of a 1-row run is the weight bandwidth.
package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/gguf"
)

func BenchmarkMatMul(b *testing.B) {
	g := openGPU(b)
	defer g.Close()
	const ne0, ne1 = 4096, 4096
	r := rand.New(rand.NewPCG(3, 4))
	src := randn(r, ne0*ne1, 0.02)
	x := randn(r, 512*ne0, 1)
	for _, typ := range weightTypes {
		data, err := gguf.Quantize(typ, src)
		if err != nil {
			b.Fatal(err)
		}
		w, err := g.LoadWeight("w", typ, ne0, ne1, data)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{1, 512} {
			b.Run(fmt.Sprintf("%s/n=%d", typ, n), func(b *testing.B) {
				xb, db := upload(b, g, x[:n*ne0]), poisoned(b, g, n*ne1)
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					g.MatMul(db, w, xb, n)
					if err := g.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		w.Free()
	}
}
