// AVX-512 (BW, VNNI) versions of the one-row Q2_K and Q3_K kernels of
// intdotk23_amd64.s: the two 128-element halves of a super-block side by
// side in a zmm, so quarter j of both halves is one shift, mask,
// VPMADDUBSW and VPDPWSSD (the scale multiply and the add to the sums in
// one, the same integers as VPMADDWD and VPADDD); Q3_K's high bits come
// in by VPTESTMB and a masked add. At each super-block's end the zmm's int32 sums are folded
// to the AVX2 kernels' eight lanes (the same integers, which are exact),
// and the float arithmetic is theirs instruction for instruction, so both
// give the same bits and MatMul stays batch invariant whichever runs. The
// multi-row kernels here do the same for two to four activation rows
// (intdotk23_amd64.h's loops and float steps, with zmm sums Z4..Z7).

#include "textflag.h"
#include "intdot_amd64.h"
#include "intdotk23_amd64.h"

// k23perm at 64j: the VPERMW indices that spread the sixteen word scales
// over quarter j's products: groups 2j, 2j+1 (first half), 8+2j, 9+2j
// (second half), eight words each.
DATA k23perm<>+0(SB)/8, $0x0000000000000000
DATA k23perm<>+8(SB)/8, $0x0000000000000000
DATA k23perm<>+16(SB)/8, $0x0001000100010001
DATA k23perm<>+24(SB)/8, $0x0001000100010001
DATA k23perm<>+32(SB)/8, $0x0008000800080008
DATA k23perm<>+40(SB)/8, $0x0008000800080008
DATA k23perm<>+48(SB)/8, $0x0009000900090009
DATA k23perm<>+56(SB)/8, $0x0009000900090009
DATA k23perm<>+64(SB)/8, $0x0002000200020002
DATA k23perm<>+72(SB)/8, $0x0002000200020002
DATA k23perm<>+80(SB)/8, $0x0003000300030003
DATA k23perm<>+88(SB)/8, $0x0003000300030003
DATA k23perm<>+96(SB)/8, $0x000a000a000a000a
DATA k23perm<>+104(SB)/8, $0x000a000a000a000a
DATA k23perm<>+112(SB)/8, $0x000b000b000b000b
DATA k23perm<>+120(SB)/8, $0x000b000b000b000b
DATA k23perm<>+128(SB)/8, $0x0004000400040004
DATA k23perm<>+136(SB)/8, $0x0004000400040004
DATA k23perm<>+144(SB)/8, $0x0005000500050005
DATA k23perm<>+152(SB)/8, $0x0005000500050005
DATA k23perm<>+160(SB)/8, $0x000c000c000c000c
DATA k23perm<>+168(SB)/8, $0x000c000c000c000c
DATA k23perm<>+176(SB)/8, $0x000d000d000d000d
DATA k23perm<>+184(SB)/8, $0x000d000d000d000d
DATA k23perm<>+192(SB)/8, $0x0006000600060006
DATA k23perm<>+200(SB)/8, $0x0006000600060006
DATA k23perm<>+208(SB)/8, $0x0007000700070007
DATA k23perm<>+216(SB)/8, $0x0007000700070007
DATA k23perm<>+224(SB)/8, $0x000e000e000e000e
DATA k23perm<>+232(SB)/8, $0x000e000e000e000e
DATA k23perm<>+240(SB)/8, $0x000f000f000f000f
DATA k23perm<>+248(SB)/8, $0x000f000f000f000f
GLOBL k23perm<>(SB), RODATA|NOPTR, $256

