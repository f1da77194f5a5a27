// Small-batch integer GEMM kernels for the K-quants (Q4_K, Q5_K, Q6_K) on
// amd64 with AVX-512 VNNI, the counterparts of intdotk_amd64.s as
// intgemm_amd64.s is of intdot_amd64.s; intgemm.go calls them and
// intdot.go holds their Go references.

#include "textflag.h"

// Q4_K kernels: a tile of two weight rows times up to four activation rows
// (q8K), one 64-element chunk of a super-block per step. A zmm holds the
// chunk's 32 low nibbles (sub-block 2n) then its 32 high nibbles (2n+1),
// as the activation's 64 quants lie. VPMADDUBSW makes word pairs
// (≤ 2·15·127, no saturation) and VPDPWSSD multiplies them by the
// sub-block scales into int32 sums per super-block; at its end the sums
// go to float, times d·dx, less dmin·dx times the minimums' products with
// the activation's 16-element sums.
//
// Registers: DI tile base, R9 rowSize, SI row 0 at the current
// super-block (row 1 at (SI)(R9*1)), BX activation quants, R11 their row
// stride, R13 3·R11, DX activation scales, R8 their row stride, R15
// activation sums, CX super-blocks left; AX, R10, R12, R14 scratch (rows
// left and out live at 32(SP) and 40(SP)). Z(2j+i) int32 sums and
// Z(8+2j+i) float accumulators of weight row i and activation row j,
// Z16/Z17 weight chunks, Z18/Z19 their scales as words, Z20 activation
// chunk, Z21 scratch, Z22 activation scale, Z23/Z24 d and Z25/Z26 dmin of
// rows 0/1, Y27/Y28 their minimums each twice as words, Z29/Z30 scratch,
// Z31 0x0f bytes; K1 the high 16 words. 0(SP) and 16(SP): the eight
// sub-block scales of rows 0 and 1 as words; 48(SP) the prefetch pointer,
// two tiles ahead, advanced 320 bytes a super-block (a tile reads 288),
// as the Q8_0 kernels do (intgemm_amd64.s).

// K4_ROW unpacks the scales and minimums of the super-block whose scale
// bytes are at a4, a8, a12 and d, dmin at a0.
#define K4_ROW(a0, a4, a8, a12, slot, Ym, Zd, Zdm) \
	MOVL          a4, AX \
	MOVL          a12, R12 \
	MOVL          AX, R10 \
	ANDL          $0x3f3f3f3f, R10 \
	MOVL          R12, R14 \
	ANDL          $0x0f0f0f0f, R14 \
	SHRL          $6, AX \
	ANDL          $0x03030303, AX \
	SHLL          $4, AX \
	ORL           AX, R14 \
	SHLQ          $32, R14 \
	ORQ           R14, R10 \
	VMOVQ         R10, X0 \
	VPMOVZXBW     X0, X0 \
	VMOVDQU       X0, slot \
	MOVL          a8, AX \
	MOVL          AX, R10 \
	ANDL          $0x3f3f3f3f, R10 \
	SHRL          $4, R12 \
	ANDL          $0x0f0f0f0f, R12 \
	SHRL          $6, AX \
	ANDL          $0x03030303, AX \
	SHLL          $4, AX \
	ORL           AX, R12 \
	SHLQ          $32, R12 \
	ORQ           R12, R10 \
	VMOVQ         R10, X0 \
	VPMOVZXBW     X0, X0 \
	VPUNPCKLWD    X0, X0, X1 \
	VPUNPCKHWD    X0, X0, X0 \
	VINSERTI32X4  $1, X0, Y1, Ym \
	VCVTPH2PS     a0, X0 \
	VBROADCASTSS  X0, Zd \
	VMOVSHDUP     X0, X0 \
	VBROADCASTSS  X0, Zdm

