// This file tests that MatMul is batch invariant: a row's output is the
// same, bit for bit, whatever other rows share the call and wherever the
// row sits in the batch. Continuous batching and prompt-prefix reuse rely
// on it: a sequence's tokens must not depend on which other sequences ran
// beside it, nor on how its prompt was split into chunks.

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestMatMulBatchInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, exact := range []bool{false, true} {
		be := New(engineOpts(2))
		be.exact = exact
		defer be.Close()
		// 94: a last group of fewer than four weight rows; 300: ranges of
		// many tiles per worker, which a decode step (one row) covers in
		// long streams of rows (intMatMul, halfStreams).
		const ne0 = 512
		for _, ne1 := range []int{94, 300} {
			for _, typ := range allTypes {
				t.Run(fmt.Sprintf("%s/%d/exact=%v", typ, ne1, exact), func(t *testing.T) {
					w, err := be.LoadWeight("w", typ, ne0, ne1, randomWeight(rng, typ, ne0, ne1))
					if err != nil {
						t.Fatal(err)
					}
					const rows = 40
					xs := randomVec(rng, rows*ne0)
					// Each row alone.
					alone := make([]float32, rows*ne1)
					one := newBuffer(t, be, make([]float32, ne0))
					out := newBuffer(t, be, make([]float32, ne1))
					for r := range rows {
						if err := be.Write(one, xs[r*ne0:(r+1)*ne0]); err != nil {
							t.Fatal(err)
						}
						be.MatMul(out, w, one, 1)
						copy(alone[r*ne1:], buf(out))
					}
					// Every batch size, rows from an offset, so that a row
					// meets every position in the batch.
					x := newBuffer(t, be, make([]float32, rows*ne0))
					dst := newBuffer(t, be, make([]float32, rows*ne1))
					for _, n := range []int{2, 3, 4, 5, 8, 13, 16, 17, 33, 40} {
						for off := 0; off+n <= rows; off += max(1, n/2) {
							if err := be.Write(x, xs[off*ne0:(off+n)*ne0]); err != nil {
								t.Fatal(err)
							}
							be.MatMul(dst, w, x, n)
							for r := range n {
								got := buf(dst)[r*ne1 : (r+1)*ne1]
								want := alone[(off+r)*ne1 : (off+r+1)*ne1]
								for o := range ne1 {
									if math.Float32bits(got[o]) != math.Float32bits(want[o]) {
										t.Fatalf("%d rows from %d: row %d output %d = %g, alone %g", n, off, r, o, got[o], want[o])
									}
								}
							}
						}
					}
				})
			}
		}
	}
}
