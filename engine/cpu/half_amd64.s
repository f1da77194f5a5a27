// F16C conversion of float32 rows to IEEE half for the f16 KV cache;
// half.go's f32sToF16 falls back to gguf.F32ToF16, the reference it is
// tested against.

#include "textflag.h"

// func f32ToF16AVX2(dst *uint16, src *float32, n int)
// dst[i] = half(src[i]) rounded to nearest even; n must be a multiple of 8.
TEXT ·f32ToF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

loop:
	CMPQ      CX, $8
	JL        done
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	SUBQ      $8, CX
	JMP       loop

done:
	VZEROUPPER
	RET
