// Small-batch integer GEMM kernels for Q4_0 and Q4_1 on amd64 with
// AVX-512 VNNI: a tile of sixteen weight rows times up to eight activation
// rows (q8, block-major as in intgemm32_amd64.s) per call; the x1 kernels
// serve decoding too. intgemm32_amd64.go declares them.
//
// Layout: dword r of a zmm holds four quants of weight row r, so one zmm
// covers an eighth of a block of all sixteen rows: the 16 nibble bytes of
// a row are four dwords, transposed from four rows per zmm (VPUNPCK*DQ,
// VPUNPCK*QDQ); dword k's low nibbles are elements 4k..4k+3, its high
// nibbles 16+4k..16+4k+3. VPDPBUSD with the matching four activation
// quants broadcast from memory ({1to16}) adds them into row r's int32 lane,
// so eight of them do the block and a lane is a whole row's block sum:
// one convert, scale product and FMA per sixteen rows, and no reduction at
// the end. Q4_0's -8 enters as the lane's start value, -8 times the
// activation block's sum (one VPMULLD); Q4_1's minimum as m·dx·sum in
// float.
//
// Registers: DI tile base, R9 rowSize, R12 3·rowSize, SI, R15, R13 and R10
// rows 0, 4, 8 and 12 of the tile at the current block, AX the prefetch
// pointer, BX, DX and CX the activation quants, scales and sums of the
// call's first row at the current block (advanced by R11 = 32·n and R8 =
// 4·n bytes a block), R14 out; 0(SP) weight rows left, 8(SP) blocks left.
// Z0-Z7 float accumulators of activation rows 0-7, Z8-Z11 int32 block sums
// of rows j and j+4, Z16-Z19 the low and Z20-Z23 the high nibbles of
// dwords 0-3, Z24 d and Z25 m of the sixteen rows, Z26-Z28 scratch, Z29 the
// dwords -8, Z31 0x0f bytes; X12-X15 the scale gather.

#include "textflag.h"
#include "intgemm32_amd64.h"

// WRr(off): row r of the tile at byte off of the current block.
#define WR0(off) off(SI)
#define WR1(off) off(SI)(R9*1)
#define WR2(off) off(SI)(R9*2)
#define WR3(off) off(SI)(R12*1)
#define WR4(off) off(R15)
#define WR5(off) off(R15)(R9*1)
#define WR6(off) off(R15)(R9*2)
#define WR7(off) off(R15)(R12*1)
#define WR8(off) off(R13)
#define WR9(off) off(R13)(R9*1)
#define WR10(off) off(R13)(R9*2)
#define WR11(off) off(R13)(R12*1)
#define WR12(off) off(R10)
#define WR13(off) off(R10)(R9*1)
#define WR14(off) off(R10)(R9*2)
#define WR15(off) off(R10)(R12*1)

// LANES(off, Z, a, b, c, d): rows a, b, c, d's 16 bytes at off in the
// four lanes of Z.
#define LANES(off, Xz, Zz, a, b, c, d) \
	VMOVDQU64    a(off), Xz \
	VINSERTI32X4 $1, b(off), Zz, Zz \
	VINSERTI32X4 $2, c(off), Zz, Zz \
	VINSERTI32X4 $3, d(off), Zz, Zz

// NIB16(off): the nibbles at off of the sixteen rows, dword r row r: Z16-Z19
// low nibbles of dwords 0-3, Z20-Z23 high nibbles.
#define NIB16(off) \
	LANES(off, X16, Z16, WR0, WR4, WR8, WR12) \
	LANES(off, X17, Z17, WR1, WR5, WR9, WR13) \
	LANES(off, X18, Z18, WR2, WR6, WR10, WR14) \
	LANES(off, X19, Z19, WR3, WR7, WR11, WR15) \
	VPUNPCKLDQ  Z17, Z16, Z20 \
	VPUNPCKHDQ  Z17, Z16, Z21 \
	VPUNPCKLDQ  Z19, Z18, Z22 \
	VPUNPCKHDQ  Z19, Z18, Z23 \
	VPUNPCKLQDQ Z22, Z20, Z16 \
	VPUNPCKHQDQ Z22, Z20, Z17 \
	VPUNPCKLQDQ Z23, Z21, Z18 \
	VPUNPCKHQDQ Z23, Z21, Z19 \
	VPSRLW      $4, Z16, Z20 \
	VPSRLW      $4, Z17, Z21 \
	VPSRLW      $4, Z18, Z22 \
	VPSRLW      $4, Z19, Z23 \
	VPANDD      Z31, Z16, Z16 \
	VPANDD      Z31, Z17, Z17 \
	VPANDD      Z31, Z18, Z18 \
	VPANDD      Z31, Z19, Z19 \
	VPANDD      Z31, Z20, Z20 \
	VPANDD      Z31, Z21, Z21 \
	VPANDD      Z31, Z22, Z22 \
	VPANDD      Z31, Z23, Z23

