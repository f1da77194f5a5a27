// AVX2/FMA/F16C dot products for amd64; dot_amd64.go selects them when the
// CPU has the features, and dot.go's plain Go versions are the reference
// they are tested against.

#include "textflag.h"

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

// func dotBF16AVX2(a *float32, b *uint16, n int) float32
// Σ a[i]·bf16(b[i]), 16 elements per iteration; n must be a multiple of 16.
TEXT ·dotBF16AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

loop16b:
	CMPQ        CX, $16
	JL          reduce16b
	VPMOVZXWD   0(DI), Y4
	VPMOVZXWD   16(DI), Y5
	VPSLLD      $16, Y4, Y4
	VPSLLD      $16, Y5, Y5
	VFMADD231PS 0(SI), Y4, Y0
	VFMADD231PS 32(SI), Y5, Y1
	ADDQ        $64, SI
	ADDQ        $32, DI
	SUBQ        $16, CX
	JMP         loop16b

reduce16b:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func dot4AVX2(x, w0, w1, w2, w3 *float32, n int, out *float32)
// out[k] = Σ x[i]·wk[i] for four rows at once, so each load of x feeds four
// FMAs; n must be a multiple of 8.
TEXT ·dot4AVX2(SB), NOSPLIT, $0-56
	MOVQ   x+0(FP), SI
	MOVQ   w0+8(FP), R8
	MOVQ   w1+16(FP), R9
	MOVQ   w2+24(FP), R10
	MOVQ   w3+32(FP), R11
	MOVQ   n+40(FP), CX
	MOVQ   out+48(FP), DX
	XORQ   AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

d4loop16:
	CMPQ        CX, $16
	JL          d4loop8
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

d4loop8:
	CMPQ        CX, $8
	JL          d4reduce
	VMOVUPS     (SI)(AX*1), Y8
	VFMADD231PS (R8)(AX*1), Y8, Y0
	VFMADD231PS (R9)(AX*1), Y8, Y1
	VFMADD231PS (R10)(AX*1), Y8, Y2
	VFMADD231PS (R11)(AX*1), Y8, Y3
	ADDQ        $32, AX
	SUBQ        $8, CX
	JMP         d4loop8

d4reduce:
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DX)
	VZEROUPPER
	RET

// func dot2x4AVX2(x0, x1, w0, w1, w2, w3 *float32, n int, out *float32)
// out[k] = x0·wk and out[4+k] = x1·wk for four weight rows: each weight
// load feeds two FMAs, each activation load four. n must be a multiple of 8.
TEXT ·dot2x4AVX2(SB), NOSPLIT, $0-64
	MOVQ   x0+0(FP), SI
	MOVQ   x1+8(FP), BX
	MOVQ   w0+16(FP), R8
	MOVQ   w1+24(FP), R9
	MOVQ   w2+32(FP), R10
	MOVQ   w3+40(FP), R11
	MOVQ   n+48(FP), CX
	MOVQ   out+56(FP), DX
	XORQ   AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

d24loop:
	CMPQ        CX, $8
	JL          d24reduce
	VMOVUPS     (SI)(AX*1), Y8
	VMOVUPS     (BX)(AX*1), Y9
	VMOVUPS     (R8)(AX*1), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMOVUPS     (R9)(AX*1), Y11
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y11, Y9, Y5
	VMOVUPS     (R10)(AX*1), Y12
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y12, Y9, Y6
	VMOVUPS     (R11)(AX*1), Y13
	VFMADD231PS Y13, Y8, Y3
	VFMADD231PS Y13, Y9, Y7
	ADDQ        $32, AX
	SUBQ        $8, CX
	JMP         d24loop

d24reduce:
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DX)
	VHADDPS      Y5, Y4, Y4
	VHADDPS      Y7, Y6, Y6
	VHADDPS      Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS       X5, X4, X4
	VMOVUPS      X4, 16(DX)
	VZEROUPPER
	RET

// func dot4x4AVX512(x *float32, xs int, w0, w1, w2, w3 *float32, n int, out *[16]float32)
// out[4r+k] = x_r·wk for four activation rows x_r = x + r·xs bytes and four
// weight rows, sixteen zmm accumulators: each weight load feeds four FMAs,
// each activation load four. n must be a multiple of 16.
TEXT ·dot4x4AVX512(SB), NOSPLIT, $0-64
	MOVQ x+0(FP), SI
	MOVQ xs+8(FP), DX
	MOVQ w0+16(FP), R8
	MOVQ w1+24(FP), R9
	MOVQ w2+32(FP), R10
	MOVQ w3+40(FP), R11
	MOVQ n+48(FP), CX
	LEAQ (SI)(DX*1), R12
	LEAQ (R12)(DX*1), R13
	LEAQ (R13)(DX*1), BX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