// K4_W: the 32 bytes of nibbles at qa as 64 bytes in W.
#define K4_W(qa, Wy, Wz) \
	VMOVDQU64    qa, Wy \
	VPSRLW       $4, Wy, Y21 \
	VINSERTI64X4 $1, Y21, Wz, Wz \
	VPANDD       Z31, Wz, Wz

#define K4_PAIR(W, SC, acc) \
	VPMADDUBSW Z20, W, Z21 \
	VPDPWSSD   Z21, SC, acc

#define K4_J(xa, a0, a1) \
	VMOVDQU64 xa, Z20 \
	K4_PAIR(Z16, Z18, a0) \
	K4_PAIR(Z17, Z19, a1)

#define K4_J0(n) K4_J((64*n)(BX), Z0, Z1)
#define K4_J1(n) K4_J((64*n)(BX)(R11*1), Z2, Z3)
#define K4_J2(n) K4_J((64*n)(BX)(R11*2), Z4, Z5)
#define K4_J3(n) K4_J((64*n)(BX)(R13*1), Z6, Z7)

// K4_SC: the scales of chunk n's sub-blocks 2n (low 16 words) and 2n+1
// (high 16) as words, of row 0 in Z18 and row 1 in Z19.
#define K4_SC(n) \
	VPBROADCASTW (4*n)(SP), Z18 \
	VPBROADCASTW (4*n+2)(SP), K1, Z18 \
	VPBROADCASTW (16+4*n)(SP), Z19 \
	VPBROADCASTW (18+4*n)(SP), K1, Z19

#define K4_CHUNK(n, JS) \
	K4_W((16+32*n)(SI), Y16, Z16) \
	K4_W((16+32*n)(SI)(R9*1), Y17, Z17) \
	K4_SC(n) \
	JS(n)

#define K4_CHUNKS(JS) \
	K4_CHUNK(0, JS) \
	K4_CHUNK(1, JS) \
	K4_CHUNK(2, JS) \
	K4_CHUNK(3, JS)

// K4_PF: prefetch the tile two ahead, 320 bytes a super-block.
#define K4_PF \
	MOVQ       48(SP), AX \
	PREFETCHT0 (AX) \
	PREFETCHT0 64(AX) \
	PREFETCHT0 128(AX) \
	PREFETCHT0 192(AX) \
	PREFETCHT0 256(AX) \
	ADDQ       $320, 48(SP)

#define K4_JS1(n) K4_J0(n)
#define K4_JS2(n) K4_J0(n) \
	K4_J1(n)
#define K4_JS3(n) K4_JS2(n) \
	K4_J2(n)
#define K4_JS4(n) K4_JS3(n) \
	K4_J3(n)

// K4_FLOAT adds a super-block's int32 sums isum of one row (d Zd, dmin
// Zdm, minimums Ym) and activation row (scale in Z22, sums at bs) to acc.
#define K4_FLOAT(bs, Ym, Zd, Zdm, isum, acc) \
	VPMADDWD     bs, Ym, Y29 \
	VCVTDQ2PS    Y29, Y29 \
	VCVTDQ2PS    isum, Z30 \
	VMULPS       Z22, Zd, Z21 \
	VFMADD231PS  Z30, Z21, acc \
	VMULPS       Z22, Zdm, Z21 \
	VFNMADD231PS Z29, Z21, acc

#define K4_END_J(xd, bs, i0, i1, a0, a1) \
	VBROADCASTSS xd, Z22 \
	K4_FLOAT(bs, Y27, Z23, Z25, i0, a0) \
	K4_FLOAT(bs, Y28, Z24, Z26, i1, a1)

#define K4_END1 K4_END_J((DX), (R15), Z0, Z1, Z8, Z9)
#define K4_END2 K4_END1 \
	K4_END_J((DX)(R8*1), (R15)(R8*8), Z2, Z3, Z10, Z11)
#define K4_END3 K4_END2 \
	LEAQ (R15)(R8*8), AX \
	K4_END_J((DX)(R8*2), (AX)(R8*8), Z4, Z5, Z12, Z13)