// DW4(X, a, b, c, d): the dwords at block offset 0 of rows a..d in X.
#define DW4(X, a, b, c, d) \
	VMOVD   a(0), X \
	VPINSRD $1, b(0), X, X \
	VPINSRD $2, c(0), X, X \
	VPINSRD $3, d(0), X, X

// DW16: the sixteen rows' first dwords in Z26 (dword r row r).
#define DW16 \
	DW4(X12, WR0, WR1, WR2, WR3) \
	DW4(X13, WR4, WR5, WR6, WR7) \
	DW4(X14, WR8, WR9, WR10, WR11) \
	DW4(X15, WR12, WR13, WR14, WR15) \
	VINSERTI128  $1, X13, Y12, Y12 \
	VINSERTI128  $1, X15, Y14, Y14 \
	VINSERTI64X4 $1, Y14, Z12, Z26

// S16_D: Z24 lane r = d of row r (the f16 at block offset 0).
#define S16_D \
	DW16 \
	VPMOVDW   Z26, Y27 \
	VCVTPH2PS Y27, Z24

// S16_DM: Z24 as S16_D, Z25 lane r = m of row r (offset 2).
#define S16_DM \
	S16_D \
	VPSRLD    $16, Z26, Z26 \
	VPMOVDW   Z26, Y27 \
	VCVTPH2PS Y27, Z25

#define I16_ZERO(xs, Zi) \
	VPXORD Zi, Zi, Zi

#define I16_OFFSET(xs, Zi) \
	VPMULLD.BCST xs, Z29, Zi

#define M16_NONE(xd, xs, Zf)

#define M16_MIN(xd, xs, Zf) \
	VCVTDQ2PS.BCST xs, Z28 \
	VMULPS.BCST    xd, Z28, Z28 \
	VFMADD231PS    Z28, Z25, Zf

#define FIN16(xd, xs, Zi, Zf, MTERM) \
	VCVTDQ2PS   Zi, Zi \
	VMULPS.BCST xd, Z24, Z27 \
	VFMADD231PS Zi, Z27, Zf \
	MTERM(xd, xs, Zf)

