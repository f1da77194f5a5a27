// This file holds MatMul's BF16 path for CPUs with AVX512_BF16: the input
// activations are rounded to BF16 once (as llama.cpp's BF16 matmul does)
// and each weight row is dotted with them by VDPBF16PS, which multiplies
// pairs of BF16 and accumulates in float32 (bf16dot_amd64.s), twice the
// products per instruction of a float FMA and no widening of the weights.
// Rounding the activations changes the result slightly, so an exact
// backend keeps the float32 kernels; so do CPUs without the instruction.
//
// dotBF16PairsGo is the kernels' arithmetic in Go, their test reference.

package cpu

import (
	"math"

	"github.com/helexa/helexa/gguf"
)

// bf16Block is the elements one VDPBF16PS step covers per row: rows of a
// multiple of it take the BF16 pair kernels.
const bf16Block = 32

// bf16Pairs reports whether MatMul dots BF16 weight rows of ne0 elements
// with BF16-rounded activations on a backend (exact: float32 only).
func bf16Pairs(exact bool, ne0 int) bool {
	return hasBF16DP && !exact && ne0%bf16Block == 0 && ne0 > 0
}

// bf16Act is n rows of ne0 activations rounded to BF16, cached while its
// source buffer is unchanged (q, k and v share one rounding of their
// input, as gate and up do).
type bf16Act struct {
	d []uint16
	actSource
}

// roundTask rounds rows of an activation to BF16 in parallel.
type roundTask struct {
	a *bf16Act
	x []float32
}

func (t *roundTask) run(_, lo, hi int) {
	ne0 := t.a.ne0
	roundBF16(t.a.d[lo*ne0:hi*ne0], t.x[lo*ne0:hi*ne0])
}

// roundBF16 writes dst[i] = x[i] rounded to the nearest BF16, ties to even
// (gguf.F32ToBF16: a NaN stays a NaN): sixteen at a time in assembly where
// the CPU has AVX-512, the rest in Go.
func roundBF16(dst []uint16, x []float32) {
	dst = dst[:len(x)]
	i := 0
	if n := len(x) &^ 15; hasAVX512 && n > 0 {
		roundBF16AVX512(&dst[0], &x[0], n)
		i = n
	}
	for ; i < len(x); i++ {
		dst[i] = gguf.F32ToBF16(x[i])
	}
}

// bf16Rounded returns the n rows of x rounded to BF16, from the cache when
// x has not been written since.
func (b *Backend) bf16Rounded(x *buffer, n, ne0 int) []uint16 {
	a := &b.bf16
	if a.holds(x, n, ne0) {
		return a.d
	}
	a.d, a.n, a.ne0, a.src = grow(a.d, n*ne0), n, ne0, nil
	t := &b.rt
	t.a, t.x = a, x.d[:n*ne0]
	b.pool.parallel(t, n, 4)
	t.a, t.x = nil, nil
	a.made(x)
	return a.d
}

// bf16Widen is a BF16 as VDPBF16PS reads it: subnormals are zero.
func bf16Widen(h uint16) float32 {
	if h&0x7f80 == 0 {
		h &= 0x8000
	}
	return gguf.BF16ToF32(h)
}

// flushSubnormal returns v, or a zero of its sign when v is subnormal, as
// VDPBF16PS writes its sums.
func flushSubnormal(v float32) float32 {
	if b := math.Float32bits(v); b&0x7f800000 == 0 {
		return math.Float32frombits(b & 0x80000000)
	}
	return v
}

// fma32 returns a·b + c rounded once to float32 (nearest, ties to even)
// for BF16 a and b, as a fused multiply-add: the product never overflows
// or rounds on its own. a·b is exact in float64 (8-bit significands), and
// so is its sum with c unless one term lies far below the other's float32
// rounding point, where the float64 rounding cannot reach a float32 tie:
// rounding the float64 sum to float32 rounds the exact sum (TestFMA32
// checks it against math/big).
func fma32(a, b, c float32) float32 {
	return float32(float64(a)*float64(b) + float64(c))
}

// dotBF16PairsGo returns Σ x[i]·w[i] over two BF16 rows of a multiple of
// 32 elements with the arithmetic of the assembly kernels: sixteen float32
// lanes, lane j adding the products of elements 2j+1 and then 2j of each
// block of 32 by fused multiply-adds (subnormal inputs read as zero,
// subnormal sums flushed to zero), then lane j+8 added to lane j and the
// eight sums folded as dotGo folds its partial sums.
func dotBF16PairsGo(x, w []uint16) float32 {
	w = w[:len(x)]
	var acc [16]float32
	for i := 0; i+bf16Block <= len(x); i += bf16Block {
		xb, wb := x[i:i+bf16Block:i+bf16Block], w[i:i+bf16Block:i+bf16Block]
		for j := range acc {
			acc[j] = flushSubnormal(fma32(bf16Widen(xb[2*j+1]), bf16Widen(wb[2*j+1]), acc[j]))
			acc[j] = flushSubnormal(fma32(bf16Widen(xb[2*j]), bf16Widen(wb[2*j]), acc[j]))
		}
	}
	var s [8]float32
	for j := range s {
		s[j] = acc[j] + acc[j+8]
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// bf16Dot8 writes out[k] = x·w[k] for a BF16 activation row and eight BF16
// weight rows of len(x) elements (a multiple of 32): the assembly where
// hasBF16DP, dotBF16PairsGo otherwise.
func bf16Dot8(x []uint16, w *[8][]uint16, out *[8]float32) {
	n := len(x)
	if !hasBF16DP {
		for k, row := range w {
			out[k] = dotBF16PairsGo(x, row[:n])
		}
		return
	}
	var p [8]*uint16
	for k, row := range w {
		p[k] = &row[:n][0]
	}
	dot8BF16DP(&x[0], &p, n, out)
}

// bf16Dot4x4 writes out[4r+k] = x_r·w[k] for four BF16 activation rows
// x_r = x[r*n:(r+1)*n] (n = len(x)/4, a multiple of 32) and four BF16
// weight rows, each output with the bits bf16Dot8 gives it.
func bf16Dot4x4(x []uint16, w *[4][]uint16, out *[16]float32) {
	n := len(x) / 4
	w0, w1, w2, w3 := w[0][:n], w[1][:n], w[2][:n], w[3][:n]
	if !hasBF16DP {
		for r := range 4 {
			for k, row := range w {
				out[4*r+k] = dotBF16PairsGo(x[r*n:(r+1)*n], row)
			}
		}
		return
	}
	dot4x4BF16DP(&x[0], 2*n, &w0[0], &w1[0], &w2[0], &w3[0], n, out)
}
