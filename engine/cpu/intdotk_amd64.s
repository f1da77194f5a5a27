// Integer dot kernels for the K-quants (Q4_K, Q5_K, Q6_K) on amd64: weight
// rows in 256-element super-blocks times an activation row quantized to
// int8 with sums per 16 elements (actquant.go's q8K). The weights' values
// are unsigned, so they go straight into VPMADDUBSW; the sub-block scales
// multiply through VPMADDWD, and minimums and offsets come from the sums.
// intdot.go's Go versions are the reference they are tested against.

#include "textflag.h"
#include "intdot_amd64.h"

// K-quant kernels. Registers: DI row base, R10 rows left, R14
// out; per row SI super-block, BX activation quants, DX activation scales,
// R8 activation sums (16 int16 per super-block), CX super-blocks left;
// Y0 float accumulator, Y1 float accumulator of the Q4_K minimum terms,
// Y12 the int32 sums of one super-block, Y14 0x0f bytes, Y13 0x30 bytes.

#define KROWS_START \
	MOVQ         w+0(FP), DI \
	MOVQ         nrows+16(FP), R10 \
	MOVQ         out+56(FP), R14 \
	MOVL         $0x0f0f0f0f, AX \
	VMOVD        AX, X14 \
	VPBROADCASTD X14, Y14 \
	MOVL         $0x30303030, AX \
	VMOVD        AX, X13 \
	VPBROADCASTD X13, Y13

// Q4_K step n: 32 bytes of nibbles, low ones times x[64n..], high ones
// times x[64n+32..], scaled by the sub-block scales at 16+4n(SP) and
// 18+4n(SP).
#define Q4K_INT(n) \
	VMOVDQU      (16+32*n)(SI), Y2 \
	VPSRLW       $4, Y2, Y3 \
	VPAND        Y14, Y2, Y2 \
	VPAND        Y14, Y3, Y3 \
	VPMADDUBSW   (64*n)(BX), Y2, Y2 \
	VPMADDUBSW   (64*n+32)(BX), Y3, Y3 \
	VPBROADCASTW (16+4*n)(SP), Y4 \
	VPMADDWD     Y4, Y2, Y2 \
	VPBROADCASTW (18+4*n)(SP), Y5 \
	VPMADDWD     Y5, Y3, Y3 \
	VPADDD       Y2, Y12, Y12 \
	VPADDD       Y3, Y12, Y12

// Q5K_INT(n, lop, los, hip, his): like Q4K_INT for a Q5_K super-block,
// with the fifth bits from qh (Y11): bit 2n of qh[l] moved to bit 4 by
// lop $los, bit 2n+1 by hip $his, each masked with Y15 (0x10 bytes).
#define Q5K_INT(n, lop, los, hip, his) \
	VMOVDQU      (48+32*n)(SI), Y2 \
	VPSRLW       $4, Y2, Y3 \
	VPAND        Y14, Y2, Y2 \
	VPAND        Y14, Y3, Y3 \
	lop          $los, Y11, Y4 \
	VPAND        Y15, Y4, Y4 \
	VPOR         Y4, Y2, Y2 \
	hip          $his, Y11, Y5 \
	VPAND        Y15, Y5, Y5 \
	VPOR         Y5, Y3, Y3 \
	VPMADDUBSW   (64*n)(BX), Y2, Y2 \
	VPMADDUBSW   (64*n+32)(BX), Y3, Y3 \
	VPBROADCASTW (16+4*n)(SP), Y4 \
	VPMADDWD     Y4, Y2, Y2 \
	VPBROADCASTW (18+4*n)(SP), Y5 \
	VPMADDWD     Y5, Y3, Y3 \
	VPADDD       Y2, Y12, Y12 \
	VPADDD       Y3, Y12, Y12

// Q6K_QUARTER(q, xoff, soff): q (32 six-bit values) times x at xoff(BX),
// the two 16-element halves scaled by the int16 scales at soff(SP) and
// soff+2(SP).
#define Q6K_QUARTER(q, xoff, soff) \
	VPMADDUBSW   xoff(BX), q, q \
	VPBROADCASTW soff(SP), X7 \
	VPBROADCASTW (soff+2)(SP), X9 \
	VINSERTI128  $1, X9, Y7, Y7 \
	VPMADDWD     Y7, q, q \
	VPADDD       q, Y12, Y12

