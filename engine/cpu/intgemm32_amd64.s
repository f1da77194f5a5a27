// Small-batch integer GEMM kernels for Q5_0 and Q5_1 on amd64 with
// AVX-512 VNNI and BITALG: a tile of eight weight rows times up to eight
// activation rows (q8) per call, so each weight block is loaded and
// unpacked once for all of them (intdot_amd64.s unpacks it again for every
// activation row). The x1 kernels serve decoding too, so a row gets the
// same bits whatever the batch. intgemm32_amd64.go declares them;
// intdot.go holds the Go references. (Q4_0 and Q4_1 have sixteen-row
// kernels, intgemm16_amd64.s; this layout was theirs first and measured
// 10-28 % slower for them, bench/cpu-notes.md section 15.)
//
// Layout: qword r of a zmm holds eight quants of weight row r, so one zmm
// covers a quarter block of all eight rows. The 16 nibble bytes of a row
// split into bytes 0-7 and 8-15; their low nibbles are elements 0-7 and
// 8-15, their high nibbles 16-23 and 24-31. The matching eight activation
// quants are broadcast to every qword, and VPDPBUSD (unsigned weights,
// signed activations) adds into two int32 lanes per row; four of them do
// the block. The quants stay unsigned (0..31 with the fifth bit): Q5_0's
// -16 enters through the activation block's sum (an int32 start value in
// the row's even lane), Q5_1's minimum as m·dx·sum in float. Per activation row and block the int32 lanes go to
// float and are multiplied by d·dx into one float accumulator per
// activation row (two lanes per weight row); the two lanes of a row are
// added at the end.
//
// The activation comes block-major (actQuant.blockMajor): block b of
// activation row r at xq + 32·(b·n + r), its scale and sum at index
// b·n + r, so the rows of a call sit side by side at fixed offsets.
//
// Registers: DI tile base, R9 rowSize, R12 3·rowSize, SI row 0 of the
// tile at the current block, R15 row 4, R10 the prefetch pointer, BX, DX
// and CX the activation quants, scales and sums of the call's first row
// at the current block (advanced by R11 = 32·n and R8 = 4·n bytes a
// block), R14 out (R13 out row 5 at the end); 0(SP) weight rows
// left, 8(SP) blocks left. Z0-Z7 float accumulators of activation rows
// 0-7, Z8-Z11 int32 block sums of rows j and j+4 (Z8/Z9 also scratch of
// the weight unpacking), Z12/Z13 the VPERMPS indices of d and m, Z14
// scratch, Z15 the word pairs of the offset or minimum term, Z16-Z19 the
// weight quants (elements 0-7, 16-23, 8-15, 24-31), Z20 d per lane, Z21 m
// in even lanes (0 in odd), Z22-Z25 the VPSHUFBITQMB indices, Z26/Z27
// activation quants, Z28 scratch, Z29 the final VPERMPS index, Z30 0x10
// bytes, Z31 0x0f bytes; K2 the even dword lanes, K3-K6 the fifth-bit
// masks. No global is read in the loops, where R15 is live (dynamic
// linking takes R15 for that).

#include "textflag.h"
#include "intgemm32_amd64.h"

// Weight row r of the tile at byte off of the current block.
#define W0(off) off(SI)
#define W1(off) off(SI)(R9*1)
#define W2(off) off(SI)(R9*2)
#define W3(off) off(SI)(R12*1)
#define W4(off) off(R15)
#define W5(off) off(R15)(R9*1)
#define W6(off) off(R15)(R9*2)
#define W7(off) off(R15)(R12*1)

// NIBBLES(off) unpacks the 16 nibble bytes at off of the eight rows:
// Z16 elements 0-7, Z18 8-15, Z17 16-23, Z19 24-31 (qword r: row r).
#define NIBBLES(off) \
	VMOVDQU64    W0(off), X16 \
	VINSERTI32X4 $1, W2(off), Z16, Z16 \
	VINSERTI32X4 $2, W4(off), Z16, Z16 \
	VINSERTI32X4 $3, W6(off), Z16, Z16 \
	VMOVDQU64    W1(off), X17 \
	VINSERTI32X4 $1, W3(off), Z17, Z17 \
	VINSERTI32X4 $2, W5(off), Z17, Z17 \
	VINSERTI32X4 $3, W7(off), Z17, Z17 \
	VPUNPCKHQDQ  Z17, Z16, Z18 \
	VPUNPCKLQDQ  Z17, Z16, Z16 \
	VPSRLW       $4, Z16, Z17 \
	VPSRLW       $4, Z18, Z19 \
	VPANDD       Z31, Z16, Z16 \
	VPANDD       Z31, Z18, Z18 \
	VPANDD       Z31, Z17, Z17 \
	VPANDD       Z31, Z19, Z19

