// Small-batch integer GEMM kernels for the 32-element block types with a
// 4-bit body (Q4_0, Q4_1, Q5_0, Q5_1) on amd64 with AVX-512 VNNI (Q5_0 and
// Q5_1 also BITALG): a tile of sixteen weight rows times up to eight
// activation rows (q8) per call, so each weight block is loaded and
// unpacked once for all of them (intdot_amd64.s unpacks it again for every
// activation row). The x1 kernels serve decoding too, so a row gets the
// same bits whatever the batch. intgemm32_amd64.go declares them;
// intdot.go holds the Go references they are tested against.
//
// The activation comes block-major (actQuant.blockMajor): block b of
// activation row r at xq + 32·(b·n + r), its scale and int32 sum at index
// b·n + r, so the rows of a call sit side by side at fixed offsets.
//
// Layout: dword r of a zmm holds four quants of weight row r, so one zmm
// covers an eighth of a block of all sixteen rows: the 16 nibble bytes of
// a row are four dwords, transposed from four rows per zmm (VPUNPCK*DQ,
// VPUNPCK*QDQ); dword k's low nibbles are elements 4k..4k+3, its high
// nibbles 16+4k..16+4k+3. VPDPBUSD with the matching four activation
// quants broadcast from memory ({1to16}) adds them into row r's int32 lane,
// so eight of them do the block and a lane is a whole row's block sum:
// one convert, scale product and FMA per sixteen rows, and no reduction at
// the end. The quants stay unsigned (0..15, or 0..31 with Q5's fifth bit
// added from masks VPSHUFBITQMB makes of qh): Q4_0's -8 and Q5_0's -16
// enter as the lane's start value, the offset times the activation block's
// sum (one VPMULLD); Q4_1's and Q5_1's minimum as m·dx·sum in float.
//
// Registers: R9 rowSize, R12 3·rowSize, SI, DI, R13 and R10 rows 0, 4, 8
// and 12 of the tile at the current block, AX the prefetch
// pointer, BX, DX and CX the activation quants, scales and sums of the
// call's first row at the current block (advanced by R11 = 32·n and R8 =
// 4·n bytes a block), R14 out; 0(SP) weight rows left, 8(SP) blocks left,
// 16(SP) the tile base. R15 is not used, so the loop may read globals
// (dynamic linking takes R15 for that).
// Z0-Z7 float accumulators of activation rows 0-7, Z8-Z11 int32 block sums
// of rows j and j+4, Z16-Z19 the low and Z20-Z23 the high nibbles of
// dwords 0-3, Z24 d and Z25 m of the sixteen rows, Z26-Z28 scratch, Z29 the
// offset dwords (-8, -16), Z30 0x10 bytes, Z31 0x0f bytes; X12-X15 the
// dword gathers; K1-K7 the fifth-bit masks.

#include "textflag.h"

// WRr(off): row r of the tile at byte off of the current block.
#define WR0(off) off(SI)
#define WR1(off) off(SI)(R9*1)
#define WR2(off) off(SI)(R9*2)
#define WR3(off) off(SI)(R12*1)
#define WR4(off) off(DI)
#define WR5(off) off(DI)(R9*1)
#define WR6(off) off(DI)(R9*2)
#define WR7(off) off(DI)(R12*1)
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

// DW4(off, X, a, b, c, d): the dwords at block offset off of rows a..d in
// X.
#define DW4(off, X, a, b, c, d) \
	VMOVD   a(off), X \
	VPINSRD $1, b(off), X, X \
	VPINSRD $2, c(off), X, X \
	VPINSRD $3, d(off), X, X

// DW16(off): the sixteen rows' dwords at off in Z26 (dword r row r).
#define DW16(off) \
	DW4(off, X12, WR0, WR1, WR2, WR3) \
	DW4(off, X13, WR4, WR5, WR6, WR7) \
	DW4(off, X14, WR8, WR9, WR10, WR11) \
	DW4(off, X15, WR12, WR13, WR14, WR15) \
	VINSERTI128  $1, X13, Y12, Y12 \
	VINSERTI128  $1, X15, Y14, Y14 \
	VINSERTI64X4 $1, Y14, Z12, Z26

