// Integer dot kernels for amd64: weight rows in GGUF block formats times an
// activation row quantized to int8 (actquant.go). Each call handles nrows
// consecutive weight rows of rowSize bytes and writes one float32 per row.
// intdot.go's Go versions are the reference they are tested against.
// This file holds the 32-element block types; intdotk_amd64.s the K-quants.
//
// VPMADDUBSW multiplies unsigned by signed bytes, so signed weights (Q8_0,
// Q4_0 after subtracting 8) use ggml's sign trick: |w| times x·sign(w).
// Unsigned weights (the K-quants' 4- and 6-bit values) go in directly and
// their offsets and minimums are applied through the activation's sums.

#include "textflag.h"
#include "intdot_amd64.h"

// Q8_0 / Q4_0 row loop shared shape. Registers:
//   DI row base, R9 rowSize, R10 rows left, R14 out,
//   SI block pointer, BX activation quants, DX activation scales, CX blocks left,
//   Y0/Y1 float accumulators, Y15 int16 ones (AVX2) / Y14 0x0f bytes, Y13 8s.

// BLOCKSCALE(woff, dst) loads the f16 scale at woff(SI), multiplies it by
// the activation scale at (DX) and broadcasts it into dst.
#define BLOCKSCALE(woff, xoff, dst, xdst) \
	MOVWLZX      woff(SI), AX \
	VMOVD        AX, xdst \
	VCVTPH2PS    xdst, xdst \
	VMULSS       xoff(DX), xdst, xdst \
	VBROADCASTSS xdst, dst

// Q8_0 block step: Y2 = int32 lane sums of w·x for the block at woff(SI)
// and xoff(BX).
#define Q8_0_AVX2(woff, xoff, xdoff, acc) \
	VMOVDQU    (woff+2)(SI), Y2 \
	VMOVDQU    xoff(BX), Y3 \
	VPSIGNB    Y2, Y3, Y3 \
	VPABSB     Y2, Y2 \
	VPMADDUBSW Y3, Y2, Y2 \
	VPMADDWD   Y15, Y2, Y2 \
	VCVTDQ2PS  Y2, Y2 \
	BLOCKSCALE(woff, xdoff, Y4, X4) \
	VFMADD231PS Y2, Y4, acc

#define Q8_0_VNNI(woff, xoff, xdoff, acc) \
	VMOVDQU    (woff+2)(SI), Y2 \
	VMOVDQU    xoff(BX), Y3 \
	VPSIGNB    Y2, Y3, Y3 \
	VPABSB     Y2, Y2 \
	VPXOR      Y5, Y5, Y5 \
	VPDPBUSD   Y3, Y2, Y5 \
	VCVTDQ2PS  Y5, Y2 \
	BLOCKSCALE(woff, xdoff, Y4, X4) \
	VFMADD231PS Y2, Y4, acc

// Q4_0 block (18 bytes): low nibbles are elements 0..15, high 16..31.
#define Q4_0_LOAD(woff) \
	VMOVDQU     (woff+2)(SI), X2 \
	VPSRLW      $4, X2, X3 \
	VINSERTI128 $1, X3, Y2, Y2 \
	VPAND       Y14, Y2, Y2 \
	VPSUBB      Y13, Y2, Y2

#define Q4_0_AVX2(woff, xoff, xdoff, acc) \
	Q4_0_LOAD(woff) \
	VMOVDQU    xoff(BX), Y3 \
	VPSIGNB    Y2, Y3, Y3 \
	VPABSB     Y2, Y2 \
	VPMADDUBSW Y3, Y2, Y2 \
	VPMADDWD   Y15, Y2, Y2 \
	VCVTDQ2PS  Y2, Y2 \
	BLOCKSCALE(woff, xdoff, Y4, X4) \
	VFMADD231PS Y2, Y4, acc

#define Q4_0_VNNI(woff, xoff, xdoff, acc) \
	Q4_0_LOAD(woff) \
	VMOVDQU    xoff(BX), Y3 \
	VPSIGNB    Y2, Y3, Y3 \
	VPABSB     Y2, Y2 \
	VPXOR      Y5, Y5, Y5 \
	VPDPBUSD   Y3, Y2, Y5 \
	VCVTDQ2PS  Y5, Y2 \
	BLOCKSCALE(woff, xdoff, Y4, X4) \
	VFMADD231PS Y2, Y4, acc

// BLOCKROWS(size, STEP) is the body of a row-range kernel over blocks of
// size bytes, two blocks per iteration.
#define BLOCKROWS(size, STEP) \
	MOVQ         w+0(FP), DI \
	MOVQ         rowSize+8(FP), R9 \
	MOVQ         nrows+16(FP), R10 \
	MOVQ         out+48(FP), R14 \
	MOVL         $0x00010001, AX \
	VMOVD        AX, X15 \
	VPBROADCASTD X15, Y15 \
	MOVL         $0x0f0f0f0f, AX \
	VMOVD        AX, X14 \
	VPBROADCASTD X14, Y14 \
	MOVL         $0x08080808, AX \
	VMOVD        AX, X13 \
	VPBROADCASTD X13, Y13 \
