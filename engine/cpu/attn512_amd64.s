// AVX-512 versions of attn_amd64.s's run kernels. A zmm accumulator's lane
// j holds what lane j of the ymm pair (first eight, second eight of every
// sixteen) holds in the AVX2 kernels, so the arithmetic per key row and per
// output element is the same, bit for bit; they only take more rows or
// columns per instruction.

#include "textflag.h"

// ZRED folds zmm accumulator z of one key row to four lanes in x as
// dotF16AVX2 does (lanes j and j+8, then the two 128-bit halves).
#define ZRED(z, y, x, ty, tx) \
	VEXTRACTF64X4 $1, z, ty; \
	VADDPS        ty, y, y; \
	VEXTRACTF128  $1, y, tx; \
	VADDPS        tx, x, x

// func dotsF16AVX512(q *float32, k *uint16, stride, np, hd int, out *float32)
// As dotsF16AVX2, eight key rows at a time; np a multiple of 8.
TEXT ·dotsF16AVX512(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ k+8(FP), DI
	MOVQ stride+16(FP), R9
	SHLQ $1, R9          // stride in bytes
	MOVQ np+24(FP), CX
	MOVQ hd+32(FP), R13
	SHLQ $1, R13         // hd in bytes of f16
	MOVQ out+40(FP), DX

eight:
	CMPQ   CX, $8
	JL     done8
	LEAQ   (DI)(R9*2), R8  // row 2
	LEAQ   (DI)(R9*4), R10 // row 4
	LEAQ   (R10)(R9*2), R12 // row 6
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	XORQ   BX, BX

col16:
	VMOVUPS     (SI)(BX*2), Z8
	VCVTPH2PS   (DI)(BX*1), Z16
	VCVTPH2PS   (R8)(BX*1), Z18
	VCVTPH2PS   (R10)(BX*1), Z20
	VCVTPH2PS   (R12)(BX*1), Z22
	ADDQ        R9, BX
	VCVTPH2PS   (DI)(BX*1), Z17
	VCVTPH2PS   (R8)(BX*1), Z19
	VCVTPH2PS   (R10)(BX*1), Z21
	VCVTPH2PS   (R12)(BX*1), Z23
	SUBQ        R9, BX
	VFMADD231PS Z8, Z16, Z0
	VFMADD231PS Z8, Z17, Z1
	VFMADD231PS Z8, Z18, Z2
	VFMADD231PS Z8, Z19, Z3
	VFMADD231PS Z8, Z20, Z4
	VFMADD231PS Z8, Z21, Z5
	VFMADD231PS Z8, Z22, Z6
	VFMADD231PS Z8, Z23, Z7
	ADDQ        $32, BX
	CMPQ        BX, R13
	JL          col16

	ZRED(Z0, Y0, X0, Y8, X8)
	ZRED(Z1, Y1, X1, Y9, X9)
	ZRED(Z2, Y2, X2, Y10, X10)
	ZRED(Z3, Y3, X3, Y11, X11)
	ZRED(Z4, Y4, X4, Y12, X12)
	ZRED(Z5, Y5, X5, Y13, X13)
	ZRED(Z6, Y6, X6, Y14, X14)
	ZRED(Z7, Y7, X7, Y15, X15)
	VHADDPS X1, X0, X0
	VHADDPS X3, X2, X2
	VHADDPS X2, X0, X0
	VHADDPS X5, X4, X4
	VHADDPS X7, X6, X6
	VHADDPS X6, X4, X4
	VMOVUPS X0, (DX)
	VMOVUPS X4, 16(DX)
	ADDQ    $32, DX
	LEAQ    (R12)(R9*2), DI  // row 8
	SUBQ    $8, CX
	JMP     eight

done8:
	VZEROUPPER
	RET

// func accF16AVX512(out *float32, w *float32, v *uint16, stride, np, hd int)
// As accF16AVX2 with 128 output columns in registers; hd a multiple of 128.
TEXT ·accF16AVX512(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ w+8(FP), DX
	MOVQ v+16(FP), SI
	MOVQ stride+24(FP), R9
	SHLQ $1, R9
	MOVQ np+32(FP), R10
	MOVQ hd+40(FP), R11
	CMPQ R10, $0
	JE   accdone

cols:
	CMPQ    R11, $128
	JL      accdone
	VMOVUPS 0(DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VMOVUPS 256(DI), Z4
	VMOVUPS 320(DI), Z5
	VMOVUPS 384(DI), Z6
	VMOVUPS 448(DI), Z7
	MOVQ    SI, R8
	XORQ    BX, BX

pos:
	VBROADCASTSS (DX)(BX*4), Z15
	VCVTPH2PS    0(R8), Z16
	VCVTPH2PS    32(R8), Z17
	VCVTPH2PS    64(R8), Z18
	VCVTPH2PS    96(R8), Z19
	VCVTPH2PS    128(R8), Z20
	VCVTPH2PS    160(R8), Z21
	VCVTPH2PS    192(R8), Z22
	VCVTPH2PS    224(R8), Z23
	VFMADD231PS  Z16, Z15, Z0
	VFMADD231PS  Z17, Z15, Z1
	VFMADD231PS  Z18, Z15, Z2
	VFMADD231PS  Z19, Z15, Z3
	VFMADD231PS  Z20, Z15, Z4
	VFMADD231PS  Z21, Z15, Z5
	VFMADD231PS  Z22, Z15, Z6
	VFMADD231PS  Z23, Z15, Z7
	ADDQ         R9, R8
	INCQ         BX
	CMPQ         BX, R10
	JL           pos

	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	ADDQ    $512, DI
	ADDQ    $256, SI
	SUBQ    $128, R11
	JMP     cols

accdone:
	VZEROUPPER
	RET