// GATHER(off) loads the dword at off of the eight rows into Y8, row order.
#define GATHER(off) \
	VMOVD       W0(off), X8 \
	VPINSRD     $1, W1(off), X8, X8 \
	VPINSRD     $2, W2(off), X8, X8 \
	VPINSRD     $3, W3(off), X8, X8 \
	VMOVD       W4(off), X9 \
	VPINSRD     $1, W5(off), X9, X9 \
	VPINSRD     $2, W6(off), X9, X9 \
	VPINSRD     $3, W7(off), X9, X9 \
	VINSERTI128 $1, X9, Y8, Y8

// SCALES_D: Z20 lanes 2r and 2r+1 = d of row r (the f16 at block offset
// 0; the word after it is the first nibbles, converted and dropped).
#define SCALES_D \
	GATHER(0) \
	VCVTPH2PS Y8, Z8 \
	VPERMPS   Z8, Z12, Z20

// SCALES_DM: Z20 as SCALES_D, Z21 lane 2r = m of row r (the f16 at block
// offset 2), lane 2r+1 = 0.
#define SCALES_DM \
	SCALES_D \
	VPERMPS.Z Z8, Z13, K2, Z21

// HIGH_Q5(off) adds the fifth bits, bit j of the row's 32-bit qh at off
// for element j, to the quants as 0x10.
#define HIGH_Q5(off) \
	GATHER(off) \
	VPMOVZXDQ    Y8, Z8 \
	VPSHUFBITQMB Z22, Z8, K3 \
	VPSHUFBITQMB Z23, Z8, K4 \
	VPSHUFBITQMB Z24, Z8, K5 \
	VPSHUFBITQMB Z25, Z8, K6 \
	VPADDB       Z30, Z16, K3, Z16 \
	VPADDB       Z30, Z18, K4, Z18 \
	VPADDB       Z30, Z17, K5, Z17 \
	VPADDB       Z30, Z19, K6, Z19

// INIT_ZERO / INIT_OFFSET start an activation row's int32 lanes: zero, or
// the offset (Z15's even words, -16) times the block's sum at xs (an
// int32 whose low word is the int16 sum) in each row's even lane.
#define INIT_ZERO(xs, Zi) \
	VPXORD Zi, Zi, Zi

#define INIT_OFFSET(xs, Zi) \
	VPBROADCASTW xs, Zi \
	VPMADDWD     Z15, Zi, Zi

// MTERM_NONE / MTERM_MIN: the minimum term m·(sum·dx) of Q5_1
// (Z15 the words 1, 0), added to the float accumulator after the block's
// product.
#define MTERM_NONE(xd, xs, Zf)

#define MTERM_MIN(xd, xs, Zf) \
	VPBROADCASTW xs, Z28 \
	VPMADDWD     Z15, Z28, Z28 \
	VCVTDQ2PS    Z28, Z28 \
	VMULPS.BCST  xd, Z28, Z28 \
	VFMADD231PS  Z28, Z21, Zf

// The activation rows' steps, issued phase by phase across four rows so
// their VPDPBUSD chains interleave: PI_j starts row j's int32 lanes
// (INIT), PQ_j adds one quarter block (quants at off, weight register W),
// PF_j adds float(int32 lanes)·(d·dx) to its accumulator, then the
// minimum term. Row j: quants at 32j(BX), scale 4j(DX), sum 4j(CX);
// Z(8+j%4) its int32 lanes, Z(j) its accumulator.
#define QUART(x, Zx, W, Zi) \
	VPBROADCASTQ x, Zx \
	VPDPBUSD     Zx, W, Zi

#define FIN(xd, xs, Zi, Zf, MTERM) \
	VCVTDQ2PS   Zi, Zi \
	VMULPS.BCST xd, Z20, Z14 \
	VFMADD231PS Zi, Z14, Zf \
	MTERM(xd, xs, Zf)

