// This file holds MatMul: dst[n, ne1] = x[n, ne0] · Wᵀ with W in its GGUF
// type. Workers take ranges of output features. A type with an integer
// kernel (intdot.go) gets its input quantized once to 8 bits (actquant.go)
// and dots tiles of weight rows with every activation row, unless the
// backend is exact or the kernel has no assembly here: up to four (Q4_0,
// Q4_1, Q5_0, Q5_1: eight) activation rows per call where the type has a
// multi-row kernel (intgemm.go), one kernel call per tile and row
// otherwise. Then the block
// types with a fused kernel (fused.go) dot each weight row in its block
// format directly with each activation row. F16 and BF16 rows are dotted
// in place too: for a few batch rows (the decode step), and for every batch
// where AVX-512 is, four batch rows at a time by a 4×4 kernel that widens
// each weight as it loads it (dot512_amd64.s); BF16 rows on a CPU with
// AVX512_BF16 are dotted with the activations rounded to BF16 instead
// (bf16dot.go), unless the backend is exact. Otherwise a
// worker turns a tile of weight rows into float32 (views for F32,
// dequantized into its scratch otherwise) and dots every batch row with the
// tile, four weight rows at a time, so decoding is done once per weight row
// whatever the batch size.
//
// MatMul is batch invariant: a row's output is the same, bit for bit,
// whatever other rows share the call and wherever it sits in the batch,
// because a type takes one path for every batch size or paths with the
// same arithmetic (dot.go). Continuous batching and prompt-prefix reuse
// rely on it.

package cpu

import (
	"fmt"

	"github.com/helexa/helexa/engine"
)

// fusedMaxRows is the largest batch that dots F16 and BF16 rows in place
// without AVX-512: beyond it, widening each weight row once and reusing it
// for every batch row is cheaper than widening it once per batch row. With
// AVX-512 every batch dots them in place (runHalf), since the 4×4 kernel
// widens each weight load once for four batch rows.
const fusedMaxRows = 3

// matmulTask is one MatMul call.
type matmulTask struct {
	b      *Backend
	w      *weight
	x, dst []float32
	n      int
	kern   dotKernel  // fused block kernel (exact backend), nil otherwise
	half   halfFormat // in-place 16-bit float kernel, halfNone otherwise
	xb     []uint16   // x rounded to BF16 for the BF16 pair kernels, or nil
	ik     *intKernel // integer kernel, nil for the float paths
	act    *actQuant  // x quantized for ik
}

func (t *matmulTask) run(wid, lo, hi int) {
	ne0, ne1 := t.w.ne0, t.w.ne1
	if t.ik != nil {
		t.intMatMul(lo, hi)
		return
	}
	if t.half != halfNone {
		t.runHalf(lo, hi)
		return
	}
	if t.kern != nil {
		for o := lo; o < hi; o++ {
			row := t.w.rowBytes(o)
			for r := range t.n {
				t.dst[r*ne1+o] = t.kern(row, t.x[r*ne0:(r+1)*ne0])
			}
		}
		return
	}
	// Tiles of up to maxTile weight rows are turned into float32 once, then
	// groups of batch rows are dotted with the tile four weight rows at a
	// time: the activation rows stay in L1 and the tile in L2. A last group
	// of fewer than four weight rows repeats its last row, so every output
	// comes from the same kernels (dot.go: MatMul is batch invariant).
	tile := tileRows(ne0)
	tmp := t.b.scratch[wid]
	var wr [maxTile][]float32
	for o0 := lo; o0 < hi; o0 += tile {
		nw := min(tile, hi-o0)
		for k := range nw {
			wr[k] = t.w.row(o0+k, tmp[k*ne0:])
		}
		for k := nw; k%4 != 0; k++ {
			wr[k] = wr[nw-1]
		}
		r := 0
		for ; hasAVX512 && r+4 <= t.n; r += 4 {
			x := t.x[r*ne0 : (r+4)*ne0]
			for k := 0; k < nw; k += 4 {
				var out [16]float32
				dot4x4(x, wr[k], wr[k+1], wr[k+2], wr[k+3], &out)
				m := min(4, nw-k)
				for i := range 4 {
					o := (r+i)*ne1 + o0 + k
					copy(t.dst[o:o+m], out[4*i:4*i+m])
				}
			}
		}
		for ; r+2 <= t.n; r += 2 {
			x0, x1 := t.x[r*ne0:(r+1)*ne0], t.x[(r+1)*ne0:(r+2)*ne0]
			for k := 0; k < nw; k += 4 {
				var out [8]float32
				dot2x4(x0, x1, wr[k], wr[k+1], wr[k+2], wr[k+3], &out)
				m := min(4, nw-k)
				o := r*ne1 + o0 + k
				copy(t.dst[o:o+m], out[:m])
				copy(t.dst[o+ne1:o+ne1+m], out[4:4+m])
			}
		}
		for ; r < t.n; r++ {
			x := t.x[r*ne0 : (r+1)*ne0]
			for k := 0; k < nw; k += 4 {
				var out [4]float32
				dot4(x, wr[k], wr[k+1], wr[k+2], wr[k+3], out[:])
				m := min(4, nw-k)
				o := r*ne1 + o0 + k
				copy(t.dst[o:o+m], out[:m])
			}
		}
	}
}