// S16_D: Z24 lane r = d of row r (the f16 at block offset 0).
#define S16_D \
	DW16(0) \
	VPMOVDW   Z26, Y27 \
	VCVTPH2PS Y27, Z24

// S16_DM: Z24 as S16_D, Z25 lane r = m of row r (offset 2).
#define S16_DM \
	S16_D \
	VPSRLD    $16, Z26, Z26 \
	VPMOVDW   Z26, Y27 \
	VCVTPH2PS Y27, Z25

#define H16_NONE

// H16_Q5(off) adds the fifth bits, bit j of row r's 32-bit qh at off for
// element j, to the quants as 0x10: dword r of Z26 is row r's qh, so qword
// i holds rows 2i and 2i+1, and VPSHUFBITQMB picks bits 4k..4k+3 (low
// nibbles of dword k) or 16+4k.. (high) for bytes 0-3 and 32 more for
// bytes 4-7 (b16bits, one table per quant register).
#define H16_Q5(off) \
	DW16(off) \
	VPSHUFBITQMB b16bits<>+0(SB), Z26, K1 \
	VPSHUFBITQMB b16bits<>+64(SB), Z26, K2 \
	VPSHUFBITQMB b16bits<>+128(SB), Z26, K3 \
	VPSHUFBITQMB b16bits<>+192(SB), Z26, K4 \
	VPSHUFBITQMB b16bits<>+256(SB), Z26, K5 \
	VPSHUFBITQMB b16bits<>+320(SB), Z26, K6 \
	VPSHUFBITQMB b16bits<>+384(SB), Z26, K7 \
	VPADDB       Z30, Z16, K1, Z16 \
	VPADDB       Z30, Z17, K2, Z17 \
	VPADDB       Z30, Z18, K3, Z18 \
	VPADDB       Z30, Z19, K4, Z19 \
	VPADDB       Z30, Z20, K5, Z20 \
	VPADDB       Z30, Z21, K6, Z21 \
	VPADDB       Z30, Z22, K7, Z22 \
	VPSHUFBITQMB b16bits<>+448(SB), Z26, K1 \
	VPADDB       Z30, Z23, K1, Z23

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
// rows, eighth by eighth.
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

// ROWS_c(INIT, MTERM) is a block times c activation rows: BLOCK over rows
// 0-3, then over rows 4-7 (their int32 lanes reuse Z8-Z11), each part of
// the block across a group before the next so that the rows' VPDPBUSD
// chains interleave. ZERO_c clears the accumulators Z0..Z(c-1).

// Groups of rows 0.. (G) and 4.. (H) for one phase.
#define GI_1(INIT) PI_0(INIT)
#define GQ_1(off, W) PQ_0(off, W)
#define GF_1(MTERM) PF_0(MTERM)
#define GI_2(INIT) GI_1(INIT) \
	PI_1(INIT)
#define GQ_2(off, W) GQ_1(off, W) \
	PQ_1(off, W)
#define GF_2(MTERM) GF_1(MTERM) \
	PF_1(MTERM)
#define GI_3(INIT) GI_2(INIT) \
	PI_2(INIT)
#define GQ_3(off, W) GQ_2(off, W) \
	PQ_2(off, W)
#define GF_3(MTERM) GF_2(MTERM) \
	PF_2(MTERM)
#define GI_4(INIT) GI_3(INIT) \
	PI_3(INIT)
#define GQ_4(off, W) GQ_3(off, W) \
	PQ_3(off, W)
#define GF_4(MTERM) GF_3(MTERM) \
	PF_3(MTERM)
#define HI_1(INIT) PI_4(INIT)
#define HQ_1(off, W) PQ_4(off, W)
#define HF_1(MTERM) PF_4(MTERM)
#define HI_2(INIT) HI_1(INIT) \
	PI_5(INIT)