// k23bits at 64j: Q3_K's hmask bit of quarter j, bit j for the first half
// and bit 4+j for the second.
DATA k23bits<>+0(SB)/8, $0x0101010101010101
DATA k23bits<>+8(SB)/8, $0x0101010101010101
DATA k23bits<>+16(SB)/8, $0x0101010101010101
DATA k23bits<>+24(SB)/8, $0x0101010101010101
DATA k23bits<>+32(SB)/8, $0x1010101010101010
DATA k23bits<>+40(SB)/8, $0x1010101010101010
DATA k23bits<>+48(SB)/8, $0x1010101010101010
DATA k23bits<>+56(SB)/8, $0x1010101010101010
DATA k23bits<>+64(SB)/8, $0x0202020202020202
DATA k23bits<>+72(SB)/8, $0x0202020202020202
DATA k23bits<>+80(SB)/8, $0x0202020202020202
DATA k23bits<>+88(SB)/8, $0x0202020202020202
DATA k23bits<>+96(SB)/8, $0x2020202020202020
DATA k23bits<>+104(SB)/8, $0x2020202020202020
DATA k23bits<>+112(SB)/8, $0x2020202020202020
DATA k23bits<>+120(SB)/8, $0x2020202020202020
DATA k23bits<>+128(SB)/8, $0x0404040404040404
DATA k23bits<>+136(SB)/8, $0x0404040404040404
DATA k23bits<>+144(SB)/8, $0x0404040404040404
DATA k23bits<>+152(SB)/8, $0x0404040404040404
DATA k23bits<>+160(SB)/8, $0x4040404040404040
DATA k23bits<>+168(SB)/8, $0x4040404040404040
DATA k23bits<>+176(SB)/8, $0x4040404040404040
DATA k23bits<>+184(SB)/8, $0x4040404040404040
DATA k23bits<>+192(SB)/8, $0x0808080808080808
DATA k23bits<>+200(SB)/8, $0x0808080808080808
DATA k23bits<>+208(SB)/8, $0x0808080808080808
DATA k23bits<>+216(SB)/8, $0x0808080808080808
DATA k23bits<>+224(SB)/8, $0x8080808080808080
DATA k23bits<>+232(SB)/8, $0x8080808080808080
DATA k23bits<>+240(SB)/8, $0x8080808080808080
DATA k23bits<>+248(SB)/8, $0x8080808080808080
GLOBL k23bits<>(SB), RODATA|NOPTR, $256

// Z_START loads the arguments, Z15 0x03 bytes and Z16..Z19 the
// permutations.
#define Z_START \
	MOVQ         w+0(FP), DI \
	MOVQ         nrows+16(FP), R10 \
	MOVQ         out+56(FP), R14 \
	MOVL         $0x03030303, AX \
	VPBROADCASTD AX, Z15 \
	VMOVDQU64    k23perm<>+0(SB), Z16 \
	VMOVDQU64    k23perm<>+64(SB), Z17 \
	VMOVDQU64    k23perm<>+128(SB), Z18 \
	VMOVDQU64    k23perm<>+192(SB), Z19

// Z_SCALES spreads the word scales of Y3 into Z20..Z23.
#define Z_SCALES \
	VPERMW Z3, Z16, Z20 \
	VPERMW Z3, Z17, Z21 \
	VPERMW Z3, Z18, Z22 \
	VPERMW Z3, Z19, Z23

// Z_QUARTER(j, sc): the 2-bit values of both halves' quarter j (Z25, from
// the quants in Z27, Q3_K's high bits added by HIGH) times the activation
// at 32j and 128+32j, scaled by sc, added to Z12.
#define Z_QUARTER(j, sc, HIGH) \
	VPSRLW       $(2*j), Z27, Z25 \
	VPANDD       Z15, Z25, Z25 \
	HIGH(j) \
	VMOVDQU64    (32*j)(BX), Y26 \
	VINSERTI64X4 $1, (128+32*j)(BX), Z26, Z26 \
	VPMADDUBSW   Z26, Z25, Z25 \
	VPDPWSSD     sc, Z25, Z12

#define HIGH_NONE(j)

// HIGH_Q3K(j) adds 4 where quarter j's hmask bit (hmask in both halves of
// Z24) is set: Z14 holds 0x04 bytes.
#define HIGH_Q3K(j) \
	VPTESTMB k23bits<>+(64*j)(SB), Z24, K1 \
	VPADDB   Z14, Z25, K1, Z25