// Activation row j's steps (quants at 32j(BX), scale 4j(DX), sum 4j(CX)):
// PI_j starts its int32 lanes Z(8+j%4), PQ_j(off, W) adds the four quants
// at off of its block times W, PF_j finishes the block into Z(j).
#define PI_0(INIT) INIT(0(CX), Z8)
#define PQ_0(off, W) VPDPBUSD.BCST (off+0)(BX), W, Z8
#define PF_0(MTERM) FIN16(0(DX), 0(CX), Z8, Z0, MTERM)
#define PI_1(INIT) INIT(4(CX), Z9)
#define PQ_1(off, W) VPDPBUSD.BCST (off+32)(BX), W, Z9
#define PF_1(MTERM) FIN16(4(DX), 4(CX), Z9, Z1, MTERM)
#define PI_2(INIT) INIT(8(CX), Z10)
#define PQ_2(off, W) VPDPBUSD.BCST (off+64)(BX), W, Z10
#define PF_2(MTERM) FIN16(8(DX), 8(CX), Z10, Z2, MTERM)
#define PI_3(INIT) INIT(12(CX), Z11)
#define PQ_3(off, W) VPDPBUSD.BCST (off+96)(BX), W, Z11
#define PF_3(MTERM) FIN16(12(DX), 12(CX), Z11, Z3, MTERM)
#define PI_4(INIT) INIT(16(CX), Z8)
#define PQ_4(off, W) VPDPBUSD.BCST (off+128)(BX), W, Z8
#define PF_4(MTERM) FIN16(16(DX), 16(CX), Z8, Z4, MTERM)
#define PI_5(INIT) INIT(20(CX), Z9)
#define PQ_5(off, W) VPDPBUSD.BCST (off+160)(BX), W, Z9
#define PF_5(MTERM) FIN16(20(DX), 20(CX), Z9, Z5, MTERM)
#define PI_6(INIT) INIT(24(CX), Z10)
#define PQ_6(off, W) VPDPBUSD.BCST (off+192)(BX), W, Z10
#define PF_6(MTERM) FIN16(24(DX), 24(CX), Z10, Z6, MTERM)
#define PI_7(INIT) INIT(28(CX), Z11)
#define PQ_7(off, W) VPDPBUSD.BCST (off+224)(BX), W, Z11
#define PF_7(MTERM) FIN16(28(DX), 28(CX), Z11, Z7, MTERM)

// BLOCK(PI, PQ, PF, INIT, MTERM): a block times a group of activation
// rows, eighth by eighth (intgemm32_amd64.h).
#define BLOCK(PI, PQ, PF, INIT, MTERM) \
	PI(INIT) \
	PQ(0, Z16) \
	PQ(4, Z17) \
	PQ(8, Z18) \
	PQ(12, Z19) \
	PQ(16, Z20) \
	PQ(20, Z21) \
	PQ(24, Z22) \
	PQ(28, Z23) \
	PF(MTERM)

// S16_c store the accumulators, one output row each (row j at R14 +
// j·CX, R13 = R14 + 5·CX).
#define S16_1 VMOVUPS Z0, (R14)
#define S16_2 S16_1 \
	VMOVUPS Z1, (R14)(CX*1)
#define S16_3 S16_2 \
	VMOVUPS Z2, (R14)(CX*2)
#define S16_4 S16_3 \
	VMOVUPS Z3, (R14)(BX*1)
#define S16_5 S16_4 \
	VMOVUPS Z4, (R14)(CX*4)
#define S16_6 S16_5 \
	VMOVUPS Z5, (R13)
#define S16_7 S16_6 \
	VMOVUPS Z6, (R13)(CX*1)
#define S16_8 S16_7 \
	VMOVUPS Z7, (R13)(CX*2)

// GEMM16(size, noff, SCALES, INIT, MTERM, ZERO, ROWS, STORE) is a kernel
// body for blocks of size bytes with the nibbles at noff. Each block step
// prefetches the next 384 bytes of the next tile (a tile is 16·size ≤ 384
// bytes per block), one tile ahead.
#define GEMM16(size, noff, SCALES, INIT, MTERM, ZERO, ROWS, STORE) \
	MOVQ         w+0(FP), DI \
	MOVQ         rowSize+8(FP), R9 \
	LEAQ         (R9)(R9*2), R12 \
	MOVQ         nrows+16(FP), CX \
	MOVQ         CX, 0(SP) \
	MOVQ         out+64(FP), R14 \
	MOVQ         n+48(FP), R8 \
	MOVQ         R8, R11 \
	SHLQ         $5, R11 \
	SHLQ         $2, R8 \
	MOVL         $0x0f0f0f0f, CX \
	VPBROADCASTD CX, Z31 \
	MOVL         $-8, CX \
	VPBROADCASTD CX, Z29 \
tile: \
	MOVQ DI, SI \
	LEAQ (DI)(R9*4), R15 \
	LEAQ (DI)(R9*8), R13 \
	LEAQ (R13)(R9*4), R10 \
	LEAQ (R13)(R9*8), AX \
	MOVQ xq+24(FP), BX \
	MOVQ xd+32(FP), DX \
	MOVQ sums+40(FP), CX \
	MOVQ nb+56(FP), R13 \
	MOVQ R13, 8(SP) \
	LEAQ (DI)(R9*8), R13 \
	ZERO \