#define HQ_2(off, W) HQ_1(off, W) \
	PQ_5(off, W)
#define HF_2(MTERM) HF_1(MTERM) \
	PF_5(MTERM)
#define HI_3(INIT) HI_2(INIT) \
	PI_6(INIT)
#define HQ_3(off, W) HQ_2(off, W) \
	PQ_6(off, W)
#define HF_3(MTERM) HF_2(MTERM) \
	PF_6(MTERM)
#define HI_4(INIT) HI_3(INIT) \
	PI_7(INIT)
#define HQ_4(off, W) HQ_3(off, W) \
	PQ_7(off, W)
#define HF_4(MTERM) HF_3(MTERM) \
	PF_7(MTERM)

#define ROWS_1(INIT, MTERM) BLOCK(GI_1, GQ_1, GF_1, INIT, MTERM)
#define ROWS_2(INIT, MTERM) BLOCK(GI_2, GQ_2, GF_2, INIT, MTERM)
#define ROWS_3(INIT, MTERM) BLOCK(GI_3, GQ_3, GF_3, INIT, MTERM)
#define ROWS_4(INIT, MTERM) BLOCK(GI_4, GQ_4, GF_4, INIT, MTERM)
#define ROWS_5(INIT, MTERM) ROWS_4(INIT, MTERM) \
	BLOCK(HI_1, HQ_1, HF_1, INIT, MTERM)
#define ROWS_6(INIT, MTERM) ROWS_4(INIT, MTERM) \
	BLOCK(HI_2, HQ_2, HF_2, INIT, MTERM)
#define ROWS_7(INIT, MTERM) ROWS_4(INIT, MTERM) \
	BLOCK(HI_3, HQ_3, HF_3, INIT, MTERM)
#define ROWS_8(INIT, MTERM) ROWS_4(INIT, MTERM) \
	BLOCK(HI_4, HQ_4, HF_4, INIT, MTERM)

#define ZERO_1 VPXORD Z0, Z0, Z0
#define ZERO_2 ZERO_1 \
	VPXORD Z1, Z1, Z1
#define ZERO_3 ZERO_2 \
	VPXORD Z2, Z2, Z2
#define ZERO_4 ZERO_3 \
	VPXORD Z3, Z3, Z3
#define ZERO_5 ZERO_4 \
	VPXORD Z4, Z4, Z4
#define ZERO_6 ZERO_5 \
	VPXORD Z5, Z5, Z5
#define ZERO_7 ZERO_6 \
	VPXORD Z6, Z6, Z6
#define ZERO_8 ZERO_7 \
	VPXORD Z7, Z7, Z7

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

// GEMM16(size, noff, SCALES, HIGH, offset, INIT, MTERM, ZERO, ROWS, STORE)
// is a kernel body for blocks of size bytes with the nibbles at noff (Z29
// the dwords offset). Each block step prefetches the next 384 bytes of the
// next tile (a tile is 16·size ≤ 384 bytes per block), one tile ahead.
// The tile base lives at 16(SP).
#define GEMM16(size, noff, SCALES, HIGH, offset, INIT, MTERM, ZERO, ROWS, STORE) \
	MOVQ         w+0(FP), SI \
	MOVQ         SI, 16(SP) \
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
	MOVL         $0x10101010, CX \
	VPBROADCASTD CX, Z30 \
	MOVL         $offset, CX \
	VPBROADCASTD CX, Z29 \
tile: \
	MOVQ 16(SP), SI \
	LEAQ (SI)(R9*4), DI \
	LEAQ (SI)(R9*8), R13 \
	LEAQ (R13)(R9*4), R10 \
	LEAQ (R13)(R9*8), AX \
	MOVQ xq+24(FP), BX \
	MOVQ xd+32(FP), DX \
	MOVQ sums+40(FP), CX \
	MOVQ nb+56(FP), R13 \
	MOVQ R13, 8(SP) \
	LEAQ (SI)(R9*8), R13 \
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
	HIGH \
	ROWS(INIT, MTERM) \
	ADDQ $size, SI \
	ADDQ $size, DI \
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
	MOVQ 16(SP), SI \
	LEAQ (SI)(R9*8), SI \
	LEAQ (SI)(R9*8), SI \
	MOVQ SI, 16(SP) \
	ADDQ $64, R14 \
	SUBQ $16, 0(SP) \
	JNZ  tile \
	VZEROUPPER \
	RET

