// Integer dot kernels for amd64: weight rows in GGUF block formats times an
// activation row quantized to int8 (actquant.go). Each call handles nrows
// consecutive weight rows of rowSize bytes and writes one float32 per row.
// intdot.go's Go versions are the reference they are tested against.
//
// VPMADDUBSW multiplies unsigned by signed bytes, so signed weights (Q8_0,
// Q4_0 after subtracting 8) use ggml's sign trick: |w| times x·sign(w).
// Unsigned weights (the K-quants' 4- and 6-bit values) go in directly and
// their offsets and minimums are applied through the activation's sums.

#include "textflag.h"

// Q8_0 / Q4_0 row loop shared shape. Registers:
//   DI row base, R9 rowSize, R10 rows left, R14 out,
//   SI block pointer, BX activation quants, DX activation scales, CX blocks left,
//   Y0/Y1 float accumulators, Y15 int16 ones (AVX2) / Y14 0x0f bytes, Y13 8s.

// REDUCE8(acc, out) sums the eight floats of acc and stores them at out.
#define REDUCE8(acc, xacc, out) \
	VEXTRACTF128 $1, acc, X7 \
	VADDPS       X7, xacc, xacc \
	VHADDPS      xacc, xacc, xacc \
	VHADDPS      xacc, xacc, xacc \
	MOVSS        xacc, out

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

#define KROW_START \
	MOVQ   DI, SI \
	MOVQ   xq+24(FP), BX \
	MOVQ   xd+32(FP), DX \
	MOVQ   sums+40(FP), R8 \
	MOVQ   nsb+48(FP), CX \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1

#define KROW_END \
	VSUBPS Y1, Y0, Y0 \
	REDUCE8(Y0, X0, (R14)) \
	ADDQ   $4, R14 \
	ADDQ   rowSize+8(FP), DI \
	DECQ   R10

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

// func dotQ4_KRowsAVX2(w *byte, rowSize, nrows int, xq *int8, xd *float32, sums *int16, nsb int, out *float32)
// Stack: 16(SP) the 8 sub-block scales as int16.
TEXT ·dotQ4_KRowsAVX2(SB), NOSPLIT, $32-64
	KROWS_START

k4row:
	KROW_START

k4sb:
	// Unpack the 6-bit scales and minimums (ggml's utmp shuffle) into
	// R13 (eight scale bytes) and R12 (eight minimum bytes), in registers
	// so no load waits on a partial store.
	MOVL  4(SI), AX
	MOVL  8(SI), R11
	MOVL  12(SI), R12
	MOVL  AX, R13
	ANDL  $0x3f3f3f3f, R13
	MOVL  R12, R9
	ANDL  $0x0f0f0f0f, R9
	SHRL  $6, AX
	ANDL  $0x03030303, AX
	SHLL  $4, AX
	ORL   AX, R9
	SHLQ  $32, R9
	ORQ   R9, R13
	MOVL  R11, AX
	ANDL  $0x3f3f3f3f, AX
	SHRL  $4, R12
	ANDL  $0x0f0f0f0f, R12
	SHRL  $6, R11
	ANDL  $0x03030303, R11
	SHLL  $4, R11
	ORL   R11, R12
	SHLQ  $32, R12
	ORQ   AX, R12

	VMOVQ     R13, X8
	VPMOVZXBW X8, X8
	VMOVDQU   X8, 16(SP)

	// Minimum terms: m_j·(s_2j + s_2j+1), times dmin·dx.
	VMOVQ       R12, X9
	VPMOVZXBW   X9, X9
	VPUNPCKLWD  X9, X9, X10
	VPUNPCKHWD  X9, X9, X11
	VINSERTI128 $1, X11, Y10, Y10
	VPMADDWD    (R8), Y10, Y10
	VCVTDQ2PS   Y10, Y10
	VCVTPH2PS   (SI), X6
	VBROADCASTSS (DX), X7
	VMULPS      X7, X6, X6
	VBROADCASTSS X6, Y8
	VMOVSHDUP   X6, X9
	VBROADCASTSS X9, Y9
	VFMADD231PS Y10, Y9, Y1

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
	// Unpack the 6-bit scales and minimums (ggml's utmp shuffle) into
	// R13 (eight scale bytes) and R12 (eight minimum bytes), in registers
	// so no load waits on a partial store.
	MOVL  4(SI), AX
	MOVL  8(SI), R11
	MOVL  12(SI), R12
	MOVL  AX, R13
	ANDL  $0x3f3f3f3f, R13
	MOVL  R12, R9
	ANDL  $0x0f0f0f0f, R9
	SHRL  $6, AX
	ANDL  $0x03030303, AX
	SHLL  $4, AX
	ORL   AX, R9
	SHLQ  $32, R9
	ORQ   R9, R13
	MOVL  R11, AX
	ANDL  $0x3f3f3f3f, AX
	SHRL  $4, R12
	ANDL  $0x0f0f0f0f, R12
	SHRL  $6, R11
	ANDL  $0x03030303, R11
	SHLL  $4, R11
	ORL   R11, R12
	SHLQ  $32, R12
	ORQ   AX, R12

	VMOVQ     R13, X8
	VPMOVZXBW X8, X8
	VMOVDQU   X8, 16(SP)

	// Minimum terms: m_j·(s_2j + s_2j+1), times dmin·dx.
	VMOVQ       R12, X9
	VPMOVZXBW   X9, X9
	VPUNPCKLWD  X9, X9, X10
	VPUNPCKHWD  X9, X9, X11
	VINSERTI128 $1, X11, Y10, Y10
	VPMADDWD    (R8), Y10, Y10
	VCVTDQ2PS   Y10, Y10
	VCVTPH2PS   (SI), X6
	VBROADCASTSS (DX), X7
	VMULPS      X7, X6, X6
	VBROADCASTSS X6, Y8
	VMOVSHDUP   X6, X9
	VBROADCASTSS X9, Y9
	VFMADD231PS Y10, Y9, Y1

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
