// AVX2/FMA/F16C fused dot products of quantized weight rows with float32
// activations; quant_amd64.go declares them and fused.go calls them. The Go
// kernels in fused.go are the reference (TestFusedAssembly).

#include "textflag.h"

// func dotQ8_0AVX2(x *float32, w *byte, nb int) float32
// nb blocks of 34 bytes: f16 d, 32 int8 quants. Σ_blocks d·Σ q·x.
TEXT ·dotQ8_0AVX2(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   w+8(FP), DI
	MOVQ   nb+16(FP), CX
	VXORPS Y0, Y0, Y0

q8loop:
	CMPQ         CX, $0
	JE           q8done
	MOVWLZX      0(DI), AX
	VMOVD        AX, X6
	VCVTPH2PS    X6, X6
	VBROADCASTSS X6, Y6
	VPMOVSXBD    2(DI), Y4
	VPMOVSXBD    10(DI), Y5
	VPMOVSXBD    18(DI), Y8
	VPMOVSXBD    26(DI), Y9
	VCVTDQ2PS    Y4, Y4
	VCVTDQ2PS    Y5, Y5
	VCVTDQ2PS    Y8, Y8
	VCVTDQ2PS    Y9, Y9
	VMULPS       0(SI), Y4, Y7
	VMULPS       32(SI), Y5, Y10
	VFMADD231PS  64(SI), Y8, Y7
	VFMADD231PS  96(SI), Y9, Y10
	VADDPS       Y10, Y7, Y7
	VFMADD231PS  Y7, Y6, Y0
	ADDQ         $34, DI
	ADDQ         $128, SI
	DECQ         CX
	JMP          q8loop

q8done:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func dotQ4_0AVX2(x *float32, w *byte, nb int) float32
// nb blocks of 18 bytes: f16 d, 16 bytes of nibbles (element l is the low
// nibble of byte l, element l+16 the high one). Σ_blocks d·Σ (q-8)·x.
TEXT ·dotQ4_0AVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         w+8(FP), DI
	MOVQ         nb+16(FP), CX
	VXORPS       Y0, Y0, Y0
	MOVL         $15, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         $8, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14

q4loop:
	CMPQ         CX, $0
	JE           q4done
	MOVWLZX      0(DI), AX
	VMOVD        AX, X6
	VCVTPH2PS    X6, X6
	VBROADCASTSS X6, Y6
	VPMOVZXBD    2(DI), Y4
	VPMOVZXBD    10(DI), Y5
	VPAND        Y15, Y4, Y8
	VPSRLD       $4, Y4, Y9
	VPAND        Y15, Y5, Y10
	VPSRLD       $4, Y5, Y11
	VPSUBD       Y14, Y8, Y8
	VPSUBD       Y14, Y9, Y9
	VPSUBD       Y14, Y10, Y10
	VPSUBD       Y14, Y11, Y11
	VCVTDQ2PS    Y8, Y8
	VCVTDQ2PS    Y9, Y9
	VCVTDQ2PS    Y10, Y10
	VCVTDQ2PS    Y11, Y11
	VMULPS       0(SI), Y8, Y7
	VMULPS       32(SI), Y10, Y12
	VFMADD231PS  64(SI), Y9, Y7
	VFMADD231PS  96(SI), Y11, Y12
	VADDPS       Y12, Y7, Y7
	VFMADD231PS  Y7, Y6, Y0
	ADDQ         $18, DI
	ADDQ         $128, SI
	DECQ         CX
	JMP          q4loop

q4done:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// Q4_K: one step of 8 low nibbles (qoff bytes into the 32-byte group) and
// 8 high nibbles; Y2 += q_lo·x_lo, Y3 += x_lo, Y5 += q_hi·x_hi, Y6 += x_hi.
#define Q4K_STEP(qoff, xoff, xoffhi) \
	VPMOVZXBD   qoff(DI), Y4      \
	VPSRLD      $4, Y4, Y8        \
	VPAND       Y15, Y4, Y4       \
	VCVTDQ2PS   Y4, Y4            \
	VCVTDQ2PS   Y8, Y8            \
	VMOVUPS     xoff(SI), Y9      \
	VMOVUPS     xoffhi(SI), Y10   \
	VFMADD231PS Y9, Y4, Y2        \
	VADDPS      Y9, Y3, Y3        \
	VFMADD231PS Y10, Y8, Y5       \
	VADDPS      Y10, Y6, Y6

// func dotQ4_KSuperAVX2(x *float32, q *byte, s *[16]float32) float32
// One Q4_K super-block: q points at its 128 bytes of nibbles, s holds
// d·scale for the 8 sub-blocks then dmin·min for them. Returns
// Σ_j s[j]·Σ q·x − s[8+j]·Σ x over the sub-blocks j.
TEXT ·dotQ4_KSuperAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         q+8(FP), DI
	MOVQ         s+16(FP), DX
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	MOVL         $15, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVQ         $4, CX

k4loop:
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	Q4K_STEP(0, 0, 128)
	Q4K_STEP(8, 32, 160)
	Q4K_STEP(16, 64, 192)
	Q4K_STEP(24, 96, 224)
	VBROADCASTSS 0(DX), Y7
	VFMADD231PS  Y2, Y7, Y0
	VBROADCASTSS 4(DX), Y7
	VFMADD231PS  Y5, Y7, Y0
	VBROADCASTSS 32(DX), Y7
	VFMADD231PS  Y3, Y7, Y1
	VBROADCASTSS 36(DX), Y7
	VFMADD231PS  Y6, Y7, Y1
	ADDQ         $32, DI
	ADDQ         $256, SI
	ADDQ         $8, DX
	DECQ         CX
	JNZ          k4loop

	VSUBPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// Q6_K: one step of 8 elements in each of the four 32-element quarters of
// a 128-element half. Y6 = ql[l], Y7 = ql[l+32], Y8 = qh[l]; Y15 = 15,
// Y13 = 0x30, Y14 = 32. Accumulates (q-32)·x into Y2..Y5.
#define Q6K_STEP(off, xoff) \
	VPMOVZXBD   off(DI), Y6           \
	VPMOVZXBD   (off+32)(DI), Y7      \
	VPMOVZXBD   off(R8), Y8           \
	VPAND       Y15, Y6, Y9           \
	VPSLLD      $4, Y8, Y10           \
	VPAND       Y13, Y10, Y10         \
	VPOR        Y10, Y9, Y9           \
	VPSUBD      Y14, Y9, Y9           \
	VCVTDQ2PS   Y9, Y9                \
	VFMADD231PS xoff(SI), Y9, Y2      \
	VPAND       Y15, Y7, Y9           \
	VPSLLD      $2, Y8, Y10           \
	VPAND       Y13, Y10, Y10         \
	VPOR        Y10, Y9, Y9           \
	VPSUBD      Y14, Y9, Y9           \
	VCVTDQ2PS   Y9, Y9                \
	VFMADD231PS (xoff+128)(SI), Y9, Y3 \
	VPSRLD      $4, Y6, Y9            \
	VPAND       Y13, Y8, Y10          \
	VPOR        Y10, Y9, Y9           \
	VPSUBD      Y14, Y9, Y9           \
	VCVTDQ2PS   Y9, Y9                \
	VFMADD231PS (xoff+256)(SI), Y9, Y4 \
	VPSRLD      $4, Y7, Y9            \
	VPSRLD      $2, Y8, Y10           \
	VPAND       Y13, Y10, Y10         \
	VPOR        Y10, Y9, Y9           \
	VPSUBD      Y14, Y9, Y9           \
	VCVTDQ2PS   Y9, Y9                \
	VFMADD231PS (xoff+384)(SI), Y9, Y5

// func dotQ6_KSuperAVX2(x *float32, b *byte, s *[16]float32) float32
// One Q6_K super-block at b (ql[128], qh[64], ...); s[j] = d·scale[j].
// Element 16j..16j+15 of each half's quarters uses the scale
// s[8h + g + 2k] (h half, g = l/16, k quarter), as ggml's
// dequantize_row_q6_K.
TEXT ·dotQ6_KSuperAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         b+8(FP), DI
	MOVQ         s+16(FP), DX
	LEAQ         128(DI), R8
	VXORPS       Y0, Y0, Y0
	MOVL         $15, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         $0x30, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13
	MOVL         $32, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVQ         $2, CX

k6half:
	MOVQ $2, BX

k6group:
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	VXORPS       Y4, Y4, Y4
	VXORPS       Y5, Y5, Y5
	Q6K_STEP(0, 0)
	Q6K_STEP(8, 32)
	VBROADCASTSS 0(DX), Y9
	VFMADD231PS  Y2, Y9, Y0
	VBROADCASTSS 8(DX), Y9
	VFMADD231PS  Y3, Y9, Y0
	VBROADCASTSS 16(DX), Y9
	VFMADD231PS  Y4, Y9, Y0
	VBROADCASTSS 24(DX), Y9
	VFMADD231PS  Y5, Y9, Y0
	ADDQ         $16, DI
	ADDQ         $16, R8
	ADDQ         $64, SI
	ADDQ         $4, DX
	DECQ         BX
	JNZ          k6group

	ADDQ $32, DI
	ADDQ $384, SI
	ADDQ $24, DX
	DECQ CX
	JNZ  k6half

	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// Q5_K: like Q4K_STEP with the fifth bit taken from QH (the qh bytes of
// these 8 lanes, shifted right by 2n): bit 0 extends the low nibble, bit 1
// the high one. Y7 = 16, Y15 = 15.
#define Q5K_STEP(qoff, xoff, xoffhi, QH) \
	VPMOVZXBD   qoff(DI), Y4      \
	VPSRLD      $4, Y4, Y8        \
	VPAND       Y15, Y4, Y4       \
	VPSLLD      $4, QH, Y9        \
	VPAND       Y7, Y9, Y9        \
	VPOR        Y9, Y4, Y4        \
	VPSLLD      $3, QH, Y9        \
	VPAND       Y7, Y9, Y9        \
	VPOR        Y9, Y8, Y8        \
	VCVTDQ2PS   Y4, Y4            \
	VCVTDQ2PS   Y8, Y8            \
	VMOVUPS     xoff(SI), Y9      \
	VMOVUPS     xoffhi(SI), Y10   \
	VFMADD231PS Y9, Y4, Y2        \
	VADDPS      Y9, Y3, Y3        \
	VFMADD231PS Y10, Y8, Y5       \
	VADDPS      Y10, Y6, Y6

// func dotQ5_KSuperAVX2(x *float32, qh *byte, q *byte, s *[16]float32) float32
// One Q5_K super-block: qh its 32 high-bit bytes, q its 128 bytes of
// nibbles, s as for dotQ4_KSuperAVX2.
TEXT ·dotQ5_KSuperAVX2(SB), NOSPLIT, $0-36
	MOVQ         x+0(FP), SI
	MOVQ         qh+8(FP), R8
	MOVQ         q+16(FP), DI
	MOVQ         s+24(FP), DX
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	MOVL         $15, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         $16, AX
	VMOVD        AX, X7
	VPBROADCASTD X7, Y7
	VPMOVZXBD    0(R8), Y11
	VPMOVZXBD    8(R8), Y12
	VPMOVZXBD    16(R8), Y13
	VPMOVZXBD    24(R8), Y14
	MOVQ         $4, CX

k5loop:
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	VXORPS       Y5, Y5, Y5
	VXORPS       Y6, Y6, Y6
	Q5K_STEP(0, 0, 128, Y11)
	Q5K_STEP(8, 32, 160, Y12)
	Q5K_STEP(16, 64, 192, Y13)
	Q5K_STEP(24, 96, 224, Y14)
	VBROADCASTSS 0(DX), Y4
	VFMADD231PS  Y2, Y4, Y0
	VBROADCASTSS 4(DX), Y4
	VFMADD231PS  Y5, Y4, Y0
	VBROADCASTSS 32(DX), Y4
	VFMADD231PS  Y3, Y4, Y1
	VBROADCASTSS 36(DX), Y4
	VFMADD231PS  Y6, Y4, Y1
	VPSRLD       $2, Y11, Y11
	VPSRLD       $2, Y12, Y12
	VPSRLD       $2, Y13, Y13
	VPSRLD       $2, Y14, Y14
	ADDQ         $32, DI
	ADDQ         $256, SI
	ADDQ         $8, DX
	DECQ         CX
	JNZ          k5loop

	VSUBPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+32(FP)
	RET