// Q6K_HALF: one half of 128 elements: ql at qloff(SI) (64 bytes), qh at
// qhoff(SI) (32 bytes), x at xoff(BX), scales at soff(SP).
#define Q6K_HALF(qloff, qhoff, xoff, soff) \
	VMOVDQU qhoff(SI), Y2 \
	VMOVDQU qloff(SI), Y3 \
	VMOVDQU (qloff+32)(SI), Y4 \
	VPAND   Y14, Y3, Y5 \
	VPSLLW  $4, Y2, Y6 \
	VPAND   Y13, Y6, Y6 \
	VPOR    Y6, Y5, Y5 \
	Q6K_QUARTER(Y5, xoff, soff) \
	VPAND   Y14, Y4, Y5 \
	VPSLLW  $2, Y2, Y6 \
	VPAND   Y13, Y6, Y6 \
	VPOR    Y6, Y5, Y5 \
	Q6K_QUARTER(Y5, (xoff+32), (soff+4)) \
	VPSRLW  $4, Y3, Y5 \
	VPAND   Y14, Y5, Y5 \
	VPAND   Y13, Y2, Y6 \
	VPOR    Y6, Y5, Y5 \
	Q6K_QUARTER(Y5, (xoff+64), (soff+8)) \
	VPSRLW  $4, Y4, Y5 \
	VPAND   Y14, Y5, Y5 \
	VPSRLW  $2, Y2, Y6 \
	VPAND   Y13, Y6, Y6 \
	VPOR    Y6, Y5, Y5 \
	Q6K_QUARTER(Y5, (xoff+96), (soff+12))

// func dotQ4_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)
// Stack: 16(SP) the 8 sub-block scales as int16.
TEXT ·dotQ4_KRowsAVX2(SB), NOSPLIT, $32-64
	KROWS_START

k4row:
	KROW_START

k4sb:
	K4_SCALES_MINS

	VPXOR Y12, Y12, Y12
	Q4K_INT(0)
	Q4K_INT(1)
	Q4K_INT(2)
	Q4K_INT(3)
	VCVTDQ2PS   Y12, Y12
	VFMADD231PS Y12, Y8, Y0

	ADDQ $144, SI
	ADDQ $256, BX
	ADDQ $4, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  k4sb

	KROW_END
	JNZ k4row
	VZEROUPPER
	RET

// func dotQ5_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)
// Q5_K super-blocks (176 bytes: d, dmin, scales[12], qh[32], qs[128]).
// Stack: 16(SP) the 8 sub-block scales as int16.
TEXT ·dotQ5_KRowsAVX2(SB), NOSPLIT, $32-64
	KROWS_START
	MOVL         $0x10101010, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15

k5row:
	KROW_START

k5sb:
	K4_SCALES_MINS

	VPXOR   Y12, Y12, Y12
	VMOVDQU 16(SI), Y11
	Q5K_INT(0, VPSLLW, 4, VPSLLW, 3)
	Q5K_INT(1, VPSLLW, 2, VPSLLW, 1)
	Q5K_INT(2, VPSLLW, 0, VPSRLW, 1)
	Q5K_INT(3, VPSRLW, 2, VPSRLW, 3)
	VCVTDQ2PS   Y12, Y12
	VFMADD231PS Y12, Y8, Y0

	ADDQ $176, SI
	ADDQ $256, BX
	ADDQ $4, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  k5sb

	KROW_END
	JNZ k5row
	VZEROUPPER
	RET

// func dotQ6_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)
// Stack: 0(SP) the 16 scales as int16. The -32 offset is applied as
// -32·Σ scale·sum over the 16-element groups.
TEXT ·dotQ6_KRowsAVX2(SB), NOSPLIT, $32-64
	KROWS_START

k6row:
	KROW_START

k6sb:
	VPMOVSXBW 192(SI), Y10
	VMOVDQU   Y10, 0(SP)
	VPMADDWD  (R8), Y10, Y11
	VPSLLD    $5, Y11, Y11
	VPXOR     Y12, Y12, Y12
	VPSUBD    Y11, Y12, Y12

	MOVWLZX      208(SI), AX
	VMOVD        AX, X6
	VCVTPH2PS    X6, X6
	VMULSS       (DX), X6, X6
	VBROADCASTSS X6, Y8

	Q6K_HALF(0, 128, 0, 0)
	Q6K_HALF(64, 160, 128, 16)

	VCVTDQ2PS   Y12, Y12
	VFMADD231PS Y12, Y8, Y0

	ADDQ $210, SI
	ADDQ $256, BX
	ADDQ $4, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  k6sb

	KROW_END
	JNZ k6row
	VZEROUPPER
	RET