row: \
	MOVQ   DI, SI \
	MOVQ   xq+24(FP), BX \
	MOVQ   xd+32(FP), DX \
	MOVQ   nb+40(FP), CX \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
pair: \
	CMPQ CX, $2 \
	JL   one \
	STEP(0, 0, 0, Y0) \
	STEP(size, 32, 4, Y1) \
	ADDQ $(2*size), SI \
	ADDQ $64, BX \
	ADDQ $8, DX \
	SUBQ $2, CX \
	JMP  pair \
one: \
	CMPQ CX, $0 \
	JE   done \
	STEP(0, 0, 0, Y0) \
done: \
	VADDPS Y1, Y0, Y0 \
	REDUCE8(Y0, X0, (R14)) \
	ADDQ   $4, R14 \
	ADDQ   R9, DI \
	DECQ   R10 \
	JNZ    row \
	VZEROUPPER \
	RET

// Q4_1, Q5_0 and Q5_1: one block per iteration, with the activation's
// per-block sums at (R8) for the minimum terms (accumulated in X1) of the
// types that have one. Registers besides BLOCKROWS's: Y12 0x10 bytes,
// Y11 the qh byte shuffle, Y10 the qh bit mask, Y9 all ones.

// NIBBLES(off): the 16 bytes of nibbles at off(SI) as 32 bytes in Y2,
// low nibbles (elements 0..15) then high nibbles (16..31).
#define NIBBLES(off) \
	VMOVDQU     off(SI), X2 \
	VPSRLW      $4, X2, X3 \
	VINSERTI128 $1, X3, Y2, Y2 \
	VPAND       Y14, Y2, Y2

// Q5_HIGH(off) ORs the fifth bits, bit j of the 32-bit qh at off(SI) for
// element j, into Y2 as 0x10 (ggml's bytes_from_bits_32).
#define Q5_HIGH(off) \
	VPBROADCASTD off(SI), Y3 \
	VPSHUFB      Y11, Y3, Y3 \
	VPOR         Y10, Y3, Y3 \
	VPCMPEQB     Y9, Y3, Y3 \
	VPAND        Y12, Y3, Y3 \
	VPOR         Y3, Y2, Y2

// UDOT_*: Y2 (unsigned bytes) times the 32 activation quants at (BX), as
// eight float lane sums in Y2. SDOT_*: the same for signed Y2.
#define UDOT_AVX2 \
	VPMADDUBSW (BX), Y2, Y2 \
	VPMADDWD   Y15, Y2, Y2 \
	VCVTDQ2PS  Y2, Y2

#define UDOT_VNNI \
	VPXOR     Y5, Y5, Y5 \
	VPDPBUSD  (BX), Y2, Y5 \
	VCVTDQ2PS Y5, Y2

#define SDOT_AVX2 \
	VMOVDQU    (BX), Y3 \
	VPSIGNB    Y2, Y3, Y3 \
	VPABSB     Y2, Y2 \
	VPMADDUBSW Y3, Y2, Y2 \
	VPMADDWD   Y15, Y2, Y2 \
	VCVTDQ2PS  Y2, Y2

#define SDOT_VNNI \
	VMOVDQU   (BX), Y3 \
	VPSIGNB   Y2, Y3, Y3 \
	VPABSB    Y2, Y2 \
	VPXOR     Y5, Y5, Y5 \
	VPDPBUSD  Y3, Y2, Y5 \
	VCVTDQ2PS Y5, Y2

// DM_FMA: the f16 pair (d, m) at (SI) times the activation scale: Y0 +=
// Y2·d·dx and X1 += m·dx·sum, the block's quant sum at (R8).
#define DM_FMA \
	VCVTPH2PS    (SI), X6 \
	VBROADCASTSS (DX), X7 \
	VMULPS       X7, X6, X6 \
	VBROADCASTSS X6, Y4 \
	VFMADD231PS  Y2, Y4, Y0 \
	VMOVSHDUP    X6, X6 \
	MOVWQSX      (R8), AX \
	VCVTSI2SSQ   AX, X7, X7 \
	VFMADD231SS  X7, X6, X1

// D_FMA: Y0 += Y2·d·dx for the f16 d at (SI).
#define D_FMA \
	BLOCKSCALE(0, 0, Y4, X4) \
	VFMADD231PS Y2, Y4, Y0

#define Q4_1_STEP(DOT) \
	NIBBLES(4) \
	DOT \
	DM_FMA

#define Q5_0_STEP(DOT) \
	NIBBLES(6) \
	Q5_HIGH(2) \
	VPSUBB Y12, Y2, Y2 \
	DOT \
	D_FMA

