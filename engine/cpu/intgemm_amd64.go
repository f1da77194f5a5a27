// This file declares the small-batch GEMM kernels of intgemm_amd64.s,
// intgemmk_amd64.s, intdotk23_amd64.s and intdotk23z_amd64.s and picks
// them at start: Q8_0, Q4_K, Q5_K and Q6_K (and the types of
// intgemm32_amd64.go) where the CPU has AVX-512 VNNI (with BW and VL),
// Q8_0 alone with AVX2; Q2_K and Q3_K with AVX2
// everywhere and zmm where AVX-512BW and VNNI are (one weight row per
// tile, two to four activation rows with the one-row kernel's arithmetic,
// one row through the one-row kernel itself).

package cpu

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/helexa/helexa/gguf"
)

// hasGemmVNNI selects the zmm VPDPBUSD GEMM kernels; without it Q8_0 has
// an AVX2 one. Tests turn it off to check the AVX2 kernel here too.
var hasGemmVNNI = hasAVX512 && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL

// gemmAsm is the signature of the Q8_0-style GEMM kernels: nrows weight
// rows from w, activation quants and scales from xq and xd with xstride
// bytes (and xstride/32 scales) between rows, nb blocks per row.
type gemmAsm func(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

// gemmSuperAsm is the signature of the GEMM kernels that take the
// activation's sums (q8K: nsb super-blocks per row, 16 sums each).
type gemmSuperAsm func(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ4_Kx1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ4_Kx2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ4_Kx3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ4_Kx4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ5_Kx1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ5_Kx2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ5_Kx3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ5_Kx4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ6_Kx1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ6_Kx2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ6_Kx3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ6_Kx4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ2_Kx2AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ2_Kx3AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ2_Kx4AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ3_Kx2AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ3_Kx3AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ3_Kx4AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ2_Kx2AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ2_Kx3AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ2_Kx4AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ3_Kx2AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ3_Kx3AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ3_Kx4AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x1AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x2AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x3AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

// asmGemmKernel returns the GEMM kernel of typ for this CPU, a zero spec
// when there is none (MatMul then calls the one-row kernel per activation
// row).
func asmGemmKernel(typ gguf.Type) gemmSpec {
	if !hasAVX2 {
		return gemmSpec{}
	}
	switch typ {
	case gguf.TypeQ2_K:
		return gemmSpec4(wrapGemm(84, 256, 1, superGemm([gemmCols]gemmSuperAsm{oneRowGemm(dotQ2_KRows),
			pickGemm(gemmQ2_Kx2AVX2, gemmQ2_Kx2AVX512), pickGemm(gemmQ2_Kx3AVX2, gemmQ2_Kx3AVX512), pickGemm(gemmQ2_Kx4AVX2, gemmQ2_Kx4AVX512)})), 1)
	case gguf.TypeQ3_K:
		return gemmSpec4(wrapGemm(110, 256, 1, superGemm([gemmCols]gemmSuperAsm{oneRowGemm(dotQ3_KRows),
			pickGemm(gemmQ3_Kx2AVX2, gemmQ3_Kx2AVX512), pickGemm(gemmQ3_Kx3AVX2, gemmQ3_Kx3AVX512), pickGemm(gemmQ3_Kx4AVX2, gemmQ3_Kx4AVX512)})), 1)
	}
	if !hasGemmVNNI {
		if typ != gguf.TypeQ8_0 {
			return gemmSpec{}
		}
		// Three activation rows at most: four go as two and two.
		return gemmSpec4(wrapGemm(34, 32, 2, func(c int, w *byte, rowSize, nrows int, xq *int8, xd *float32, _ *int16, xstride, nb int, out *float32, ostride int) {
			if c == 4 {
				gemmQ8_0x2AVX2(w, rowSize, nrows, xq, xd, xstride, nb, out, ostride)
				xq, xd, out = (*int8)(unsafe.Add(unsafe.Pointer(xq), 2*xstride)), (*float32)(unsafe.Add(unsafe.Pointer(xd), 2*4*nb)), (*float32)(unsafe.Add(unsafe.Pointer(out), 2*4*ostride))
				c = 2
			}
			[3]gemmAsm{gemmQ8_0x1AVX2, gemmQ8_0x2AVX2, gemmQ8_0x3AVX2}[c-1](w, rowSize, nrows, xq, xd, xstride, nb, out, ostride)
		}), 2)
	}
	switch typ {
	case gguf.TypeQ8_0:
		return gemmSpec4(wrapGemm(34, 32, 8, func(c int, w *byte, rowSize, nrows int, xq *int8, xd *float32, _ *int16, xstride, nb int, out *float32, ostride int) {
			[gemmCols]gemmAsm{gemmQ8_0x1VNNI, gemmQ8_0x2VNNI, gemmQ8_0x3VNNI, gemmQ8_0x4VNNI}[c-1](w, rowSize, nrows, xq, xd, xstride, nb, out, ostride)
		}), 8)
	case gguf.TypeQ4_K:
		return gemmSpec4(wrapGemm(144, 256, 2, superGemm([gemmCols]gemmSuperAsm{gemmQ4_Kx1VNNI, gemmQ4_Kx2VNNI, gemmQ4_Kx3VNNI, gemmQ4_Kx4VNNI})), 2)
	case gguf.TypeQ5_K:
		return gemmSpec4(wrapGemm(176, 256, 2, superGemm([gemmCols]gemmSuperAsm{gemmQ5_Kx1VNNI, gemmQ5_Kx2VNNI, gemmQ5_Kx3VNNI, gemmQ5_Kx4VNNI})), 2)
	case gguf.TypeQ6_K:
		return gemmSpec4(wrapGemm(210, 256, 2, superGemm([gemmCols]gemmSuperAsm{gemmQ6_Kx1VNNI, gemmQ6_Kx2VNNI, gemmQ6_Kx3VNNI, gemmQ6_Kx4VNNI})), 2)
	}
	return gemm32Kernel(typ)
}

// gemmSpec4 is the spec of a kernel taking row-major activations, up to
// gemmCols rows per call.
func gemmSpec4(k gemmKernel, tile int) gemmSpec {
	return gemmSpec{k: k, tile: tile, cols: gemmCols}
}

// superGemm calls the kernel of ks for c activation rows.
func superGemm(ks [gemmCols]gemmSuperAsm) func(c int, w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int) {
	return func(c int, w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int) {
		ks[c-1](w, rowSize, nrows, xq, xd, sums, xstride, nsb, out, ostride)
	}
}

// oneRowGemm runs a one-row kernel as the GEMM kernel of one activation
// row, where the multi-row kernels give each row the one-row arithmetic
// (Q2_K, Q3_K): for decode it is the faster of the two.
func oneRowGemm(k superRows) gemmSuperAsm {
	return func(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, _, nsb int, out *float32, _ int) {
		k(w, rowSize, nrows, xq, xd, sums, nsb, out)
	}
}

// pickGemm is pickRows (intdot_amd64.go) for the multi-row kernels.
func pickGemm(ymm, wide gemmSuperAsm) gemmSuperAsm {
	return func(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int) {
		if hasK23Wide {
			wide(w, rowSize, nrows, xq, xd, sums, xstride, nsb, out, ostride)
		} else {
			ymm(w, rowSize, nrows, xq, xd, sums, xstride, nsb, out, ostride)
		}
	}
}

// wrapGemm adapts the kernels for 1..gemmCols activation rows of a block
// type (blockBytes bytes per block of bs elements, tiles of tile weight
// rows) to gemmKernel, checking every bound the assembly relies on first.
func wrapGemm(blockBytes, bs, tile int, k func(c int, w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)) gemmKernel {
	return func(w []byte, rowSize, nrows int, a *actQuant, r0, c int, out []float32, ostride int) {
		if nrows <= 0 || c <= 0 {
			return
		}
		nb := a.ne0 / bs
		if nrows%tile != 0 || c > gemmCols || nb == 0 || nb*blockBytes > rowSize || ostride < nrows || bs != a.format.blockSize() {
			panic(fmt.Sprintf("cpu: gemm: %d weight rows of %d bytes, %d activation rows of %d, out stride %d", nrows, rowSize, c, a.ne0, ostride))
		}
		_ = w[nrows*rowSize-1]
		_ = out[(c-1)*ostride+nrows-1]
		_ = a.qs[(r0+c)*a.ne0-1]
		_ = a.d[(r0+c)*nb-1]
		ns := a.ne0 / a.format.sumGroup()
		_ = a.sums[(r0+c)*ns-1]
		k(c, unsafe.SliceData(w), rowSize, nrows, &a.qs[r0*a.ne0], &a.d[r0*nb], &a.sums[r0*ns], a.ne0, nb, unsafe.SliceData(out), ostride)
	}
}