blk: \
	PREFETCHT0 (AX) \
	PREFETCHT0 64(AX) \
	PREFETCHT0 128(AX) \
	PREFETCHT0 192(AX) \
	PREFETCHT0 256(AX) \
	PREFETCHT0 320(AX) \
	ADDQ       $384, AX \
	NIB16(noff) \
	SCALES \
	ROWS(INIT, MTERM) \
	ADDQ $size, SI \
	ADDQ $size, R15 \
	ADDQ $size, R13 \
	ADDQ $size, R10 \
	ADDQ R11, BX \
	ADDQ R8, DX \
	ADDQ R8, CX \
	DECQ 8(SP) \
	JNZ  blk \
	MOVQ ostride+72(FP), CX \
	SHLQ $2, CX \
	LEAQ (CX)(CX*2), BX \
	LEAQ (R14)(CX*4), R13 \
	ADDQ CX, R13 \
	STORE \
	LEAQ (DI)(R9*8), DI \
	LEAQ (DI)(R9*8), DI \
	ADDQ $64, R14 \
	SUBQ $16, 0(SP) \
	JNZ  tile \
	VZEROUPPER \
	RET

#define Q4_0W(ZERO, ROWS, STORE) GEMM16(18, 2, S16_D, I16_OFFSET, M16_NONE, ZERO, ROWS, STORE)
#define Q4_1W(ZERO, ROWS, STORE) GEMM16(20, 4, S16_DM, I16_ZERO, M16_MIN, ZERO, ROWS, STORE)

// func gemmQ4_0w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w1VNNI(SB), NOSPLIT, $16-80
	Q4_0W(ZERO_1, ROWS_1, S16_1)

// func gemmQ4_0w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w2VNNI(SB), NOSPLIT, $16-80
	Q4_0W(ZERO_2, ROWS_2, S16_2)

// func gemmQ4_0w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w3VNNI(SB), NOSPLIT, $16-80
	Q4_0W(ZERO_3, ROWS_3, S16_3)

// func gemmQ4_0w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w4VNNI(SB), NOSPLIT, $16-80
	Q4_0W(ZERO_4, ROWS_4, S16_4)

// func gemmQ4_0w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w5VNNI(SB), NOSPLIT, $16-80
	Q4_0W(ZERO_5, ROWS_5, S16_5)

// func gemmQ4_0w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w6VNNI(SB), NOSPLIT, $16-80
	Q4_0W(ZERO_6, ROWS_6, S16_6)

// func gemmQ4_0w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w7VNNI(SB), NOSPLIT, $16-80
	Q4_0W(ZERO_7, ROWS_7, S16_7)

// func gemmQ4_0w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w8VNNI(SB), NOSPLIT, $16-80
	Q4_0W(ZERO_8, ROWS_8, S16_8)

// func gemmQ4_1w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w1VNNI(SB), NOSPLIT, $16-80
	Q4_1W(ZERO_1, ROWS_1, S16_1)

// func gemmQ4_1w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w2VNNI(SB), NOSPLIT, $16-80
	Q4_1W(ZERO_2, ROWS_2, S16_2)

// func gemmQ4_1w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w3VNNI(SB), NOSPLIT, $16-80
	Q4_1W(ZERO_3, ROWS_3, S16_3)

// func gemmQ4_1w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w4VNNI(SB), NOSPLIT, $16-80
	Q4_1W(ZERO_4, ROWS_4, S16_4)

// func gemmQ4_1w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w5VNNI(SB), NOSPLIT, $16-80
	Q4_1W(ZERO_5, ROWS_5, S16_5)

// func gemmQ4_1w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w6VNNI(SB), NOSPLIT, $16-80
	Q4_1W(ZERO_6, ROWS_6, S16_6)

// func gemmQ4_1w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w7VNNI(SB), NOSPLIT, $16-80
	Q4_1W(ZERO_7, ROWS_7, S16_7)

// func gemmQ4_1w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w8VNNI(SB), NOSPLIT, $16-80
	Q4_1W(ZERO_8, ROWS_8, S16_8)
