// This file checks activation quantization and the integer dot kernels:
// the quantized row against the float row, each kernel's Go reference
// against the float dot of the dequantized weights, and the assembly
// (AVX2 and VNNI where the CPU has them) against the Go reference on many
// lengths, row counts, misaligned starts and extreme scales, plus a fuzz
// test over raw weight bytes.

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/gguf"
)

func TestQuantizeRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, f := range []actFormat{actQ8, actQ8K} {
		for _, scale := range []float32{1e-30, 1e-3, 1, 1e30} {
			x := randomVec(rng, 512)
			for i := range x {
				x[i] *= scale
			}
			clear(x[:32]) // an all-zero block
			var a actQuant
			a.quantize(f, x, 1, len(x))
			r := a.row(0)
			bs := f.blockSize()
			for i, v := range x {
				d := r.d[i/bs]
				if got := d * float32(r.qs[i]); math.Abs(float64(got-v)) > float64(d)/2*1.0001+1e-45 {
					t.Fatalf("format %d scale %g: x[%d] = %g comes back as %g (d %g)", f, scale, i, v, got, d)
				}
			}
			sg := f.sumGroup()
			for g := range len(x) / sg {
				var s int16
				for _, q := range r.qs[sg*g : sg*g+sg] {
					s += int16(q)
				}
				if r.sums[g] != s {
					t.Fatalf("format %d scale %g: sum of group %d is %d, want %d", f, scale, g, r.sums[g], s)
				}
			}
		}
	}
}

// intTypes are the weight types with an integer kernel, in a fixed order.
var intTypes = []gguf.Type{
	gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1,
	gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K,
}

// absDot returns Σ|w_i·x_i| over the dequantized weights of row w and the
// dequantized activation a: the scale the kernels' rounding is relative to.
func absDot(typ gguf.Type, w []byte, a actRow, bs int) float64 {
	f := make([]float32, len(a.qs))
	gguf.DequantizeRow(typ, w, f)
	var s float64
	for i, v := range f {
		s += math.Abs(float64(v) * float64(a.d[i/bs]) * float64(a.qs[i]))
	}
	return s
}

// kernelVariants runs check once per kernel variant this CPU has: the Go
// reference loop always, the AVX2 and VNNI assembly where present, and
// for Q2_K and Q3_K the ymm kernels beside the zmm ones.
func kernelVariants(t *testing.T, check func(typ gguf.Type, name string, k rowsKernel)) {
	t.Helper()
	for _, typ := range intTypes {
		k := intKernels[typ]
		check(typ, typ.String()+"/go", refRows(k.ref))
		if asm := asmRowsKernel(typ); asm != nil {
			if hasVNNI {
				check(typ, typ.String()+"/vnni", asm)
				hasVNNI = false
				check(typ, typ.String()+"/avx2", asm)
				hasVNNI = true
			} else {
				check(typ, typ.String()+"/avx2", asm)
			}
			if hasK23Wide && (typ == gguf.TypeQ2_K || typ == gguf.TypeQ3_K) {
				hasK23Wide = false
				check(typ, typ.String()+"/avx2-ymm", asm)
				hasK23Wide = true
			}
		}
	}
}

func TestIntKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	kernelVariants(t, func(typ gguf.Type, name string, k rowsKernel) {
		ik := intKernels[typ]
		bs := typ.BlockSize()
		for _, nb := range []int{1, 2, 3, 4, 7, 12, 33} {
			ne0 := nb * bs
			for _, nrows := range []int{1, 2, 5} {
				for _, xs := range []float32{1e-20, 1, 1e12} {
					for _, off := range []int{0, 1, 3} {
						rowSize := int(typ.RowSize(int64(ne0)))
						raw := make([]byte, off+rowSize*nrows)
						w := raw[off:]
						copy(w, randomWeight(rng, typ, ne0, nrows))
						x := randomVec(rng, ne0)
						for i := range x {
							x[i] *= xs
						}
						var a actQuant
						a.reset(ik.format, 1, ne0+off)
						a.qs = a.qs[off : off+ne0] // misaligned quants
						a.d = a.d[:ne0/ik.format.blockSize()]
						a.sums = a.sums[:ne0/ik.format.sumGroup()]
						ar := actRow{qs: a.qs, d: a.d, sums: a.sums}
						quantizeRow(ik.format, x, ar)
						out := make([]float32, nrows+1)
						out[nrows] = 42 // must stay
						k(w, rowSize, nrows, ar, out[:nrows])
						if out[nrows] != 42 {
							t.Fatalf("%s: wrote past its %d rows", name, nrows)
						}
						for r := range nrows {
							row := w[r*rowSize : (r+1)*rowSize]
							want := ik.ref(row, ar)
							mag := absDot(typ, row, ar, ik.format.blockSize())
							if e := math.Abs(float64(out[r]) - float64(want)); e > 1e-5*mag+1e-37 {
								t.Fatalf("%s ne0 %d rows %d x·%g off %d: row %d = %g, reference %g (error %.3g of %.3g)",
									name, ne0, nrows, xs, off, r, out[r], want, e, mag)
							}
						}
					}
				}
			}
		}
	})
}

