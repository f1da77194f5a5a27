// This file checks the assembly kernels against the Go loops, and runs the
// op tests once more with the assembly turned off so the Go paths are
// covered on machines that have AVX2.

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/helexa/helexa/gguf"
)

func TestDotKernels(t *testing.T) {
	if !hasAVX2 {
		t.Skip("skipping: no AVX2/FMA/F16C, the Go loops are the only path")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{8, 16, 24, 33, 64, 100, 1024, 3072} {
		a, b := randomVec(rng, n), randomVec(rng, n)
		h := make([]uint16, n)
		for i := range h {
			h[i] = gguf.F32ToF16(b[i])
		}
		var mag float64
		for i := range a {
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		check := func(name string, got, want float32) {
			t.Helper()
			if e := math.Abs(float64(got)-float64(want)) / mag; e > 1e-6 {
				t.Errorf("%s n=%d: %g, Go %g (relative error %.3g)", name, n, got, want, e)
			}
		}
		check("dot", dotAVX2(&a[0], &b[0], n), dotGo(a, b))
		if n%16 == 0 {
			// dot4 with rows a, b, a, b against x = b.
			var out [4]float32
			dot4AVX2(&b[0], &a[0], &b[0], &a[0], &b[0], n, &out[0])
			check("dot4[0]", out[0], dotGo(a, b))
			check("dot4[2]", out[2], dotGo(a, b))
			var bb float64
			for _, v := range b {
				bb += float64(v) * float64(v)
			}
			if e := math.Abs(float64(out[1])-bb) / bb; e > 1e-6 || out[1] != out[3] {
				t.Errorf("dot4 n=%d: rows 1 and 3 give %g and %g, want %g", n, out[1], out[3], bb)
			}
			// dot2x4 with x rows (b, a) and weight rows (a, b, a, b).
			var out8 [8]float32
			dot2x4AVX2(&b[0], &a[0], &a[0], &b[0], &a[0], &b[0], n, &out8[0])
			var aa float64
			for _, v := range a {
				aa += float64(v) * float64(v)
			}
			check("dot2x4[0]", out8[0], dotGo(a, b))
			check("dot2x4[5]", out8[5], dotGo(a, b))
			if e := math.Abs(float64(out8[1])-bb) / bb; e > 1e-6 || out8[1] != out8[3] {
				t.Errorf("dot2x4 n=%d: x0·b gives %g and %g, want %g", n, out8[1], out8[3], bb)
			}
			if e := math.Abs(float64(out8[4])-aa) / aa; e > 1e-6 || out8[4] != out8[6] {
				t.Errorf("dot2x4 n=%d: x1·a gives %g and %g, want %g", n, out8[4], out8[6], aa)
			}
		}
		if n%16 == 0 {
			check("dotF16", dotF16AVX2(&a[0], &h[0], n), dotF16Go(a, h))
		}
		if n%8 == 0 {
			y1, y2 := append([]float32(nil), a...), append([]float32(nil), a...)
			axpyAVX2(&y1[0], 0.37, &b[0], n)
			for i := range y2 {
				y2[i] += 0.37 * b[i]
			}
			y3, y4 := append([]float32(nil), a...), append([]float32(nil), a...)
			axpyF16AVX2(&y3[0], -1.5, &h[0], n)
			for i := range y4 {
				y4[i] += -1.5 * f16Table[h[i]]
			}
			for i := range y1 {
				if math.Abs(float64(y1[i]-y2[i])) > 1e-6 || math.Abs(float64(y3[i]-y4[i])) > 1e-5 {
					t.Fatalf("axpy n=%d element %d: %g/%g, Go %g/%g", n, i, y1[i], y3[i], y2[i], y4[i])
				}
			}
		}
	}
}

// TestOpsWithoutAssembly reruns the op tests on the Go loops.
func TestOpsWithoutAssembly(t *testing.T) {
	if !hasAVX2 {
		t.Skip("skipping: the other tests already ran without assembly")
	}
	hasAVX2, hasAVX512 = false, false
	defer func() { hasAVX2, hasAVX512 = true, cpu.X86.HasAVX512F }()
	t.Run("MatMul", TestMatMul)
	t.Run("Attention", TestAttention)
	t.Run("AttentionRunKernels", TestAttentionRunKernels)
	t.Run("Expf", TestExpf)
	t.Run("Fused", TestFusedKernels)
	t.Run("BatchInvariant", TestMatMulBatchInvariant)
	t.Run("FloatKernelsAgree", TestFloatKernelsAgree)
}

// TestOpsWithoutAVX512 reruns the tests of MatMul on the AVX2 kernels.
func TestOpsWithoutAVX512(t *testing.T) {
	if !hasAVX512 {
		t.Skip("skipping: the other tests already ran without AVX-512")
	}
	hasAVX512 = false
	defer func() { hasAVX512 = true }()
	t.Run("MatMul", TestMatMul)
	t.Run("BatchInvariant", TestMatMulBatchInvariant)
	t.Run("FloatKernelsAgree", TestFloatKernelsAgree)
}

// TestF32sToF16 checks the F16C conversion against gguf.F32ToF16 on random
// bit patterns (NaNs, infinities, subnormals and rounding ties included)
// and on lengths with a tail.
func TestF32sToF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, n := range []int{1, 7, 8, 9, 64, 1027} {
		src := make([]float32, n)
		for i := range src {
			switch i % 4 {
			case 0:
				src[i] = math.Float32frombits(rng.Uint32())
			case 1:
				src[i] = float32(rng.NormFloat64()) * 1e-5 // subnormal halves
			case 2:
				// A tie: exactly halfway between two halves.
				src[i] = math.Float32frombits(uint32(rng.IntN(0x47000000))&^0x1fff | 0x1000)
			default:
				src[i] = float32(rng.NormFloat64()) * 70000 // beyond the half range
			}
		}
		dst := make([]uint16, n)
		f32sToF16(dst, src)
		for i, v := range src {
			want := gguf.F32ToF16(v)
			if dst[i] != want && !(v != v && dst[i]&0x7c00 == 0x7c00 && dst[i]&0x3ff != 0) {
				t.Fatalf("n %d: half(%g = %#08x) = %#04x, gguf gives %#04x", n, v, math.Float32bits(v), dst[i], want)
			}
		}
	}
}