#define K4_END4 K4_END3 \
	LEAQ (AX)(R8*8), AX \
	LEAQ (R8)(R8*2), R12 \
	K4_END_J((DX)(R12*1), (AX)(R8*8), Z6, Z7, Z14, Z15)

// REDUCE_PAIR sums accumulators a (weight row 0) and b (row 1) and stores
// the two floats at out.
#define REDUCE_PAIR(a, b, out) \
	VSHUFF32X4    $0x44, b, a, Z0 \
	VSHUFF32X4    $0xee, b, a, Z1 \
	VADDPS        Z1, Z0, Z0 \
	VEXTRACTF64X4 $1, Z0, Y1 \
	VHADDPS       Y1, Y0, Y0 \
	VHADDPS       Y0, Y0, Y0 \
	VEXTRACTF128  $1, Y0, X1 \
	VADDPS        X1, X0, X0 \
	VMOVLPS       X0, out

#define K4_RED1 REDUCE_PAIR(Z8, Z9, (R14))
#define K4_RED2 K4_RED1 \
	REDUCE_PAIR(Z10, Z11, (R14)(AX*1))
#define K4_RED3 K4_RED2 \
	REDUCE_PAIR(Z12, Z13, (R14)(AX*2))
#define K4_RED4 K4_RED3 \
	LEAQ (AX)(AX*2), R12 \
	REDUCE_PAIR(Z14, Z15, (R14)(R12*1))

#define ZERO_I1 VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1
#define ZERO_I2 ZERO_I1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3
#define ZERO_I3 ZERO_I2 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5
#define ZERO_I4 ZERO_I3 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7

#define ZERO_F1 VPXORD Z8, Z8, Z8 \
	VPXORD Z9, Z9, Z9
#define ZERO_F2 ZERO_F1 \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11
#define ZERO_F3 ZERO_F2 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13
#define ZERO_F4 ZERO_F3 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15

// GEMM_K4(SBB, PF, CHUNKS, JS, ZI, ZF, END, RED): a Q4_K or Q5_K kernel
// (super-blocks of SBB bytes, prefetched by PF, their four chunks run by
// CHUNKS) for the activation rows that JS steps, ZI and ZF clear, END
// scales and RED stores.
#define GEMM_K4(SBB, PF, CHUNKS, JS, ZI, ZF, END, RED) \
	MOVQ         w+0(FP), DI \
	MOVQ         rowSize+8(FP), R9 \
	MOVQ         nrows+16(FP), AX \
	MOVQ         AX, 32(SP) \
	MOVQ         out+64(FP), AX \
	MOVQ         AX, 40(SP) \
	MOVQ         xstride+48(FP), R11 \
	LEAQ         (R11)(R11*2), R13 \
	MOVQ         nsb+56(FP), R8 \
	SHLQ         $2, R8 \
	MOVL         $0x0f0f0f0f, AX \
	VPBROADCASTD AX, Z31 \
	MOVL         $0xffff0000, AX \
	KMOVD        AX, K1 \
tile: \
	MOVQ DI, SI \
	MOVQ xq+24(FP), BX \
	MOVQ xd+32(FP), DX \
	MOVQ sums+40(FP), R15 \
	MOVQ nsb+56(FP), CX \
	LEAQ (DI)(R9*4), AX \
	MOVQ AX, 48(SP) \
	ZF \