#define PI_0(INIT) INIT(0(CX), Z8)
#define PQ_0(off, W) QUART((off+0)(BX), Z26, W, Z8)
#define PF_0(MTERM) FIN(0(DX), 0(CX), Z8, Z0, MTERM)
#define PI_1(INIT) INIT(4(CX), Z9)
#define PQ_1(off, W) QUART((off+32)(BX), Z27, W, Z9)
#define PF_1(MTERM) FIN(4(DX), 4(CX), Z9, Z1, MTERM)
#define PI_2(INIT) INIT(8(CX), Z10)
#define PQ_2(off, W) QUART((off+64)(BX), Z26, W, Z10)
#define PF_2(MTERM) FIN(8(DX), 8(CX), Z10, Z2, MTERM)
#define PI_3(INIT) INIT(12(CX), Z11)
#define PQ_3(off, W) QUART((off+96)(BX), Z27, W, Z11)
#define PF_3(MTERM) FIN(12(DX), 12(CX), Z11, Z3, MTERM)
#define PI_4(INIT) INIT(16(CX), Z8)
#define PQ_4(off, W) QUART((off+128)(BX), Z26, W, Z8)
#define PF_4(MTERM) FIN(16(DX), 16(CX), Z8, Z4, MTERM)
#define PI_5(INIT) INIT(20(CX), Z9)
#define PQ_5(off, W) QUART((off+160)(BX), Z27, W, Z9)
#define PF_5(MTERM) FIN(20(DX), 20(CX), Z9, Z5, MTERM)
#define PI_6(INIT) INIT(24(CX), Z10)
#define PQ_6(off, W) QUART((off+192)(BX), Z26, W, Z10)
#define PF_6(MTERM) FIN(24(DX), 24(CX), Z10, Z6, MTERM)
#define PI_7(INIT) INIT(28(CX), Z11)
#define PQ_7(off, W) QUART((off+224)(BX), Z27, W, Z11)
#define PF_7(MTERM) FIN(28(DX), 28(CX), Z11, Z7, MTERM)

// BLOCK(PI, PQ, PF, INIT, MTERM): a block times a group of activation
// rows, quarter by quarter (intgemm32_amd64.h).
#define BLOCK(PI, PQ, PF, INIT, MTERM) \
	PI(INIT) \
	PQ(0, Z16) \
	PQ(8, Z18) \
	PQ(16, Z17) \
	PQ(24, Z19) \
	PF(MTERM)

// RED(Zf, Yf, out) adds the two lanes of each weight row and stores the
// eight results at out (Z29: the even lanes first). Output row j is at
// R14 + j·CX; R13 holds row 5's address.
#define RED(Zf, Yf, out) \
	VPERMILPS $0xb1, Zf, Z14 \
	VADDPS    Z14, Zf, Zf \
	VPERMPS   Zf, Z29, Zf \
	VMOVUPS   Yf, out

#define REDUCE_1 RED(Z0, Y0, (R14))
#define REDUCE_2 REDUCE_1 \
	RED(Z1, Y1, (R14)(CX*1))
#define REDUCE_3 REDUCE_2 \
	RED(Z2, Y2, (R14)(CX*2))
#define REDUCE_4 REDUCE_3 \
	RED(Z3, Y3, (R14)(BX*1))
#define REDUCE_5 REDUCE_4 \
	RED(Z4, Y4, (R14)(CX*4))
#define REDUCE_6 REDUCE_5 \
	RED(Z5, Y5, (R13))
#define REDUCE_7 REDUCE_6 \
	RED(Z6, Y6, (R13)(CX*1))
#define REDUCE_8 REDUCE_7 \
	RED(Z7, Y7, (R13)(CX*2))

// GEMM32(size, noff, SCALES, HIGH, terms, INIT, MTERM, ZERO, ROWS, REDUCE)
// is a kernel body for blocks of size bytes with the nibbles at noff and
// Z15 broadcast from terms. Each block step prefetches the next 192 bytes
// of the next tile (a tile is 8·size ≤ 192 bytes per block), one tile
// ahead, as the Q8_0 kernels do.
#define GEMM32(size, noff, SCALES, HIGH, terms, INIT, MTERM, ZERO, ROWS, REDUCE) \
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
	MOVL         $0x10101010, CX \
	VPBROADCASTD CX, Z30 \
	VMOVDQU32    b32idx<>+0(SB), Z12 \
	VMOVDQU32    b32idx<>+64(SB), Z13 \
	VMOVDQU32    b32idx<>+128(SB), Z29 \
	VPBROADCASTQ terms, Z15 \
	VMOVDQU32    b32bits<>+0(SB), Z22 \
	VMOVDQU32    b32bits<>+64(SB), Z23 \
	VMOVDQU32    b32bits<>+128(SB), Z24 \
	VMOVDQU32    b32bits<>+192(SB), Z25 \
	MOVL         $0x5555, CX \
	KMOVW        CX, K2 \
tile: \
	MOVQ DI, SI \
	LEAQ (DI)(R9*4), R15 \
	LEAQ (DI)(R9*8), R10 \
	MOVQ xq+24(FP), BX \
	MOVQ xd+32(FP), DX \
	MOVQ sums+40(FP), CX \
	MOVQ nb+56(FP), R13 \
	MOVQ R13, 8(SP) \
	ZERO \
