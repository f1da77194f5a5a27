// This file tests the 16-bit float kernels of MatMul: the widening of F16
// and BF16 rows to float32 against gguf's conversions, and the 4×4 and
// eight-row kernels that widen the weights as they load them against dot4 on
// the widened rows (bit for bit: MatMul is batch invariant) and against a
// float64 dot product. The benchmarks report GB/s of weight bytes.

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/gguf"
)

// halfFormats are the 16-bit float weight types with in-place kernels.
var halfFormats = []gguf.Type{gguf.TypeF16, gguf.TypeBF16}

// halfRef widens one 16-bit float of type typ with gguf's conversion.
func halfRef(typ gguf.Type, h uint16) float32 {
	if typ == gguf.TypeBF16 {
		return gguf.BF16ToF32(h)
	}
	return gguf.F16ToF32(h)
}

// sameFloat reports whether a and b have the same bits, or are both NaN
// (F16C quiets a signalling NaN that gguf's conversion keeps).
func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// TestWidenHalf widens every bit pattern, at lengths with and without a
// tail and from misaligned starts.
func TestWidenHalf(t *testing.T) {
	all := make([]uint16, 1<<16+3)
	for i := range all {
		all[i] = uint16(i)
	}
	for _, typ := range halfFormats {
		for _, off := range []int{0, 1, 3} {
			for _, n := range []int{1, 15, 16, 17, 100, 1<<16 - 1, 1 << 16} {
				src := all[off : off+n]
				dst := make([]float32, n+1)
				dst[n] = 42 // past the end: untouched
				widenHalf(typ, dst[:n], src)
				for i, h := range src {
					if want := halfRef(typ, h); !sameFloat(dst[i], want) {
						t.Fatalf("%s off %d n %d: [%d] %#04x widened to %#08x, gguf gives %#08x", typ, off, n, i, h, math.Float32bits(dst[i]), math.Float32bits(want))
					}
				}
				if dst[n] != 42 {
					t.Fatalf("%s off %d n %d: wrote past the end", typ, off, n)
				}
			}
		}
	}
}

// halfRows returns four rows of n random weights of type typ at the given
// scale (with an element offset off into each backing slice, so starts are
// misaligned) and the same rows widened.
func halfRows(rng *rand.Rand, typ gguf.Type, n, off int, scale float64) (h [4][]uint16, wide [4][]float32) {
	for k := range h {
		h[k] = make([]uint16, off+n)[off:]
		wide[k] = make([]float32, n)
		for i := range h[k] {
			v := float32(rng.NormFloat64() * scale)
			if typ == gguf.TypeBF16 {
				h[k][i] = gguf.F32ToBF16(v)
			} else {
				h[k][i] = gguf.F32ToF16(v)
			}
			wide[k][i] = halfRef(typ, h[k][i])
		}
	}
	return h, wide
}

// checkHalf4x4 compares the 4×4 kernel of typ on x (four rows of n) and h
// with dot4 on the widened rows, bit for bit, and with a float64 sum.
func checkHalf4x4(t *testing.T, typ gguf.Type, x []float32, h [4][]uint16, wide [4][]float32) {
	t.Helper()
	n := len(x) / 4
	var got [16]float32
	halfKernel(typ).dot4x4(x, &h, &got)
	for r := range 4 {
		xr := x[r*n : (r+1)*n]
		var want [4]float32
		dot4(xr, wide[0], wide[1], wide[2], wide[3], want[:])
		// The eight-row one-row kernel, the rows twice over.
		var got8 [8]float32
		h8 := [8][]uint16{h[0], h[1], h[2], h[3], h[3], h[2], h[1], h[0]}
		halfKernel(typ).dot8(xr, &h8, &got8)
		for k := range 4 {
			if !sameFloat(got8[k], want[k]) || !sameFloat(got8[7-k], want[k]) {
				t.Fatalf("%s n %d: dot8 row %d weight %d = %g / %g, dot4 on the widened rows gives %g", typ, n, r, k, got8[k], got8[7-k], want[k])
			}
		}
		for k := range 4 {
			if !sameFloat(got[4*r+k], want[k]) {
				t.Fatalf("%s n %d: row %d weight %d = %g, dot4 on the widened rows gives %g", typ, n, r, k, got[4*r+k], want[k])
			}
			var ref, mag float64
			for i, v := range xr {
				p := float64(v) * float64(wide[k][i])
				ref += p
				mag += math.Abs(p)
			}
			if e := math.Abs(float64(got[4*r+k]) - ref); !(e <= 1e-5*mag+1e-30) && !math.IsInf(mag, 0) {
				t.Fatalf("%s n %d: row %d weight %d = %g, float64 sum %g (|terms| %g)", typ, n, r, k, got[4*r+k], ref, mag)
			}
		}
	}
}

