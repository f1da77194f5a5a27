// Small-batch integer GEMM kernels for amd64 with AVX-512 VNNI: a tile of
// eight weight rows times up to four quantized activation rows per call
// step, so each weight block is loaded and unpacked once for all of them
// (intdot_amd64.s loads it again for every activation row). intgemm.go
// calls them and holds the Go reference they are tested against.
//
// Q8_0 layout: a zmm holds one 32-byte block of two weight rows (row 2k in
// the low half, 2k+1 in the high half) and the activation block is
// broadcast to both halves, so one VPDPBUSD makes 64 products. VPDPBUSD
// multiplies unsigned by signed bytes and AVX-512 has no VPSIGNB, so the
// weights are made unsigned (w XOR 0x80 = w+128) and 128·Σx is subtracted:
// each product lane starts from the negated VPDPBUSD of 0x80 bytes with the
// activation, computed once per activation row and block.

#include "textflag.h"

// Registers of the Q8_0 kernels:
//   DI tile base, R9 rowSize, R12 3·rowSize, SI row 0 of the tile at the
//   current block, R15 row 5, R10 the prefetch pointer, 0(SP) rows left,
//   R14 out, BX activation quants
//   at the current block, R11 activation stride, R13 3·stride, DX
//   activation scales at the current block, R8 scale stride, AX 3·R8,
//   CX blocks left.
//   Z0-Z15 accumulators (Z(4j+k): activation row j, weight pair k),
//   Z16-Z19 weight pairs, Z20-Z23 their scales, Z24 activation block,
//   Z25 its correction, Z26 its scale, Z27/Z28 temporaries, Z29 zero,
//   Z31 0x80 bytes; K1 selects the high eight words.

// Weight rows of a tile: quants (Q) and scale (D) of row r at the current
// block.
#define Q0 2(SI)
#define D0 0(SI)
#define Q1 2(SI)(R9*1)
#define D1 0(SI)(R9*1)
#define Q2 2(SI)(R9*2)
#define D2 0(SI)(R9*2)
#define Q3 2(SI)(R12*1)
#define D3 0(SI)(R12*1)
#define Q4 2(SI)(R9*4)
#define D4 0(SI)(R9*4)
#define Q5 2(R15)
#define D5 0(R15)
#define Q6 2(R15)(R9*1)
#define D6 0(R15)(R9*1)
#define Q7 2(R15)(R9*2)
#define D7 0(R15)(R9*2)

// Q8_WPAIR loads the blocks of two weight rows into W (unsigned: +128) and
// their scales as floats into D (low eight lanes the first row's).
#define Q8_WPAIR(qa, da, qb, db, Wy, Wz, Dy, Dz) \
	VMOVDQU64    qa, Wy \
	VINSERTI64X4 $1, qb, Wz, Wz \
	VPXORD       Z31, Wz, Wz \
	VPBROADCASTW da, Dy \
	VPBROADCASTW db, K1, Dy \
	VCVTPH2PS    Dy, Dz

#define Q8_WEIGHTS \
	Q8_WPAIR(Q0, D0, Q1, D1, Y16, Z16, Y20, Z20) \
	Q8_WPAIR(Q2, D2, Q3, D3, Y17, Z17, Y21, Z21) \
	Q8_WPAIR(Q4, D4, Q5, D5, Y18, Z18, Y22, Z22) \
	Q8_WPAIR(Q6, D6, Q7, D7, Y19, Z19, Y23, Z23)

// Q8_ACT loads an activation block (quants at xa, scale at sa): Z24 the
// quants in both halves, Z25 -128·Σx per lane, Z26 the scale.
#define Q8_ACT(xa, sa) \
	VBROADCASTI64X4 xa, Z24 \
	VPXORD          Z25, Z25, Z25 \
	VPDPBUSD        Z24, Z31, Z25 \
	VPSUBD          Z25, Z29, Z25 \
	VBROADCASTSS    sa, Z26

// Q8_PAIR: acc += (W·x - 128·Σx)·D·dx for one weight pair.
#define Q8_PAIR(W, D, acc) \
	VMOVDQA64   Z25, Z27 \
	VPDPBUSD    Z24, W, Z27 \
	VCVTDQ2PS   Z27, Z27 \
	VMULPS      Z26, D, Z28 \
	VFMADD231PS Z27, Z28, acc