sb: \
	PF \
	K4_ROW(0(SI), 4(SI), 8(SI), 12(SI), 0(SP), Y27, Z23, Z25) \
	K4_ROW(0(SI)(R9*1), 4(SI)(R9*1), 8(SI)(R9*1), 12(SI)(R9*1), 16(SP), Y28, Z24, Z26) \
	ZI \
	CHUNKS(JS) \
	END \
	ADDQ $SBB, SI \
	ADDQ $256, BX \
	ADDQ $4, DX \
	ADDQ $32, R15 \
	DECQ CX \
	JNZ  sb \
	MOVQ 40(SP), R14 \
	MOVQ ostride+72(FP), AX \
	SHLQ $2, AX \
	RED \
	ADDQ $8, 40(SP) \
	LEAQ (DI)(R9*2), DI \
	SUBQ $2, 32(SP) \
	JNZ  tile \
	VZEROUPPER \
	RET

// Q5_K kernels: Q4_K's tile, registers and loop (GEMM_K4) on super-blocks
// of 176 bytes (d, dmin, scales[12], qh[32], qs[128]), each chunk's values
// given their fifth bit from qh: bit 2n of qh[l] for the low nibble of
// qs[32n+l], bit 2n+1 for its high one. Per super-block a zmm of each row
// holds qh (low half) and qh >> 1 (high half), so bit 2n of either half is
// the fifth bit of chunk n; one shift moves it to bit 4 and one VPTERNLOGD
// ORs it, masked with 0x10, into the chunk. Besides Q4_K's registers: Z29
// and Z30 those qh of rows 0 and 1, Z22 scratch (the END step reuses all
// three once the chunks are done); the prefetch goes 384 bytes a
// super-block (a tile reads 352).

// K5_QH: the qh at qa (32 bytes) and qh >> 1 into Z.
#define K5_QH(qa, Z) \
	VMOVDQU64    qa, Y21 \
	VPSRLW       $1, Y21, Y22 \
	VINSERTI64X4 $1, Y22, Z21, Z

// K5_HBn(Q, W): chunk n's fifth bits from Q ORed into W as bit 4.
#define K5_SH(op, s, Q, W) \
	op              $s, Q, Z22 \
	VPTERNLOGD.BCST $0xf8, gemm5bit<>(SB), Z22, W

#define K5_HB0(Q, W) K5_SH(VPSLLW, 4, Q, W)
#define K5_HB1(Q, W) K5_SH(VPSLLW, 2, Q, W)
#define K5_HB2(Q, W) VPTERNLOGD.BCST $0xf8, gemm5bit<>(SB), Q, W
#define K5_HB3(Q, W) K5_SH(VPSRLW, 2, Q, W)

#define K5_CHUNK(n, HB, JS) \
	K4_W((48+32*n)(SI), Y16, Z16) \
	K4_W((48+32*n)(SI)(R9*1), Y17, Z17) \
	HB(Z29, Z16) \
	HB(Z30, Z17) \
	K4_SC(n) \
	JS(n)

#define K5_CHUNKS(JS) \
	K5_QH(16(SI), Z29) \
	K5_QH(16(SI)(R9*1), Z30) \
	K5_CHUNK(0, K5_HB0, JS) \
	K5_CHUNK(1, K5_HB1, JS) \
	K5_CHUNK(2, K5_HB2, JS) \
	K5_CHUNK(3, K5_HB3, JS)

#define K5_PF \
	MOVQ       48(SP), AX \
	PREFETCHT0 (AX) \
	PREFETCHT0 64(AX) \
	PREFETCHT0 128(AX) \
	PREFETCHT0 192(AX) \
	PREFETCHT0 256(AX) \
	PREFETCHT0 320(AX) \
	ADDQ       $384, 48(SP)

// Q6_K kernels: the same tile and registers as Q4_K's, with a chunk of
// 64 elements per step: (ql & 0x0f or ql >> 4) | two qh bits << 4 gives
// the unsigned 6-bit values, the sixteen int8 scales (one per 16
// elements) become words through VPERMW from their copy on the stack, and
// the -32 offset is taken off each super-block's int32 sums as
// 32·Σ scale·(sum of 16 activation quants) before they go to float.
// Besides Q4_K's: Z25/Z26 qh scratch, Z29 the VPERMW index (0 eight
// times, then 1, 2, 3), Z30 0x30 bytes; 0(SP) and 32(SP) the sixteen
// scales of rows 0 and 1 as words (VPERMW reads 64 bytes from 8q(slot)),
// rows left and out at 128(SP) and 136(SP), the prefetch pointer at
// 144(SP) (448 bytes a super-block; a tile reads 420).