// TestHalf4x4 runs the 4×4 kernels on many lengths (multiples of 16 take
// the assembly, the others dotGo's arithmetic), misaligned starts and
// extreme scales.
func TestHalf4x4(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, typ := range halfFormats {
		for _, n := range []int{1, 15, 16, 32, 48, 100, 512, 1024, 1040, 3072} {
			for _, off := range []int{0, 1} {
				for _, scale := range []float64{1, 1e-6, 3e4} {
					if typ == gguf.TypeBF16 && scale == 3e4 {
						scale = 1e30
					}
					h, wide := halfRows(rng, typ, n, off, scale)
					x := make([]float32, off+4*n)[off:]
					for i := range x {
						x[i] = float32(rng.NormFloat64() / scale)
					}
					checkHalf4x4(t, typ, x, h, wide)
				}
			}
		}
	}
}

// FuzzHalf4x4 checks the 4×4 kernels on fuzzed weight bits and
// activations: any 16-bit pattern, infinities and NaNs included.
func FuzzHalf4x4(f *testing.F) {
	f.Add([]byte{0x00, 0x3c, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80}, uint8(16), 1.5, false)
	f.Add([]byte{0x7f, 0x7f, 0x80, 0x3f}, uint8(33), -2.0, true)
	f.Fuzz(func(t *testing.T, bits []byte, size uint8, xs float64, bf bool) {
		typ := gguf.TypeF16
		if bf {
			typ = gguf.TypeBF16
		}
		n := int(size)%64 + 1
		if n > 8 {
			n = n / 16 * 16 // mostly the assembly
		}
		var h [4][]uint16
		var wide [4][]float32
		for k := range h {
			h[k], wide[k] = make([]uint16, n), make([]float32, n)
			for i := range h[k] {
				if j := 2 * (k*n + i); len(bits) > 0 {
					h[k][i] = uint16(bits[j%len(bits)]) | uint16(bits[(j+1)%len(bits)])<<8
				}
				wide[k][i] = halfRef(typ, h[k][i])
			}
		}
		x := make([]float32, 4*n)
		for i := range x {
			x[i] = float32(xs * float64(i%7-3))
		}
		var got [16]float32
		halfKernel(typ).dot4x4(x, &h, &got)
		for r := range 4 {
			var want [4]float32
			dot4(x[r*n:(r+1)*n], wide[0], wide[1], wide[2], wide[3], want[:])
			var got8 [8]float32
			h8 := [8][]uint16{h[0], h[1], h[2], h[3], h[0], h[1], h[2], h[3]}
			halfKernel(typ).dot8(x[r*n:(r+1)*n], &h8, &got8)
			for k := range 4 {
				if !sameFloat(got8[k], want[k]) || !sameFloat(got8[4+k], want[k]) {
					t.Fatalf("%s n %d: dot8 row %d weight %d = %g / %g, dot4 gives %g", typ, n, r, k, got8[k], got8[4+k], want[k])
				}
				if !sameFloat(got[4*r+k], want[k]) {
					t.Fatalf("%s n %d: row %d weight %d = %g, dot4 on the widened rows gives %g", typ, n, r, k, got[4*r+k], want[k])
				}
			}
		}
	})
}

// BenchmarkHalfKernels measures one thread's 4×4 kernels on four weight
// rows of 1024 (L1-resident, as in MatMul's tiles) against widening the
// rows and running dot4x4 on them, the eight-row one-row kernel, and the
// widening alone, in GB/s of weight bytes (each 4×4 call reads 8 KiB of
// weights for 16 outputs).
func BenchmarkHalfKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(63, 64))
	const n = 1024
	x := randomVec(rng, 4*n)
	for _, typ := range halfFormats {
		h, _ := halfRows(rng, typ, n, 0, 1)
		f := halfKernel(typ)
		var wide [4][]float32
		for k := range wide {
			wide[k] = make([]float32, n)
		}
		var out [16]float32
		b.Run(fmt.Sprintf("%s/dot4x4", typ), func(b *testing.B) {
			b.SetBytes(4 * 2 * n)
			for b.Loop() {
				f.dot4x4(x, &h, &out)
			}
		})
		b.Run(fmt.Sprintf("%s/dot8", typ), func(b *testing.B) {
			h8 := [8][]uint16{h[0], h[1], h[2], h[3], h[0], h[1], h[2], h[3]}
			var out8 [8]float32
			b.SetBytes(8 * 2 * n)
			for b.Loop() {
				f.dot8(x[:n], &h8, &out8)
			}
		})
		b.Run(fmt.Sprintf("%s/widen+dot4x4", typ), func(b *testing.B) {
			b.SetBytes(4 * 2 * n)
			for b.Loop() {
				for k := range wide {
					widenHalf(typ, wide[k], h[k])
				}
				dot4x4(x, wide[0], wide[1], wide[2], wide[3], &out)
			}
		})
		b.Run(fmt.Sprintf("%s/widen", typ), func(b *testing.B) {
			b.SetBytes(2 * n)
			for b.Loop() {
				widenHalf(typ, wide[0], h[0])
			}
		})
	}
}
