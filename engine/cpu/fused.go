// This file holds the fused dot products: a weight row in its block format
// dotted directly with a float32 activation row, block by block, without
// first writing the dequantized row to memory. They compute the same sum as
// dequantRow followed by dot (the reference they are tested against) with a
// different rounding order: each block contributes scale·Σq·x (minus
// min·Σx for the types with a minimum), as llama.cpp's vec_dot kernels
// factor it.
//
// Block layouts are ggml's (ggml-common.h block_q8_0, block_q4_0,
// block_q4_K, block_q5_K, block_q6_K).

package cpu

import (
	"encoding/binary"

	"github.com/helexa/helexa/gguf"
)

// dotKernel returns Σ_i w[i]·x[i] for one row w in its GGUF encoding.
type dotKernel func(w []byte, x []float32) float32

// fusedKernels are the block types with a fused float dot product. They
// serve wherever the type's integer kernel (intdot.go) does not run, an
// exact backend or a machine without the assembly, at every batch size:
// their rounding differs from the dequantize-then-dot path's, and MatMul
// must be batch invariant. On an exact backend with AVX2 that makes
// decoding 4-28x faster than dequantizing each row in Go and then dotting,
// and prefill (64 rows) 3-12x slower (1024x3072, one thread, build
// machine); with the assembly off, 1.4-2.3x faster for one row, and from
// as fast to 0.4x for 64 (bench/cpu-notes.md, section 9).
var fusedKernels = map[gguf.Type]dotKernel{
	gguf.TypeQ8_0: dotQ8_0,
	gguf.TypeQ4_0: dotQ4_0,
	gguf.TypeQ4_K: dotQ4_K,
	gguf.TypeQ5_K: dotQ5_K,
	gguf.TypeQ6_K: dotQ6_K,
}

// halfFormat selects the in-place kernel of F16 or BF16 weight rows.
type halfFormat uint8

const (
	halfNone halfFormat = iota // no kernel: the tile path serves
	halfF16
	halfBF16
)

// halfKernel returns the in-place kernel of F16 or BF16 weight rows,
// halfNone for the other types. Widening a 16-bit float is exact, so the
// kernels compute what dequantizing the rows and dot4 would (dot.go).
func halfKernel(typ gguf.Type) halfFormat {
	switch typ {
	case gguf.TypeF16:
		return halfF16
	case gguf.TypeBF16:
		return halfBF16
	}
	return halfNone
}

// dot4 writes out[k] = Σ x[i]·w[k][i] for four weight rows of len(x)
// elements in format f: the assembly where rowsAsm, else dotGo's
// arithmetic. The kernels are called directly, not through a func value,
// so that out can stay on the caller's stack.
func (f halfFormat) dot4(x []float32, w *[4][]uint16, out *[4]float32) {
	n := len(x)
	w0, w1, w2, w3 := w[0][:n], w[1][:n], w[2][:n], w[3][:n]
	switch {
	case !rowsAsm(n):
		for k, row := range w {
			if f == halfBF16 {
				out[k] = dotBF16Go(x, row)
			} else {
				out[k] = dotF16Go(x, row)
			}
		}
	case f == halfBF16:
		dot4BF16AVX2(&x[0], &w0[0], &w1[0], &w2[0], &w3[0], n, &out[0])
	default:
		dot4F16AVX2(&x[0], &w0[0], &w1[0], &w2[0], &w3[0], n, &out[0])
	}
}

// dot8 writes out[k] = Σ x[i]·w[k][i] for eight weight rows of len(x)
// elements in format f, each with the bits dot4 gives it. With AVX-512 the
// eight rows stream from memory at once (more loads in flight than dot4's
// four: the one-row product is bound by memory latency).
func (f halfFormat) dot8(x []float32, w *[8][]uint16, out *[8]float32) {
	n := len(x)
	if !hasAVX512 || !rowsAsm(n) {
		f.dot4(x, (*[4][]uint16)(w[:4]), (*[4]float32)(out[:4]))
		f.dot4(x, (*[4][]uint16)(w[4:]), (*[4]float32)(out[4:]))
		return
	}
	var p [8]*uint16
	for k, row := range w {
		p[k] = &row[:n][0]
	}
	if f == halfBF16 {
		dot8BF16AVX512(&x[0], &p, n, out)
	} else {
		dot8F16AVX512(&x[0], &p, n, out)
	}
}