blk: \
	PREFETCHT0 (R10) \
	PREFETCHT0 64(R10) \
	PREFETCHT0 128(R10) \
	ADDQ       $192, R10 \
	NIBBLES(noff) \
	SCALES \
	HIGH \
	ROWS(INIT, MTERM) \
	ADDQ $size, SI \
	ADDQ $size, R15 \
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
	REDUCE \
	LEAQ (DI)(R9*8), DI \
	ADDQ $32, R14 \
	SUBQ $8, 0(SP) \
	JNZ  tile \
	VZEROUPPER \
	RET

#define Q5_0(ZERO, ROWS, REDUCE) GEMM32(22, 6, SCALES_D, HIGH_Q5(2), b32terms<>+0(SB), INIT_OFFSET, MTERM_NONE, ZERO, ROWS, REDUCE)
#define Q5_1(ZERO, ROWS, REDUCE) GEMM32(24, 8, SCALES_DM, HIGH_Q5(4), b32terms<>+8(SB), INIT_ZERO, MTERM_MIN, ZERO, ROWS, REDUCE)

// VPERMPS indices: d of row r to lanes 2r and 2r+1; m of row r to lane
// 2r; the even lanes to the low half.
DATA b32idx<>+0(SB)/8, $0x0000000000000000
DATA b32idx<>+8(SB)/8, $0x0000000200000002
DATA b32idx<>+16(SB)/8, $0x0000000400000004
DATA b32idx<>+24(SB)/8, $0x0000000600000006
DATA b32idx<>+32(SB)/8, $0x0000000800000008
DATA b32idx<>+40(SB)/8, $0x0000000a0000000a
DATA b32idx<>+48(SB)/8, $0x0000000c0000000c
DATA b32idx<>+56(SB)/8, $0x0000000e0000000e
DATA b32idx<>+64(SB)/8, $0x0000000100000001
DATA b32idx<>+72(SB)/8, $0x0000000300000003
DATA b32idx<>+80(SB)/8, $0x0000000500000005
DATA b32idx<>+88(SB)/8, $0x0000000700000007
DATA b32idx<>+96(SB)/8, $0x0000000900000009
DATA b32idx<>+104(SB)/8, $0x0000000b0000000b
DATA b32idx<>+112(SB)/8, $0x0000000d0000000d
DATA b32idx<>+120(SB)/8, $0x0000000f0000000f
DATA b32idx<>+128(SB)/8, $0x0000000200000000
DATA b32idx<>+136(SB)/8, $0x0000000600000004
DATA b32idx<>+144(SB)/8, $0x0000000a00000008
DATA b32idx<>+152(SB)/8, $0x0000000e0000000c
DATA b32idx<>+160(SB)/8, $0x0000000000000000
DATA b32idx<>+168(SB)/8, $0x0000000000000000
DATA b32idx<>+176(SB)/8, $0x0000000000000000
DATA b32idx<>+184(SB)/8, $0x0000000000000000
GLOBL b32idx<>(SB), RODATA|NOPTR, $192

// Word pairs per qword (two dword lanes): Q5_0's (-16, 0), (0, 0); Q5_1's
// (1, 0), (1, 0).
DATA b32terms<>+0(SB)/8, $0x000000000000fff0
DATA b32terms<>+8(SB)/8, $0x0000000100000001
GLOBL b32terms<>(SB), RODATA|NOPTR, $16

