// This file converts ggml's k-quants (256-element super-blocks: Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K, Q8_K) to float32, with the same float32 operations in the
// same order as ggml-quants.c dequantize_row_q*_K, so results are
// bit-identical. Products that ggml subtracts a minimum from are wrapped in
// float32() to keep the compiler from fusing them into an FMA.

package gguf

import (
	"encoding/binary"
	"math"
)

// Super-block layouts (ggml-common.h), QK_K = 256 elements each:
//
//	block_q2_K { uint8 scales[16]; uint8 qs[64]; half d; half dmin }            84 bytes
//	block_q3_K { uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; half d }      110 bytes
//	block_q4_K { half d; half dmin; uint8 scales[12]; uint8 qs[128] }           144 bytes
//	block_q5_K { half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128] } 176 bytes
//	block_q6_K { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d }         210 bytes
//	block_q8_K { float d; int8 qs[256]; int16 bsums[16] }                       292 bytes
const (
	q2KSize = 84
	q3KSize = 110
	q4KSize = 144
	q5KSize = 176
	q6KSize = 210
	q8KSize = 292
)

func dequantQ2_K(src []byte, dst []float32) {
	for i := range len(dst) / QK_K {
		b := src[i*q2KSize : (i+1)*q2KSize]
		y := dst[i*QK_K : (i+1)*QK_K]
		scales := b[0:16]
		d, dmin := f16At(b, 80), f16At(b, 82)
		for n := range 2 { // two halves of 128 elements, 32 bytes of qs each
			q := b[16+32*n : 16+32*n+32]
			for j := range 4 { // 2-bit planes
				shift := uint(2 * j)
				for h := range 2 { // 16 elements from q[0:16], then q[16:32]
					sc := scales[8*n+2*j+h]
					dl := d * float32(sc&0xf)
					ml := dmin * float32(sc>>4)
					qq := q[16*h : 16*h+16]
					yy := y[128*n+32*j+16*h : 128*n+32*j+16*h+16]
					for l := range 16 {
						yy[l] = float32(dl*float32((qq[l]>>shift)&3)) - ml
					}
				}
			}
		}
	}
}

// unpackQ3KScales expands the twelve bytes of 6-bit Q3_K scales into sixteen
// signed scales (the kmask1/kmask2 shuffle of dequantize_row_q3_K, less the
// offset of 32).
func unpackQ3KScales(s []byte, out *[16]int8) {
	const kmask1, kmask2 = 0x03030303, 0x0f0f0f0f
	a0 := binary.LittleEndian.Uint32(s[0:])
	a1 := binary.LittleEndian.Uint32(s[4:])
	tmp := binary.LittleEndian.Uint32(s[8:])
	aux := [4]uint32{
		(a0 & kmask2) | ((tmp >> 0 & kmask1) << 4),
		(a1 & kmask2) | ((tmp >> 2 & kmask1) << 4),
		((a0 >> 4) & kmask2) | ((tmp >> 4 & kmask1) << 4),
		((a1 >> 4) & kmask2) | ((tmp >> 6 & kmask1) << 4),
	}
	for k, v := range aux {
		out[4*k+0] = int8(v) - 32
		out[4*k+1] = int8(v>>8) - 32
		out[4*k+2] = int8(v>>16) - 32
		out[4*k+3] = int8(v>>24) - 32
	}
}

func dequantQ3_K(src []byte, dst []float32) {
	var scales [16]int8
	for i := range len(dst) / QK_K {
		b := src[i*q3KSize : (i+1)*q3KSize]
		y := dst[i*QK_K : (i+1)*QK_K]
		hmask := b[0:32]
		d := f16At(b, 108)
		unpackQ3KScales(b[96:108], &scales)
		m := uint8(1)
		for n := range 2 {
			q := b[32+32*n : 32+32*n+32]
			for j := range 4 {
				shift := uint(2 * j)
				for h := range 2 {
					dl := d * float32(scales[8*n+2*j+h])
					qq := q[16*h : 16*h+16]
					hm := hmask[16*h : 16*h+16]
					yy := y[128*n+32*j+16*h : 128*n+32*j+16*h+16]
					for l := range 16 {
						v := int32((qq[l] >> shift) & 3)
						if hm[l]&m == 0 {
							v -= 4
						}
						yy[l] = dl * float32(v)
					}
				}
				m <<= 1
			}
		}
	}
}

