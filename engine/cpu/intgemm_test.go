// This file checks the small-batch GEMM kernels against the Go one-row
// references on several widths, tile counts, activation row groups,
// strides, misaligned weights and extreme scales, and on fuzzed weight
// bytes, and MatMul's integer path with them against the one-row kernels
// at every batch size; its benchmarks time the kernels and the K-quant
// MatMuls.

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/gguf"
)

// gemmVariants runs check once per GEMM kernel this CPU has: the VNNI
// ones where present and the AVX2 ones.
func gemmVariants(t *testing.T, check func(typ gguf.Type, name string, g gemmSpec)) {
	t.Helper()
	tested := 0
	variants := []bool{false}
	if hasGemmVNNI {
		variants = []bool{true, false}
	}
	for _, vnni := range variants {
		saved := hasGemmVNNI
		hasGemmVNNI = vnni
		for _, typ := range intTypes {
			if g := asmGemmKernel(typ); g.k != nil {
				tested++
				name := typ.String() + "/avx2"
				if vnni {
					name = typ.String() + "/vnni"
				}
				check(typ, name, g)
			}
		}
		hasGemmVNNI = saved
	}
	if tested == 0 {
		t.Skip("no GEMM kernel on this CPU")
	}
}

func TestGemmKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	gemmVariants(t, func(typ gguf.Type, name string, g gemmSpec) {
		ik := intKernels[typ]
		k, tile := g.k, g.tile
		bs := typ.BlockSize()
		for _, nb := range []int{1, 2, 3, 7, 33} {
			ne0 := nb * bs
			rowSize := int(typ.RowSize(int64(ne0)))
			for _, nrows := range []int{tile, 3 * tile} {
				for _, xs := range []float32{1e-20, 1, 1e12} {
					off := rng.IntN(4)
					raw := make([]byte, off+rowSize*nrows)
					w := raw[off:]
					copy(w, randomWeight(rng, typ, ne0, nrows))
					n := g.cols + 2
					x := randomVec(rng, n*ne0)
					for i := range x {
						x[i] *= xs
					}
					var a actQuant
					a.quantize(ik.format, x, n, ne0)
					g.prepare(&a)
					for r0 := range n {
						for c := 1; c <= min(g.cols, n-r0); c++ {
							ostride := nrows + 3
							out := make([]float32, c*ostride)
							for i := range out {
								out[i] = 42
							}
							k(w, rowSize, nrows, &a, r0, c, out, ostride)
							for j := range c {
								for i := range ostride {
									got := out[j*ostride+i]
									if i >= nrows {
										if got != 42 {
											t.Fatalf("%s: wrote out[%d] past row %d's %d results", name, j*ostride+i, j, nrows)
										}
										continue
									}
									row := w[i*rowSize : (i+1)*rowSize]
									ar := a.row(r0 + j)
									want := ik.ref(row, ar)
									mag := absDot(typ, row, ar, ik.format.blockSize())
									if e := math.Abs(float64(got) - float64(want)); !(e <= 1e-5*mag+1e-37) {
										t.Fatalf("%s ne0 %d rows %d x·%g off %d r0 %d c %d: [%d][%d] = %g, reference %g (error %.3g of %.3g)",
											name, ne0, nrows, xs, off, r0, c, j, i, got, want, e, mag)
									}
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestGemmOneRowBits checks the GEMM kernels whose tile is one weight row
// (Q2_K, Q3_K) against their one-row kernels bit for bit, and the zmm
// one-row kernels against the ymm ones: each activation row gets the
// one-row arithmetic whatever its neighbours and whichever kernel runs, so
// the paths and every batch size agree exactly.
func TestGemmOneRowBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	tested := 0
	for _, typ := range intTypes {
		ik := intKernels[typ]
		if ik.gemm.k == nil || ik.gemm.tile != 1 || ik.asm == nil {
			continue
		}
		tested++
		for _, nb := range []int{1, 2, 5} {
			ne0 := nb * 256
			rowSize := int(typ.RowSize(int64(ne0)))
			const nrows, n = 7, 6
			w := randomWeight(rng, typ, ne0, nrows)
			for _, xs := range []float32{1e-20, 1, 1e12} {
				x := randomVec(rng, n*ne0)
				for i := range x {
					x[i] *= xs
				}
				var a actQuant
				a.quantize(ik.format, x, n, ne0)
				want := make([]float32, n*nrows)
				for r := range n {
					ik.rows(w, rowSize, nrows, a.row(r), want[r*nrows:(r+1)*nrows])
				}
				if hasK23Wide { // the zmm one-row kernel ran: the ymm one must agree
					hasK23Wide = false
					for r := range n {
						got := make([]float32, nrows)
						ik.rows(w, rowSize, nrows, a.row(r), got)
						for i, v := range got {
							if wv := want[r*nrows+i]; math.Float32bits(v) != math.Float32bits(wv) {
								hasK23Wide = true
								t.Fatalf("%s ne0 %d x·%g row %d: [%d] = %g with ymm, %g with zmm", typ, ne0, xs, r, i, v, wv)
							}
						}
					}
					hasK23Wide = true
				}
				wide := hasK23Wide
				for _, hasK23Wide = range []bool{wide, false} { // zmm and ymm kernels
					for r0 := range n {
						for c := 1; c <= min(gemmCols, n-r0); c++ {
							out := make([]float32, c*nrows)
							ik.gemm.k(w, rowSize, nrows, &a, r0, c, out, nrows)
							for i, v := range out {
								if wv := want[r0*nrows+i]; math.Float32bits(v) != math.Float32bits(wv) {
									hasK23Wide = wide
									t.Fatalf("%s ne0 %d x·%g r0 %d c %d: [%d] = %g, one-row kernel %g", typ, ne0, xs, r0, c, i, v, wv)
								}
							}
						}
					}
				}
				hasK23Wide = wide
			}
		}
	}
	if tested == 0 {
		t.Skip("no one-row-tile GEMM kernel on this CPU")
	}
}

// FuzzGemmKernels runs every GEMM kernel variant on weight rows made of the
// fuzz input (scale fields included, so NaN and infinite scales occur) and
// three activation rows, checks each result against the Go reference
// where that is finite, and each row run alone against the same row run
// with the others bit for bit.
func FuzzGemmKernels(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint64(1))
	f.Add(make([]byte, 900), uint64(2))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 3))
		gemmVariants(t, func(typ gguf.Type, name string, g gemmSpec) {
			ik := intKernels[typ]
			k, tile := g.k, g.tile
			ne0 := typ.BlockSize() * (1 + int(seed%3))
			rowSize := int(typ.RowSize(int64(ne0)))
			w := make([]byte, rowSize*tile)
			for i := range w {
				if len(data) > 0 {
					w[i] = data[i%len(data)] ^ byte(i)
				}
			}
			const n = 3
			var a actQuant
			a.quantize(ik.format, randomVec(rng, n*ne0), n, ne0)
			g.prepare(&a)
			out := make([]float32, n*tile)
			k(w, rowSize, tile, &a, 0, n, out, tile)
			for j := range n {
				// Each row alone (the decode step's kernel) has the bits
				// it has beside the others: MatMul is batch invariant.
				one := make([]float32, tile)
				k(w, rowSize, tile, &a, j, 1, one, tile)
				for i, v := range one {
					if !sameFloat(v, out[j*tile+i]) {
						t.Fatalf("%s: row %d alone [%d] = %g, beside %d rows %g", name, j, i, v, n, out[j*tile+i])
					}
				}
				for i := range tile {
					row := w[i*rowSize : (i+1)*rowSize]
					want := ik.ref(row, a.row(j))
					mag := absDot(typ, row, a.row(j), ik.format.blockSize())
					if math.IsNaN(float64(want)) || math.IsInf(float64(want), 0) || math.IsInf(mag, 0) || math.IsNaN(mag) {
						continue
					}
					if e := math.Abs(float64(out[j*tile+i]) - float64(want)); !(e <= 1e-5*mag+1e-30) {
						t.Fatalf("%s: [%d][%d] = %g, reference %g", name, j, i, out[j*tile+i], want)
					}
				}
			}
		})
	})
}

// TestMatMulGemm runs MatMul's integer path for batches of 1..9 rows with
// gemm kernels and without, on a width whose row count leaves a partial
// tile, and wants the same results up to rounding: the kernels compute
// each block's terms as the one-row kernels do, only the order of the
// float sums differs, so the bound is the rounding of those sums.
func TestMatMulGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	be := New(engineOpts(2))
	defer be.Close()
	const ne0, ne1 = 512, 77
	for _, typ := range []gguf.Type{gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K} {
		if intKernels[typ].gemm.k == nil {
			continue
		}
		data := randomWeight(rng, typ, ne0, ne1)
		w, err := be.LoadWeight("w", typ, ne0, ne1, data)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 19; n++ {
			x := randomVec(rng, n*ne0)
			got := newBuffer(t, be, make([]float32, n*ne1))
			want := newBuffer(t, be, make([]float32, n*ne1))
			xb := newBuffer(t, be, x)
			be.MatMul(got, w, xb, n)
			saved := gemmMinRows
			gemmMinRows = math.MaxInt
			be.MatMul(want, w, xb, n)
			gemmMinRows = saved
			g, wv := buf(got), buf(want)
			// The order of the float sums differs, so the bound scales with
			// the size of the terms, which the largest output stands for: an
			// output that cancels to near zero keeps the terms' rounding.
			scale := 1.0
			for _, v := range wv {
				scale = max(scale, math.Abs(float64(v)))
			}
			for i := range wv {
				if e := math.Abs(float64(g[i] - wv[i])); e > 1e-4*scale {
					t.Fatalf("%s n %d: [%d] = %g with gemm, %g without", typ, n, i, g[i], wv[i])
				}
			}
		}
	}
}

// BenchmarkGemmKernels measures one thread's GEMM kernel against the
// one-row kernel called per activation row, on a 256-row slice of the
// Qwen3-0.6B gate matrix (1024 wide) with as many activation rows as one
// call takes (4; 8 for Q4_0, Q4_1, Q5_0 and Q5_1), in GMAC/s
// (wall and CPU time) and in weight bytes per second (MB/s: each call
// reads the slice once); the -avx2 pair runs the kernels of a CPU without
// AVX-512.
func BenchmarkGemmKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	for _, typ := range intTypes {
		ik := intKernels[typ]
		if ik.gemm.k == nil {
			continue
		}
		const ne0, nrows = 1024, 256
		n := ik.gemm.cols
		w := randomWeight(rng, typ, ne0, nrows)
		rowSize := int(typ.RowSize(ne0))
		var a actQuant
		a.quantize(ik.format, randomVec(rng, n*ne0), n, ne0)
		ik.gemm.prepare(&a)
		out := make([]float32, n*nrows)
		var cpu0 int64
		report := func(b *testing.B) {
			b.ReportMetric(float64(n*ne0*nrows)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			b.ReportMetric(float64(n*ne0*nrows)*float64(b.N)/float64(cpuTimeNs()-cpu0), "cpu-GMAC/s")
		}
		run := func(name string, k gemmKernel) {
			b.Run(typ.String()+"/rows"+name, func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				cpu0 = cpuTimeNs()
				for b.Loop() {
					for r := range n {
						ik.rows(w, rowSize, nrows, a.row(r), out[r*nrows:])
					}
				}
				report(b)
			})
			b.Run(typ.String()+"/gemm"+name, func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				cpu0 = cpuTimeNs()
				for b.Loop() {
					k(w, rowSize, nrows, &a, 0, n, out, nrows)
				}
				report(b)
			})
		}
		run("", ik.gemm.k)
		if hasGemmVNNI && hasVNNI || hasK23Wide {
			// What a CPU without AVX-512 runs.
			saved := [3]bool{hasGemmVNNI, hasVNNI, hasK23Wide}
			hasGemmVNNI, hasVNNI, hasK23Wide = false, false, false
			if g := asmGemmKernel(typ); g.k != nil {
				run("-avx2", g.k)
			}
			hasGemmVNNI, hasVNNI, hasK23Wide = saved[0], saved[1], saved[2]
		}
	}
}