// runHalf dots the F16 or BF16 weight rows lo..hi-1 in place with every
// batch row. Tiles of up to maxTile weight rows (32 KiB of 1024-wide F16
// rows, an L1 share) are dotted with groups of four batch rows by the 4×4
// kernel, then with the remaining rows one at a time, eight weight rows per
// call; a last group short of four or eight weight rows repeats its last
// row. A decode step (fewer than four batch rows) first takes most of the
// range as long streams (halfStreams), then tiles of eight.
func (t *matmulTask) runHalf(lo, hi int) {
	ne1 := t.w.ne1
	var w [maxTile][]uint16
	tile := maxTile
	if t.n < 4 {
		lo = t.halfStreams(lo, hi)
		tile = 8 // one-row kernels only: a group of weight rows at a time
	}
	for o0 := lo; o0 < hi; o0 += tile {
		nw := min(tile, hi-o0)
		for k := 0; k < (nw+7)&^7; k++ {
			w[k] = t.w.halfRow(o0 + min(k, nw-1))
		}
		r := 0
		for ; r+4 <= t.n; r += 4 {
			for k := 0; k < nw; k += 4 {
				var out [16]float32
				t.halfDot4x4(r, (*[4][]uint16)(w[k:k+4]), &out)
				for i := range 4 {
					o := (r+i)*ne1 + o0 + k
					if k+4 <= nw {
						*(*[4]float32)(t.dst[o : o+4]) = [4]float32(out[4*i : 4*i+4])
					} else {
						copy(t.dst[o:o0+nw+(r+i)*ne1], out[4*i:])
					}
				}
			}
		}
		for ; r < t.n; r++ {
			for k := 0; k < nw; k += 8 {
				var out [8]float32
				t.halfDot8(r, (*[8][]uint16)(w[k:k+8]), &out)
				m := min(8, nw-k)
				o := r*ne1 + o0 + k
				copy(t.dst[o:o+m], out[:m])
			}
		}
	}
}

// halfStreams dots the first 8·(hi-lo)/8 weight rows of [lo, hi) with
// the (fewer than four) batch rows by the eight-row kernels, row i of each
// eighth of the range beside row i of the others, so the weights are read
// as eight sequential streams far apart, which the hardware prefetcher
// follows better than eight neighbouring rows read side by side. Each
// output has the arithmetic of a kernel call on any eight rows, so the
// result is unchanged. It returns the first row left.
func (t *matmulTask) halfStreams(lo, hi int) int {
	ne1 := t.w.ne1
	m := (hi - lo) / 8
	if m < 2 {
		return lo
	}
	var w [8][]uint16
	var out [8]float32
	for i := range m {
		for j := range w {
			w[j] = t.w.halfRow(lo + j*m + i)
		}
		for r := range t.n {
			t.halfDot8(r, &w, &out)
			for j, v := range out {
				t.dst[r*ne1+lo+j*m+i] = v
			}
		}
	}
	return lo + 8*m
}

// halfDot8 writes out[k] = x_r·w[k] for batch row r and eight F16/BF16
// weight rows: the BF16 pair kernel on the rounded activations (t.xb)
// where there are, the float32-activation kernel otherwise. Every output
// has the bits of halfDot4x4's for the same rows.
func (t *matmulTask) halfDot8(r int, w *[8][]uint16, out *[8]float32) {
	ne0 := t.w.ne0
	if t.xb != nil {
		bf16Dot8(t.xb[r*ne0:(r+1)*ne0], w, out)
		return
	}
	t.half.dot8(t.x[r*ne0:(r+1)*ne0], w, out)
}

