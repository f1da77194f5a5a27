// Integer dot kernels for the 2- and 3-bit K-quants (Q2_K, Q3_K) on amd64:
// weight rows in 256-element super-blocks times an activation row quantized
// to int8 with sums per 16 elements (actquant.go's q8K), AVX2. The weights'
// values go into VPMADDUBSW unsigned (Q2_K's 0..3; Q3_K's 0..7, its value
// plus 4); each 16-element group's scale multiplies through VPMADDWD, and
// Q2_K's minimums and Q3_K's offset of 4 come from the activation sums.
// intdot.go's dotQ2_KQ8K and dotQ3_KQ8K are the reference they are tested
// against.
//
// Both formats hold 128 elements in 32 bytes of 2-bit quants: element
// 32j+l of a half is bits 2j of byte l, so quarter j of a half is one
// shift and mask of the same 32 bytes, and its two 16-element groups 2j and
// 2j+1 sit in the low and high 128-bit lanes. A VPSHUFB with control
// the shuffle at k23shuf+32j picks those two groups' int16 scales from a register that
// holds the half's eight scales in both lanes.

#include "textflag.h"
#include "intdot_amd64.h"
#include "intdotk23_amd64.h"

// K23_ROWS_START loads the arguments and Y15, 0x03 bytes.
#define K23_ROWS_START \
	MOVQ         w+0(FP), DI \
	MOVQ         nrows+16(FP), R10 \
	MOVQ         out+56(FP), R14 \
	MOVL         $0x03030303, AX \
	VMOVD        AX, X15 \
	VPBROADCASTD X15, Y15

// k23shuf at 32j is SCALE_CTRL(j): bytes 4j,4j+1 repeated in the low lane
// and 4j+2,4j+3 in the high one, the int16 scales of groups 2j and 2j+1.
DATA k23shuf<>+0(SB)/8, $0x0100010001000100
DATA k23shuf<>+8(SB)/8, $0x0100010001000100
DATA k23shuf<>+16(SB)/8, $0x0302030203020302
DATA k23shuf<>+24(SB)/8, $0x0302030203020302
DATA k23shuf<>+32(SB)/8, $0x0504050405040504
DATA k23shuf<>+40(SB)/8, $0x0504050405040504
DATA k23shuf<>+48(SB)/8, $0x0706070607060706
DATA k23shuf<>+56(SB)/8, $0x0706070607060706
DATA k23shuf<>+64(SB)/8, $0x0908090809080908
DATA k23shuf<>+72(SB)/8, $0x0908090809080908
DATA k23shuf<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k23shuf<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k23shuf<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k23shuf<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k23shuf<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k23shuf<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL k23shuf<>(SB), RODATA|NOPTR, $128

// SPLIT_SCALES turns the sixteen int16 scales in Y3 into Y10 (groups 0..7
// in both lanes) and Y11 (groups 8..15 in both lanes).
#define SPLIT_SCALES \
	VPERMQ $0x44, Y3, Y10 \
	VPERMQ $0xee, Y3, Y11

// Q2K_QUARTER(xoff, sh, j, sc): the 2-bit quants of Y2 shifted right by
// sh, times the activation at xoff(BX), each group scaled by the int16
// scale the shuffle of quarter j (at k23shuf+32j) picks from sc, added to
// Y12.
#define Q2K_QUARTER(xoff, sh, j, sc) \
	VPSRLW     $sh, Y2, Y3 \
	VPAND      Y15, Y3, Y3 \
	VPMADDUBSW xoff(BX), Y3, Y3 \
	VPSHUFB    k23shuf<>+(32*j)(SB), sc, Y4 \
	VPMADDWD   Y4, Y3, Y3 \
	VPADDD     Y3, Y12, Y12

// Q3K_QUARTER(xoff, sh, j, sc, hop, hsh): as Q2K_QUARTER with the
// hmask bit of the quarter (in Y13) moved to bit 2 by hop $hsh and masked
// with Y14 (0x04 bytes), so the value is q + 4 in 0..7.
#define Q3K_QUARTER(xoff, sh, j, sc, hop, hsh) \
	VPSRLW     $sh, Y2, Y3 \
	VPAND      Y15, Y3, Y3 \
	hop        $hsh, Y13, Y4 \
	VPAND      Y14, Y4, Y4 \
	VPOR       Y4, Y3, Y3 \
	VPMADDUBSW xoff(BX), Y3, Y3 \
	VPSHUFB    k23shuf<>+(32*j)(SB), sc, Y4 \
	VPMADDWD   Y4, Y3, Y3 \
	VPADDD     Y3, Y12, Y12