// VPSHUFBITQMB indices: byte j of every qword picks bit 8k+j of the row's
// qh for the quants of elements 8k..8k+7 (k = 0, 1, 2, 3).
DATA b32bits<>+0(SB)/8, $0x0706050403020100
DATA b32bits<>+8(SB)/8, $0x0706050403020100
DATA b32bits<>+16(SB)/8, $0x0706050403020100
DATA b32bits<>+24(SB)/8, $0x0706050403020100
DATA b32bits<>+32(SB)/8, $0x0706050403020100
DATA b32bits<>+40(SB)/8, $0x0706050403020100
DATA b32bits<>+48(SB)/8, $0x0706050403020100
DATA b32bits<>+56(SB)/8, $0x0706050403020100
DATA b32bits<>+64(SB)/8, $0x0f0e0d0c0b0a0908
DATA b32bits<>+72(SB)/8, $0x0f0e0d0c0b0a0908
DATA b32bits<>+80(SB)/8, $0x0f0e0d0c0b0a0908
DATA b32bits<>+88(SB)/8, $0x0f0e0d0c0b0a0908
DATA b32bits<>+96(SB)/8, $0x0f0e0d0c0b0a0908
DATA b32bits<>+104(SB)/8, $0x0f0e0d0c0b0a0908
DATA b32bits<>+112(SB)/8, $0x0f0e0d0c0b0a0908
DATA b32bits<>+120(SB)/8, $0x0f0e0d0c0b0a0908
DATA b32bits<>+128(SB)/8, $0x1716151413121110
DATA b32bits<>+136(SB)/8, $0x1716151413121110
DATA b32bits<>+144(SB)/8, $0x1716151413121110
DATA b32bits<>+152(SB)/8, $0x1716151413121110
DATA b32bits<>+160(SB)/8, $0x1716151413121110
DATA b32bits<>+168(SB)/8, $0x1716151413121110
DATA b32bits<>+176(SB)/8, $0x1716151413121110
DATA b32bits<>+184(SB)/8, $0x1716151413121110
DATA b32bits<>+192(SB)/8, $0x1f1e1d1c1b1a1918
DATA b32bits<>+200(SB)/8, $0x1f1e1d1c1b1a1918
DATA b32bits<>+208(SB)/8, $0x1f1e1d1c1b1a1918
DATA b32bits<>+216(SB)/8, $0x1f1e1d1c1b1a1918
DATA b32bits<>+224(SB)/8, $0x1f1e1d1c1b1a1918
DATA b32bits<>+232(SB)/8, $0x1f1e1d1c1b1a1918
DATA b32bits<>+240(SB)/8, $0x1f1e1d1c1b1a1918
DATA b32bits<>+248(SB)/8, $0x1f1e1d1c1b1a1918
GLOBL b32bits<>(SB), RODATA|NOPTR, $256

// func gemmQ5_0x1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0x1VNNI(SB), NOSPLIT, $16-80
	Q5_0(ZERO_1, ROWS_1, REDUCE_1)

// func gemmQ5_0x2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0x2VNNI(SB), NOSPLIT, $16-80
	Q5_0(ZERO_2, ROWS_2, REDUCE_2)

// func gemmQ5_0x3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0x3VNNI(SB), NOSPLIT, $16-80
	Q5_0(ZERO_3, ROWS_3, REDUCE_3)

// func gemmQ5_0x4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0x4VNNI(SB), NOSPLIT, $16-80
	Q5_0(ZERO_4, ROWS_4, REDUCE_4)

// func gemmQ5_0x5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0x5VNNI(SB), NOSPLIT, $16-80
	Q5_0(ZERO_5, ROWS_5, REDUCE_5)

// func gemmQ5_0x6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0x6VNNI(SB), NOSPLIT, $16-80
	Q5_0(ZERO_6, ROWS_6, REDUCE_6)

// func gemmQ5_0x7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0x7VNNI(SB), NOSPLIT, $16-80
	Q5_0(ZERO_7, ROWS_7, REDUCE_7)

// func gemmQ5_0x8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_0x8VNNI(SB), NOSPLIT, $16-80
	Q5_0(ZERO_8, ROWS_8, REDUCE_8)

// func gemmQ5_1x1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1x1VNNI(SB), NOSPLIT, $16-80
	Q5_1(ZERO_1, ROWS_1, REDUCE_1)

// func gemmQ5_1x2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1x2VNNI(SB), NOSPLIT, $16-80
	Q5_1(ZERO_2, ROWS_2, REDUCE_2)

// func gemmQ5_1x3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1x3VNNI(SB), NOSPLIT, $16-80
	Q5_1(ZERO_3, ROWS_3, REDUCE_3)

// func gemmQ5_1x4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1x4VNNI(SB), NOSPLIT, $16-80
	Q5_1(ZERO_4, ROWS_4, REDUCE_4)

// func gemmQ5_1x5VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1x5VNNI(SB), NOSPLIT, $16-80
	Q5_1(ZERO_5, ROWS_5, REDUCE_5)

// func gemmQ5_1x6VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1x6VNNI(SB), NOSPLIT, $16-80
	Q5_1(ZERO_6, ROWS_6, REDUCE_6)

// func gemmQ5_1x7VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1x7VNNI(SB), NOSPLIT, $16-80
	Q5_1(ZERO_7, ROWS_7, REDUCE_7)

// func gemmQ5_1x8VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, n, nb int, out *float32, ostride int)
TEXT ·gemmQ5_1x8VNNI(SB), NOSPLIT, $16-80
	Q5_1(ZERO_8, ROWS_8, REDUCE_8)
