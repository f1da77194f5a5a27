// This file holds activation quantization: a MatMul input turned once into
// 8-bit integers with a float scale per block, so the integer dot kernels
// (intdot.go) can multiply it with quantized weights without dequantizing
// either side, as llama.cpp's vec_dot kernels do. Two block formats exist,
// matching ggml's: q8 (32 elements per scale, block_q8_0) for the
// 32-element weight types, and q8K (256 elements per scale with a sum per
// 16 elements, block_q8_K) for the K-quants.
//
// The quantized copy of a buffer is cached on the backend and keyed by the
// buffer's write generation, so q, k and v (and gate and up) share one
// quantization of their common input.

package cpu

import "math"

// actFormat is the block format of a quantized activation.
type actFormat uint8

const (
	actNone actFormat = iota // float32 activations (exact path)
	actQ8                    // 32 int8 per float32 scale (ggml block_q8_0)
	actQ8K                   // 256 int8 per float32 scale, int16 sum per 16 (ggml block_q8_K)
)

// blockSize is the number of elements that share one scale.
func (f actFormat) blockSize() int {
	if f == actQ8K {
		return 256
	}
	return 32
}

// sumGroup is the number of elements each int16 sum of quants covers: 16
// for q8K (ggml's bsums), a block of 32 for q8 (the minimum terms of
// Q4_1/Q5_1 and the offset of Q5_0 need them).
func (f actFormat) sumGroup() int {
	if f == actQ8K {
		return 16
	}
	return 32
}

// actQuant is n rows of ne0 activations quantized in one format. Row r's
// quants are qs[r*ne0:], its scales d[r*ne0/bs:] and its sums of quants
// sums[r*ne0/sumGroup:].
type actQuant struct {
	format    actFormat
	actSource // n, ne0 and what was quantized
	qs        []int8
	d         []float32
	sums      []int16

	// bq, bd and bsums are the q8 rows block-major, when bmOK: block b of
	// row r at bq[32*(b*n+r):], its scale and sum (widened to int32) at
	// bd[b*n+r] and bsums[b*n+r] (see blockMajor).
	bq    []int8
	bd    []float32
	bsums []int32
	bmOK  bool
}

// actSource is the shape of a converted MatMul input (n rows of ne0) and
// the buffer contents it was converted from (the buffer and its write
// generation), so that a later MatMul on the same contents reuses it.
type actSource struct {
	n, ne0 int
	src    *buffer
	gen    uint64
}

// holds reports whether the conversion is of x's current contents, n rows
// of ne0.
func (s *actSource) holds(x *buffer, n, ne0 int) bool {
	return s.src == x && s.gen == x.gen && s.n == n && s.ne0 == ne0
}

// made records that the conversion now holds x's current contents.
func (s *actSource) made(x *buffer) { s.src, s.gen = x, x.gen }

// actRow is one quantized activation row, the argument of a dot kernel.
type actRow struct {
	qs   []int8
	d    []float32
	sums []int16
}

// row returns row r.
func (a *actQuant) row(r int) actRow {
	bs := a.format.blockSize()
	sg := a.format.sumGroup()
	return actRow{
		qs:   a.qs[r*a.ne0 : (r+1)*a.ne0],
		d:    a.d[r*a.ne0/bs : (r+1)*a.ne0/bs],
		sums: a.sums[r*a.ne0/sg : (r+1)*a.ne0/sg],
	}
}

// reset sizes a for n rows of ne0 elements in format f, reusing its memory.
func (a *actQuant) reset(f actFormat, n, ne0 int) {
	a.format, a.n, a.ne0 = f, n, ne0
	a.qs = grow(a.qs, n*ne0)
	a.d = grow(a.d, n*ne0/f.blockSize())
	a.sums = grow(a.sums, n*ne0/f.sumGroup())
	a.src, a.bmOK = nil, false
}

