// This file declares the integer dot kernels of intdot_amd64.s,
// intdotk_amd64.s, intdotk23_amd64.s and intdotk23z_amd64.s and picks them
// at start: the AVX2 versions (VPMADDUBSW/VPMADDWD) everywhere AVX2 is,
// for the 32-element block types an AVX-512 VNNI version (VPDPBUSD on
// 256-bit registers) where the CPU reports AVX512_VNNI and AVX512VL, and
// for Q2_K and Q3_K a zmm version where it reports AVX512BW and
// AVX512_VNNI.

package cpu

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/helexa/helexa/gguf"
)

// hasVNNI selects the VPDPBUSD kernels; tests turn it off to check the
// AVX2 ones on the same machine.
var hasVNNI = hasAVX2 && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512VL

// hasK23Wide selects the zmm Q2_K and Q3_K kernels (intdotk23z_amd64.s),
// which give the AVX2 ones' bits; tests turn it off to compare them.
var hasK23Wide = hasAVX512 && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

//go:noescape
func dotQ8_0RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, nb int, out *float32)

//go:noescape
func dotQ8_0RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, nb int, out *float32)

//go:noescape
func dotQ4_0RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, nb int, out *float32)

//go:noescape
func dotQ4_0RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, nb int, out *float32)

//go:noescape
func dotQ4_1RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)

//go:noescape
func dotQ4_1RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)

//go:noescape
func dotQ5_0RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)

//go:noescape
func dotQ5_0RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)

//go:noescape
func dotQ5_1RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)

//go:noescape
func dotQ5_1RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)

//go:noescape
func dotQ2_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)

//go:noescape
func dotQ3_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)

//go:noescape
func dotQ2_KRowsAVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)

//go:noescape
func dotQ3_KRowsAVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)

//go:noescape
func dotQ4_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)

//go:noescape
func dotQ5_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)

//go:noescape
func dotQ6_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)

// blockRows is the signature of the 32-element block kernels.
type blockRows func(w *byte, rowSize, nrows int, xq *int8, xd *float32, nb int, out *float32)

// superRows is the signature of the kernels that take the activation's
// sums: the K-quants and the 32-element types with a minimum or offset.
type superRows func(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)

// asmRowsKernel returns the assembly kernel of typ for this CPU, nil when
// there is none (the Go reference runs then).
func asmRowsKernel(typ gguf.Type) rowsKernel {
	if !hasAVX2 {
		return nil
	}
	switch typ {
	case gguf.TypeQ8_0:
		return wrapBlock(dotQ8_0RowsAVX2, dotQ8_0RowsVNNI)
	case gguf.TypeQ4_0:
		return wrapBlock(dotQ4_0RowsAVX2, dotQ4_0RowsVNNI)
	case gguf.TypeQ4_1:
		return wrapSuper(dotQ4_1RowsAVX2, dotQ4_1RowsVNNI)
	case gguf.TypeQ5_0:
		return wrapSuper(dotQ5_0RowsAVX2, dotQ5_0RowsVNNI)
	case gguf.TypeQ5_1:
		return wrapSuper(dotQ5_1RowsAVX2, dotQ5_1RowsVNNI)
	case gguf.TypeQ2_K:
		return wrapSuper(dotQ2_KRows, nil)
	case gguf.TypeQ3_K:
		return wrapSuper(dotQ3_KRows, nil)
	case gguf.TypeQ4_K:
		return wrapSuper(dotQ4_KRowsAVX2, nil)
	case gguf.TypeQ5_K:
		return wrapSuper(dotQ5_KRowsAVX2, nil)
	case gguf.TypeQ6_K:
		return wrapSuper(dotQ6_KRowsAVX2, nil)
	}
	return nil
}

// dotQ2_KRows and dotQ3_KRows run the zmm kernel where hasK23Wide, the
// AVX2 one elsewhere: the same bits either way.
var (
	dotQ2_KRows = pickRows(dotQ2_KRowsAVX2, dotQ2_KRowsAVX512)
	dotQ3_KRows = pickRows(dotQ3_KRowsAVX2, dotQ3_KRowsAVX512)
)

// pickRows runs wide where hasK23Wide, ymm elsewhere, choosing at each
// call so tests can switch.
func pickRows(ymm, wide superRows) superRows {
	return func(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32) {
		if hasK23Wide {
			wide(w, rowSize, nrows, xq, xd, sums, nsb, out)
		} else {
			ymm(w, rowSize, nrows, xq, xd, sums, nsb, out)
		}
	}
}

// wrapBlock adapts a block kernel pair to rowsKernel, choosing by hasVNNI
// at each call so tests can switch.
func wrapBlock(avx2, vnni blockRows) rowsKernel {
	return func(w []byte, rowSize, nrows int, a actRow, out []float32) {
		if !rowsInBounds(w, rowSize, nrows, a, out) {
			return
		}
		f := avx2
		if hasVNNI && vnni != nil {
			f = vnni
		}
		f(unsafe.SliceData(w), rowSize, nrows, unsafe.SliceData(a.qs), unsafe.SliceData(a.d), len(a.d), unsafe.SliceData(out))
	}
}

// wrapSuper adapts a kernel pair taking sums to rowsKernel (vnni may be
// nil: the AVX2 version serves both).
func wrapSuper(avx2, vnni superRows) rowsKernel {
	return func(w []byte, rowSize, nrows int, a actRow, out []float32) {
		if !rowsInBounds(w, rowSize, nrows, a, out) {
			return
		}
		k := avx2
		if hasVNNI && vnni != nil {
			k = vnni
		}
		k(unsafe.SliceData(w), rowSize, nrows, unsafe.SliceData(a.qs), unsafe.SliceData(a.d), unsafe.SliceData(a.sums), len(a.d), unsafe.SliceData(out))
	}
}

// rowsInBounds reports whether a kernel call has work, and panics (like a
// Go slice index) before the assembly would read w or write out past its end.
func rowsInBounds(w []byte, rowSize, nrows int, a actRow, out []float32) bool {
	if nrows <= 0 || len(a.d) == 0 {
		return false
	}
	_ = w[nrows*rowSize-1]
	_ = out[nrows-1]
	return true
}
