// This file holds the integer dot kernels: weight rows in their GGUF block
// format dotted with an activation row quantized to 8 bits (actquant.go),
// with integer multiply-adds inside each block and one float multiply per
// block (per super-block for the K-quants), as llama.cpp's ggml_vec_dot_*
// kernels do. A kernel handles a range of consecutive weight rows per call,
// so the assembly versions (intdot_amd64.s) are entered once per range.
//
// The Go versions here are the reference the assembly is tested against;
// where the assembly does not run, MatMul takes a float path (serves).
// Block layouts are ggml's (ggml-common.h block_q8_0, block_q4_0,
// block_q2_K, block_q3_K, block_q4_K, block_q6_K).

package cpu

import (
	"encoding/binary"

	"github.com/helexa/helexa/gguf"
)

// rowsKernel writes out[i] = row i of w · a for nrows rows of rowSize bytes.
type rowsKernel func(w []byte, rowSize, nrows int, a actRow, out []float32)

// intKernel is the integer dot product of one weight type: the activation
// format it takes, its Go reference (one row) and its assembly for this
// CPU (nil where there is none).
type intKernel struct {
	format actFormat
	ref    func(w []byte, a actRow) float32
	asm    rowsKernel
	// gemm is the multi-row assembly (intgemm.go), gemm.k nil where
	// there is none.
	gemm gemmSpec
}

// rows writes out[i] = row i of w · a for nrows rows of rowSize bytes, with
// the assembly where there is one and hasAVX2 is on (tests turn it off).
func (k *intKernel) rows(w []byte, rowSize, nrows int, a actRow, out []float32) {
	if k.asm != nil && hasAVX2 {
		k.asm(w, rowSize, nrows, a, out)
		return
	}
	for i := range nrows {
		out[i] = k.ref(w[i*rowSize:(i+1)*rowSize], a)
	}
}

// serves reports whether MatMul should use k for a batch of n rows. The
// answer is the same for every n, so that MatMul is batch invariant: a
// sequence's rows must not change when other sequences or a longer prompt
// chunk share the call. The Go references serve none: with the assembly
// off, the fused float kernels (fused.go) took 0.46-0.79x their time for
// 1, 4 and 64 rows of 1024x1024 Q8_0, Q4_0, Q4_K, Q5_K and Q6_K (one
// thread, build machine; bench/cpu-notes.md, section 9), and Q3_K's took
// ~50x the float tile path's time for 64 rows with AVX2 on; with the
// assembly (zmm where AVX-512BW and VNNI are), Q2_K's and Q3_K's
// kernels (multi-row from two rows up) took 0.02x the tile path's time for
// one row, 0.36-0.49x for 64 and 0.51-0.63x for 128 (section 14). A type
// with a multi-row kernel (intgemm.go) runs it for batches of gemmMinRows and
// more, which must give each row the bits the one-row kernel gives it.
func (k *intKernel) serves(n int) bool {
	return k.asm != nil && hasAVX2
}

// intKernels are the weight types with an integer kernel.
var intKernels = map[gguf.Type]*intKernel{
	gguf.TypeQ8_0: {format: actQ8, ref: dotQ8_0Q8},
	gguf.TypeQ4_0: {format: actQ8, ref: dotQ4_0Q8},
	gguf.TypeQ4_1: {format: actQ8, ref: dotQ4_1Q8},
	gguf.TypeQ5_0: {format: actQ8, ref: dotQ5_0Q8},
	gguf.TypeQ5_1: {format: actQ8, ref: dotQ5_1Q8},
	gguf.TypeQ2_K: {format: actQ8K, ref: dotQ2_KQ8K},
	gguf.TypeQ3_K: {format: actQ8K, ref: dotQ3_KQ8K},
	gguf.TypeQ4_K: {format: actQ8K, ref: dotQ4_KQ8K},
	gguf.TypeQ5_K: {format: actQ8K, ref: dotQ5_KQ8K},
	gguf.TypeQ6_K: {format: actQ8K, ref: dotQ6_KQ8K},
}

func init() {
	for typ, k := range intKernels {
		k.asm = asmRowsKernel(typ)
		k.gemm = asmGemmKernel(typ)
	}
}

