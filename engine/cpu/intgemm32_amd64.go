// This file declares the small-batch GEMM kernels of intgemm32_amd64.s
// for the 32-element block types with a 4-bit body (Q4_0, Q4_1, Q5_0,
// Q5_1): sixteen weight rows times one to eight activation rows per call,
// where the CPU has AVX-512 VNNI; Q5_0 and Q5_1 also need AVX-512 BITALG
// (VPSHUFBITQMB spreads their fifth bits).

package cpu

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/helexa/helexa/gguf"
)

// hasBITALG reports VPSHUFBITQMB, which the Q5_0 and Q5_1 GEMM kernels use.
var hasBITALG = cpu.X86.HasAVX512BITALG

//go:noescape
func gemmQ4_0w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_0w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ4_1w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_0w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

//go:noescape
func gemmQ5_1w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

// gemmBlockMajorAsm is the signature of the kernels taking the activation
// block-major: xq, xd and sums at the call's first row of block 0, n rows
// in the activation.
type gemmBlockMajorAsm func(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)

// gemm32Cols is the most activation rows of one call of these kernels.
const gemm32Cols = 8

// gemm32Kernel returns the VNNI GEMM kernel of a 32-element block type with
// a 4-bit body, nil when typ is not one or the CPU lacks what it needs. It
// takes the activation block-major (actQuant.blockMajor), sixteen weight
// rows per tile and up to gemm32Cols activation rows per call.
func gemm32Kernel(typ gguf.Type) gemmSpec {
	var ks [gemm32Cols]gemmBlockMajorAsm
	switch typ {
	case gguf.TypeQ4_0:
		ks = [gemm32Cols]gemmBlockMajorAsm{gemmQ4_0w1VNNI, gemmQ4_0w2VNNI, gemmQ4_0w3VNNI, gemmQ4_0w4VNNI, gemmQ4_0w5VNNI, gemmQ4_0w6VNNI, gemmQ4_0w7VNNI, gemmQ4_0w8VNNI}
	case gguf.TypeQ4_1:
		ks = [gemm32Cols]gemmBlockMajorAsm{gemmQ4_1w1VNNI, gemmQ4_1w2VNNI, gemmQ4_1w3VNNI, gemmQ4_1w4VNNI, gemmQ4_1w5VNNI, gemmQ4_1w6VNNI, gemmQ4_1w7VNNI, gemmQ4_1w8VNNI}
	case gguf.TypeQ5_0:
		ks = [gemm32Cols]gemmBlockMajorAsm{gemmQ5_0w1VNNI, gemmQ5_0w2VNNI, gemmQ5_0w3VNNI, gemmQ5_0w4VNNI, gemmQ5_0w5VNNI, gemmQ5_0w6VNNI, gemmQ5_0w7VNNI, gemmQ5_0w8VNNI}
	case gguf.TypeQ5_1:
		ks = [gemm32Cols]gemmBlockMajorAsm{gemmQ5_1w1VNNI, gemmQ5_1w2VNNI, gemmQ5_1w3VNNI, gemmQ5_1w4VNNI, gemmQ5_1w5VNNI, gemmQ5_1w6VNNI, gemmQ5_1w7VNNI, gemmQ5_1w8VNNI}
	default:
		return gemmSpec{}
	}
	if (typ == gguf.TypeQ5_0 || typ == gguf.TypeQ5_1) && !hasBITALG {
		return gemmSpec{}
	}
	blockBytes := int(typ.RowSize(32))
	k := func(w []byte, rowSize, nrows int, a *actQuant, r0, c int, out []float32, ostride int) {
		if nrows <= 0 || c <= 0 {
			return
		}
		nb := a.ne0 / 32
		if nrows%16 != 0 || c > gemm32Cols || r0+c > a.n || nb == 0 || nb*blockBytes > rowSize || ostride < nrows || a.format != actQ8 {
			panic(fmt.Sprintf("cpu: gemm: %d weight rows of %d bytes, activation rows %d..%d of %d, out stride %d", nrows, rowSize, r0, r0+c, a.n, ostride))
		}
		_ = w[nrows*rowSize-1]
		_ = out[(c-1)*ostride+nrows-1]
		if !a.bmOK {
			panic("cpu: gemm: the activation has no block-major copy (gemmSpec.prepare)")
		}
		_ = a.bq[nb*a.n*32-1]
		_ = a.bd[nb*a.n-1]
		_ = a.bsums[nb*a.n-1]
		ks[c-1](unsafe.SliceData(w), rowSize, nrows, &a.bq[r0*32], &a.bd[r0], &a.bsums[r0], a.n, nb, unsafe.SliceData(out), ostride)
	}
	return gemmSpec{k: k, tile: 16, cols: gemm32Cols, blockMajor: true}
}