#define Q4_0W(ZERO, ROWS, STORE) GEMM16(18, 2, S16_D, H16_NONE, -8, I16_OFFSET, M16_NONE, ZERO, ROWS, STORE)
#define Q4_1W(ZERO, ROWS, STORE) GEMM16(20, 4, S16_DM, H16_NONE, 0, I16_ZERO, M16_MIN, ZERO, ROWS, STORE)
#define Q5_0W(ZERO, ROWS, STORE) GEMM16(22, 6, S16_D, H16_Q5(2), -16, I16_OFFSET, M16_NONE, ZERO, ROWS, STORE)
#define Q5_1W(ZERO, ROWS, STORE) GEMM16(24, 8, S16_DM, H16_Q5(4), 0, I16_ZERO, M16_MIN, ZERO, ROWS, STORE)

// VPSHUFBITQMB indices for H16_Q5, one 64-byte table per quant register
// (Z16-Z19 low nibbles of dwords 0-3, Z20-Z23 high nibbles): every qword
// holds bytes b, b+1, b+2, b+3, b+32, .., b+35 with b = 4k (+16 high).


DATA b16bits<>+0(SB)/8, $0x2322212003020100
DATA b16bits<>+8(SB)/8, $0x2322212003020100
DATA b16bits<>+16(SB)/8, $0x2322212003020100
DATA b16bits<>+24(SB)/8, $0x2322212003020100
DATA b16bits<>+32(SB)/8, $0x2322212003020100
DATA b16bits<>+40(SB)/8, $0x2322212003020100
DATA b16bits<>+48(SB)/8, $0x2322212003020100
DATA b16bits<>+56(SB)/8, $0x2322212003020100
DATA b16bits<>+64(SB)/8, $0x2726252407060504
DATA b16bits<>+72(SB)/8, $0x2726252407060504
DATA b16bits<>+80(SB)/8, $0x2726252407060504
DATA b16bits<>+88(SB)/8, $0x2726252407060504
DATA b16bits<>+96(SB)/8, $0x2726252407060504
DATA b16bits<>+104(SB)/8, $0x2726252407060504
DATA b16bits<>+112(SB)/8, $0x2726252407060504
DATA b16bits<>+120(SB)/8, $0x2726252407060504
DATA b16bits<>+128(SB)/8, $0x2b2a29280b0a0908
DATA b16bits<>+136(SB)/8, $0x2b2a29280b0a0908
DATA b16bits<>+144(SB)/8, $0x2b2a29280b0a0908
DATA b16bits<>+152(SB)/8, $0x2b2a29280b0a0908
DATA b16bits<>+160(SB)/8, $0x2b2a29280b0a0908
DATA b16bits<>+168(SB)/8, $0x2b2a29280b0a0908
DATA b16bits<>+176(SB)/8, $0x2b2a29280b0a0908
DATA b16bits<>+184(SB)/8, $0x2b2a29280b0a0908
DATA b16bits<>+192(SB)/8, $0x2f2e2d2c0f0e0d0c
DATA b16bits<>+200(SB)/8, $0x2f2e2d2c0f0e0d0c
DATA b16bits<>+208(SB)/8, $0x2f2e2d2c0f0e0d0c
DATA b16bits<>+216(SB)/8, $0x2f2e2d2c0f0e0d0c
DATA b16bits<>+224(SB)/8, $0x2f2e2d2c0f0e0d0c
DATA b16bits<>+232(SB)/8, $0x2f2e2d2c0f0e0d0c
DATA b16bits<>+240(SB)/8, $0x2f2e2d2c0f0e0d0c
DATA b16bits<>+248(SB)/8, $0x2f2e2d2c0f0e0d0c
DATA b16bits<>+256(SB)/8, $0x3332313013121110
DATA b16bits<>+264(SB)/8, $0x3332313013121110
DATA b16bits<>+272(SB)/8, $0x3332313013121110
DATA b16bits<>+280(SB)/8, $0x3332313013121110
DATA b16bits<>+288(SB)/8, $0x3332313013121110
DATA b16bits<>+296(SB)/8, $0x3332313013121110
DATA b16bits<>+304(SB)/8, $0x3332313013121110
DATA b16bits<>+312(SB)/8, $0x3332313013121110
DATA b16bits<>+320(SB)/8, $0x3736353417161514
DATA b16bits<>+328(SB)/8, $0x3736353417161514
DATA b16bits<>+336(SB)/8, $0x3736353417161514
DATA b16bits<>+344(SB)/8, $0x3736353417161514
DATA b16bits<>+352(SB)/8, $0x3736353417161514
DATA b16bits<>+360(SB)/8, $0x3736353417161514
DATA b16bits<>+368(SB)/8, $0x3736353417161514
DATA b16bits<>+376(SB)/8, $0x3736353417161514
DATA b16bits<>+384(SB)/8, $0x3b3a39381b1a1918
DATA b16bits<>+392(SB)/8, $0x3b3a39381b1a1918
DATA b16bits<>+400(SB)/8, $0x3b3a39381b1a1918
DATA b16bits<>+408(SB)/8, $0x3b3a39381b1a1918
DATA b16bits<>+416(SB)/8, $0x3b3a39381b1a1918
DATA b16bits<>+424(SB)/8, $0x3b3a39381b1a1918
DATA b16bits<>+432(SB)/8, $0x3b3a39381b1a1918
DATA b16bits<>+440(SB)/8, $0x3b3a39381b1a1918
DATA b16bits<>+448(SB)/8, $0x3f3e3d3c1f1e1d1c
DATA b16bits<>+456(SB)/8, $0x3f3e3d3c1f1e1d1c
DATA b16bits<>+464(SB)/8, $0x3f3e3d3c1f1e1d1c
DATA b16bits<>+472(SB)/8, $0x3f3e3d3c1f1e1d1c
DATA b16bits<>+480(SB)/8, $0x3f3e3d3c1f1e1d1c
DATA b16bits<>+488(SB)/8, $0x3f3e3d3c1f1e1d1c
DATA b16bits<>+496(SB)/8, $0x3f3e3d3c1f1e1d1c
DATA b16bits<>+504(SB)/8, $0x3f3e3d3c1f1e1d1c
GLOBL b16bits<>(SB), RODATA|NOPTR, $512

