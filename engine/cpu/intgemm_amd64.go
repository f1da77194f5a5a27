// This file declares the small-batch GEMM kernels of intgemm_amd64.s and
// picks them at start: where the CPU has AVX-512 VNNI (with BW and VL).

package cpu

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/helexa/helexa/gguf"
)

// hasGemmVNNI selects the zmm VPDPBUSD GEMM kernels.
var hasGemmVNNI = hasAVX512 && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL

// gemmAsm is the signature of the Q8_0-style GEMM kernels: nrows weight
// rows from w, activation quants and scales from xq and xd with xstride
// bytes (and xstride/32 scales) between rows, nb blocks per row.
type gemmAsm func(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ8_0x4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)

// asmGemmKernel returns the GEMM kernel of typ for this CPU, nil when there
// is none (MatMul then calls the one-row kernel per activation row).
func asmGemmKernel(typ gguf.Type) gemmKernel {
	if !hasGemmVNNI {
		return nil
	}
	switch typ {
	case gguf.TypeQ8_0:
		return wrapGemm(34, [gemmCols]gemmAsm{gemmQ8_0x1VNNI, gemmQ8_0x2VNNI, gemmQ8_0x3VNNI, gemmQ8_0x4VNNI})
	}
	return nil
}

// wrapGemm adapts the kernels for 1..gemmCols activation rows of a
// 32-element block type of blockBytes bytes to gemmKernel, checking every
// bound the assembly relies on first.
func wrapGemm(blockBytes int, k [gemmCols]gemmAsm) gemmKernel {
	return func(w []byte, rowSize, nrows int, a *actQuant, r0, c int, out []float32, ostride int) {
		if nrows <= 0 || c <= 0 {
			return
		}
		nb := a.ne0 / 32
		if nrows%gemmTile != 0 || c > gemmCols || nb == 0 || nb*blockBytes > rowSize || ostride < nrows {
			panic(fmt.Sprintf("cpu: gemm: %d weight rows of %d bytes, %d activation rows of %d, out stride %d", nrows, rowSize, c, a.ne0, ostride))
		}
		_ = w[nrows*rowSize-1]
		_ = out[(c-1)*ostride+nrows-1]
		_ = a.qs[(r0+c)*a.ne0-1]
		_ = a.d[(r0+c)*nb-1]
		k[c-1](unsafe.SliceData(w), rowSize, nrows, &a.qs[r0*a.ne0], &a.d[r0*nb], a.ne0, nb, unsafe.SliceData(out), ostride)
	}
}
