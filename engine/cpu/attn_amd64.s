// AVX2/FMA/F16C kernels of Attention over an f16 cache: dotsF16AVX2 scores
// one query against a run of key rows, accF16AVX2 adds a run of weighted
// value rows into the output. Each does, per key row or per output element,
// exactly the arithmetic of dotF16AVX2 or of a sequence of axpyF16AVX2
// calls (dot_amd64.s), so a row's attention output does not depend on how
// the positions are grouped into calls; attention.go's Go loops are the
// reference they are tested against.

#include "textflag.h"
#include "exp_amd64.h"

// KEYRED reduces the accumulator pair (lo, hi) of one key row to four
// lanes in X<lo> as dotF16AVX2 does before its horizontal adds.
#define KEYRED(lo, hi, xlo, xhi) \
	VADDPS       hi, lo, lo; \
	VEXTRACTF128 $1, lo, xhi; \
	VADDPS       xhi, xlo, xlo

// func dotsF16AVX2(q *float32, k *uint16, stride, np, hd int, out *float32)
// out[p] = Σ q[i]·f16(k[p*stride+i]) for p < np, with dotF16AVX2's
// arithmetic for each p; stride is in elements, hd a multiple of 16.
TEXT ·dotsF16AVX2(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ k+8(FP), DI
	MOVQ stride+16(FP), R9
	SHLQ $1, R9                 // stride in bytes
	MOVQ np+24(FP), CX
	MOVQ hd+32(FP), R11
	SHLQ $1, R11                // hd in bytes of f16
	MOVQ out+40(FP), DX

four:
	CMPQ   CX, $4
	JL     one
	LEAQ   (DI)(R9*1), R8
	LEAQ   (DI)(R9*2), R10
	LEAQ   (R8)(R9*2), R12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   BX, BX

four16:
	VMOVUPS     (SI)(BX*2), Y8
	VMOVUPS     32(SI)(BX*2), Y9
	VCVTPH2PS   (DI)(BX*1), Y10
	VCVTPH2PS   16(DI)(BX*1), Y11
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y11, Y1
	VCVTPH2PS   (R8)(BX*1), Y12
	VCVTPH2PS   16(R8)(BX*1), Y13
	VFMADD231PS Y8, Y12, Y2
	VFMADD231PS Y9, Y13, Y3
	VCVTPH2PS   (R10)(BX*1), Y10
	VCVTPH2PS   16(R10)(BX*1), Y11
	VFMADD231PS Y8, Y10, Y4
	VFMADD231PS Y9, Y11, Y5
	VCVTPH2PS   (R12)(BX*1), Y12
	VCVTPH2PS   16(R12)(BX*1), Y13
	VFMADD231PS Y8, Y12, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ        $32, BX
	CMPQ        BX, R11
	JL          four16

	KEYRED(Y0, Y1, X0, X1)
	KEYRED(Y2, Y3, X2, X3)
	KEYRED(Y4, Y5, X4, X5)
	KEYRED(Y6, Y7, X6, X7)
	VHADDPS X2, X0, X0           // [a01 a23 b01 b23]
	VHADDPS X6, X4, X4           // [c01 c23 d01 d23]
	VHADDPS X4, X0, X0           // [a b c d]
	VMOVUPS X0, (DX)
	ADDQ    $16, DX
	LEAQ    (R12)(R9*1), DI
	SUBQ    $4, CX
	JMP     four

one:
	CMPQ   CX, $0
	JE     done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   BX, BX

one16:
	VCVTPH2PS   (DI)(BX*1), Y4
	VCVTPH2PS   16(DI)(BX*1), Y5
	VFMADD231PS (SI)(BX*2), Y4, Y0
	VFMADD231PS 32(SI)(BX*2), Y5, Y1
	ADDQ        $32, BX
	CMPQ        BX, R11
	JL          one16

	KEYRED(Y0, Y1, X0, X1)
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS  X0, (DX)
	ADDQ    $4, DX
	ADDQ    R9, DI
	DECQ    CX
	JMP     one

done:
	VZEROUPPER
	RET

// func accF16AVX2(out *float32, w *float32, v *uint16, stride, np, hd int)
// out[i] += w[p]·f16(v[p*stride+i]) for p = 0..np-1 in order, one FMA
// each, as np axpyF16AVX2 calls would; out stays in registers over the run,
// 64 columns at a time. stride is in elements, hd a multiple of 64.
TEXT ·accF16AVX2(SB), NOSPLIT, $0-48
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
	CMPQ    R11, $64
	JL      accdone
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7
	MOVQ    SI, R8
	XORQ    BX, BX

pos:
	VBROADCASTSS (DX)(BX*4), Y15
	VCVTPH2PS    0(R8), Y8
	VCVTPH2PS    16(R8), Y9
	VCVTPH2PS    32(R8), Y10
	VCVTPH2PS    48(R8), Y11
	VFMADD231PS  Y8, Y15, Y0
	VFMADD231PS  Y9, Y15, Y1
	VFMADD231PS  Y10, Y15, Y2
	VFMADD231PS  Y11, Y15, Y3
	VCVTPH2PS    64(R8), Y12
	VCVTPH2PS    80(R8), Y13
	VCVTPH2PS    96(R8), Y8
	VCVTPH2PS    112(R8), Y9
	VFMADD231PS  Y12, Y15, Y4
	VFMADD231PS  Y13, Y15, Y5
	VFMADD231PS  Y8, Y15, Y6
	VFMADD231PS  Y9, Y15, Y7
	ADDQ         R9, R8
	INCQ         BX
	CMPQ         BX, R10
	JL           pos

	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ    $256, DI
	ADDQ    $128, SI
	SUBQ    $64, R11
	JMP     cols

accdone:
	VZEROUPPER
	RET

// func expShiftAVX2(s *float32, n int, mx float32)
// s[i] = expf(s[i] - mx) for i < n, n a multiple of 8: clamp to ±88,
// k = round(x·log2 e), r = (x - k·C1) - k·C2, a degree-6 polynomial in r
// without FMA (so the Go loop matches bit for bit), times 2^k.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-20
	MOVQ         s+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS mx+16(FP), Y15
	EXP8_CONSTS

exp8:
	CMPQ      CX, $8
	JL        expdone
	VMOVUPS   (DI), Y0
	VSUBPS    Y15, Y0, Y0  // x = s - mx
	EXP8
	VMOVUPS   Y4, (DI)
	ADDQ      $32, DI
	SUBQ      $8, CX
	JMP       exp8

expdone:
	VZEROUPPER
	RET