// refRows runs a one-row reference kernel over a range of rows.
func refRows(ref func(w []byte, a actRow) float32) rowsKernel {
	return func(w []byte, rowSize, nrows int, a actRow, out []float32) {
		for i := range nrows {
			out[i] = ref(w[i*rowSize:(i+1)*rowSize], a)
		}
	}
}

// f16le reads the little-endian F16 at byte offset i of b as float32.
func f16le(b []byte, i int) float32 { return f16Table[binary.LittleEndian.Uint16(b[i:])] }

// dotQ8_0Q8: Σ_blocks d_w·d_x·Σ q_w·q_x over blocks of 32 (34 bytes: f16 d,
// 32 int8).
func dotQ8_0Q8(w []byte, a actRow) float32 {
	var sum float32
	for b, dx := range a.d {
		blk := w[b*34 : b*34+34 : b*34+34]
		xq := a.qs[b*32 : b*32+32 : b*32+32]
		var s int32
		for i, q := range blk[2:34] {
			s += int32(int8(q)) * int32(xq[i])
		}
		sum += f16le(blk, 0) * dx * float32(s)
	}
	return sum
}

// dotQ4_0Q8: blocks of 32 (18 bytes: f16 d, 16 bytes of nibbles; element l
// is the low nibble of byte l, element l+16 the high one; w = d·(q-8)).
func dotQ4_0Q8(w []byte, a actRow) float32 {
	var sum float32
	for b, dx := range a.d {
		blk := w[b*18 : b*18+18 : b*18+18]
		xq := a.qs[b*32 : b*32+32 : b*32+32]
		var s int32
		for l, q := range blk[2:18] {
			s += (int32(q&0xf)-8)*int32(xq[l]) + (int32(q>>4)-8)*int32(xq[l+16])
		}
		sum += f16le(blk, 0) * dx * float32(s)
	}
	return sum
}

// dotQ4_1Q8: blocks of 32 (20 bytes: f16 d, f16 m, 16 bytes of nibbles as
// Q4_0; w = d·q + m): Σ d·dx·Σq·qx + m·dx·Σqx.
func dotQ4_1Q8(w []byte, a actRow) float32 {
	var sum float32
	for b, dx := range a.d {
		blk := w[b*20 : b*20+20 : b*20+20]
		xq := a.qs[b*32 : b*32+32 : b*32+32]
		var s int32
		for l, q := range blk[4:20] {
			s += int32(q&0xf)*int32(xq[l]) + int32(q>>4)*int32(xq[l+16])
		}
		sum += f16le(blk, 0)*dx*float32(s) + f16le(blk, 2)*dx*float32(a.sums[b])
	}
	return sum
}

// q5High returns the fifth bit of element j of a Q5_0/Q5_1 block from its
// 32-bit qh, as 0 or 16.
func q5High(qh uint32, j int) int32 { return int32(qh>>j&1) << 4 }

// dotQ5_0Q8: blocks of 32 (22 bytes: f16 d, 32-bit qh, 16 bytes of nibbles;
// element j is nibble | bit j of qh << 4; w = d·(q-16)).
func dotQ5_0Q8(w []byte, a actRow) float32 {
	var sum float32
	for b, dx := range a.d {
		blk := w[b*22 : b*22+22 : b*22+22]
		qh := binary.LittleEndian.Uint32(blk[2:])
		xq := a.qs[b*32 : b*32+32 : b*32+32]
		var s int32
		for l, q := range blk[6:22] {
			s += (int32(q&0xf)|q5High(qh, l)-16)*int32(xq[l]) + (int32(q>>4)|q5High(qh, l+16)-16)*int32(xq[l+16])
		}
		sum += f16le(blk, 0) * dx * float32(s)
	}
	return sum
}

// dotQ5_1Q8: blocks of 32 (24 bytes: f16 d, f16 m, 32-bit qh, 16 bytes of
// nibbles; w = d·q + m).
func dotQ5_1Q8(w []byte, a actRow) float32 {
	var sum float32
	for b, dx := range a.d {
		blk := w[b*24 : b*24+24 : b*24+24]
		qh := binary.LittleEndian.Uint32(blk[4:])
		xq := a.qs[b*32 : b*32+32 : b*32+32]
		var s int32
		for l, q := range blk[8:24] {
			s += (int32(q&0xf)|q5High(qh, l))*int32(xq[l]) + (int32(q>>4)|q5High(qh, l+16))*int32(xq[l+16])
		}
		sum += f16le(blk, 0)*dx*float32(s) + f16le(blk, 2)*dx*float32(a.sums[b])
	}
	return sum
}

