// This file holds the small-batch integer GEMM: a tile of weight rows times
// several quantized activation rows per kernel call, so a batched decode
// step (one activation row per running sequence) loads and unpacks each
// weight block once for up to four (eight for the 32-element 4-bit types)
// rows instead of once per row. The assembly (intgemm_amd64.s,
// intgemmk_amd64.s, intgemm32_amd64.s; Q2_K and Q3_K in intdotk23_amd64.s
// and intdotk23z_amd64.s) computes what the one-row
// kernels of intdot.go compute, block by block, and the tests hold it to
// their Go references (Q2_K's and Q3_K's to their one-row kernels' bits).

package cpu

// gemmKernel writes out[j*ostride+i] = row i of w · activation row r0+j of
// a, for i < nrows (a multiple of the kernel's tile) and j < c (at most
// its cols).
type gemmKernel func(w []byte, rowSize, nrows int, a *actQuant, r0, c int, out []float32, ostride int)

// gemmCols is the most activation rows of one gemm call of the kernels
// that take the activation row-major.
const gemmCols = 4

// gemmSpec is a type's GEMM kernel: k takes nrows weight rows in multiples
// of tile and up to cols activation rows per call, block-major ones
// (actQuant.blockMajor) where blockMajor is set.
type gemmSpec struct {
	k          gemmKernel
	tile, cols int
	blockMajor bool
}

// prepare readies a, quantized for the kernel, before workers share it:
// the block-major copy where the kernel reads one.
func (g gemmSpec) prepare(a *actQuant) {
	if g.blockMajor {
		a.blockMajor()
	}
}

// gemmMinRows is the smallest batch MatMul runs through a gemm kernel.
var gemmMinRows = 1

// intMatMul is MatMul's integer path over output features [lo, hi): tiles
// of intTile weight rows stay in L1/L2 while every activation row passes
// over them, several rows per gemm call where the kernel has one, one row
// per call otherwise and for the rows left over after whole gemm tiles.
// When one gemm call takes every activation row (the decode step), no
// tile is read twice, so the whole range goes in one call and the kernel
// streams its weights without restarting every intTile rows. lo is a
// multiple of intTile, so either way the same rows are left to the
// one-row kernel.
func (t *matmulTask) intMatMul(lo, hi int) {
	ne1, rs := t.w.ne1, t.w.rowSize
	gemm, cols := t.ik.gemm.k, t.ik.gemm.cols
	if t.n < gemmMinRows {
		gemm = nil
	}
	step := intTile
	if gemm != nil && t.n <= cols {
		step = hi - lo
	}
	for o0 := lo; o0 < hi; o0 += step {
		o1 := min(o0+step, hi)
		w := t.w.data[o0*rs : o1*rs]
		m := 0
		if gemm != nil {
			m = (o1 - o0) / t.ik.gemm.tile * t.ik.gemm.tile
			for r := 0; r < t.n && m > 0; r += cols {
				gemm(w, rs, m, t.act, r, min(cols, t.n-r), t.dst[r*ne1+o0:], ne1)
			}
		}
		if m == o1-o0 {
			continue
		}
		for r := range t.n {
			t.ik.rows(w[m*rs:], rs, o1-o0-m, t.act.row(r), t.dst[r*ne1+o0+m:r*ne1+o1])
		}
	}
}