#define Q8_ROW(xa, sa, a0, a1, a2, a3) \
	Q8_ACT(xa, sa) \
	Q8_PAIR(Z16, Z20, a0) \
	Q8_PAIR(Z17, Z21, a1) \
	Q8_PAIR(Z18, Z22, a2) \
	Q8_PAIR(Z19, Z23, a3)

#define Q8_ROW0 Q8_ROW((BX), (DX), Z0, Z1, Z2, Z3)
#define Q8_ROW1 Q8_ROW((BX)(R11*1), (DX)(R8*1), Z4, Z5, Z6, Z7)
#define Q8_ROW2 Q8_ROW((BX)(R11*2), (DX)(R8*2), Z8, Z9, Z10, Z11)
#define Q8_ROW3 Q8_ROW((BX)(R13*1), (DX)(AX*1), Z12, Z13, Z14, Z15)

// REDUCE_ROW sums the halves of accumulators a0..a3 (weight pairs 0..3 of
// one activation row) into eight floats, rows 0..7 of the tile, stored at
// out. Z30 holds the VPERMPS index 0,4,8,12,1,5,9,13.
#define REDUCE_ROW(a0, a1, a2, a3, out) \
	VSHUFF32X4  $0x88, a1, a0, Z24 \
	VSHUFF32X4  $0xdd, a1, a0, Z25 \
	VADDPS      Z25, Z24, Z24 \
	VSHUFF32X4  $0x88, a3, a2, Z26 \
	VSHUFF32X4  $0xdd, a3, a2, Z27 \
	VADDPS      Z27, Z26, Z26 \
	VUNPCKLPS   Z26, Z24, Z27 \
	VUNPCKHPS   Z26, Z24, Z28 \
	VADDPS      Z28, Z27, Z27 \
	VPERMILPS   $0x4e, Z27, Z28 \
	VADDPS      Z28, Z27, Z27 \
	VPERMPS     Z27, Z30, Z27 \
	VMOVUPS     Y27, out

// GEMM_Q8_0(rows, zero, reduce): the body of a kernel for `rows`
// activation rows; zero clears their accumulators, rows is the block step
// per activation row and reduce stores the results. The tile's eight rows
// are read as eight short interleaved streams, which the hardware
// prefetcher follows poorly when the weights come from memory, so each
// block step prefetches the next 320 bytes of the next tile (a tile is
// 272 bytes per block), one tile ahead.
#define GEMM_Q8_0(ROWS, ZERO, REDUCE) \
	MOVQ         w+0(FP), DI \
	MOVQ         rowSize+8(FP), R9 \
	LEAQ         (R9)(R9*2), R12 \
	MOVQ         nrows+16(FP), CX \
	MOVQ         CX, 0(SP) \
	MOVQ         out+56(FP), R14 \
	MOVQ         xstride+40(FP), R11 \
	LEAQ         (R11)(R11*2), R13 \
	MOVQ         nb+48(FP), R8 \
	SHLQ         $2, R8 \
	LEAQ         (R8)(R8*2), AX \
	MOVL         $0x80808080, CX \
	VPBROADCASTD CX, Z31 \
	VPXORD       Z29, Z29, Z29 \
	MOVL         $0xff00, CX \
	KMOVW        CX, K1 \
tile: \
	MOVQ DI, SI \
	LEAQ (DI)(R9*8), R10 \
	LEAQ (DI)(R9*4), R15 \
	ADDQ R9, R15 \
	MOVQ xq+24(FP), BX \
	MOVQ xd+32(FP), DX \
	MOVQ nb+48(FP), CX \
	ZERO \
blk: \
	PREFETCHT0 (R10) \
	PREFETCHT0 64(R10) \
	PREFETCHT0 128(R10) \
	PREFETCHT0 192(R10) \
	PREFETCHT0 256(R10) \
	ADDQ       $320, R10 \
	Q8_WEIGHTS \
	ROWS \
	ADDQ $34, SI \
	ADDQ $34, R15 \
	ADDQ $32, BX \
	ADDQ $4, DX \
	DECQ CX \
	JNZ  blk \
	MOVQ      $0x0d0905010c080400, CX \
	VMOVQ     CX, X30 \
	VPMOVZXBD X30, Z30 \
	MOVQ      ostride+64(FP), CX \
	SHLQ      $2, CX \
	LEAQ      (CX)(CX*2), BX \
	REDUCE \
	LEAQ (DI)(R9*8), DI \
	ADDQ $32, R14 \
	SUBQ $8, 0(SP) \
	JNZ  tile \
	VZEROUPPER \
	RET