// dot4x4 writes out[4r+k] = Σ x_r[i]·w[k][i] for four activation rows
// x_r = x[r*n:(r+1)*n] (n = len(x)/4) and four weight rows in format f:
// each output has the bits dot4 gives it. With AVX-512 the weights are
// widened as they are loaded, four activation rows sharing each load.
func (f halfFormat) dot4x4(x []float32, w *[4][]uint16, out *[16]float32) {
	n := len(x) / 4
	w0, w1, w2, w3 := w[0][:n], w[1][:n], w[2][:n], w[3][:n]
	switch {
	case !hasAVX512 || !rowsAsm(n):
		for r := range 4 {
			f.dot4(x[r*n:(r+1)*n], w, (*[4]float32)(out[4*r:4*r+4]))
		}
	case f == halfBF16:
		dot4x4BF16AVX512(&x[0], 4*n, &w0[0], &w1[0], &w2[0], &w3[0], n, out)
	default:
		dot4x4F16AVX512(&x[0], 4*n, &w0[0], &w1[0], &w2[0], &w3[0], n, out)
	}
}

// f16At reads the little-endian F16 at byte offset i of b as float32.
func f16At(b []byte, i int) float32 { return f16Table[binary.LittleEndian.Uint16(b[i:])] }

// dotQ8_0: block of 32 = f16 d, 32 int8 quants; w = d·q.
func dotQ8_0(w []byte, x []float32) float32 {
	const bs, size = 32, 34
	if nb := len(x) / bs; hasAVX2 && nb > 0 {
		w = w[:nb*size]
		return dotQ8_0AVX2(&x[0], &w[0], nb)
	}
	var sum float32
	for blk := range len(x) / bs {
		b := w[blk*size : (blk+1)*size : (blk+1)*size]
		q := b[2:34:34]
		xx := x[blk*bs : (blk+1)*bs : (blk+1)*bs]
		var s0, s1, s2, s3 float32
		for l := 0; l < 32; l += 4 {
			s0 += float32(int8(q[l])) * xx[l]
			s1 += float32(int8(q[l+1])) * xx[l+1]
			s2 += float32(int8(q[l+2])) * xx[l+2]
			s3 += float32(int8(q[l+3])) * xx[l+3]
		}
		sum += f16At(b, 0) * ((s0 + s1) + (s2 + s3))
	}
	return sum
}

// dotQ4_0: block of 32 = f16 d, 16 bytes of nibbles; element l is the low
// nibble of byte l, element l+16 the high one; w = d·(q-8).
func dotQ4_0(w []byte, x []float32) float32 {
	const bs, size = 32, 18
	if nb := len(x) / bs; hasAVX2 && nb > 0 {
		w = w[:nb*size]
		return dotQ4_0AVX2(&x[0], &w[0], nb)
	}
	var sum float32
	for blk := range len(x) / bs {
		b := w[blk*size : (blk+1)*size : (blk+1)*size]
		q := b[2:18:18]
		xx := x[blk*bs : (blk+1)*bs : (blk+1)*bs]
		var s0, s1, sx float32
		for l := range 16 {
			s0 += float32(q[l]&0xf) * xx[l]
			s1 += float32(q[l]>>4) * xx[l+16]
			sx += xx[l] + xx[l+16]
		}
		sum += f16At(b, 0) * (s0 + s1 - 8*sx)
	}
	return sum
}

// scaleMinK4 unpacks the 6-bit scale and minimum of sub-block j from the 12
// packed bytes of a Q4_K/Q5_K block (ggml get_scale_min_k4).
func scaleMinK4(j int, q []byte) (sc, m float32) {
	if j < 4 {
		return float32(q[j] & 63), float32(q[j+4] & 63)
	}
	return float32(q[j+4]&0xf | (q[j-4]>>6)<<4), float32(q[j+4]>>4 | (q[j]>>6)<<4)
}

// scaledMinsK4 returns the eight sub-block scales of a Q4_K/Q5_K block times
// d followed by its eight minimums times dmin, the layout the AVX2
// super-block kernels read.
func scaledMinsK4(d, dmin float32, q []byte) (s [16]float32) {
	for j := range 8 {
		sc, m := scaleMinK4(j, q)
		s[j], s[8+j] = d*sc, dmin*m
	}
	return s
}