d44loop:
	CMPQ        CX, $16
	JL          d44reduce
	VMOVUPS     (R8)(AX*1), Z16
	VMOVUPS     (R9)(AX*1), Z17
	VMOVUPS     (R10)(AX*1), Z18
	VMOVUPS     (R11)(AX*1), Z19
	VMOVUPS     (SI)(AX*1), Z20
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z17, Z20, Z1
	VFMADD231PS Z18, Z20, Z2
	VFMADD231PS Z19, Z20, Z3
	VMOVUPS     (R12)(AX*1), Z21
	VFMADD231PS Z16, Z21, Z4
	VFMADD231PS Z17, Z21, Z5
	VFMADD231PS Z18, Z21, Z6
	VFMADD231PS Z19, Z21, Z7
	VMOVUPS     (R13)(AX*1), Z22
	VFMADD231PS Z16, Z22, Z8
	VFMADD231PS Z17, Z22, Z9
	VFMADD231PS Z18, Z22, Z10
	VFMADD231PS Z19, Z22, Z11
	VMOVUPS     (BX)(AX*1), Z23
	VFMADD231PS Z16, Z23, Z12
	VFMADD231PS Z17, Z23, Z13
	VFMADD231PS Z18, Z23, Z14
	VFMADD231PS Z19, Z23, Z15
	ADDQ        $64, AX
	SUBQ        $16, CX
	JMP         d44loop

d44reduce:
	MOVQ out+56(FP), DX
	// Fold each row's four accumulators to their sums.
	VEXTRACTF64X4 $1, Z0, Y16
	VADDPS        Y16, Y0, Y0
	VEXTRACTF64X4 $1, Z1, Y17
	VADDPS        Y17, Y1, Y1
	VEXTRACTF64X4 $1, Z2, Y18
	VADDPS        Y18, Y2, Y2
	VEXTRACTF64X4 $1, Z3, Y19
	VADDPS        Y19, Y3, Y3
	VHADDPS       Y1, Y0, Y0
	VHADDPS       Y3, Y2, Y2
	VHADDPS       Y2, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VMOVUPS       X0, 0(DX)
	VEXTRACTF64X4 $1, Z4, Y16
	VADDPS        Y16, Y4, Y4
	VEXTRACTF64X4 $1, Z5, Y17
	VADDPS        Y17, Y5, Y5
	VEXTRACTF64X4 $1, Z6, Y18
	VADDPS        Y18, Y6, Y6
	VEXTRACTF64X4 $1, Z7, Y19
	VADDPS        Y19, Y7, Y7
	VHADDPS       Y5, Y4, Y4
	VHADDPS       Y7, Y6, Y6
	VHADDPS       Y6, Y4, Y4
	VEXTRACTF128  $1, Y4, X5
	VADDPS        X5, X4, X4
	VMOVUPS       X4, 16(DX)
	VEXTRACTF64X4 $1, Z8, Y16
	VADDPS        Y16, Y8, Y8
	VEXTRACTF64X4 $1, Z9, Y17
	VADDPS        Y17, Y9, Y9
	VEXTRACTF64X4 $1, Z10, Y18
	VADDPS        Y18, Y10, Y10
	VEXTRACTF64X4 $1, Z11, Y19
	VADDPS        Y19, Y11, Y11
	VHADDPS       Y9, Y8, Y8
	VHADDPS       Y11, Y10, Y10
	VHADDPS       Y10, Y8, Y8
	VEXTRACTF128  $1, Y8, X9
	VADDPS        X9, X8, X8
	VMOVUPS       X8, 32(DX)
	VEXTRACTF64X4 $1, Z12, Y16
	VADDPS        Y16, Y12, Y12
	VEXTRACTF64X4 $1, Z13, Y17
	VADDPS        Y17, Y13, Y13
	VEXTRACTF64X4 $1, Z14, Y18
	VADDPS        Y18, Y14, Y14
	VEXTRACTF64X4 $1, Z15, Y19
	VADDPS        Y19, Y15, Y15
	VHADDPS       Y13, Y12, Y12
	VHADDPS       Y15, Y14, Y14
	VHADDPS       Y14, Y12, Y12
	VEXTRACTF128  $1, Y12, X13
	VADDPS        X13, X12, X12
	VMOVUPS       X12, 48(DX)
	VZEROUPPER
	RET

// func dotF16RowsAVX2(w *uint16, rowSize, nrows int, x *float32, n int, out *float32)
// out[i] = Σ f16(row i of w)·x for nrows F16 rows rowSize bytes apart, one
// call for the whole range; n must be a multiple of 16.
TEXT ·dotF16RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ nrows+16(FP), R10
	MOVQ out+40(FP), R14

frow:
	MOVQ   DI, SI
	MOVQ   x+24(FP), BX
	MOVQ   n+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

f32loop:
	CMPQ        CX, $32
	JL          f16loop
	VCVTPH2PS   0(SI), Y4
	VCVTPH2PS   16(SI), Y5
	VCVTPH2PS   32(SI), Y6
	VCVTPH2PS   48(SI), Y7
	VFMADD231PS 0(BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	VFMADD231PS 64(BX), Y6, Y2
	VFMADD231PS 96(BX), Y7, Y3
	ADDQ        $64, SI
	ADDQ        $128, BX
	SUBQ        $32, CX
	JMP         f32loop

f16loop:
	CMPQ        CX, $16
	JL          fdone
	VCVTPH2PS   0(SI), Y4
	VCVTPH2PS   16(SI), Y5
	VFMADD231PS 0(BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1

fdone:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	MOVSS        X0, (R14)
	ADDQ         $4, R14
	ADDQ         rowSize+8(FP), DI
	DECQ         R10
	JNZ          frow
	VZEROUPPER
	RET
