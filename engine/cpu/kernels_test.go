// This file checks that MatMul's float kernels agree bit for bit: every
// kernel must compute each pair of activation row and weight row with the
// same arithmetic as dot4, whatever rows it is given beside it, for MatMul
// to be batch invariant.

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/helexa/helexa/gguf"
)

func TestFloatKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	// Multiples of 16 take the assembly, the others dotGo's arithmetic.
	for _, n := range []int{16, 40, 48, 1000, 1024, 1040} {
		x := randomVec(rng, 4*n)
		var w [4][]float32
		var h, bf [4][]uint16
		for k := range w {
			w[k] = randomVec(rng, n)
			h[k], bf[k] = make([]uint16, n), make([]uint16, n)
			for i, v := range w[k] {
				h[k][i] = gguf.F32ToF16(v)
				bf[k][i] = gguf.F32ToBF16(v)
			}
		}
		same := func(name string, got, want []float32) {
			t.Helper()
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Errorf("n=%d %s[%d] = %g, dot4 gives %g", n, name, i, got[i], want[i])
				}
			}
		}
		// dot4 of each activation row with the weight rows in two orders.
		var want, wantRev [16]float32
		for r := range 4 {
			xr := x[r*n : (r+1)*n]
			dot4(xr, w[0], w[1], w[2], w[3], want[4*r:4*r+4])
			dot4(xr, w[3], w[2], w[1], w[0], wantRev[4*r:4*r+4])
			for k := range 4 {
				if want[4*r+k] != wantRev[4*r+3-k] {
					t.Fatalf("n=%d: dot4 row %d weight %d depends on the weight's slot", n, r, k)
				}
			}
		}
		var out16 [16]float32
		dot4x4(x, w[0], w[1], w[2], w[3], &out16)
		same("dot4x4", out16[:], want[:])
		var out8 [8]float32
		dot2x4(x[2*n:3*n], x[n:2*n], w[0], w[1], w[2], w[3], &out8)
		same("dot2x4", out8[:], append(want[8:12:12], want[4:8]...))
		for _, c := range []struct {
			name string
			typ  gguf.Type
			rows [4][]uint16
		}{{"dot4F16", gguf.TypeF16, h}, {"dot4BF16", gguf.TypeBF16, bf}} {
			f := halfKernel(c.typ)
			var wide [4][]float32
			for k, row := range c.rows {
				wide[k] = make([]float32, n)
				dequantRow(c.typ, unsafe.Slice((*byte)(unsafe.Pointer(&row[0])), 2*n), wide[k])
			}
			var ref16 [16]float32
			for r := range 4 {
				var got, ref [4]float32
				f.dot4(x[r*n:(r+1)*n], &c.rows, &got)
				dot4(x[r*n:(r+1)*n], wide[0], wide[1], wide[2], wide[3], ref[:])
				same(c.name, got[:], ref[:])
				copy(ref16[4*r:], ref[:])
			}
			f.dot4x4(x, &c.rows, &out16)
			same(c.name+"x4", out16[:], ref16[:])
			// dot8 on the rows in order and reversed, against dot4.
			var rows8 [8][]uint16
			var out8 [8]float32
			for k := range 4 {
				rows8[k], rows8[7-k] = c.rows[k], c.rows[k]
			}
			f.dot8(x[:n], &rows8, &out8)
			same("dot8", out8[:], []float32{ref16[0], ref16[1], ref16[2], ref16[3], ref16[3], ref16[2], ref16[1], ref16[0]})
		}
	}
}

// TestMatMulAllocs checks that MatMul allocates nothing once its weight is
// loaded, on every path: the decode step must not feed the collector.
func TestMatMulAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	for _, exact := range []bool{false, true} {
		be := New(engineOpts(2))
		be.exact = exact
		defer be.Close()
		const ne0, ne1 = 256, 40
		for _, typ := range allTypes {
			w, err := be.LoadWeight("w", typ, ne0, ne1, randomWeight(rng, typ, ne0, ne1))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 5} {
				x := newBuffer(t, be, randomVec(rng, n*ne0))
				dst := newBuffer(t, be, make([]float32, n*ne1))
				be.MatMul(dst, w, x, n) // the first call may size the quantized input
				if a := testing.AllocsPerRun(5, func() { be.MatMul(dst, w, x, n) }); a != 0 {
					t.Errorf("%s exact=%v n=%d: %v allocations per call", typ, exact, n, a)
				}
			}
		}
	}
}