#define ZERO4(a, b, c, d) \
	VPXORD a, a, a \
	VPXORD b, b, b \
	VPXORD c, c, c \
	VPXORD d, d, d

#define ZERO_1 ZERO4(Z0, Z1, Z2, Z3)
#define ZERO_2 ZERO_1 \
	ZERO4(Z4, Z5, Z6, Z7)
#define ZERO_3 ZERO_2 \
	ZERO4(Z8, Z9, Z10, Z11)
#define ZERO_4 ZERO_3 \
	ZERO4(Z12, Z13, Z14, Z15)

#define ROWS_1 Q8_ROW0
#define ROWS_2 Q8_ROW0 \
	Q8_ROW1
#define ROWS_3 ROWS_2 \
	Q8_ROW2
#define ROWS_4 ROWS_3 \
	Q8_ROW3

#define REDUCE_1 REDUCE_ROW(Z0, Z1, Z2, Z3, (R14))
#define REDUCE_2 REDUCE_1 \
	REDUCE_ROW(Z4, Z5, Z6, Z7, (R14)(CX*1))
#define REDUCE_3 REDUCE_2 \
	REDUCE_ROW(Z8, Z9, Z10, Z11, (R14)(CX*2))
#define REDUCE_4 REDUCE_3 \
	REDUCE_ROW(Z12, Z13, Z14, Z15, (R14)(BX*1))

// AVX2 Q8_0 kernels, for CPUs without AVX-512 VNNI: a tile of two
// weight rows times up to three activation rows, ggml's sign trick
// (|w| times x·sign(w) through VPMADDUBSW, then VPMADDWD with ones), one
// float scale product per pair and block. Registers: DI tile base, R9
// rowSize, SI row 0 at the current block (row 1 at (SI)(R9*1)), R10 rows
// left, R14 out, BX activation quants (row stride R11), DX activation
// scales (row stride R8), CX blocks left; Y(2j+i) accumulators of weight
// row i and activation row j, Y6/Y7 the weight blocks, Y8/Y9 their
// absolute values, X14/X15 their scales, Y10 the activation block, Y11
// and Y12 scratch, Y13 int16 ones.

// A2_PAIR: acc += (|w|·x·sign(w))·dw·dx for weight block W (absolute
// value A, scale in Xd) and the activation block in Y10 (scale at xd).
#define A2_PAIR(W, A, Xd, xd, acc) \
	VPSIGNB      W, Y10, Y11 \
	VPMADDUBSW   Y11, A, Y11 \
	VPMADDWD     Y13, Y11, Y11 \
	VCVTDQ2PS    Y11, Y11 \
	VMULSS       xd, Xd, X12 \
	VBROADCASTSS X12, Y12 \
	VFMADD231PS  Y11, Y12, acc

#define A2_J(xa, xd, a0, a1) \
	VMOVDQU xa, Y10 \
	A2_PAIR(Y6, Y8, X14, xd, a0) \
	A2_PAIR(Y7, Y9, X15, xd, a1)

#define A2_JS1 A2_J((BX), (DX), Y0, Y1)
#define A2_JS2 A2_JS1 \
	A2_J((BX)(R11*1), (DX)(R8*1), Y2, Y3)
#define A2_JS3 A2_JS2 \
	A2_J((BX)(R11*2), (DX)(R8*2), Y4, Y5)

// A2_RED stores the sums of accumulators a (row 0) and b (row 1) at out.
#define A2_RED(a, b, out) \
	VHADDPS      b, a, Y11 \
	VHADDPS      Y11, Y11, Y11 \
	VEXTRACTF128 $1, Y11, X12 \
	VADDPS       X12, X11, X11 \
	VMOVLPS      X11, out

#define A2_RED1 A2_RED(Y0, Y1, (R14))
#define A2_RED2 A2_RED1 \
	A2_RED(Y2, Y3, (R14)(AX*1))
#define A2_RED3 A2_RED2 \
	A2_RED(Y4, Y5, (R14)(AX*2))

#define A2_ZERO1 VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1
#define A2_ZERO2 A2_ZERO1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3
#define A2_ZERO3 A2_ZERO2 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5

// A2_SCALE: the f16 scale at a as float in Xd.
#define A2_SCALE(a, Xd) \
	MOVWLZX   a, AX \
	VMOVD     AX, Xd \
	VCVTPH2PS Xd, Xd

