// This file declares the small-batch GEMM kernels of intgemm32_amd64.s for
// the 32-element block types with a 4-bit body (Q4_0, Q4_1, Q5_0, Q5_1):
// eight weight rows times one to four activation rows, where the CPU has
// AVX-512 VNNI; Q5_0 and Q5_1 also need AVX-512 BITALG (VPSHUFBITQMB
// spreads their fifth bits).

package cpu

import (
	"golang.org/x/sys/cpu"

	"github.com/helexa/helexa/gguf"
)

// hasBITALG reports VPSHUFBITQMB, which the Q5_0 and Q5_1 GEMM kernels use.
var hasBITALG = cpu.X86.HasAVX512BITALG

//go:noescape
func gemmQ4_0x1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0x2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0x3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0x4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1x1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1x2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1x3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1x4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0x1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0x2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0x3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0x4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1x1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1x2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1x3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1x4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nb int, out *float32, ostride int)

// gemm32Kernel returns the VNNI GEMM kernel of a 32-element block type with
// a 4-bit body and its tile (eight weight rows), nil when typ is not one or
// the CPU lacks what it needs.
func gemm32Kernel(typ gguf.Type) (gemmKernel, int) {
	var ks [gemmCols]gemmSuperAsm
	switch typ {
	case gguf.TypeQ4_0:
		ks = [gemmCols]gemmSuperAsm{gemmQ4_0x1VNNI, gemmQ4_0x2VNNI, gemmQ4_0x3VNNI, gemmQ4_0x4VNNI}
	case gguf.TypeQ4_1:
		ks = [gemmCols]gemmSuperAsm{gemmQ4_1x1VNNI, gemmQ4_1x2VNNI, gemmQ4_1x3VNNI, gemmQ4_1x4VNNI}
	case gguf.TypeQ5_0:
		ks = [gemmCols]gemmSuperAsm{gemmQ5_0x1VNNI, gemmQ5_0x2VNNI, gemmQ5_0x3VNNI, gemmQ5_0x4VNNI}
	case gguf.TypeQ5_1:
		ks = [gemmCols]gemmSuperAsm{gemmQ5_1x1VNNI, gemmQ5_1x2VNNI, gemmQ5_1x3VNNI, gemmQ5_1x4VNNI}
	default:
		return nil, 0
	}
	if (typ == gguf.TypeQ5_0 || typ == gguf.TypeQ5_1) && !hasBITALG {
		return nil, 0
	}
	return superGemm(int(typ.RowSize(32)), 32, 8, ks), 8
}