// func gemmQ4_0w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w1VNNI(SB), NOSPLIT, $24-80
	Q4_0W(ZERO_1, ROWS_1, S16_1)

// func gemmQ4_0w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w2VNNI(SB), NOSPLIT, $24-80
	Q4_0W(ZERO_2, ROWS_2, S16_2)

// func gemmQ4_0w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w3VNNI(SB), NOSPLIT, $24-80
	Q4_0W(ZERO_3, ROWS_3, S16_3)

// func gemmQ4_0w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w4VNNI(SB), NOSPLIT, $24-80
	Q4_0W(ZERO_4, ROWS_4, S16_4)

// func gemmQ4_0w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w5VNNI(SB), NOSPLIT, $24-80
	Q4_0W(ZERO_5, ROWS_5, S16_5)

// func gemmQ4_0w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w6VNNI(SB), NOSPLIT, $24-80
	Q4_0W(ZERO_6, ROWS_6, S16_6)

// func gemmQ4_0w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w7VNNI(SB), NOSPLIT, $24-80
	Q4_0W(ZERO_7, ROWS_7, S16_7)

// func gemmQ4_0w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_0w8VNNI(SB), NOSPLIT, $24-80
	Q4_0W(ZERO_8, ROWS_8, S16_8)

// func gemmQ4_1w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w1VNNI(SB), NOSPLIT, $24-80
	Q4_1W(ZERO_1, ROWS_1, S16_1)