// Multi-row kernels (intgemm.go's gemmKernel): each weight row times c = 2
// to 4 activation rows (one row goes to the one-row kernel), the 2-bit quants shifted and masked once per
// quarter for all c rows. Each activation row gets exactly the one-row
// kernel's arithmetic: the same int32 lanes (integer sums, so their order
// does not matter), the same float products d·dx and dmin·dx, FMAs and
// final reduction, so its bits do not depend on c nor on the kernel.
//
// Registers: DI weight row, R10 weight rows left, R14 out (activation row
// 0), SI super-block, BX activation quants (row 0), R11 their row stride,
// R9 3·R11, DX activation scales (row 0), R12 their row stride in bytes,
// R13 3·R12, R8 activation sums (row 0; row r at 8r·R12), CX super-blocks
// left, AX scratch. Y4..Y7 the int32 sums and Y8..Y11 the float
// accumulators of activation rows 0..3, Y0..Y3 Q2_K's minimum terms
// (Q3_K: Y0 the hmask, Y1 0x04 bytes, Y2, Y3 scratch); Y12 the 2-bit
// quants, Y13 one quarter of them, Y14 products, Y15 0x03 bytes. Stack:
// 0(SP) the quarters' eight shuffled scale vectors (32 bytes each, half n
// quarter j at 128n+32j), 256(SP) the out stride in bytes, 264(SP) R9,
// 272(SP) R11, 280(SP) R12, 288(SP) R13 (Q3_K's scale unpack uses them).

DATA k23m0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA k23m0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL k23m0f<>(SB), RODATA|NOPTR, $16

#define Q2G_QUARTER(off, sh, slot, RS) \
	VPSRLW $sh, Y12, Y13 \
	VPAND  Y15, Y13, Y13 \
	RS(off, slot)

#define GEMM_Q2_K(MINS, MZERO, ZERO, RS, FLOAT, FZERO, STORE) \
	G23_START \
row: \
	G23_ROW_START \
	FZERO \
	MZERO \
sb: \
	VMOVDQU   (SI), X4 \
	VPSRLW    $4, X4, X5 \
	VPAND     k23m0f<>(SB), X4, X4 \
	VPAND     k23m0f<>(SB), X5, X5 \
	VPMOVZXBW X5, Y5 \
	G23_HALVES(80, X6) \
	MINS \
	VPMOVZXBW X4, Y4 \
	VPERMQ    $0x44, Y4, Y6 \
	VPERMQ    $0xee, Y4, Y7 \
	G23_SHUFFLES(Y6, Y7) \
	ZERO \
	VMOVDQU   16(SI), Y12 \
	Q2G_QUARTER(0, 0, 0, RS) \
	Q2G_QUARTER(32, 2, 32, RS) \
	Q2G_QUARTER(64, 4, 64, RS) \
	Q2G_QUARTER(96, 6, 96, RS) \
	VMOVDQU   48(SI), Y12 \
	Q2G_QUARTER(128, 0, 128, RS) \
	Q2G_QUARTER(160, 2, 160, RS) \
	Q2G_QUARTER(192, 4, 192, RS) \
	Q2G_QUARTER(224, 6, 224, RS) \
	G23_HALVES(80, X12) \
	FLOAT \
	G23_TAIL(84, STORE, SUB_MINS)

#define Q3G_QUARTER(off, sh, slot, hop, hsh, RS) \
	VPSRLW $sh, Y12, Y13 \
	VPAND  Y15, Y13, Y13 \
	hop    $hsh, Y0, Y2 \
	VPAND  Y1, Y2, Y2 \
	VPOR   Y2, Y13, Y13 \
	RS(off, slot)

#define GEMM_Q3_K(OFFS, RS, FLOAT, FZERO, STORE) \
	G23_START \
	MOVL         $0x04040404, AX \
	VMOVD        AX, X1 \
	VPBROADCASTD X1, Y1 \
row: \
	G23_ROW_START \
	FZERO \
sb: \
	G23_Q3_SB_START(OFFS) \
	VPERMQ       $0x44, Y3, Y2 \
	VPERMQ       $0xee, Y3, Y3 \
	G23_SHUFFLES(Y2, Y3) \
	VMOVDQU      (SI), Y0 \
	VMOVDQU      32(SI), Y12 \
	Q3G_QUARTER(0, 0, 0, VPSLLW, 2, RS) \
	Q3G_QUARTER(32, 2, 32, VPSLLW, 1, RS) \
	Q3G_QUARTER(64, 4, 64, VPSLLW, 0, RS) \
	Q3G_QUARTER(96, 6, 96, VPSRLW, 1, RS) \
	VMOVDQU      64(SI), Y12 \
	Q3G_QUARTER(128, 0, 128, VPSRLW, 2, RS) \
	Q3G_QUARTER(160, 2, 160, VPSRLW, 3, RS) \
	Q3G_QUARTER(192, 4, 192, VPSRLW, 4, RS) \
	Q3G_QUARTER(224, 6, 224, VPSRLW, 5, RS) \
	G23_Q3_SB_END(FLOAT) \
	G23_TAIL(110, STORE, SUB_NONE)

