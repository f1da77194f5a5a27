// This file converts float32 to GGUF types: the float formats, ggml's
// 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) and the Q8_K
// activation format. The algorithms are ggml's reference quantizers
// (ggml-quants.c quantize_row_*_ref), which llama-quantize uses when no
// importance matrix is given; the k-quant weight formats are in quantize_k.go.

package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Quantize converts src to type typ and returns the encoded bytes. len(src)
// must be a multiple of the type's block size. Every Supported type can be
// produced.
func Quantize(typ Type, src []float32) ([]byte, error) {
	if !typ.Supported() {
		return nil, unsupportedf("gguf: quantize: type %s not supported", typ)
	}
	if bs := typ.BlockSize(); len(src)%bs != 0 {
		return nil, fmt.Errorf("gguf: quantize %s: %d elements is not a multiple of the block size %d", typ, len(src), bs)
	}
	dst := make([]byte, typ.RowSize(int64(len(src))))
	QuantizeRow(typ, src, dst)
	return dst, nil
}

// QuantizeRow converts src to type typ into dst without checking its
// arguments: len(src) must be a multiple of the block size, dst must hold
// typ.RowSize(len(src)) bytes and typ must be Supported (other types leave
// dst unchanged). Q8_0 and Q8_K, the activation formats, do not allocate.
func QuantizeRow(typ Type, src []float32, dst []byte) {
	switch typ {
	case TypeF32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case TypeF16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(v))
		}
	case TypeBF16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(v))
		}
	case TypeQ4_0:
		quantQ4_0(src, dst)
	case TypeQ4_1:
		quantQ4_1(src, dst)
	case TypeQ5_0:
		quantQ5_0(src, dst)
	case TypeQ5_1:
		quantQ5_1(src, dst)
	case TypeQ8_0:
		quantQ8_0(src, dst)
	case TypeQ2_K:
		quantQ2_K(src, dst)
	case TypeQ3_K:
		quantQ3_K(src, dst)
	case TypeQ4_K:
		quantQ4_K(src, dst)
	case TypeQ5_K:
		quantQ5_K(src, dst)
	case TypeQ6_K:
		quantQ6_K(src, dst)
	case TypeQ8_K:
		quantQ8_K(src, dst)
	}
}

func putF16(b []byte, f float32) { binary.LittleEndian.PutUint16(b, F32ToF16(f)) }

// absMax returns the element of largest magnitude (the first one on ties)
// and its magnitude.
func absMax(x []float32) (maxv, amax float32) {
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, maxv = a, v
		}
	}
	return maxv, amax
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// minMax returns the smallest and largest element.
func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// inv returns 1/d, or 0 for d == 0.
func inv(d float32) float32 {
	if d == 0 {
		return 0
	}
	return 1 / d
}

// quantQ4_0 maps each block onto -8..7 with the scale chosen so the element
// of largest magnitude lands on -8 exactly.
func quantQ4_0(src []float32, dst []byte) {
	for i := range len(src) / qk {
		x := src[i*qk : i*qk+qk]
		b := dst[i*18 : i*18+18]
		maxv, _ := absMax(x)
		d := maxv / -8
		id := inv(d)
		putF16(b, d)
		for j := range 16 {
			x0 := min(15, uint8(int8(float32(x[j]*id)+8.5)))
			x1 := min(15, uint8(int8(float32(x[j+16]*id)+8.5)))
			b[2+j] = x0 | x1<<4
		}
	}
}

// quantQ4_1 maps each block's [min, max] onto 0..15.
func quantQ4_1(src []float32, dst []byte) {
	for i := range len(src) / qk {
		x := src[i*qk : i*qk+qk]
		b := dst[i*20 : i*20+20]
		lo, hi := minMax(x)
		d := (hi - lo) / 15
		id := inv(d)
		putF16(b, d)
		putF16(b[2:], lo)
		for j := range 16 {
			x0 := min(15, uint8(int8(float32((x[j]-lo)*id)+0.5)))
			x1 := min(15, uint8(int8(float32((x[j+16]-lo)*id)+0.5)))
			b[4+j] = x0 | x1<<4
		}
	}
}

