// This file holds MatMul: dst[n, ne1] = x[n, ne0] · Wᵀ with W in its GGUF
// type. Workers take ranges of output features. For a few batch rows (the
// decode step) a type with a fused kernel (fused.go) dots each weight row in
// its block format directly with each activation row. Otherwise a worker
// turns one weight row into float32 (a view for F32, a dequantization into
// its scratch row) and dots it with every batch row, so the decoding work is
// done once per weight row whatever the batch size.

package cpu

import (
	"fmt"

	"github.com/helexa/helexa/engine"
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
	kern   dotKernel // fused kernel, nil for the dequantize-then-dot path
}

func (t *matmulTask) run(wid, lo, hi int) {
	ne0, ne1 := t.w.ne0, t.w.ne1
	if t.kern != nil {
		for o := lo; o < hi; o++ {
			row := t.w.rowBytes(o)
			for r := range t.n {
				t.dst[r*ne1+o] = t.kern(row, t.x[r*ne0:(r+1)*ne0])
			}
		}
		return
	}
	tmp := t.b.scratch[wid]
	for o := lo; o < hi; o++ {
		row := t.w.row(o, tmp)
		for r := range t.n {
			t.dst[r*ne1+o] = dot(row, t.x[r*ne0:(r+1)*ne0])
		}
	}
}

// MatMul writes dst[n, ne1] = x[n, ne0] · Wᵀ.
func (b *Backend) MatMul(dst engine.Buffer, w engine.Weight, x engine.Buffer, n int) {
	t := &b.mm
	t.b, t.w = b, w.(*weight)
	ne0, ne1 := t.w.ne0, t.w.ne1
	if x.Len() < n*ne0 || dst.Len() < n*ne1 {
		panic(fmt.Sprintf("cpu: matmul: x %d / dst %d floats too small for %d rows of [%d, %d]", x.Len(), dst.Len(), n, ne0, ne1))
	}
	t.x, t.dst, t.n = buf(x)[:n*ne0], buf(dst)[:n*ne1], n
	t.kern = nil
	if n <= fusedMaxRows && t.w.f32 == nil {
		t.kern = fusedKernels[t.w.typ]
	}
	b.pool.parallel(t, ne1, 4)
	t.w, t.x, t.dst, t.kern = nil, nil, nil, nil
}