#define GEMM_Q8_0_AVX2(JS, ZERO, RED) \
	MOVQ         w+0(FP), DI \
	MOVQ         rowSize+8(FP), R9 \
	MOVQ         nrows+16(FP), R10 \
	MOVQ         out+56(FP), R14 \
	MOVQ         xstride+40(FP), R11 \
	MOVQ         nb+48(FP), R8 \
	SHLQ         $2, R8 \
	MOVL         $0x00010001, AX \
	VMOVD        AX, X13 \
	VPBROADCASTD X13, Y13 \
tile: \
	MOVQ DI, SI \
	MOVQ xq+24(FP), BX \
	MOVQ xd+32(FP), DX \
	MOVQ nb+48(FP), CX \
	ZERO \
blk: \
	VMOVDQU 2(SI), Y6 \
	VMOVDQU 2(SI)(R9*1), Y7 \
	VPABSB  Y6, Y8 \
	VPABSB  Y7, Y9 \
	A2_SCALE(0(SI), X14) \
	A2_SCALE(0(SI)(R9*1), X15) \
	JS \
	ADDQ $34, SI \
	ADDQ $32, BX \
	ADDQ $4, DX \
	DECQ CX \
	JNZ  blk \
	MOVQ ostride+64(FP), AX \
	SHLQ $2, AX \
	RED \
	ADDQ $8, R14 \
	LEAQ (DI)(R9*2), DI \
	SUBQ $2, R10 \
	JNZ  tile \
	VZEROUPPER \
	RET

// Q8X1_BLOCK(q, d, acc) adds one block of a weight row (quants at q, f16
// scale at d) times the activation block (BX, scale at DX) to the eight
// lanes of acc with the arithmetic of Q8_PAIR: the same int32 lane sums
// (|w|·(x·sign w) is w·x, the activation quants lying in ±127), converted,
// times dw·dx, fused into acc.
#define Q8X1_BLOCK(q, d, acc) \
	VMOVDQU      q, Y2 \
	VPSIGNB      Y2, Y3, Y4 \
	VPABSB       Y2, Y2 \
	VPXOR        Y5, Y5, Y5 \
	VPDPBUSD     Y4, Y2, Y5 \
	VCVTDQ2PS    Y5, Y5 \
	MOVWLZX      d, AX \
	VMOVD        AX, X6 \
	VCVTPH2PS    X6, X6 \
	VMULSS       (DX), X6, X6 \
	VBROADCASTSS X6, Y6 \
	VFMADD231PS  Y5, Y6, acc

// Q8X1_REDUCE stores the sum of acc's eight lanes l0..l7 at out in
// REDUCE_ROW's order: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).
#define Q8X1_REDUCE(acc, xacc, out) \
	VEXTRACTF128 $1, acc, X7 \
	VADDPS       X7, xacc, xacc \
	VPERMILPS    $0x4e, xacc, X7 \
	VADDPS       X7, xacc, xacc \
	VPERMILPS    $0xb1, xacc, X7 \
	VADDPS       X7, xacc, xacc \
	VMOVSS       xacc, out

// GEMM_Q8_X1(PREP, ACT, BLOCK, REDUCE) is the body of a one-activation-
// row kernel (the decode step): row i of the first half of the rows beside
// row i of the second half, each read start to end, so the weights come
// as two sequential streams far apart, which the hardware prefetcher
// follows (the tile kernels' interleaved neighbouring rows stream at a
// fraction of that speed from memory), with each output's arithmetic
// exactly that of the tile kernels (MatMul is batch invariant). PREP sets
// up constants, ACT loads the activation block at BX, BLOCK(q, d, acc)
// adds a weight row's block to acc and REDUCE(acc, xacc, out) stores a
// row's sum. nrows must be even (it is a multiple of the tile).
// Registers: DI row i, R15 row i+nrows/2 (SI its block), R9 rowSize, R10
// pairs left, R12 the distance between the halves, R14 and R13 their
// outputs, BX / DX the activation block and scale, CX blocks left, Y0 / Y1
// the accumulators.
#define GEMM_Q8_X1(PREP, ACT, BLOCK, REDUCE) \
	MOVQ  w+0(FP), DI \
	MOVQ  rowSize+8(FP), R9 \
	MOVQ  nrows+16(FP), R10 \
	SHRQ  $1, R10 \
	JZ    x1done \
	MOVQ  R10, R12 \
	IMULQ R9, R12 \
	MOVQ  out+56(FP), R14 \
	LEAQ  (R14)(R10*4), R13 \
	PREP \