// K6_ROW: the scales of the super-block at r as words to slot, its d
// broadcast into Zd.
#define K6_ROW(s192, d208, slot, Zd) \
	VPMOVSXBW    s192, Y27 \
	VMOVDQU64    Y27, slot \
	MOVWLZX      d208, AX \
	VMOVD        AX, X27 \
	VCVTPH2PS    X27, X27 \
	VBROADCASTSS X27, Zd

// K6_W0 / K6_W1: weight chunk 2h+c (c = 0 / 1) of one row from its ql at
// qla (64 bytes) and qh at qha (32 bytes) into W.
#define K6_W0(qla, qha, W) \
	VMOVDQU64    qha, Y25 \
	VPSLLW       $4, Y25, Y26 \
	VPSLLW       $2, Y25, Y25 \
	VINSERTI64X4 $1, Y25, Z26, Z26 \
	VPANDD       Z30, Z26, Z26 \
	VMOVDQU64    qla, W \
	VPANDD       Z31, W, W \
	VPORD        Z26, W, W

#define K6_W1(qla, qha, W) \
	VMOVDQU64    qha, Y25 \
	VPSRLW       $2, Y25, Y26 \
	VINSERTI64X4 $1, Y26, Z25, Z25 \
	VPANDD       Z30, Z25, Z25 \
	VMOVDQU64    qla, W \
	VPSRLW       $4, W, W \
	VPANDD       Z31, W, W \
	VPORD        Z25, W, W

#define K6_J0(xo) K4_J(xo(BX), Z0, Z1)
#define K6_J1(xo) K4_J(xo(BX)(R11*1), Z2, Z3)
#define K6_J2(xo) K4_J(xo(BX)(R11*2), Z4, Z5)
#define K6_J3(xo) K4_J(xo(BX)(R13*1), Z6, Z7)

#define K6_JS1(xo) K6_J0(xo)
#define K6_JS2(xo) K6_J0(xo) \
	K6_J1(xo)
#define K6_JS3(xo) K6_JS2(xo) \
	K6_J2(xo)
#define K6_JS4(xo) K6_JS3(xo) \
	K6_J3(xo)

// K6_CHUNK(WM, h, c, JS): chunk q = 2h+c, elements 128h+64c.. of the
// super-block.
#define K6_CHUNK(WM, h, c, JS) \
	WM((64*h)(SI), (128+32*h)(SI), Z16) \
	WM((64*h)(SI)(R9*1), (128+32*h)(SI)(R9*1), Z17) \
	VPERMW (16*h+8*c)(SP), Z29, Z18 \
	VPERMW (32+16*h+8*c)(SP), Z29, Z19 \
	JS((128*h+64*c))

// K6_END_J: take the offset off one pair's sums (row scales as words in
// Y27, activation sums at bs) and add them, times d·dx, to acc.
#define K6_END_J(xd, bs, Zd, isum, acc) \
	VPMADDWD     bs, Y27, Y28 \
	VPSLLD       $5, Y28, Y28 \
	VPSUBD       Z28, isum, isum \
	VBROADCASTSS xd, Z22 \
	VMULPS       Z22, Zd, Z21 \
	VCVTDQ2PS    isum, Z20 \
	VFMADD231PS  Z20, Z21, acc

// K6_END_ROW(slot, Zd, i): row i's pairs, for one to four activation rows.
#define K6_ENDS1(Zd, i0, a0, i1, a1, i2, a2, i3, a3) \
	K6_END_J((DX), (R15), Zd, i0, a0)
