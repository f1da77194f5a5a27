// This file checks Attention's run kernels (attnkern.go, attn_amd64.s):
// the assembly must give bit for bit what the per-position kernels give,
// whatever the run length, and stay within float rounding of the Go loops;
// head widths the assembly does not take must fall back to those loops.

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/gguf"
)

// f16Rows returns np rows of hd random f16 values stride apart.
func f16Rows(rng *rand.Rand, np, stride, hd int) []uint16 {
	h := make([]uint16, (np-1)*stride+hd)
	for i := range h {
		h[i] = gguf.F32ToF16(float32(rng.NormFloat64()))
	}
	return h
}

func TestAttentionRunKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, hd := range []int{8, 16, 40, 64, 72, 128, 256} {
		for _, np := range []int{1, 3, 4, 5, 8, 16, 17} {
			stride := 3*hd + 8 // a head's columns within wider cache rows
			q, k, v := randomVec(rng, hd), f16Rows(rng, np, stride, hd), f16Rows(rng, np, stride, hd)
			w := randomVec(rng, np)
			init := randomVec(rng, hd)

			// Scores: the run kernel against dotF16 per position (bit
			// exact) and against the Go loop (within rounding).
			got := make([]float32, np)
			dotsF16(q, k, stride, got)
			for p := range np {
				row := k[p*stride : p*stride+hd]
				if want := dotF16(q, row); got[p] != want {
					t.Errorf("dotsF16 hd=%d np=%d p=%d: %g, dotF16 %g", hd, np, p, got[p], want)
				}
				var mag float64
				for i := range q {
					mag += math.Abs(float64(q[i]) * float64(f16Table[row[i]]))
				}
				if e := math.Abs(float64(got[p]-dotF16Go(q, row))) / mag; e > 1e-6 {
					t.Errorf("dotsF16 hd=%d np=%d p=%d: %g, Go %g", hd, np, p, got[p], dotF16Go(q, row))
				}
			}

			// Weighted sum: the run kernel against axpyF16 per position
			// (bit exact) and the Go loop (within rounding).
			acc, seq, ref := append([]float32(nil), init...), append([]float32(nil), init...), append([]float32(nil), init...)
			accF16(acc, w, v, stride)
			for p := range np {
				row := v[p*stride : p*stride+hd]
				axpyF16(seq, w[p], row)
				for i := range ref {
					ref[i] += w[p] * f16Table[row[i]]
				}
			}
			for i := range acc {
				if acc[i] != seq[i] {
					t.Fatalf("accF16 hd=%d np=%d element %d: %g, axpyF16 calls %g", hd, np, i, acc[i], seq[i])
				}
				if math.Abs(float64(acc[i]-ref[i])) > 1e-5*float64(np+1) {
					t.Fatalf("accF16 hd=%d np=%d element %d: %g, Go %g", hd, np, i, acc[i], ref[i])
				}
			}
		}
	}
}

// TestAttentionRunKernelsSplit checks that splitting a run into calls of
// any length leaves every score and the weighted sum unchanged, which is
// what keeps a row's output independent of its block layout.
func TestAttentionRunKernelsSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	const hd, np, stride = 128, 23, 1024
	q, k, v := randomVec(rng, hd), f16Rows(rng, np, stride, hd), f16Rows(rng, np, stride, hd)
	w := randomVec(rng, np)
	whole, wholeOut := make([]float32, np), make([]float32, hd)
	dotsF16(q, k, stride, whole)
	accF16(wholeOut, w, v, stride)
	for _, step := range []int{1, 2, 3, 5, 7, 16} {
		parts, out := make([]float32, np), make([]float32, hd)
		for p0 := 0; p0 < np; p0 += step {
			p1 := min(p0+step, np)
			dotsF16(q, k[p0*stride:], stride, parts[p0:p1])
			accF16(out, w[p0:p1], v[p0*stride:], stride)
		}
		for p := range whole {
			if parts[p] != whole[p] {
				t.Errorf("step %d: score %d is %g, %g in one call", step, p, parts[p], whole[p])
			}
		}
		for i := range out {
			if out[i] != wholeOut[i] {
				t.Fatalf("step %d: output %d is %g, %g in one call", step, i, out[i], wholeOut[i])
			}
		}
	}
}

// TestExpf checks expf against math.Exp (relative error under 4e-7, about
// three float32 ulp, where the result is a normal float32; 0 or tiny
// below) and expShift's assembly against expf bit for bit, for lengths
// that are and are not multiples of eight.
func TestExpf(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	xs := []float32{0, -0.5, -1, -1e-7, -20, -87, -87.5, -88, -100, -1e30, 1, 10, 88}
	for range 20000 {
		xs = append(xs, float32(-90*rng.Float64()), float32(-2*rng.Float64()))
	}
	for _, x := range xs {
		got, want := float64(expf(x)), math.Exp(float64(x))
		if want >= 0x1p-126 && want < math.MaxFloat32 {
			if e := math.Abs(got-want) / want; e > 4e-7 {
				t.Errorf("expf(%g) = %g, math.Exp %g (relative error %.3g)", x, got, want, e)
			}
		} else if want < 0x1p-126 && got > 0x1p-125 {
			t.Errorf("expf(%g) = %g, want 0 or tiny", x, got)
		}
	}
	for _, n := range []int{1, 7, 8, 9, 16, 23, 1001} {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(-30 * rng.Float64())
		}
		const mx = 1.25
		got := append([]float32(nil), s...)
		expShift(got, mx)
		for i, v := range s {
			if want := expf(v - mx); got[i] != want {
				t.Errorf("expShift n=%d element %d: %g, expf %g", n, i, got[i], want)
			}
		}
	}
}

// TestAttentionRunKernelsAVX2 reruns the run-kernel tests with the
// AVX-512 kernels off, on machines that have them.
func TestAttentionRunKernelsAVX2(t *testing.T) {
	if !hasAVX512 {
		t.Skip("skipping: no AVX-512, the other tests already ran the AVX2 kernels")
	}
	hasAVX512 = false
	defer func() { hasAVX512 = true }()
	t.Run("Kernels", TestAttentionRunKernels)
	t.Run("Split", TestAttentionRunKernelsSplit)
}