// TestIntReference checks each Go reference against the float dot product
// of the dequantized weights with the float activations: the difference is
// the activation quantization's, at most Σ|w_i|·d_i/2.
func TestIntReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, typ := range intTypes {
		ik := intKernels[typ]
		for _, ne0 := range []int{256, 1024, 3072} {
			w := randomWeight(rng, typ, ne0, 1)
			x := randomVec(rng, ne0)
			var a actQuant
			a.quantize(ik.format, x, 1, ne0)
			got := ik.ref(w, a.row(0))
			f := make([]float32, ne0)
			gguf.DequantizeRow(typ, w, f)
			var want, bound float64
			for i, v := range f {
				want += float64(v) * float64(x[i])
				bound += math.Abs(float64(v)) * float64(a.d[i/ik.format.blockSize()]) / 2
			}
			if e := math.Abs(float64(got) - want); e > bound*1.001+1e-6 {
				t.Errorf("%s ne0 %d: %g, float dot %g: error %.3g beyond the quantization bound %.3g", typ, ne0, got, want, e, bound)
			}
		}
	}
}

// FuzzIntKernels runs every kernel variant on weight rows made of the fuzz
// input (scale fields included, so NaN and infinite scales occur) and
// checks it agrees with the Go reference where the reference is finite.
func FuzzIntKernels(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint64(1))
	f.Add(make([]byte, 600), uint64(2))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 1))
		kernelVariants(t, func(typ gguf.Type, name string, k rowsKernel) {
			{
				ik := intKernels[typ]
				ne0 := typ.BlockSize() * (1 + int(seed%3))
				rowSize := int(typ.RowSize(int64(ne0)))
				w := make([]byte, rowSize)
				for i := range w {
					if len(data) > 0 {
						w[i] = data[i%len(data)] ^ byte(i)
					}
				}
				x := randomVec(rng, ne0)
				var a actQuant
				a.quantize(ik.format, x, 1, ne0)
				out := make([]float32, 1)
				k(w, rowSize, 1, a.row(0), out)
				want := ik.ref(w, a.row(0))
				mag := absDot(typ, w, a.row(0), ik.format.blockSize())
				if math.IsNaN(float64(want)) || math.IsInf(float64(want), 0) || math.IsInf(mag, 0) || math.IsNaN(mag) {
					return
				}
				if e := math.Abs(float64(out[0]) - float64(want)); e > 1e-5*mag+1e-30 {
					t.Fatalf("%s: %g, reference %g", name, out[0], want)
				}
			}
		})
	})
}

// BenchmarkIntKernels measures each kernel on a 1024-row matrix of the
// Qwen3-0.6B width (1024), one activation row, in weight GB/s: the Go
// reference, the one-row assembly (asm-ymm: the AVX2 Q2_K and Q3_K kernels
// where the zmm ones run) and the multi-row GEMM kernel (gemm1).
func BenchmarkIntKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, typ := range intTypes {
		ik := intKernels[typ]
		const ne0, nrows = 1024, 1024
		w := randomWeight(rng, typ, ne0, nrows)
		rowSize := int(typ.RowSize(ne0))
		var a actQuant
		a.quantize(ik.format, randomVec(rng, ne0), 1, ne0)
		out := make([]float32, nrows)
		run := func(name string, k rowsKernel) {
			b.Run(typ.String()+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				for b.Loop() {
					k(w, rowSize, nrows, a.row(0), out)
				}
			})
		}
		run("go", refRows(ik.ref))
		if asm := asmRowsKernel(typ); asm != nil {
			run("asm", asm)
			if hasK23Wide && (typ == gguf.TypeQ2_K || typ == gguf.TypeQ3_K) {
				hasK23Wide = false
				run("asm-ymm", asm)
				hasK23Wide = true
			}
		}
		if g := asmGemmKernel(typ); g.k != nil && !g.blockMajor {
			// The multi-row kernel on one activation row, as decode runs it.
			run("gemm1", func(w []byte, rowSize, nrows int, _ actRow, out []float32) {
				g.k(w, rowSize, nrows, &a, 0, 1, out, nrows)
			})
		}
	}
}