#define K6_ENDS2(Zd, i0, a0, i1, a1, i2, a2, i3, a3) \
	K6_ENDS1(Zd, i0, a0, i1, a1, i2, a2, i3, a3) \
	K6_END_J((DX)(R8*1), (R15)(R8*8), Zd, i1, a1)
#define K6_ENDS3(Zd, i0, a0, i1, a1, i2, a2, i3, a3) \
	K6_ENDS2(Zd, i0, a0, i1, a1, i2, a2, i3, a3) \
	LEAQ (R15)(R8*8), AX \
	K6_END_J((DX)(R8*2), (AX)(R8*8), Zd, i2, a2)
#define K6_ENDS4(Zd, i0, a0, i1, a1, i2, a2, i3, a3) \
	K6_ENDS3(Zd, i0, a0, i1, a1, i2, a2, i3, a3) \
	LEAQ (AX)(R8*8), AX \
	LEAQ (R8)(R8*2), R12 \
	K6_END_J((DX)(R12*1), (AX)(R8*8), Zd, i3, a3)

#define K6_END(ENDS) \
	VMOVDQU64 0(SP), Y27 \
	ENDS(Z23, Z0, Z8, Z2, Z10, Z4, Z12, Z6, Z14) \
	VMOVDQU64 32(SP), Y27 \
	ENDS(Z24, Z1, Z9, Z3, Z11, Z5, Z13, Z7, Z15)

#define GEMM_Q6_K(JS, ZI, ZF, ENDS, RED) \
	MOVQ         w+0(FP), DI \
	MOVQ         rowSize+8(FP), R9 \
	MOVQ         nrows+16(FP), AX \
	MOVQ         AX, 128(SP) \
	MOVQ         out+64(FP), AX \
	MOVQ         AX, 136(SP) \
	MOVQ         xstride+48(FP), R11 \
	LEAQ         (R11)(R11*2), R13 \
	MOVQ         nsb+56(FP), R8 \
	SHLQ         $2, R8 \
	MOVL         $0x0f0f0f0f, AX \
	VPBROADCASTD AX, Z31 \
	MOVL         $0x30303030, AX \
	VPBROADCASTD AX, Z30 \
	VPMOVZXBW    gemm6idx<>(SB), Z29 \
	VPXORD       Z27, Z27, Z27 \
	VMOVDQU64    Z27, 64(SP) \
	VMOVDQU64    Y27, 96(SP) \
tile: \
	MOVQ DI, SI \
	MOVQ xq+24(FP), BX \
	MOVQ xd+32(FP), DX \
	MOVQ sums+40(FP), R15 \
	MOVQ nsb+56(FP), CX \
	LEAQ (DI)(R9*4), AX \
	MOVQ AX, 144(SP) \
	ZF \
sb: \
	MOVQ       144(SP), AX \
	PREFETCHT0 (AX) \
	PREFETCHT0 64(AX) \
	PREFETCHT0 128(AX) \
	PREFETCHT0 192(AX) \
	PREFETCHT0 256(AX) \
	PREFETCHT0 320(AX) \
	PREFETCHT0 384(AX) \
	ADDQ       $448, 144(SP) \
	K6_ROW(192(SI), 208(SI), 0(SP), Z23) \
	K6_ROW(192(SI)(R9*1), 208(SI)(R9*1), 32(SP), Z24) \
	ZI \
	K6_CHUNK(K6_W0, 0, 0, JS) \
	K6_CHUNK(K6_W1, 0, 1, JS) \
	K6_CHUNK(K6_W0, 1, 0, JS) \
	K6_CHUNK(K6_W1, 1, 1, JS) \
	K6_END(ENDS) \
	ADDQ $210, SI \
	ADDQ $256, BX \
	ADDQ $4, DX \
	ADDQ $32, R15 \
	DECQ CX \
	JNZ  sb \
	MOVQ 136(SP), R14 \
	MOVQ ostride+72(FP), AX \
	SHLQ $2, AX \
	RED \
	ADDQ $8, 136(SP) \
	LEAQ (DI)(R9*2), DI \
	SUBQ $2, 128(SP) \
	JNZ  tile \
	VZEROUPPER \
	RET

