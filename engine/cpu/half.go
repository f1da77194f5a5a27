// This file holds the lookup table the Go loops use to widen IEEE half
// precision (F16 weights, the f16 KV cache, the block scales of the quant
// formats) to float32. The conversions themselves are gguf's (F16ToF32,
// F32ToF16, BF16ToF32); the table is gguf.F16ToF32 evaluated once for each
// of the 65536 bit patterns. It is kept because it pays on the portable hot
// path: BenchmarkMatMul/F16/3072x1024 with the assembly kernels off (the
// Go loops alone, as on CPUs without AVX2/F16C) ran in 1.5-2.7 ms per call
// with the table and 3.0-3.4 ms with gguf.F16ToF32 in the loop, on the
// 2-core build machine.

package cpu

import "github.com/helexa/helexa/gguf"

// f16Table maps every F16 bit pattern to its float32 value (256 KiB).
var f16Table [1 << 16]float32

func init() {
	for i := range f16Table {
		f16Table[i] = gguf.F16ToF32(uint16(i))
	}
}

// f16ToF32 converts an IEEE half to float32 through f16Table.
func f16ToF32(h uint16) float32 { return f16Table[h] }

// f32sToF16 writes dst[i] = gguf.F32ToF16(src[i]), with F16C eight at a
// time where the CPU has it (the same rounding: to nearest even).
func f32sToF16(dst []uint16, src []float32) {
	src = src[:len(dst)]
	i := 0
	if n := len(dst) &^ 7; hasAVX2 && n > 0 {
		f32ToF16AVX2(&dst[0], &src[0], n)
		i = n
	}
	for ; i < len(dst); i++ {
		dst[i] = gguf.F32ToF16(src[i])
	}
}

// widenHalf writes dst[i] = src[i] widened from F16 or BF16 (typ) to
// float32, exactly; F16C or a shift does sixteen at a time where the CPU
// has AVX2 (the same values: widening rounds nothing).
func widenHalf(typ gguf.Type, dst []float32, src []uint16) {
	src = src[:len(dst)]
	i := 0
	if n := len(dst) &^ 15; hasAVX2 && n > 0 {
		if typ == gguf.TypeBF16 {
			bf16sToF32AVX2(&dst[0], &src[0], n)
		} else {
			f16sToF32AVX2(&dst[0], &src[0], n)
		}
		i = n
	}
	for ; i < len(dst); i++ {
		if typ == gguf.TypeBF16 {
			dst[i] = gguf.BF16ToF32(src[i])
		} else {
			dst[i] = f16Table[src[i]]
		}
	}
}