// halfDot4x4 writes out[4i+k] = x_(r+i)·w[k] for batch rows r..r+3 and four
// F16/BF16 weight rows, choosing the kernel as halfDot8 does.
func (t *matmulTask) halfDot4x4(r int, w *[4][]uint16, out *[16]float32) {
	ne0 := t.w.ne0
	if t.xb != nil {
		bf16Dot4x4(t.xb[r*ne0:(r+4)*ne0], w, out)
		return
	}
	t.half.dot4x4(t.x[r*ne0:(r+4)*ne0], w, out)
}

// intTile is the weight rows an integer kernel call covers for a batch of
// several rows: 32 rows of a 3072-wide Q8_0 matrix are 102 KiB, an L2 share.
const intTile = 32

// maxTile is the most weight rows MatMul decodes into a worker's scratch at
// once.
const maxTile = 16

// tileRows is the tile height for rows of ne0 elements: 16 rows while they
// fit in 256 KiB (a typical L2 share), never fewer than 4.
func tileRows(ne0 int) int { return max(4, min(maxTile, 65536/ne0)) }

// MatMul writes dst[n, ne1] = x[n, ne0] · Wᵀ.
func (b *Backend) MatMul(dst engine.Buffer, w engine.Weight, x engine.Buffer, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := &b.mm
	t.b, t.w = b, w.(*weight)
	ne0, ne1 := t.w.ne0, t.w.ne1
	if x.Len() < n*ne0 || dst.Len() < n*ne1 {
		panic(fmt.Sprintf("cpu: matmul: x %d / dst %d floats too small for %d rows of [%d, %d]", x.Len(), dst.Len(), n, ne0, ne1))
	}
	t.x, t.n = buf(x)[:n*ne0], n
	t.kern, t.half, t.ik, t.act, t.xb = nil, halfNone, nil, nil, nil
	minChunk := 4
	// Each type takes one path for every batch size, or paths with the
	// same arithmetic, so that MatMul is batch invariant.
	ik := intKernels[t.w.typ]
	switch {
	case t.w.f32 != nil:
		// F32 rows: the tile path views them in place.
	case ik != nil && ik.serves(n) && !b.exact:
		t.ik = ik
		t.act = b.quantized(ik.format, x.(*buffer), n, ne0)
		if n >= gemmMinRows {
			ik.gemm.prepare(t.act)
		}
		// Whole tiles per chunk at every batch size: where a tile starts
		// decides which of its rows the multi-row kernel takes.
		minChunk = intTile
	case halfKernel(t.w.typ) == halfBF16 && bf16Pairs(b.exact, ne0):
		// BF16 weights dotted with BF16-rounded activations (bf16dot.go).
		t.half = halfBF16
		t.xb = b.bf16Rounded(x.(*buffer), n, ne0)
	case fusedKernels[t.w.typ] != nil:
		// An exact backend, or no integer kernel in assembly here.
		t.kern = fusedKernels[t.w.typ]
	case n <= fusedMaxRows || hasAVX512 && rowsAsm(ne0):
		// F16 and BF16 in place: the decode step, and every batch where
		// the 4×4 kernel widens the weights as it loads them.
		t.half = halfKernel(t.w.typ)
	}
	if t.kern == nil && t.half == halfNone && t.ik == nil {
		minChunk = tileRows(ne0) // whole tiles per chunk
	}
	// dst is taken last: when it is x itself, the quantized copy above
	// belongs to the old contents and must not be reused afterwards.
	t.dst = wbuf(dst)[:n*ne1]
	b.pool.parallel(t, ne1, minChunk)
	t.w, t.x, t.dst, t.kern, t.half, t.ik, t.act, t.xb = nil, nil, nil, nil, halfNone, nil, nil, nil
}

// quantized returns the n rows of x in format f, from the cache when x has
// not been written since it was quantized with the same shape.
func (b *Backend) quantized(f actFormat, x *buffer, n, ne0 int) *actQuant {
	a := &b.act[f]
	if a.holds(x, n, ne0) {
		return a
	}
	a.reset(f, n, ne0)
	t := &b.aq
	t.a, t.x = a, x.d[:n*ne0]
	b.pool.parallel(t, n, 4)
	t.a, t.x = nil, nil
	a.made(x)
	return a
}

// quantTask quantizes rows of an activation in parallel.
type quantTask struct {
	a *actQuant
	x []float32
}

func (t *quantTask) run(_, lo, hi int) {
	ne0 := t.a.ne0
	for r := lo; r < hi; r++ {
		quantizeRow(t.a.format, t.x[r*ne0:(r+1)*ne0], t.a.row(r))
	}
}