DATA gemm6idx<>+0(SB)/8, $0x0000000000000000
DATA gemm6idx<>+8(SB)/8, $0x0101010101010101
DATA gemm6idx<>+16(SB)/8, $0x0202020202020202
DATA gemm6idx<>+24(SB)/8, $0x0303030303030303
GLOBL gemm6idx<>(SB), RODATA|NOPTR, $32

DATA gemm5bit<>+0(SB)/4, $0x10101010
GLOBL gemm5bit<>(SB), RODATA|NOPTR, $4

// func gemmQ4_Kx1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ4_Kx1VNNI(SB), NOSPLIT, $56-80
	GEMM_K4(144, K4_PF, K4_CHUNKS, K4_JS1, ZERO_I1, ZERO_F1, K4_END1, K4_RED1)

// func gemmQ4_Kx2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ4_Kx2VNNI(SB), NOSPLIT, $56-80
	GEMM_K4(144, K4_PF, K4_CHUNKS, K4_JS2, ZERO_I2, ZERO_F2, K4_END2, K4_RED2)

// func gemmQ4_Kx3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ4_Kx3VNNI(SB), NOSPLIT, $56-80
	GEMM_K4(144, K4_PF, K4_CHUNKS, K4_JS3, ZERO_I3, ZERO_F3, K4_END3, K4_RED3)

// func gemmQ4_Kx4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ4_Kx4VNNI(SB), NOSPLIT, $56-80
	GEMM_K4(144, K4_PF, K4_CHUNKS, K4_JS4, ZERO_I4, ZERO_F4, K4_END4, K4_RED4)

// func gemmQ5_Kx1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ5_Kx1VNNI(SB), NOSPLIT, $56-80
	GEMM_K4(176, K5_PF, K5_CHUNKS, K4_JS1, ZERO_I1, ZERO_F1, K4_END1, K4_RED1)

// func gemmQ5_Kx2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ5_Kx2VNNI(SB), NOSPLIT, $56-80
	GEMM_K4(176, K5_PF, K5_CHUNKS, K4_JS2, ZERO_I2, ZERO_F2, K4_END2, K4_RED2)

// func gemmQ5_Kx3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ5_Kx3VNNI(SB), NOSPLIT, $56-80
	GEMM_K4(176, K5_PF, K5_CHUNKS, K4_JS3, ZERO_I3, ZERO_F3, K4_END3, K4_RED3)

// func gemmQ5_Kx4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ5_Kx4VNNI(SB), NOSPLIT, $56-80
	GEMM_K4(176, K5_PF, K5_CHUNKS, K4_JS4, ZERO_I4, ZERO_F4, K4_END4, K4_RED4)

// func gemmQ6_Kx1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ6_Kx1VNNI(SB), NOSPLIT, $152-80
	GEMM_Q6_K(K6_JS1, ZERO_I1, ZERO_F1, K6_ENDS1, K4_RED1)

// func gemmQ6_Kx2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ6_Kx2VNNI(SB), NOSPLIT, $152-80
	GEMM_Q6_K(K6_JS2, ZERO_I2, ZERO_F2, K6_ENDS2, K4_RED2)

// func gemmQ6_Kx3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ6_Kx3VNNI(SB), NOSPLIT, $152-80
	GEMM_Q6_K(K6_JS3, ZERO_I3, ZERO_F3, K6_ENDS3, K4_RED3)

// func gemmQ6_Kx4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, xstride, nsb int, out *float32, ostride int)
TEXT ·gemmQ6_Kx4VNNI(SB), NOSPLIT, $152-80
	GEMM_Q6_K(K6_JS4, ZERO_I4, ZERO_F4, K6_ENDS4, K4_RED4)
