// AVX-512 4×4 micro-kernels of MatMul's multi-row float path: four
// activation rows times four weight rows on sixteen zmm accumulators, the
// weights float32 (a widened tile) or F16/BF16 widened as they are loaded.
// Each zmm holds the sixteen lanes of the arithmetic dot_amd64.s describes,
// so every output has the bits dot4AVX2 gives it; also the AVX2 widening
// of F16 and BF16 rows to float32.

#include "textflag.h"

// D44ARGS loads the arguments shared by the 4×4 kernels: x and its row
// stride (SI, R12, R13, BX: the four activation rows), the weight rows
// (R8-R11), n (CX); it clears the offsets AX (x) and DI (w) and the
// accumulators Z0-Z15.
#define D44ARGS \
	MOVQ   x+0(FP), SI; \
	MOVQ   xs+8(FP), DX; \
	MOVQ   w0+16(FP), R8; \
	MOVQ   w1+24(FP), R9; \
	MOVQ   w2+32(FP), R10; \
	MOVQ   w3+40(FP), R11; \
	MOVQ   n+48(FP), CX; \
	LEAQ   (SI)(DX*1), R12; \
	LEAQ   (R12)(DX*1), R13; \
	LEAQ   (R13)(DX*1), BX; \
	XORQ   AX, AX; \
	XORQ   DI, DI; \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15

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

// D44ROW folds the accumulators a-d of one activation row (its four
// weight rows) to their four sums and stores them at off(DX): lane j plus
// lane j+8, then ((t0+t1)+(t2+t3))+((t4+t5)+(t6+t7)) as REDUCE4 does.
#define D44ROW(za, zb, zc, zd, ya, yb, yc, yd, xa, xb, off) \
	VEXTRACTF64X4 $1, za, Y16; \
	VADDPS        Y16, ya, ya; \
	VEXTRACTF64X4 $1, zb, Y17; \
	VADDPS        Y17, yb, yb; \
	VEXTRACTF64X4 $1, zc, Y18; \
	VADDPS        Y18, yc, yc; \
	VEXTRACTF64X4 $1, zd, Y19; \
	VADDPS        Y19, yd, yd; \
	VHADDPS       yb, ya, ya; \
	VHADDPS       yd, yc, yc; \
	VHADDPS       yc, ya, ya; \
	VEXTRACTF128  $1, ya, xb; \
	VADDPS        xb, xa, xa; \
	VMOVUPS       xa, off(DX)

// D44END writes the sixteen sums to out.
#define D44END \
	MOVQ out+56(FP), DX; \
	D44ROW(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3, X0, X1, 0); \
	D44ROW(Z4, Z5, Z6, Z7, Y4, Y5, Y6, Y7, X4, X5, 16); \
	D44ROW(Z8, Z9, Z10, Z11, Y8, Y9, Y10, Y11, X8, X9, 32); \
	D44ROW(Z12, Z13, Z14, Z15, Y12, Y13, Y14, Y15, X12, X13, 48); \
	VZEROUPPER

// D8STEP adds sixteen elements of x (SI, byte offset AX) times eight weight
// rows (R8-R15, byte offset DI, widened by LOAD) to Z0-Z7, prefetching
// each row 512 bytes ahead.
#define D8STEP(LOAD) \
	PREFETCHT0  512(R8)(DI*1); \
	PREFETCHT0  512(R9)(DI*1); \
	PREFETCHT0  512(R10)(DI*1); \
	PREFETCHT0  512(R11)(DI*1); \
	PREFETCHT0  512(R12)(DI*1); \
	PREFETCHT0  512(R13)(DI*1); \
	PREFETCHT0  512(R14)(DI*1); \
	PREFETCHT0  512(R15)(DI*1); \
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

// D8ARGS loads x (SI), the eight row pointers (R8-R15) and n (CX) and
// clears the offsets AX (x) and DI (w) and the accumulators Z0-Z7.
#define D8ARGS \
	MOVQ   x+0(FP), SI; \
	MOVQ   w+8(FP), DX; \
	MOVQ   0(DX), R8; \
	MOVQ   8(DX), R9; \
	MOVQ   16(DX), R10; \
	MOVQ   24(DX), R11; \
	MOVQ   32(DX), R12; \
	MOVQ   40(DX), R13; \
	MOVQ   48(DX), R14; \
	MOVQ   56(DX), R15; \
	MOVQ   n+16(FP), CX; \
	XORQ   AX, AX; \
	XORQ   DI, DI; \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7