// scaleMinK4 returns the 6-bit scale and minimum of sub-block j (0..7) from
// the twelve packed bytes of a Q4_K or Q5_K super-block (get_scale_min_k4).
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

func dequantQ4_K(src []byte, dst []float32) {
	for i := range len(dst) / QK_K {
		b := src[i*q4KSize : (i+1)*q4KSize]
		y := dst[i*QK_K : (i+1)*QK_K]
		d, dmin := f16At(b, 0), f16At(b, 2)
		scales := b[4:16]
		for n := range 4 { // 64 elements per step: low nibbles, then high
			q := b[16+32*n : 16+32*n+32]
			sc, mn := scaleMinK4(2*n, scales)
			d1, m1 := d*float32(sc), dmin*float32(mn)
			sc, mn = scaleMinK4(2*n+1, scales)
			d2, m2 := d*float32(sc), dmin*float32(mn)
			lo, hi := y[64*n:64*n+32], y[64*n+32:64*n+64]
			for l := range 32 {
				lo[l] = float32(d1*float32(q[l]&0xf)) - m1
				hi[l] = float32(d2*float32(q[l]>>4)) - m2
			}
		}
	}
}

func dequantQ5_K(src []byte, dst []float32) {
	for i := range len(dst) / QK_K {
		b := src[i*q5KSize : (i+1)*q5KSize]
		y := dst[i*QK_K : (i+1)*QK_K]
		d, dmin := f16At(b, 0), f16At(b, 2)
		scales := b[4:16]
		qh := b[16:48]
		for n := range 4 {
			q := b[48+32*n : 48+32*n+32]
			sc, mn := scaleMinK4(2*n, scales)
			d1, m1 := d*float32(sc), dmin*float32(mn)
			sc, mn = scaleMinK4(2*n+1, scales)
			d2, m2 := d*float32(sc), dmin*float32(mn)
			s1, s2 := uint(2*n), uint(2*n+1)
			lo, hi := y[64*n:64*n+32], y[64*n+32:64*n+64]
			for l := range 32 {
				h1 := (qh[l] >> s1 & 1) << 4
				h2 := (qh[l] >> s2 & 1) << 4
				lo[l] = float32(d1*float32(q[l]&0xf|h1)) - m1
				hi[l] = float32(d2*float32(q[l]>>4|h2)) - m2
			}
		}
	}
}

func dequantQ6_K(src []byte, dst []float32) {
	for i := range len(dst) / QK_K {
		b := src[i*q6KSize : (i+1)*q6KSize]
		y := dst[i*QK_K : (i+1)*QK_K]
		d := f16At(b, 208)
		for n := range 2 { // halves of 128 elements
			ql := b[64*n : 64*n+64]
			qh := b[128+32*n : 128+32*n+32]
			sc := b[192+8*n : 192+8*n+8]
			yy := y[128*n : 128*n+128]
			for l := range 32 {
				is := l / 16
				q1 := int32(ql[l]&0xf|(qh[l]>>0&3)<<4) - 32
				q2 := int32(ql[l+32]&0xf|(qh[l]>>2&3)<<4) - 32
				q3 := int32(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
				q4 := int32(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
				yy[l] = d * float32(int8(sc[is])) * float32(q1)
				yy[l+32] = d * float32(int8(sc[is+2])) * float32(q2)
				yy[l+64] = d * float32(int8(sc[is+4])) * float32(q3)
				yy[l+96] = d * float32(int8(sc[is+6])) * float32(q4)
			}
		}
	}
}

func dequantQ8_K(src []byte, dst []float32) {
	for i := range len(dst) / QK_K {
		b := src[i*q8KSize : (i+1)*q8KSize]
		y := dst[i*QK_K : (i+1)*QK_K]
		d := math.Float32frombits(binary.LittleEndian.Uint32(b))
		qs := b[4 : 4+QK_K]
		for j := range QK_K {
			y[j] = d * float32(int8(qs[j]))
		}
	}
}
