// This file holds MatMul: dst[n, ne1] = x[n, ne0] · Wᵀ with W in its GGUF
// type. Workers take ranges of output features. A type with an integer
// kernel (intdot.go) gets its input quantized once to 8 bits (actquant.go)
// and dots tiles of weight rows with every activation row, unless the
// backend is exact: up to four activation rows per call where the type has
// a multi-row kernel (intgemm.go), one kernel call per tile and row
// otherwise. For a few batch rows (the decode step) a type with a fused
// float kernel (fused.go) dots each weight row in its block format directly
// with each activation row. Otherwise a worker turns a tile of weight rows
// into float32 (views for F32, dequantized into its scratch otherwise) and
// dots every batch row with the tile, four weight rows at a time, so
// decoding is done once per weight row whatever the batch size.

package cpu

import (
	"fmt"
	"unsafe"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// fusedMaxRows is the largest batch that uses a fused kernel: beyond it,
// decoding each weight row once and reusing it for every batch row is
// cheaper than decoding it once per batch row.
const fusedMaxRows = 3

// matmulTask is one MatMul call.
type matmulTask struct {
	b      *Backend
	w      *weight
	x, dst []float32
	n      int
	kern   dotKernel  // fused kernel, nil for the dequantize-then-dot path
	ik     *intKernel // integer kernel, nil for the float paths
	act    *actQuant  // x quantized for ik
}

func (t *matmulTask) run(wid, lo, hi int) {
	ne0, ne1 := t.w.ne0, t.w.ne1
	if t.ik != nil {
		t.intMatMul(lo, hi)
		return
	}
	if t.kern != nil {
		if t.w.typ == gguf.TypeF16 && hasAVX2 && ne0%16 == 0 {
			// One assembly call per range of rows and activation row.
			w := t.w.data[lo*t.w.rowSize : hi*t.w.rowSize]
			for r := range t.n {
				dotF16RowsAVX2((*uint16)(unsafe.Pointer(&w[0])), t.w.rowSize, hi-lo, &t.x[r*ne0], ne0, &t.dst[r*ne1+lo])
			}
			return
		}
		for o := lo; o < hi; o++ {
			row := t.w.rowBytes(o)
			for r := range t.n {
				t.dst[r*ne1+o] = t.kern(row, t.x[r*ne0:(r+1)*ne0])
			}
		}
		return
	}
	// Tiles of up to maxTile weight rows are turned into float32 once, then
	// pairs of batch rows are dotted with the tile four weight rows at a
	// time: the activation rows stay in L1 and the tile in L2.
	tile := tileRows(ne0)
	tmp := t.b.scratch[wid]
	var wr [maxTile][]float32
	for o0 := lo; o0 < hi; o0 += tile {
		o1 := min(o0+tile, hi)
		for o := o0; o < o1; o++ {
			wr[o-o0] = t.w.row(o, tmp[(o-o0)*ne0:])
		}
		r := 0
		for ; hasAVX512 && r+4 <= t.n && ne0%16 == 0; r += 4 {
			x := t.x[r*ne0 : (r+4)*ne0]
			o := o0
			for ; o+4 <= o1; o += 4 {
				k := o - o0
				var out [16]float32
				dot4x4(x, wr[k], wr[k+1], wr[k+2], wr[k+3], &out)
				for i := range 4 {
					copy(t.dst[(r+i)*ne1+o:(r+i)*ne1+o+4], out[4*i:4*i+4])
				}
			}
			for ; o < o1; o++ {
				for i := range 4 {
					t.dst[(r+i)*ne1+o] = dot(wr[o-o0], x[i*ne0:(i+1)*ne0])
				}
			}
		}
		for ; r+2 <= t.n; r += 2 {
			x0, x1 := t.x[r*ne0:(r+1)*ne0], t.x[(r+1)*ne0:(r+2)*ne0]
			d0, d1 := t.dst[r*ne1:(r+1)*ne1], t.dst[(r+1)*ne1:(r+2)*ne1]
			o := o0
			for ; o+4 <= o1; o += 4 {
				k := o - o0
				var out [8]float32
				dot2x4(x0, x1, wr[k], wr[k+1], wr[k+2], wr[k+3], &out)
				copy(d0[o:o+4], out[:4])
				copy(d1[o:o+4], out[4:])
			}
			for ; o < o1; o++ {
				d0[o], d1[o] = dot(wr[o-o0], x0), dot(wr[o-o0], x1)
			}
		}
		for ; r < t.n; r++ {
			x := t.x[r*ne0 : (r+1)*ne0]
			d := t.dst[r*ne1 : (r+1)*ne1]
			o := o0
			for ; o+4 <= o1; o += 4 {
				k := o - o0
				dot4(x, wr[k], wr[k+1], wr[k+2], wr[k+3], d[o:o+4])
			}
			for ; o < o1; o++ {
				d[o] = dot(wr[o-o0], x)
			}
		}
	}
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
	t.kern, t.ik, t.act = nil, nil, nil
	minChunk := 4
	if ik := intKernels[t.w.typ]; ik != nil && ik.serves(n) && !b.exact && t.w.f32 == nil {
		t.ik = ik
		t.act = b.quantized(ik.format, x.(*buffer), n, ne0)
		if n > 1 {
			minChunk = intTile
		}
	} else if n <= fusedMaxRows && t.w.f32 == nil {
		t.kern = fusedKernels[t.w.typ]
	}
	if t.kern == nil && t.ik == nil {
		minChunk = tileRows(ne0) // whole tiles per chunk
	}
	// dst is taken last: when it is x itself, the quantized copy above
	// belongs to the old contents and must not be reused afterwards.
	t.dst = wbuf(dst)[:n*ne1]
	b.pool.parallel(t, ne1, minChunk)
	t.w, t.x, t.dst, t.kern, t.ik, t.act = nil, nil, nil, nil, nil, nil
}

// quantized returns the n rows of x in format f, from the cache when x has
// not been written since it was quantized with the same shape.
func (b *Backend) quantized(f actFormat, x *buffer, n, ne0 int) *actQuant {
	a := &b.act[f]
	if a.src == x && a.gen == x.gen && a.n == n && a.ne0 == ne0 {
		return a
	}
	a.reset(f, n, ne0)
	t := &b.aq
	t.a, t.x = a, x.d[:n*ne0]
	b.pool.parallel(t, n, 4)
	t.a, t.x = nil, nil
	a.src, a.gen = x, x.gen
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
