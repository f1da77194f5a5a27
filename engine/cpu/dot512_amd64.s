// AVX-512 4×4 micro-kernels of MatMul's multi-row float path: four
// activation rows times four weight rows on sixteen zmm accumulators, the
// weights float32 (a widened tile) or F16/BF16 widened as they are loaded.
// Each zmm holds the sixteen lanes of the arithmetic dot_amd64.s describes,
// so every output has the bits dot4AVX2 gives it; also the AVX2 widening
// of F16 and BF16 rows to float32.

#include "textflag.h"
#include "dot512_amd64.h"

// LOADF32, LOADF16 and LOADBF16 widen the sixteen weights at m into the
// float32 lanes of z.
#define LOADF32(m, z) VMOVUPS m, z
#define LOADF16(m, z) VCVTPH2PS m, z
#define LOADBF16(m, z) \
	VPMOVZXWD m, z; \
	VPSLLD    $16, z, z

// D44STEP adds sixteen elements of the four activation rows (byte offset
// AX) times the four weight rows (byte offset DI, widened by LOAD) to the
// accumulators: Z(4r+k) for activation row r and weight row k.
#define D44STEP(LOAD) \
	LOAD((R8)(DI*1), Z16); \
	LOAD((R9)(DI*1), Z17); \
	LOAD((R10)(DI*1), Z18); \
	LOAD((R11)(DI*1), Z19); \
	VMOVUPS     (SI)(AX*1), Z20; \
	VFMADD231PS Z16, Z20, Z0; \
	VFMADD231PS Z17, Z20, Z1; \
	VFMADD231PS Z18, Z20, Z2; \
	VFMADD231PS Z19, Z20, Z3; \
	VMOVUPS     (R12)(AX*1), Z21; \
	VFMADD231PS Z16, Z21, Z4; \
	VFMADD231PS Z17, Z21, Z5; \
	VFMADD231PS Z18, Z21, Z6; \
	VFMADD231PS Z19, Z21, Z7; \
	VMOVUPS     (R13)(AX*1), Z22; \
	VFMADD231PS Z16, Z22, Z8; \
	VFMADD231PS Z17, Z22, Z9; \
	VFMADD231PS Z18, Z22, Z10; \
	VFMADD231PS Z19, Z22, Z11; \
	VMOVUPS     (BX)(AX*1), Z23; \
	VFMADD231PS Z16, Z23, Z12; \
	VFMADD231PS Z17, Z23, Z13; \
	VFMADD231PS Z18, Z23, Z14; \
	VFMADD231PS Z19, Z23, Z15

// D8STEP adds sixteen elements of x (SI, byte offset AX) times eight weight
// rows (R8-R15, byte offset DI, widened by LOAD) to Z0-Z7, prefetching
// each row 512 bytes ahead.
#define D8STEP(LOAD) \
	D8PREFETCH; \
	VMOVUPS     (SI)(AX*1), Z8; \
	LOAD((R8)(DI*1), Z16); \
	LOAD((R9)(DI*1), Z17); \
	LOAD((R10)(DI*1), Z18); \
	LOAD((R11)(DI*1), Z19); \
	LOAD((R12)(DI*1), Z20); \
	LOAD((R13)(DI*1), Z21); \
	LOAD((R14)(DI*1), Z22); \
	LOAD((R15)(DI*1), Z23); \
	VFMADD231PS Z16, Z8, Z0; \
	VFMADD231PS Z17, Z8, Z1; \
	VFMADD231PS Z18, Z8, Z2; \
	VFMADD231PS Z19, Z8, Z3; \
	VFMADD231PS Z20, Z8, Z4; \
	VFMADD231PS Z21, Z8, Z5; \
	VFMADD231PS Z22, Z8, Z6; \
	VFMADD231PS Z23, Z8, Z7

// func dot4x4AVX512(x *float32, xs int, w0, w1, w2, w3 *float32, n int, out *[16]float32)
// out[4r+k] = x_r·wk for four activation rows x_r = x + r·xs bytes and four
// weight rows: each weight load feeds four FMAs, each activation load four.
// n must be a multiple of 16.
TEXT ·dot4x4AVX512(SB), NOSPLIT, $0-64
	D44ARGS

	DLOOP(D44STEP(LOADF32), 16, 64, 64)
	D44END
	RET

// func dot4x4F16AVX512(x *float32, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32)
// dot4x4AVX512 with F16 weight rows, widened as they are loaded.
TEXT ·dot4x4F16AVX512(SB), NOSPLIT, $0-64
	D44ARGS

	DLOOP(D44STEP(LOADF16), 16, 64, 32)
	D44END
	RET

// func dot4x4BF16AVX512(x *float32, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32)
// dot4x4AVX512 with BF16 weight rows, widened as they are loaded.
TEXT ·dot4x4BF16AVX512(SB), NOSPLIT, $0-64
	D44ARGS

	DLOOP(D44STEP(LOADBF16), 16, 64, 32)
	D44END
	RET

// func f16sToF32AVX2(dst *float32, src *uint16, n int)
// dst[i] = f16(src[i]) exactly; n must be a multiple of 16.
TEXT ·f16sToF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

f16w:
	CMPQ      CX, $16
	JL        f16wdone
	VCVTPH2PS (SI), Y0
	VCVTPH2PS 16(SI), Y1
	VMOVUPS   Y0, (DI)
	VMOVUPS   Y1, 32(DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	SUBQ      $16, CX
	JMP       f16w

f16wdone:
	VZEROUPPER
	RET

// func bf16sToF32AVX2(dst *float32, src *uint16, n int)
// dst[i] = bf16(src[i]) exactly; n must be a multiple of 16.
TEXT ·bf16sToF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

bf16w:
	CMPQ      CX, $16
	JL        bf16wdone
	VPMOVZXWD (SI), Y0
	VPMOVZXWD 16(SI), Y1
	VPSLLD    $16, Y0, Y0
	VPSLLD    $16, Y1, Y1
	VMOVUPS   Y0, (DI)
	VMOVUPS   Y1, 32(DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	SUBQ      $16, CX
	JMP       bf16w

bf16wdone:
	VZEROUPPER
	RET

// func dot8F16AVX512(x *float32, w *[8]*uint16, n int, out *[8]float32)
// out[k] = Σ x[i]·f16(w[k][i]) for eight F16 rows, one zmm accumulator
// each (the lanes of dot4F16AVX2's ymm pair), eight rows in flight from
// memory; n a multiple of 16.
TEXT ·dot8F16AVX512(SB), NOSPLIT, $0-32
	D8ARGS

	DLOOP(D8STEP(LOADF16), 16, 64, 32)
	MOVQ out+24(FP), DX
	D8END
	RET

// func dot8BF16AVX512(x *float32, w *[8]*uint16, n int, out *[8]float32)
// dot8F16AVX512 for BF16 rows.
TEXT ·dot8BF16AVX512(SB), NOSPLIT, $0-32
	D8ARGS

	DLOOP(D8STEP(LOADBF16), 16, 64, 32)
	MOVQ out+24(FP), DX
	D8END
	RET