// dotQ2_KQ8K: super-blocks of 256 (84 bytes: 16 scale bytes, low nibble
// scale and high nibble minimum per 16 elements; 64 bytes of 2-bit quants,
// element 128n+32j+l in bits 2j of byte 32n+l; f16 d, f16 dmin; w =
// d·sc·q - dmin·m).
func dotQ2_KQ8K(w []byte, a actRow) float32 {
	var sum float32
	for sb, dx := range a.d {
		b := w[sb*84 : sb*84+84 : sb*84+84]
		xq := a.qs[sb*256 : sb*256+256 : sb*256+256]
		var sumi, summ int32
		for g := range 16 { // 16-element groups, in element order
			n, j, h := g/8, g/2%4, g%2
			q := b[16+32*n+16*h : 32+32*n+16*h : 32+32*n+16*h]
			var s int32
			for l, v := range q {
				s += int32(v>>(2*j)&3) * int32(xq[16*g+l])
			}
			sumi += int32(b[g]&0xf) * s
			summ += int32(b[g]>>4) * int32(a.sums[sb*16+g])
		}
		sum += dx * (f16le(b, 80)*float32(sumi) - f16le(b, 82)*float32(summ))
	}
	return sum
}

// q3KScales unpacks the sixteen 6-bit Q3_K scales from their twelve bytes,
// less the offset of 32 (the kmask shuffle of ggml's dequantize_row_q3_K).
func q3KScales(s []byte) (sc [16]int32) {
	const kmask1, kmask2 = 0x03030303, 0x0f0f0f0f
	a0 := binary.LittleEndian.Uint32(s[0:])
	a1 := binary.LittleEndian.Uint32(s[4:])
	tmp := binary.LittleEndian.Uint32(s[8:])
	aux := [4]uint32{
		a0&kmask2 | (tmp&kmask1)<<4,
		a1&kmask2 | (tmp>>2&kmask1)<<4,
		a0>>4&kmask2 | (tmp>>4&kmask1)<<4,
		a1>>4&kmask2 | (tmp>>6&kmask1)<<4,
	}
	for k, v := range aux {
		for i := range 4 {
			sc[4*k+i] = int32(v>>(8*i)&0xff) - 32
		}
	}
	return sc
}

// dotQ3_KQ8K: super-blocks of 256 (110 bytes: 32 bytes hmask, 64 bytes of
// 2-bit quants laid out as Q2_K's, 12 bytes of 6-bit scales, f16 d; the
// value is q - 4 where bit 4n+j of its hmask byte is clear; one scale per
// 16 elements; w = d·sc·q).
func dotQ3_KQ8K(w []byte, a actRow) float32 {
	var sum float32
	for sb, dx := range a.d {
		b := w[sb*110 : sb*110+110 : sb*110+110]
		sc := q3KScales(b[96:108])
		xq := a.qs[sb*256 : sb*256+256 : sb*256+256]
		var sumi int32
		for g := range 16 {
			n, j, h := g/8, g/2%4, g%2
			q := b[32+32*n+16*h : 48+32*n+16*h : 48+32*n+16*h]
			hm := b[16*h : 16*h+16 : 16*h+16]
			bit := byte(1) << (4*n + j)
			var s int32
			for l, v := range q {
				qv := int32(v >> (2 * j) & 3)
				if hm[l]&bit == 0 {
					qv -= 4
				}
				s += qv * int32(xq[16*g+l])
			}
			sumi += sc[g] * s
		}
		sum += dx * f16le(b, 108) * float32(sumi)
	}
	return sum
}

// unpackK4 unpacks the eight 6-bit scales and minimums of a Q4_K/Q5_K
// super-block from its 12 packed bytes (ggml get_scale_min_k4).
func unpackK4(q []byte) (sc, m [8]int32) {
	for j := range 8 {
		if j < 4 {
			sc[j], m[j] = int32(q[j]&63), int32(q[j+4]&63)
		} else {
			sc[j] = int32(q[j+4]&0xf | (q[j-4]>>6)<<4)
			m[j] = int32(q[j+4]>>4 | (q[j]>>6)<<4)
		}
	}
	return sc, m
}