x1row: \
	MOVQ   DI, SI \
	LEAQ   (DI)(R12*1), R15 \
	MOVQ   xq+24(FP), BX \
	MOVQ   xd+32(FP), DX \
	MOVQ   nb+48(FP), CX \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
x1blk: \
	ACT \
	BLOCK(2(SI), (SI), Y0) \
	BLOCK(2(R15), (R15), Y1) \
	ADDQ $34, SI \
	ADDQ $34, R15 \
	ADDQ $32, BX \
	ADDQ $4, DX \
	DECQ CX \
	JNZ  x1blk \
	REDUCE(Y0, X0, (R14)) \
	REDUCE(Y1, X1, (R13)) \
	ADDQ $4, R14 \
	ADDQ $4, R13 \
	ADDQ R9, DI \
	DECQ R10 \
	JNZ  x1row \
	VZEROUPPER \
x1done: \
	RET

#define Q8X1_PREP
#define Q8X1_ACT VMOVDQU (BX), Y3

// func gemmQ8_0x1VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)
TEXT ·gemmQ8_0x1VNNI(SB), NOSPLIT, $0-72
	GEMM_Q8_X1(Q8X1_PREP, Q8X1_ACT, Q8X1_BLOCK, Q8X1_REDUCE)

// func gemmQ8_0x2VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)
TEXT ·gemmQ8_0x2VNNI(SB), NOSPLIT, $8-72
	GEMM_Q8_0(ROWS_2, ZERO_2, REDUCE_2)

// func gemmQ8_0x3VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)
TEXT ·gemmQ8_0x3VNNI(SB), NOSPLIT, $8-72
	GEMM_Q8_0(ROWS_3, ZERO_3, REDUCE_3)

// func gemmQ8_0x4VNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)
TEXT ·gemmQ8_0x4VNNI(SB), NOSPLIT, $8-72
	GEMM_Q8_0(ROWS_4, ZERO_4, REDUCE_4)


// A2X1_BLOCK(q, d, acc) adds one weight block (quants at q, f16 scale at
// d) times the activation block in Y10 (scale at DX) to acc with
// A2_PAIR's arithmetic.
#define A2X1_BLOCK(q, d, acc) \
	VMOVDQU      q, Y6 \
	VPABSB       Y6, Y8 \
	VPSIGNB      Y6, Y10, Y11 \
	VPMADDUBSW   Y11, Y8, Y11 \
	VPMADDWD     Y13, Y11, Y11 \
	VCVTDQ2PS    Y11, Y11 \
	A2_SCALE(d, X14) \
	VMULSS       (DX), X14, X12 \
	VBROADCASTSS X12, Y12 \
	VFMADD231PS  Y11, Y12, acc

// A2X1_REDUCE stores the sum of acc's eight lanes at out in A2_RED's
// order: ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)).
#define A2X1_REDUCE(acc, xacc, out) \
	VHADDPS      acc, acc, Y11 \
	VHADDPS      Y11, Y11, Y11 \
	VEXTRACTF128 $1, Y11, X12 \
	VADDPS       X12, X11, X11 \
	VMOVSS       X11, out

#define A2X1_PREP \
	MOVL         $0x00010001, AX \
	VMOVD        AX, X13 \
	VPBROADCASTD X13, Y13

#define A2X1_ACT VMOVDQU (BX), Y10

// func gemmQ8_0x1AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)
TEXT ·gemmQ8_0x1AVX2(SB), NOSPLIT, $0-72
	GEMM_Q8_X1(A2X1_PREP, A2X1_ACT, A2X1_BLOCK, A2X1_REDUCE)

// func gemmQ8_0x2AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)
TEXT ·gemmQ8_0x2AVX2(SB), NOSPLIT, $0-72
	GEMM_Q8_0_AVX2(A2_JS2, A2_ZERO2, A2_RED2)

// func gemmQ8_0x3AVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, xstride, nb int, out *float32, ostride int)
TEXT ·gemmQ8_0x3AVX2(SB), NOSPLIT, $0-72
	GEMM_Q8_0_AVX2(A2_JS3, A2_ZERO3, A2_RED3)
