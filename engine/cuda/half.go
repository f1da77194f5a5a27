// This file converts the 16-bit float formats of norm-weight vectors to
// float32 on the host (IEEE 754 binary16; bfloat16 is the top half of a
// float32).
package cuda

import "math"

// halfToFloat converts an IEEE binary16 value, subnormals and specials
// included, exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal: rebias 15 -> 127
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: mant * 2^-24.
	f := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}

// bf16ToFloat converts a bfloat16 value.
func bf16ToFloat(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
