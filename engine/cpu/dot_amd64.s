// AVX2/FMA/F16C dot products for amd64; dot_amd64.go selects them when the
// CPU has the features, and dot.go's plain Go versions are the reference
// they are tested against.

#include "textflag.h"

// Every kernel that dots a float32 activation row with a weight row in
// MatMul follows one arithmetic, so a row's output does not depend on which
// kernel handled it (MatMul is batch invariant): lane j of sixteen
// accumulates x[i]·w[i] for i ≡ j (mod 16) in order of i with one FMA each
// (one zmm, or two ymm: the first and second eight of every sixteen), then
// t_j = lane j + lane j+8 and the sum is ((t0+t1)+(t2+t3))+((t4+t5)+(t6+t7)).

// ZERO8 clears the accumulators Y0-Y7.
#define ZERO8 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

// REDUCE4 leaves in xa (the low half of a) the sums of the eight lanes t of
// a, b, c and d, each as ((t0+t1)+(t2+t3))+((t4+t5)+(t6+t7)); it clobbers
// all four and xb (the low half of b).
#define REDUCE4(a, b, c, d, xa, xb) \
	VHADDPS      b, a, a; \
	VHADDPS      d, c, c; \
	VHADDPS      c, a, a; \
	VEXTRACTF128 $1, a, xb; \
	VADDPS       xb, xa, xa

// DOT4END folds the accumulators of four rows (Y0-Y3 the first eight of
// every sixteen elements, Y4-Y7 the second) and stores the four sums at DX.
#define DOT4END \
	VADDPS  Y4, Y0, Y0; \
	VADDPS  Y5, Y1, Y1; \
	VADDPS  Y6, Y2, Y2; \
	VADDPS  Y7, Y3, Y3; \
	REDUCE4(Y0, Y1, Y2, Y3, X0, X1); \
	VMOVUPS X0, (DX); \
	VZEROUPPER

// DOT2X4STEP adds eight elements at byte offset AX of x0 (SI) and x1 (BX)
// times w0-w3 (R8-R11) to Y0-Y3 (x0) and Y4-Y7 (x1).
#define DOT2X4STEP \
	VMOVUPS     (SI)(AX*1), Y8; \
	VMOVUPS     (BX)(AX*1), Y9; \
	VMOVUPS     (R8)(AX*1), Y10; \
	VFMADD231PS Y10, Y8, Y0; \
	VFMADD231PS Y10, Y9, Y4; \
	VMOVUPS     (R9)(AX*1), Y11; \
	VFMADD231PS Y11, Y8, Y1; \
	VFMADD231PS Y11, Y9, Y5; \
	VMOVUPS     (R10)(AX*1), Y12; \
	VFMADD231PS Y12, Y8, Y2; \
	VFMADD231PS Y12, Y9, Y6; \
	VMOVUPS     (R11)(AX*1), Y13; \
	VFMADD231PS Y13, Y8, Y3; \
	VFMADD231PS Y13, Y9, Y7

// CVTF16 widens eight F16 at m to float32 in r.
#define CVTF16(m, r) VCVTPH2PS m, r

// CVTBF16 widens eight BF16 at m to float32 in r.
#define CVTBF16(m, r) \
	VPMOVZXWD m, r; \
	VPSLLD    $16, r, r

// DOT4HSTEP adds sixteen elements of x (SI, byte offset AX) times four
// 16-bit float weight rows (R8-R11, byte offset DI) widened by CVT: the
// first eight of each row to Y0-Y3, the second eight to Y4-Y7.
#define DOT4HSTEP(CVT) \
	VMOVUPS     (SI)(AX*1), Y8; \
	VMOVUPS     32(SI)(AX*1), Y9; \
	CVT((R8)(DI*1), Y10); \
	CVT(16(R8)(DI*1), Y11); \
	VFMADD231PS Y10, Y8, Y0; \
	VFMADD231PS Y11, Y9, Y4; \
	CVT((R9)(DI*1), Y12); \
	CVT(16(R9)(DI*1), Y13); \
	VFMADD231PS Y12, Y8, Y1; \
	VFMADD231PS Y13, Y9, Y5; \
	CVT((R10)(DI*1), Y10); \
	CVT(16(R10)(DI*1), Y11); \
	VFMADD231PS Y10, Y8, Y2; \
	VFMADD231PS Y11, Y9, Y6; \
	CVT((R11)(DI*1), Y12); \
	CVT(16(R11)(DI*1), Y13); \
	VFMADD231PS Y12, Y8, Y3; \
	VFMADD231PS Y13, Y9, Y7