// quantQ5_0 maps each block onto -16..15, largest magnitude on -16.
func quantQ5_0(src []float32, dst []byte) {
	for i := range len(src) / qk {
		x := src[i*qk : i*qk+qk]
		b := dst[i*22 : i*22+22]
		maxv, _ := absMax(x)
		d := maxv / -16
		id := inv(d)
		putF16(b, d)
		var qh uint32
		for j := range 16 {
			x0 := min(31, uint8(int8(float32(x[j]*id)+16.5)))
			x1 := min(31, uint8(int8(float32(x[j+16]*id)+16.5)))
			b[6+j] = x0&0xf | (x1&0xf)<<4
			qh |= uint32(x0>>4) << j
			qh |= uint32(x1>>4) << (j + 16)
		}
		binary.LittleEndian.PutUint32(b[2:], qh)
	}
}

// quantQ5_1 maps each block's [min, max] onto 0..31.
func quantQ5_1(src []float32, dst []byte) {
	for i := range len(src) / qk {
		x := src[i*qk : i*qk+qk]
		b := dst[i*24 : i*24+24]
		lo, hi := minMax(x)
		d := (hi - lo) / 31
		id := inv(d)
		putF16(b, d)
		putF16(b[2:], lo)
		var qh uint32
		for j := range 16 {
			x0 := uint8(float32((x[j]-lo)*id) + 0.5)
			x1 := uint8(float32((x[j+16]-lo)*id) + 0.5)
			b[8+j] = x0&0xf | (x1&0xf)<<4
			qh |= uint32(x0>>4&1) << j
			qh |= uint32(x1>>4&1) << (j + 16)
		}
		binary.LittleEndian.PutUint32(b[4:], qh)
	}
}

// quantQ8_0 maps each block onto -127..127 (symmetric, rounding half away
// from zero like C's roundf).
func quantQ8_0(src []float32, dst []byte) {
	for i := range len(src) / qk {
		x := src[i*qk : i*qk+qk]
		b := dst[i*34 : i*34+34]
		var amax float32
		for _, v := range x {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		id := inv(d)
		putF16(b, d)
		q := b[2:34]
		for j := range qk {
			q[j] = uint8(int8(roundHalfAway(x[j] * id)))
		}
	}
}

// roundHalfAway rounds to the nearest integer, halves away from zero, like
// C's roundf, for |f| < 2^31. Adding ±0.5 in float64 is exact for any
// float32 of that size, so truncating the sum rounds correctly.
func roundHalfAway(f float32) int32 {
	v := float64(f)
	return int32(v + math.Copysign(0.5, v))
}

// nearestInt rounds to the nearest integer, ties to even, for |f| < 2^22: the
// magic-number trick of ggml-quants.c nearest_int (adding 1.5*2^23 leaves the
// rounded integer in the low mantissa bits).
func nearestInt(f float32) int32 {
	v := float32(f) + 12582912 // float32() keeps a caller's product from fusing into this add
	return int32(math.Float32bits(v)&0x7fffff) - 0x400000
}

// quantQ8_K maps each super-block onto -128..127 with a float32 scale (the
// largest-magnitude element on -127) and stores the sums of each 16 quants,
// which dot products with k-quants use.
func quantQ8_K(src []float32, dst []byte) {
	for i := range len(src) / QK_K {
		x := src[i*QK_K : (i+1)*QK_K]
		b := dst[i*q8KSize : (i+1)*q8KSize]
		maxv, amax := absMax(x)
		q := b[4 : 4+QK_K]
		if amax == 0 {
			clear(b)
			continue
		}
		iscale := -127 / maxv
		for j, v := range x {
			q[j] = uint8(int8(min(127, nearestInt(iscale*v))))
		}
		for j := range QK_K / 16 {
			var sum int16
			for _, v := range q[16*j : 16*j+16] {
				sum += int16(int8(v))
			}
			binary.LittleEndian.PutUint16(b[4+QK_K+2*j:], uint16(sum))
		}
		binary.LittleEndian.PutUint32(b, math.Float32bits(1/iscale))
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
