// This file converts between float32 and the 16-bit float formats GGUF
// stores: IEEE half precision (F16) and bfloat16 (BF16). The conversions round
// to nearest even like ggml's (ggml-impl.h ggml_compute_fp32_to_fp16 and
// ggml_compute_fp32_to_bf16).

package gguf

import "math"

// F16ToF32 returns the float32 value of the IEEE half-precision number h.
// Every half value, subnormals, infinities and NaNs included, is exact. The
// exponent and mantissa are moved into float32 position and the value is
// rebiased by multiplying with 2^112 (2^(127-15)), which also normalises
// half subnormals; only infinities and NaNs take the other branch.
func F16ToF32(h uint16) float32 {
	o := uint32(h&0x7fff) << 13
	var f float32
	if o >= 0x7c00<<13 {
		f = math.Float32frombits(o | 0x7f800000) // infinity or NaN, payload kept
	} else {
		f = math.Float32frombits(o) * 0x1p112
	}
	return math.Float32frombits(math.Float32bits(f) | uint32(h&0x8000)<<16)
}

// F32ToF16 rounds f to the nearest half-precision value (ties to even);
// values beyond the half range become infinities, NaNs stay NaNs.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13) // quiet NaN
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal or zero half: shift the mantissa (with its hidden bit)
		// right, rounding to nearest even.
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 != 0) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 != 0) {
		r++ // may carry into the exponent, up to infinity: correct rounding
	}
	return sign | uint16(r)
}

// BF16ToF32 returns the float32 value of the bfloat16 number h.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 rounds f to the nearest bfloat16 (ties to even); NaNs stay quiet
// NaNs, as ggml_compute_fp32_to_bf16 does.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 64
	}
	return uint16((b + (0x7fff + (b>>16)&1)) >> 16)
}