#define Q5_1_STEP(DOT) \
	NIBBLES(8) \
	Q5_HIGH(4) \
	DOT \
	DM_FMA

// BLOCKROWS1(size, STEP, DOT): a row-range kernel over blocks of size bytes
// taking the activation sums, one block per iteration.
#define BLOCKROWS1(size, STEP, DOT) \
	MOVQ         w+0(FP), DI \
	MOVQ         nrows+16(FP), R10 \
	MOVQ         out+56(FP), R14 \
	MOVL         $0x00010001, AX \
	VMOVD        AX, X15 \
	VPBROADCASTD X15, Y15 \
	MOVL         $0x0f0f0f0f, AX \
	VMOVD        AX, X14 \
	VPBROADCASTD X14, Y14 \
	MOVL         $0x10101010, AX \
	VMOVD        AX, X12 \
	VPBROADCASTD X12, Y12 \
	VMOVDQU      q5shuf<>(SB), Y11 \
	VMOVDQU      q5bits<>(SB), Y10 \
	VPCMPEQB     Y9, Y9, Y9 \
row1: \
	MOVQ   DI, SI \
	MOVQ   xq+24(FP), BX \
	MOVQ   xd+32(FP), DX \
	MOVQ   sums+40(FP), R8 \
	MOVQ   nb+48(FP), CX \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
blk1: \
	STEP(DOT) \
	ADDQ $size, SI \
	ADDQ $32, BX \
	ADDQ $4, DX \
	ADDQ $2, R8 \
	DECQ CX \
	JNZ  blk1 \
	REDUCE8(Y0, X0, X0) \
	VADDSS X1, X0, X0 \
	MOVSS  X0, (R14) \
	ADDQ   $4, R14 \
	ADDQ   rowSize+8(FP), DI \
	DECQ   R10 \
	JNZ    row1 \
	VZEROUPPER \
	RET

DATA q5shuf<>+0(SB)/8, $0x0000000000000000
DATA q5shuf<>+8(SB)/8, $0x0101010101010101
DATA q5shuf<>+16(SB)/8, $0x0202020202020202
DATA q5shuf<>+24(SB)/8, $0x0303030303030303
GLOBL q5shuf<>(SB), RODATA|NOPTR, $32

DATA q5bits<>+0(SB)/8, $0x7fbfdfeff7fbfdfe
DATA q5bits<>+8(SB)/8, $0x7fbfdfeff7fbfdfe
DATA q5bits<>+16(SB)/8, $0x7fbfdfeff7fbfdfe
DATA q5bits<>+24(SB)/8, $0x7fbfdfeff7fbfdfe
GLOBL q5bits<>(SB), RODATA|NOPTR, $32

// func dotQ8_0RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, nb int, out *float32)
TEXT ·dotQ8_0RowsAVX2(SB), NOSPLIT, $0-56
	BLOCKROWS(34, Q8_0_AVX2)

// func dotQ8_0RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, nb int, out *float32)
TEXT ·dotQ8_0RowsVNNI(SB), NOSPLIT, $0-56
	BLOCKROWS(34, Q8_0_VNNI)

// func dotQ4_0RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, nb int, out *float32)
TEXT ·dotQ4_0RowsAVX2(SB), NOSPLIT, $0-56
	BLOCKROWS(18, Q4_0_AVX2)

// func dotQ4_0RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, nb int, out *float32)
TEXT ·dotQ4_0RowsVNNI(SB), NOSPLIT, $0-56
	BLOCKROWS(18, Q4_0_VNNI)

// func dotQ4_1RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)
TEXT ·dotQ4_1RowsAVX2(SB), NOSPLIT, $0-64
	BLOCKROWS1(20, Q4_1_STEP, UDOT_AVX2)

// func dotQ4_1RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)
TEXT ·dotQ4_1RowsVNNI(SB), NOSPLIT, $0-64
	BLOCKROWS1(20, Q4_1_STEP, UDOT_VNNI)

// func dotQ5_0RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)
TEXT ·dotQ5_0RowsAVX2(SB), NOSPLIT, $0-64
	BLOCKROWS1(22, Q5_0_STEP, SDOT_AVX2)

// func dotQ5_0RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)
TEXT ·dotQ5_0RowsVNNI(SB), NOSPLIT, $0-64
	BLOCKROWS1(22, Q5_0_STEP, SDOT_VNNI)

// func dotQ5_1RowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)
TEXT ·dotQ5_1RowsAVX2(SB), NOSPLIT, $0-64
	BLOCKROWS1(24, Q5_1_STEP, UDOT_AVX2)

// func dotQ5_1RowsVNNI(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nb int, out *float32)
TEXT ·dotQ5_1RowsVNNI(SB), NOSPLIT, $0-64
	BLOCKROWS1(24, Q5_1_STEP, UDOT_VNNI)