// BenchmarkMatMulStream runs one thread's MatMul of Q8_0, Q4_0 and the K-quant types with
// one and four activation rows over a 1024-wide matrix that sits in L2
// (1024 rows) and one that streams from memory (65536 rows, 47-67 MB),
// reporting weight GB/s per second of process CPU time (cpu-GB/s), which
// the load of a shared machine cannot raise, only lower.
func BenchmarkMatMulStream(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 9))
	be := New(engineOpts(1))
	defer be.Close()
	const ne0 = 1024
	for _, typ := range []gguf.Type{gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K} {
		for _, ne1 := range []int{1024, 65536} {
			data := randomWeight(rng, typ, ne0, ne1)
			w, err := be.LoadWeight("w", typ, ne0, ne1, data)
			if err != nil {
				b.Fatal(err)
			}
			for _, n := range []int{1, 4} {
				b.Run(fmt.Sprintf("%s/%dx%d/rows=%d", typ, ne1, ne0, n), func(b *testing.B) {
					x := newBuffer(b, be, randomVec(rng, n*ne0))
					dst := newBuffer(b, be, make([]float32, n*ne1))
					b.SetBytes(int64(len(data)))
					cpu0 := cpuTimeNs()
					for b.Loop() {
						x.(*buffer).gen++ // quantized afresh each call, as in a forward pass
						be.MatMul(dst, w, x, n)
					}
					b.ReportMetric(float64(len(data))*float64(b.N)/float64(cpuTimeNs()-cpu0), "cpu-GB/s")
				})
			}
		}
	}
}