// DOT4HARGS loads the arguments of the dot4 16-bit float kernels and clears
// the accumulators and offsets.
#define DOT4HARGS \
	MOVQ x+0(FP), SI; \
	MOVQ w0+8(FP), R8; \
	MOVQ w1+16(FP), R9; \
	MOVQ w2+24(FP), R10; \
	MOVQ w3+32(FP), R11; \
	MOVQ n+40(FP), CX; \
	XORQ AX, AX; \
	XORQ DI, DI; \
	ZERO8

// func dotAVX2(a, b *float32, n int) float32
// Σ a[i]·b[i], 32 elements per iteration in four accumulators.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

loop32:
	CMPQ CX, $32
	JL   loop8
	VMOVUPS     0(SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS 0(DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         loop32

loop8:
	CMPQ        CX, $8
	JL          reduce
	VMOVUPS     0(SI), Y4
	VFMADD231PS 0(DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         loop8

reduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0

tail:
	CMPQ        CX, $0
	JE          done
	VMOVSS      0(SI), X1
	VFMADD231SS 0(DI), X1, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         tail

done:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotF16AVX2(a *float32, b *uint16, n int) float32
// Σ a[i]·f16(b[i]), 16 elements per iteration; n must be a multiple of 16.
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

loop16:
	CMPQ        CX, $16
	JL          reduce16
	VCVTPH2PS   0(DI), Y4
	VCVTPH2PS   16(DI), Y5
	VFMADD231PS 0(SI), Y4, Y0
	VFMADD231PS 32(SI), Y5, Y1
	ADDQ        $64, SI
	ADDQ        $32, DI
	SUBQ        $16, CX
	JMP         loop16

reduce16:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func axpyF16AVX2(y *float32, a float32, x *uint16, n int)
// y[i] += a·f16(x[i]); n must be a multiple of 8.
TEXT ·axpyF16AVX2(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	VBROADCASTSS a+8(FP), Y3
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX

loop8a:
	CMPQ        CX, $8
	JL          donea
	VCVTPH2PS   0(SI), Y4
	VMOVUPS     0(DI), Y5
	VFMADD231PS Y4, Y3, Y5
	VMOVUPS     Y5, 0(DI)
	ADDQ        $16, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         loop8a

donea:
	VZEROUPPER
	RET

// func axpyAVX2(y *float32, a float32, x *float32, n int)
// y[i] += a·x[i]; n must be a multiple of 8.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	VBROADCASTSS a+8(FP), Y3
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX

loop8b:
	CMPQ        CX, $8
	JL          doneb
	VMOVUPS     0(SI), Y4
	VMOVUPS     0(DI), Y5
	VFMADD231PS Y4, Y3, Y5
	VMOVUPS     Y5, 0(DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         loop8b

doneb:
	VZEROUPPER
	RET

// func dot4AVX2(x, w0, w1, w2, w3 *float32, n int, out *float32)
// out[k] = Σ x[i]·wk[i] for four rows at once, so each load of x feeds four
// FMAs; n must be a multiple of 16.
TEXT ·dot4AVX2(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ w0+8(FP), R8
	MOVQ w1+16(FP), R9
	MOVQ w2+24(FP), R10
	MOVQ w3+32(FP), R11
	MOVQ n+40(FP), CX
	MOVQ out+48(FP), DX
	XORQ AX, AX
	ZERO8

d4loop16:
	CMPQ        CX, $16
	JL          d4reduce
	VMOVUPS     (SI)(AX*1), Y8
	VMOVUPS     32(SI)(AX*1), Y9
	VFMADD231PS (R8)(AX*1), Y8, Y0
	VFMADD231PS (R9)(AX*1), Y8, Y1
	VFMADD231PS (R10)(AX*1), Y8, Y2
	VFMADD231PS (R11)(AX*1), Y8, Y3
	VFMADD231PS 32(R8)(AX*1), Y9, Y4
	VFMADD231PS 32(R9)(AX*1), Y9, Y5
	VFMADD231PS 32(R10)(AX*1), Y9, Y6
	VFMADD231PS 32(R11)(AX*1), Y9, Y7
	ADDQ        $64, AX
	SUBQ        $16, CX
	JMP         d4loop16

d4reduce:
	DOT4END
	RET

// func dot2x4AVX2(x0, x1, w0, w1, w2, w3 *float32, n int, out *float32)
// out[k] = x0·wk and out[4+k] = x1·wk for four weight rows: each weight
// load feeds two FMAs, each activation load four. n must be a multiple of
// 16. Eight pairs would need sixteen ymm accumulators for the shared
// arithmetic (top of this file), so the kernel makes two passes: the first
// eight elements of every sixteen, spilled to the frame, then the second
// eight.
TEXT ·dot2x4AVX2(SB), NOSPLIT, $256-64
	MOVQ x0+0(FP), SI
	MOVQ x1+8(FP), BX
	MOVQ w0+16(FP), R8
	MOVQ w1+24(FP), R9
	MOVQ w2+32(FP), R10
	MOVQ w3+40(FP), R11
	MOVQ n+48(FP), CX
	XORQ AX, AX
	ZERO8

d24a:
	CMPQ CX, $16
	JL   d24aend
	DOT2X4STEP
	ADDQ $64, AX
	SUBQ $16, CX
	JMP  d24a

d24aend:
	VMOVUPS Y0, 0(SP)
	VMOVUPS Y1, 32(SP)
	VMOVUPS Y2, 64(SP)
	VMOVUPS Y3, 96(SP)
	VMOVUPS Y4, 128(SP)
	VMOVUPS Y5, 160(SP)
	VMOVUPS Y6, 192(SP)
	VMOVUPS Y7, 224(SP)
	MOVQ    n+48(FP), CX
	MOVQ    $32, AX
	ZERO8

d24b:
	CMPQ CX, $16
	JL   d24bend
	DOT2X4STEP
	ADDQ $64, AX
	SUBQ $16, CX
	JMP  d24b

d24bend:
	VADDPS  0(SP), Y0, Y0
	VADDPS  32(SP), Y1, Y1
	VADDPS  64(SP), Y2, Y2
	VADDPS  96(SP), Y3, Y3
	VADDPS  128(SP), Y4, Y4
	VADDPS  160(SP), Y5, Y5
	VADDPS  192(SP), Y6, Y6
	VADDPS  224(SP), Y7, Y7
	MOVQ    out+56(FP), DX
	REDUCE4(Y0, Y1, Y2, Y3, X0, X1)
	VMOVUPS X0, (DX)
	REDUCE4(Y4, Y5, Y6, Y7, X4, X5)
	VMOVUPS X4, 16(DX)
	VZEROUPPER
	RET

// func dot4F16AVX2(x *float32, w0, w1, w2, w3 *uint16, n int, out *float32)
// out[k] = Σ x[i]·f16(wk[i]) for four F16 rows, the same arithmetic as
// dot4AVX2 on the widened rows; n must be a multiple of 16.
TEXT ·dot4F16AVX2(SB), NOSPLIT, $0-56
	DOT4HARGS

d4f16loop:
	CMPQ CX, $16
	JL   d4f16reduce
	PREFETCHT0 512(R8)(DI*1)
	PREFETCHT0 512(R9)(DI*1)
	PREFETCHT0 512(R10)(DI*1)
	PREFETCHT0 512(R11)(DI*1)
	DOT4HSTEP(CVTF16)
	ADDQ $64, AX
	ADDQ $32, DI
	SUBQ $16, CX
	JMP  d4f16loop

d4f16reduce:
	MOVQ out+48(FP), DX
	DOT4END
	RET

// func dot4BF16AVX2(x *float32, w0, w1, w2, w3 *uint16, n int, out *float32)
// dot4F16AVX2 for BF16 rows.
TEXT ·dot4BF16AVX2(SB), NOSPLIT, $0-56
	DOT4HARGS

d4bf16loop:
	CMPQ CX, $16
	JL   d4bf16reduce
	PREFETCHT0 512(R8)(DI*1)
	PREFETCHT0 512(R9)(DI*1)
	PREFETCHT0 512(R10)(DI*1)
	PREFETCHT0 512(R11)(DI*1)
	DOT4HSTEP(CVTBF16)
	ADDQ $64, AX
	ADDQ $32, DI
	SUBQ $16, CX
	JMP  d4bf16loop

d4bf16reduce:
	MOVQ out+48(FP), DX
	DOT4END
	RET