#define Z_QUARTERS(HIGH) \
	Z_QUARTER(0, Z20, HIGH) \
	Z_QUARTER(1, Z21, HIGH) \
	Z_QUARTER(2, Z22, HIGH) \
	Z_QUARTER(3, Z23, HIGH) \
	VEXTRACTI64X4 $1, Z12, Y25 \
	VPADDD        Y25, Y12, Y12

// GZ_R(j, sc, sumi, xa): one activation row's step of quarter j (Z25):
// its quants at 32j and 128+32j from the row at xa, times Z25, scaled by
// sc, added to sumi.
#define GZ_R(j, sc, sumi, xa) \
	VMOVDQU64    (32*j)xa, Y26 \
	VINSERTI64X4 $1, (128+32*j)xa, Z26, Z26 \
	VPMADDUBSW   Z26, Z25, Z28 \
	VPDPWSSD     sc, Z28, sumi

#define GZ_R2(j, sc) GZ_R(j, sc, Z4, (BX)) \
	GZ_R(j, sc, Z5, (BX)(R11*1))
#define GZ_R3(j, sc) GZ_R2(j, sc) \
	GZ_R(j, sc, Z6, (BX)(R11*2))
#define GZ_R4(j, sc) GZ_R3(j, sc) \
	GZ_R(j, sc, Z7, (BX)(R9*1))

#define GZ_QUARTER(j, sc, HIGH, RS) \
	VPSRLW $(2*j), Z27, Z25 \
	VPANDD Z15, Z25, Z25 \
	HIGH(j) \
	RS(j, sc)

#define GZ_QUARTERS(HIGH, RS) \
	GZ_QUARTER(0, Z20, HIGH, RS) \
	GZ_QUARTER(1, Z21, HIGH, RS) \
	GZ_QUARTER(2, Z22, HIGH, RS) \
	GZ_QUARTER(3, Z23, HIGH, RS)

// GZ_FOLD: the zmm sums folded to the one-row kernels' eight lanes.
#define GZ_FOLD(s, ys) \
	VEXTRACTI64X4 $1, s, Y28 \
	VPADDD        Y28, ys, ys

#define GZ_FOLD2 GZ_FOLD(Z4, Y4) \
	GZ_FOLD(Z5, Y5)
#define GZ_FOLD3 GZ_FOLD2 \
	GZ_FOLD(Z6, Y6)
#define GZ_FOLD4 GZ_FOLD3 \
	GZ_FOLD(Z7, Y7)

// GZ_START: G23_START, then Z15 0x03 bytes in full, Z16..Z19 the scale
// permutations, Z29 0x0f bytes and Z14 0x04 bytes.
#define GZ_START \
	G23_START \
	VPBROADCASTD AX, Z15 \
	VMOVDQU64    k23perm<>+0(SB), Z16 \
	VMOVDQU64    k23perm<>+64(SB), Z17 \
	VMOVDQU64    k23perm<>+128(SB), Z18 \
	VMOVDQU64    k23perm<>+192(SB), Z19 \
	MOVL         $0x0f0f0f0f, AX \
	VPBROADCASTD AX, Z29 \
	MOVL         $0x04040404, AX \
	VPBROADCASTD AX, Z14

#define GEMMZ_Q2_K(MINS, MZERO, ZERO, RS, FOLD, FLOAT, FZERO, STORE) \
	GZ_START \
row: \
	G23_ROW_START \
	FZERO \
	MZERO \
sb: \
	VMOVDQU   (SI), X4 \
	VPSRLW    $4, X4, X5 \
	VPANDD    X29, X4, X4 \
	VPANDD    X29, X5, X5 \
	VPMOVZXBW X5, Y5 \
	G23_HALVES(80, X6) \
	MINS \
	VPMOVZXBW X4, Y4 \
	Z_SCALES4 \
	ZERO \
	VMOVDQU64 16(SI), Z27 \
	GZ_QUARTERS(HIGH_NONE, RS) \
	FOLD \
	G23_HALVES(80, X12) \
	FLOAT \
	G23_TAIL(84, STORE, SUB_MINS)

#define GEMMZ_Q3_K(OFFS, RS, FOLD, FLOAT, FZERO, STORE) \
	GZ_START \