// D8END folds Z0-Z7 as D44ROW does (lane j + lane j+8, then the tree) and
// stores the eight sums at DX.
#define D8END \
	VEXTRACTF64X4 $1, Z0, Y16; \
	VADDPS        Y16, Y0, Y0; \
	VEXTRACTF64X4 $1, Z1, Y17; \
	VADDPS        Y17, Y1, Y1; \
	VEXTRACTF64X4 $1, Z2, Y18; \
	VADDPS        Y18, Y2, Y2; \
	VEXTRACTF64X4 $1, Z3, Y19; \
	VADDPS        Y19, Y3, Y3; \
	VEXTRACTF64X4 $1, Z4, Y20; \
	VADDPS        Y20, Y4, Y4; \
	VEXTRACTF64X4 $1, Z5, Y21; \
	VADDPS        Y21, Y5, Y5; \
	VEXTRACTF64X4 $1, Z6, Y22; \
	VADDPS        Y22, Y6, Y6; \
	VEXTRACTF64X4 $1, Z7, Y23; \
	VADDPS        Y23, Y7, Y7; \
	VHADDPS       Y1, Y0, Y0; \
	VHADDPS       Y3, Y2, Y2; \
	VHADDPS       Y2, Y0, Y0; \
	VEXTRACTF128  $1, Y0, X1; \
	VADDPS        X1, X0, X0; \
	VMOVUPS       X0, 0(DX); \
	VHADDPS       Y5, Y4, Y4; \
	VHADDPS       Y7, Y6, Y6; \
	VHADDPS       Y6, Y4, Y4; \
	VEXTRACTF128  $1, Y4, X5; \
	VADDPS        X5, X4, X4; \
	VMOVUPS       X4, 16(DX); \
	VZEROUPPER

// func dot4x4AVX512(x *float32, xs int, w0, w1, w2, w3 *float32, n int, out *[16]float32)
// out[4r+k] = x_r·wk for four activation rows x_r = x + r·xs bytes and four
// weight rows: each weight load feeds four FMAs, each activation load four.
// n must be a multiple of 16.
TEXT ·dot4x4AVX512(SB), NOSPLIT, $0-64
	D44ARGS

d44loop:
	CMPQ CX, $16
	JL   d44end
	D44STEP(LOADF32)
	ADDQ $64, AX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  d44loop

d44end:
	D44END
	RET

// func dot4x4F16AVX512(x *float32, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32)
// dot4x4AVX512 with F16 weight rows, widened as they are loaded.
TEXT ·dot4x4F16AVX512(SB), NOSPLIT, $0-64
	D44ARGS

d44f16loop:
	CMPQ CX, $16
	JL   d44f16end
	D44STEP(LOADF16)
	ADDQ $64, AX
	ADDQ $32, DI
	SUBQ $16, CX
	JMP  d44f16loop

d44f16end:
	D44END
	RET

// func dot4x4BF16AVX512(x *float32, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32)
// dot4x4AVX512 with BF16 weight rows, widened as they are loaded.
TEXT ·dot4x4BF16AVX512(SB), NOSPLIT, $0-64
	D44ARGS

d44bf16loop:
	CMPQ CX, $16
	JL   d44bf16end
	D44STEP(LOADBF16)
	ADDQ $64, AX
	ADDQ $32, DI
	SUBQ $16, CX
	JMP  d44bf16loop

d44bf16end:
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

d8f16loop:
	CMPQ CX, $16
	JL   d8f16end
	D8STEP(LOADF16)
	ADDQ $64, AX
	ADDQ $32, DI
	SUBQ $16, CX
	JMP  d8f16loop

d8f16end:
	MOVQ out+24(FP), DX
	D8END
	RET

// func dot8BF16AVX512(x *float32, w *[8]*uint16, n int, out *[8]float32)
// dot8F16AVX512 for BF16 rows.
TEXT ·dot8BF16AVX512(SB), NOSPLIT, $0-32
	D8ARGS

d8bf16loop:
	CMPQ CX, $16
	JL   d8bf16end
	D8STEP(LOADBF16)
	ADDQ $64, AX
	ADDQ $32, DI
	SUBQ $16, CX
	JMP  d8bf16loop

d8bf16end:
	MOVQ out+24(FP), DX
	D8END
	RET