// k4MinSum is the minimum term of a Q4_K or Q5_K super-block: each of the
// eight 32-element sub-blocks' minimum times its two 16-element sums bs.
func k4MinSum(m [8]int32, bs []int16) int32 {
	var summ int32
	for j := range 8 {
		summ += m[j] * (int32(bs[2*j]) + int32(bs[2*j+1]))
	}
	return summ
}

// dotQ4_KQ8K: super-blocks of 256 (144 bytes: f16 d, f16 dmin, 12 bytes of
// scales and minimums, 128 bytes of nibbles; each 64 elements use 32
// bytes, low nibbles sub-block 2n, high nibbles 2n+1; w = d·sc·q - dmin·m).
func dotQ4_KQ8K(w []byte, a actRow) float32 {
	var sum float32
	for sb, dx := range a.d {
		b := w[sb*144 : sb*144+144 : sb*144+144]
		sc, m := unpackK4(b[4:16])
		xq := a.qs[sb*256 : sb*256+256 : sb*256+256]
		var sumi int32
		for n := range 4 {
			q := b[16+32*n : 48+32*n : 48+32*n]
			var lo, hi int32
			for l, v := range q {
				lo += int32(v&0xf) * int32(xq[64*n+l])
				hi += int32(v>>4) * int32(xq[64*n+32+l])
			}
			sumi += sc[2*n]*lo + sc[2*n+1]*hi
		}
		summ := k4MinSum(m, a.sums[sb*16:sb*16+16:sb*16+16])
		sum += dx * (f16le(b, 0)*float32(sumi) - f16le(b, 2)*float32(summ))
	}
	return sum
}

// dotQ5_KQ8K: like Q4_K with 32 bytes qh after the scales (176 bytes):
// bit 2n of qh[l] extends the low nibble of qs[32n+l], bit 2n+1 the high one.
func dotQ5_KQ8K(w []byte, a actRow) float32 {
	var sum float32
	for sb, dx := range a.d {
		b := w[sb*176 : sb*176+176 : sb*176+176]
		sc, m := unpackK4(b[4:16])
		qh := b[16:48:48]
		xq := a.qs[sb*256 : sb*256+256 : sb*256+256]
		var sumi int32
		for n := range 4 {
			q := b[48+32*n : 80+32*n : 80+32*n]
			var lo, hi int32
			for l, v := range q {
				lo += int32(v&0xf|(qh[l]>>(2*n)&1)<<4) * int32(xq[64*n+l])
				hi += int32(v>>4|(qh[l]>>(2*n+1)&1)<<4) * int32(xq[64*n+32+l])
			}
			sumi += sc[2*n]*lo + sc[2*n+1]*hi
		}
		summ := k4MinSum(m, a.sums[sb*16:sb*16+16:sb*16+16])
		sum += dx * (f16le(b, 0)*float32(sumi) - f16le(b, 2)*float32(summ))
	}
	return sum
}

// dotQ6_KQ8K: super-blocks of 256 (210 bytes: 128 bytes ql, 64 bytes qh,
// 16 int8 scales, f16 d; w = d·scale·(q-32), one scale per 16 elements).
// Each half of 128 uses 64 bytes of ql, 32 of qh and 8 scales; its quarter
// k holds q = ql[l+32(k&1)] nibble (k>>1) | qh[l] bits 2k..2k+1 << 4.
func dotQ6_KQ8K(w []byte, a actRow) float32 {
	var sum float32
	for sb, dx := range a.d {
		b := w[sb*210 : sb*210+210 : sb*210+210]
		var sumi int32
		for h := range 2 {
			ql := b[64*h : 64*h+64 : 64*h+64]
			qh := b[128+32*h : 160+32*h : 160+32*h]
			xq := a.qs[sb*256+128*h : sb*256+128*h+128 : sb*256+128*h+128]
			for k := range 4 {
				for g := range 2 {
					var s int32
					for l := 16 * g; l < 16*g+16; l++ {
						q := int32(ql[l+32*(k&1)]>>(4*(k>>1))&0xf | (qh[l]>>(2*k)&3)<<4)
						s += q * int32(xq[32*k+l])
					}
					grp := 8*h + 2*k + g
					sumi += int32(int8(b[192+grp])) * (s - 32*int32(a.sums[sb*16+grp]))
				}
			}
		}
		sum += dx * f16le(b, 208) * float32(sumi)
	}
	return sum
}