// blockMajor fills a's block-major copy of its q8 rows, once per
// quantization, for the GEMM kernels that read the rows of a call side by
// side (intgemm32_amd64.s). It writes a, so MatMul calls it (through
// gemmSpec.prepare) before handing a to its workers.
func (a *actQuant) blockMajor() {
	if a.bmOK || a.format != actQ8 {
		return
	}
	nb := a.ne0 / 32
	a.bq = grow(a.bq, a.n*a.ne0)
	a.bd = grow(a.bd, a.n*nb)
	a.bsums = grow(a.bsums, a.n*nb)
	for r := range a.n {
		for b := range nb {
			i := b*a.n + r
			copy(a.bq[32*i:32*i+32], a.qs[r*a.ne0+32*b:])
			a.bd[i] = a.d[r*nb+b]
			a.bsums[i] = int32(a.sums[r*nb+b])
		}
	}
	a.bmOK = true
}

// grow returns s resized to n elements, reallocating only when it is too
// small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// quantizeRow quantizes x into row ar of format f: each block gets the
// scale d = max|x|/127 and quants round(x/d) (0 and d = 0 for an all-zero
// block), as ggml's quantize_row_q8_0_ref. Non-finite inputs give a
// non-finite scale, which propagates into the result as it would in float.
// Where the CPU has AVX2 the assembly kernel does the blocks, bit for bit
// as quantizeRowGo, and hands the rare blocks it does not handle (a
// non-finite or subnormal-tiny maximum) back to quantizeBlockGo.
func quantizeRow(f actFormat, x []float32, ar actRow) {
	bs, sg := f.blockSize(), f.sumGroup()
	nb := len(x) / bs
	if !hasAVX2 || nb == 0 || len(ar.qs) < nb*bs || len(ar.d) < nb || len(ar.sums) < nb*bs/sg {
		quantizeRowGo(f, x, ar)
		return
	}
	for b := 0; b < nb; {
		b += quantizeBlocksAVX2(&x[b*bs], &ar.qs[b*bs], &ar.d[b], &ar.sums[b*bs/sg], nb-b, bs)
		if b < nb {
			quantizeBlockGo(f, b, x, ar)
			b++
		}
	}
}

// quantizeRowGo is the reference of quantizeRow, in Go.
func quantizeRowGo(f actFormat, x []float32, ar actRow) {
	for b := range len(x) / f.blockSize() {
		quantizeBlockGo(f, b, x, ar)
	}
}

// quantizeBlockGo quantizes block b of x into ar.
func quantizeBlockGo(f actFormat, b int, x []float32, ar actRow) {
	bs := f.blockSize()
	xb := x[b*bs : (b+1)*bs : (b+1)*bs]
	qb := ar.qs[b*bs : (b+1)*bs : (b+1)*bs]
	var amax float32
	for _, v := range xb {
		amax = max(amax, abs32(v))
	}
	d := amax / 127
	ar.d[b] = d
	if amax == 0 || amax != amax || amax > math.MaxFloat32 {
		clear(qb)
		if amax != 0 {
			ar.d[b] = float32(math.NaN())
		}
	} else {
		id := 127 / amax
		for i, v := range xb {
			qb[i] = int8(roundEven(v * id))
		}
	}
	sg := f.sumGroup()
	for g := range bs / sg {
		var s int16
		for _, q := range qb[sg*g : sg*g+sg] {
			s += int16(q)
		}
		ar.sums[b*bs/sg+g] = s
	}
}

// abs32 is |v| for float32.
func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// roundEven rounds to the nearest integer, halves to even (the rounding of
// the CPU's float-to-int conversion, which the assembly uses).
func roundEven(v float32) float32 { return float32(math.RoundToEven(float64(v))) }

// quantize fills a with the n rows of x in format f.
func (a *actQuant) quantize(f actFormat, x []float32, n, ne0 int) {
	a.reset(f, n, ne0)
	for r := range n {
		quantizeRow(f, x[r*ne0:(r+1)*ne0], a.row(r))
	}
}