row: \
	G23_ROW_START \
	FZERO \
sb: \
	G23_Q3_SB_START(OFFS) \
	Z_SCALES \
	VBROADCASTI64X4 (SI), Z24 \
	VMOVDQU64    32(SI), Z27 \
	GZ_QUARTERS(HIGH_Q3K, RS) \
	FOLD \
	G23_Q3_SB_END(FLOAT) \
	G23_TAIL(110, STORE, SUB_NONE)

// Z_SCALES4 is Z_SCALES from the word scales in Y4.
#define Z_SCALES4 \
	VPERMW Z4, Z16, Z20 \
	VPERMW Z4, Z17, Z21 \
	VPERMW Z4, Z18, Z22 \
	VPERMW Z4, Z19, Z23

// func dotQ2_KRowsAVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)
// As dotQ2_KRowsAVX2: Y13 0x0f bytes, Y14 d·dx, minimum terms in Y1.
TEXT ·dotQ2_KRowsAVX512(SB), NOSPLIT, $0-64
	Z_START
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13

z2row:
	KROW_START

z2sb:
	Q2K_SB_START
	Z_SCALES

	VPXOR     Y12, Y12, Y12
	VMOVDQU64 16(SI), Z27
	Z_QUARTERS(HIGH_NONE)
	VCVTDQ2PS   Y12, Y12
	VFMADD231PS Y12, Y14, Y0

	G23_SB_NEXT(84)
	JNZ  z2sb

	KROW_END
	JNZ z2row
	VZEROUPPER
	RET

// func dotQ3_KRowsAVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)
// As dotQ3_KRowsAVX2, with Z14 0x04 bytes and Z24 the hmask twice.
TEXT ·dotQ3_KRowsAVX512(SB), NOSPLIT, $0-64
	Z_START
	MOVL         $0x04040404, AX
	VPBROADCASTD AX, Z14

z3row:
	KROW_START

z3sb:
	Q3K_SCALES(X4)
	Q3K_SB_OFFSET
	Z_SCALES

	VBROADCASTI64X4 (SI), Z24
	VMOVDQU64       32(SI), Z27
	Z_QUARTERS(HIGH_Q3K)

	Q3K_SB_END

	G23_SB_NEXT(110)
	JNZ  z3sb

	KROW_END
	JNZ z3row
	VZEROUPPER
	RET

// func gemmQ2_Kx2AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ2_Kx2AVX512(SB), $296-80
	GEMMZ_Q2_K(Q2G_MINS2, Q2G_MZERO2, G23_ZERO2, GZ_R2, GZ_FOLD2, G23_FLOAT2, G23_FZERO2, G23_STORE2)

// func gemmQ2_Kx3AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ2_Kx3AVX512(SB), $296-80
	GEMMZ_Q2_K(Q2G_MINS3, Q2G_MZERO3, G23_ZERO3, GZ_R3, GZ_FOLD3, G23_FLOAT3, G23_FZERO3, G23_STORE3)

// func gemmQ2_Kx4AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ2_Kx4AVX512(SB), $296-80
	GEMMZ_Q2_K(Q2G_MINS4, Q2G_MZERO4, G23_ZERO4, GZ_R4, GZ_FOLD4, G23_FLOAT4, G23_FZERO4, G23_STORE4)

// func gemmQ3_Kx2AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ3_Kx2AVX512(SB), $296-80
	GEMMZ_Q3_K(Q3G_OFFS2, GZ_R2, GZ_FOLD2, G23_FLOAT2, G23_FZERO2, G23_STORE2)

// func gemmQ3_Kx3AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ3_Kx3AVX512(SB), $296-80
	GEMMZ_Q3_K(Q3G_OFFS3, GZ_R3, GZ_FOLD3, G23_FLOAT3, G23_FZERO3, G23_STORE3)

// func gemmQ3_Kx4AVX512(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ3_Kx4AVX512(SB), $296-80
	GEMMZ_Q3_K(Q3G_OFFS4, GZ_R4, GZ_FOLD4, G23_FLOAT4, G23_FZERO4, G23_STORE4)
