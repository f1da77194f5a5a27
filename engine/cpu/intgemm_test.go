// This file checks the small-batch GEMM kernels against the Go one-row
// references on several widths, tile counts, activation row groups,
// strides, misaligned weights and extreme scales, and on fuzzed weight
// bytes, and MatMul's integer path with them against the one-row kernels
// at every batch size.

package cpu

import (
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

// FuzzGemmKernels runs every GEMM kernel variant on weight rows made of the
// fuzz input (scale fields included, so NaN and infinite scales occur) and
// three activation rows, and checks each result against the Go reference
// where that is finite.
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
			out := make([]float32, n*tile)
			k(w, rowSize, tile, &a, 0, n, out, tile)
			for j := range n {
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
// tile, and wants the same results to the last bit: the kernels compute
// each block's terms as the one-row kernels do, only the order of the
// float sums differs, so the bound is the rounding of those sums.
func TestMatMulGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	be := New(engineOpts(2))
	defer be.Close()
	const ne0, ne1 = 512, 77
	for _, typ := range []gguf.Type{gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeQ4_K, gguf.TypeQ6_K} {
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
			for i := range wv {
				if e := math.Abs(float64(g[i] - wv[i])); e > 1e-4*(1+math.Abs(float64(wv[i]))) {
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
		a.blockMajor()
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
		if hasGemmVNNI && hasVNNI {
			// What a CPU without AVX-512 runs.
			hasGemmVNNI, hasVNNI = false, false
			if g := asmGemmKernel(typ); g.k != nil {
				run("-avx2", g.k)
			}
			hasGemmVNNI, hasVNNI = true, true
		}
	}
}