// func dotQ2_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)
// Q2_K super-blocks (84 bytes: scales[16], qs[64], f16 d, f16 dmin).
// Y13 0x0f bytes, Y14 d·dx; the minimum terms Σ m·sum times dmin·dx go
// to Y1.
TEXT ·dotQ2_KRowsAVX2(SB), NOSPLIT, $0-64
	K23_ROWS_START
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13

k2row:
	KROW_START

k2sb:
	Q2K_SB_START
	SPLIT_SCALES

	VPXOR   Y12, Y12, Y12
	VMOVDQU 16(SI), Y2
	Q2K_QUARTER(0, 0, 0, Y10)
	Q2K_QUARTER(32, 2, 1, Y10)
	Q2K_QUARTER(64, 4, 2, Y10)
	Q2K_QUARTER(96, 6, 3, Y10)
	VMOVDQU 48(SI), Y2
	Q2K_QUARTER(128, 0, 0, Y11)
	Q2K_QUARTER(160, 2, 1, Y11)
	Q2K_QUARTER(192, 4, 2, Y11)
	Q2K_QUARTER(224, 6, 3, Y11)
	VCVTDQ2PS   Y12, Y12
	VFMADD231PS Y12, Y14, Y0

	G23_SB_NEXT(84)
	JNZ  k2sb

	KROW_END
	JNZ k2row
	VZEROUPPER
	RET

// func dotQ3_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)
// Q3_K super-blocks (110 bytes: hmask[32], qs[64], scales[12], f16 d).
// Y13 the hmask, Y14 0x04 bytes. The scales (6 bits less 32) are unpacked
// in general registers as ggml's kmask shuffle does, two 32-bit words per
// 64-bit operation; the offset of 4 is -4·Σ scale·sum over the groups.
TEXT ·dotQ3_KRowsAVX2(SB), NOSPLIT, $0-64
	K23_ROWS_START
	MOVL         $0x04040404, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14

k3row:
	KROW_START

k3sb:
	Q3K_SCALES(X4)
	Q3K_SB_OFFSET
	SPLIT_SCALES

	VMOVDQU (SI), Y13
	VMOVDQU 32(SI), Y2
	Q3K_QUARTER(0, 0, 0, Y10, VPSLLW, 2)
	Q3K_QUARTER(32, 2, 1, Y10, VPSLLW, 1)
	Q3K_QUARTER(64, 4, 2, Y10, VPSLLW, 0)
	Q3K_QUARTER(96, 6, 3, Y10, VPSRLW, 1)
	VMOVDQU 64(SI), Y2
	Q3K_QUARTER(128, 0, 0, Y11, VPSRLW, 2)
	Q3K_QUARTER(160, 2, 1, Y11, VPSRLW, 3)
	Q3K_QUARTER(192, 4, 2, Y11, VPSRLW, 4)
	Q3K_QUARTER(224, 6, 3, Y11, VPSRLW, 5)

	Q3K_SB_END

	G23_SB_NEXT(110)
	JNZ  k3sb

	KROW_END
	JNZ k3row
	VZEROUPPER
	RET

// func gemmQ2_Kx2AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ2_Kx2AVX2(SB), $296-80
	GEMM_Q2_K(Q2G_MINS2, Q2G_MZERO2, G23_ZERO2, G23_R2, G23_FLOAT2, G23_FZERO2, G23_STORE2)

// func gemmQ2_Kx3AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ2_Kx3AVX2(SB), $296-80
	GEMM_Q2_K(Q2G_MINS3, Q2G_MZERO3, G23_ZERO3, G23_R3, G23_FLOAT3, G23_FZERO3, G23_STORE3)

// func gemmQ2_Kx4AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ2_Kx4AVX2(SB), $296-80
	GEMM_Q2_K(Q2G_MINS4, Q2G_MZERO4, G23_ZERO4, G23_R4, G23_FLOAT4, G23_FZERO4, G23_STORE4)

// func gemmQ3_Kx2AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ3_Kx2AVX2(SB), $296-80
	GEMM_Q3_K(Q3G_OFFS2, G23_R2, G23_FLOAT2, G23_FZERO2, G23_STORE2)

// func gemmQ3_Kx3AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ3_Kx3AVX2(SB), $296-80
	GEMM_Q3_K(Q3G_OFFS3, G23_R3, G23_FLOAT3, G23_FZERO3, G23_STORE3)

// func gemmQ3_Kx4AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ3_Kx4AVX2(SB), $296-80
	GEMM_Q3_K(Q3G_OFFS4, G23_R4, G23_FLOAT4, G23_FZERO4, G23_STORE4)