// dotQ4_K: super-block of 256 = f16 d, f16 dmin, 12 bytes of 6-bit scales
// and minimums, 128 bytes of nibbles. Each 64 elements use 32 bytes: low
// nibbles are sub-block 2n, high nibbles 2n+1; w = d·sc·q - dmin·m.
func dotQ4_K(w []byte, x []float32) float32 {
	const size = 144
	var sum float32
	for blk := range len(x) / gguf.QK_K {
		b := w[blk*size : (blk+1)*size : (blk+1)*size]
		d, dmin := f16At(b, 0), f16At(b, 2)
		scales := b[4:16:16]
		xb := x[blk*gguf.QK_K : (blk+1)*gguf.QK_K : (blk+1)*gguf.QK_K]
		if hasAVX2 {
			s := scaledMinsK4(d, dmin, scales)
			sum += dotQ4_KSuperAVX2(&xb[0], &b[16], &s)
			continue
		}
		var acc, accMin float32
		for n := range 4 {
			q := b[16+32*n : 48+32*n : 48+32*n]
			lo, hi := xb[64*n:64*n+32:64*n+32], xb[64*n+32:64*n+64:64*n+64]
			var sl, sh, xl, xh float32
			for l := range 32 {
				sl += float32(q[l]&0xf) * lo[l]
				sh += float32(q[l]>>4) * hi[l]
				xl += lo[l]
				xh += hi[l]
			}
			sc1, m1 := scaleMinK4(2*n, scales)
			sc2, m2 := scaleMinK4(2*n+1, scales)
			acc += sc1*sl + sc2*sh
			accMin += m1*xl + m2*xh
		}
		sum += d*acc - dmin*accMin
	}
	return sum
}

// dotQ5_K: like Q4_K plus 32 bytes qh holding the fifth bit: bit 2n of
// qh[l] extends the low nibble, bit 2n+1 the high one.
func dotQ5_K(w []byte, x []float32) float32 {
	const size = 176
	var sum float32
	for blk := range len(x) / gguf.QK_K {
		b := w[blk*size : (blk+1)*size : (blk+1)*size]
		d, dmin := f16At(b, 0), f16At(b, 2)
		scales := b[4:16:16]
		qh := b[16:48:48]
		xb := x[blk*gguf.QK_K : (blk+1)*gguf.QK_K : (blk+1)*gguf.QK_K]
		if hasAVX2 {
			s := scaledMinsK4(d, dmin, scales)
			sum += dotQ5_KSuperAVX2(&xb[0], &b[16], &b[48], &s)
			continue
		}
		var acc, accMin float32
		for n := range 4 {
			q := b[48+32*n : 80+32*n : 80+32*n]
			lo, hi := xb[64*n:64*n+32:64*n+32], xb[64*n+32:64*n+64:64*n+64]
			s1, s2 := uint(2*n), uint(2*n+1)
			var sl, sh, xl, xh float32
			for l := range 32 {
				sl += float32(q[l]&0xf|(qh[l]>>s1&1)<<4) * lo[l]
				sh += float32(q[l]>>4|(qh[l]>>s2&1)<<4) * hi[l]
				xl += lo[l]
				xh += hi[l]
			}
			sc1, m1 := scaleMinK4(2*n, scales)
			sc2, m2 := scaleMinK4(2*n+1, scales)
			acc += sc1*sl + sc2*sh
			accMin += m1*xl + m2*xh
		}
		sum += d*acc - dmin*accMin
	}
	return sum
}

// dotQ6_K: super-block of 256 = 128 bytes ql (low 4 bits), 64 bytes qh
// (high 2 bits), 16 int8 scales, f16 d; w = d·scale·(q-32), one scale per
// 16 elements. Each half of 128 elements uses 64 bytes of ql, 32 of qh and
// 8 scales.
func dotQ6_K(w []byte, x []float32) float32 {
	const size = 210
	var sum float32
	for blk := range len(x) / gguf.QK_K {
		b := w[blk*size : (blk+1)*size : (blk+1)*size]
		d := f16At(b, 208)
		xb := x[blk*gguf.QK_K : (blk+1)*gguf.QK_K : (blk+1)*gguf.QK_K]
		if hasAVX2 {
			var s [16]float32
			for j := range 16 {
				s[j] = d * float32(int8(b[192+j]))
			}
			sum += dotQ6_KSuperAVX2(&xb[0], &b[0], &s)
			continue
		}
		var acc float32
		for h := range 2 {
			ql := b[64*h : 64*h+64 : 64*h+64]
			qh := b[128+32*h : 160+32*h : 160+32*h]
			sc := b[192+8*h : 200+8*h : 200+8*h]
			y := xb[128*h : 128*h+128 : 128*h+128]
			for g := range 2 { // l in [16g, 16g+16) shares scale index g
				var s1, s2, s3, s4 float32
				for l := 16 * g; l < 16*g+16; l++ {
					q1 := int8(ql[l]&0xf|(qh[l]&3)<<4) - 32
					q2 := int8(ql[l+32]&0xf|(qh[l]>>2&3)<<4) - 32
					q3 := int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
					q4 := int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
					s1 += float32(q1) * y[l]
					s2 += float32(q2) * y[l+32]
					s3 += float32(q3) * y[l+64]
					s4 += float32(q4) * y[l+96]
				}
				acc += float32(int8(sc[g]))*s1 + float32(int8(sc[g+2]))*s2 +
					float32(int8(sc[g+4]))*s3 + float32(int8(sc[g+6]))*s4
			}
		}
		sum += d * acc
	}
	return sum
}