// func gemmQ4_1w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w2VNNI(SB), NOSPLIT, $24-80
	Q4_1W(ZERO_2, ROWS_2, S16_2)

// func gemmQ4_1w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w3VNNI(SB), NOSPLIT, $24-80
	Q4_1W(ZERO_3, ROWS_3, S16_3)

// func gemmQ4_1w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w4VNNI(SB), NOSPLIT, $24-80
	Q4_1W(ZERO_4, ROWS_4, S16_4)

// func gemmQ4_1w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w5VNNI(SB), NOSPLIT, $24-80
	Q4_1W(ZERO_5, ROWS_5, S16_5)

// func gemmQ4_1w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w6VNNI(SB), NOSPLIT, $24-80
	Q4_1W(ZERO_6, ROWS_6, S16_6)

// func gemmQ4_1w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w7VNNI(SB), NOSPLIT, $24-80
	Q4_1W(ZERO_7, ROWS_7, S16_7)

// func gemmQ4_1w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ4_1w8VNNI(SB), NOSPLIT, $24-80
	Q4_1W(ZERO_8, ROWS_8, S16_8)

// func gemmQ5_0w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0w1VNNI(SB), NOSPLIT, $24-80
	Q5_0W(ZERO_1, ROWS_1, S16_1)

// func gemmQ5_0w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0w2VNNI(SB), NOSPLIT, $24-80
	Q5_0W(ZERO_2, ROWS_2, S16_2)

// func gemmQ5_0w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0w3VNNI(SB), NOSPLIT, $24-80
	Q5_0W(ZERO_3, ROWS_3, S16_3)

// func gemmQ5_0w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0w4VNNI(SB), NOSPLIT, $24-80
	Q5_0W(ZERO_4, ROWS_4, S16_4)

// func gemmQ5_0w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0w5VNNI(SB), NOSPLIT, $24-80
	Q5_0W(ZERO_5, ROWS_5, S16_5)

// func gemmQ5_0w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0w6VNNI(SB), NOSPLIT, $24-80
	Q5_0W(ZERO_6, ROWS_6, S16_6)

// func gemmQ5_0w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0w7VNNI(SB), NOSPLIT, $24-80
	Q5_0W(ZERO_7, ROWS_7, S16_7)

// func gemmQ5_0w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0w8VNNI(SB), NOSPLIT, $24-80
	Q5_0W(ZERO_8, ROWS_8, S16_8)

// func gemmQ5_1w1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1w1VNNI(SB), NOSPLIT, $24-80
	Q5_1W(ZERO_1, ROWS_1, S16_1)

// func gemmQ5_1w2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1w2VNNI(SB), NOSPLIT, $24-80
	Q5_1W(ZERO_2, ROWS_2, S16_2)

// func gemmQ5_1w3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1w3VNNI(SB), NOSPLIT, $24-80
	Q5_1W(ZERO_3, ROWS_3, S16_3)

// func gemmQ5_1w4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1w4VNNI(SB), NOSPLIT, $24-80
	Q5_1W(ZERO_4, ROWS_4, S16_4)

// func gemmQ5_1w5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1w5VNNI(SB), NOSPLIT, $24-80
	Q5_1W(ZERO_5, ROWS_5, S16_5)

// func gemmQ5_1w6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1w6VNNI(SB), NOSPLIT, $24-80
	Q5_1W(ZERO_6, ROWS_6, S16_6)

// func gemmQ5_1w7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1w7VNNI(SB), NOSPLIT, $24-80
	Q5_1W(ZERO_7, ROWS_7, S16_7)

// func gemmQ5_1w8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int32, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1w8VNNI(SB), NOSPLIT, $24-80
	Q5_1W(ZERO_8, ROWS_8, S16_8)
