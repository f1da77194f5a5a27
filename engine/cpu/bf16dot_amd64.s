// AVX-512 BF16 kernels of MatMul's BF16 weights with activations rounded
// to BF16 (bf16dot.go): VDPBF16PS multiplies 32 pairs of BF16 per
// instruction into sixteen float32 lanes, twice the products of a float
// FMA, and the weights need no widening. Lane j of an accumulator adds
// elements 2j+1 and then 2j of each 32-element block, as the instruction
// defines; the 4×4 kernel and the eight-row kernel fold their lanes with
// one tree (dot512_amd64.h), so a row's output has the same bits in
// either: MatMul stays batch invariant.

#include "textflag.h"
#include "dot512_amd64.h"

// VDPBF16PS(b, a, dst) is VDPBF16PS Zb, Za, Zdst (register numbers 0-31;
// Zdst.fp32[j] += Za.bf16[2j+1]·Zb.bf16[2j+1] + Za.bf16[2j]·Zb.bf16[2j]),
// EVEX-encoded by hand: the assembler does not know the instruction.
// EVEX.512.F3.0F38.W0 52 /r, register operands only.
#define VDPBF16PS(b, a, dst) \
	BYTE $0x62; \
	BYTE $((((dst>>3)&1)^1)<<7 | (((b>>4)&1)^1)<<6 | (((b>>3)&1)^1)<<5 | (((dst>>4)&1)^1)<<4 | 2); \
	BYTE $(((a&15)^15)<<3 | 6); \
	BYTE $(2<<5 | (((a>>4)&1)^1)<<3); \
	BYTE $0x52; \
	BYTE $(0xC0 | (dst&7)<<3 | (b&7))

// DP44STEP adds 32 elements of the four BF16 activation rows (byte offset
// AX) times the four BF16 weight rows (byte offset DI) to the
// accumulators: Z(4r+k) for activation row r and weight row k.
#define DP44STEP \
	VMOVDQU32 (R8)(DI*1), Z16; \
	VMOVDQU32 (R9)(DI*1), Z17; \
	VMOVDQU32 (R10)(DI*1), Z18; \
	VMOVDQU32 (R11)(DI*1), Z19; \
	VMOVDQU32 (SI)(AX*1), Z20; \
	VDPBF16PS(16, 20, 0); \
	VDPBF16PS(17, 20, 1); \
	VDPBF16PS(18, 20, 2); \
	VDPBF16PS(19, 20, 3); \
	VMOVDQU32 (R12)(AX*1), Z21; \
	VDPBF16PS(16, 21, 4); \
	VDPBF16PS(17, 21, 5); \
	VDPBF16PS(18, 21, 6); \
	VDPBF16PS(19, 21, 7); \
	VMOVDQU32 (R13)(AX*1), Z22; \
	VDPBF16PS(16, 22, 8); \
	VDPBF16PS(17, 22, 9); \
	VDPBF16PS(18, 22, 10); \
	VDPBF16PS(19, 22, 11); \
	VMOVDQU32 (BX)(AX*1), Z23; \
	VDPBF16PS(16, 23, 12); \
	VDPBF16PS(17, 23, 13); \
	VDPBF16PS(18, 23, 14); \
	VDPBF16PS(19, 23, 15)

// DP8STEP adds 32 elements of x (SI, byte offset AX) times eight BF16
// weight rows (R8-R15, byte offset DI) to Z0-Z7, prefetching each row
// 512 bytes ahead.
#define DP8STEP \
	D8PREFETCH; \
	VMOVDQU32  (SI)(AX*1), Z8; \
	VMOVDQU32  (R8)(DI*1), Z16; \
	VMOVDQU32  (R9)(DI*1), Z17; \
	VMOVDQU32  (R10)(DI*1), Z18; \
	VMOVDQU32  (R11)(DI*1), Z19; \
	VMOVDQU32  (R12)(DI*1), Z20; \
	VMOVDQU32  (R13)(DI*1), Z21; \
	VMOVDQU32  (R14)(DI*1), Z22; \
	VMOVDQU32  (R15)(DI*1), Z23; \
	VDPBF16PS(16, 8, 0); \
	VDPBF16PS(17, 8, 1); \
	VDPBF16PS(18, 8, 2); \
	VDPBF16PS(19, 8, 3); \
	VDPBF16PS(20, 8, 4); \
	VDPBF16PS(21, 8, 5); \
	VDPBF16PS(22, 8, 6); \
	VDPBF16PS(23, 8, 7)

// func dot4x4BF16DP(x *uint16, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32)
// out[4r+k] = x_r·wk for four BF16 activation rows x_r = x + r·xs bytes
// and four BF16 weight rows; n must be a multiple of 32.
TEXT ·dot4x4BF16DP(SB), NOSPLIT, $0-64
	D44ARGS

	DLOOP(DP44STEP, 32, 64, 64)
	D44END
	RET

// func dot8BF16DP(x *uint16, w *[8]*uint16, n int, out *[8]float32)
// out[k] = x·w[k] for a BF16 activation row and eight BF16 weight rows,
// eight rows in flight from memory; n must be a multiple of 32.
TEXT ·dot8BF16DP(SB), NOSPLIT, $0-32
	D8ARGS

	DLOOP(DP8STEP, 32, 64, 64)
	MOVQ out+24(FP), DX
	D8END
	RET

// func roundBF16AVX512(dst *uint16, x *float32, n int)
// dst[i] = x[i] rounded to the nearest BF16, ties to even, a NaN kept a
// (quiet) NaN: gguf.F32ToBF16 sixteen lanes at a time. n must be a
// multiple of 16.
TEXT ·roundBF16AVX512(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVL         $0x7fff, AX
	VPBROADCASTD AX, Z1
	MOVL         $1, AX
	VPBROADCASTD AX, Z2
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z3
	MOVL         $0x7f800000, AX
	VPBROADCASTD AX, Z4
	MOVL         $64, AX
	VPBROADCASTD AX, Z5

rbloop:
	CMPQ      CX, $16
	JL        rbdone
	VMOVDQU32 (SI), Z0
	VPSRLD    $16, Z0, Z6     // u>>16: the truncation
	VPANDD    Z2, Z6, Z7
	VPADDD    Z1, Z7, Z7
	VPADDD    Z0, Z7, Z7
	VPSRLD    $16, Z7, Z7     // (u + 0x7fff + (u>>16)&1) >> 16
	VPANDD    Z3, Z0, Z8
	VPCMPUD   $6, Z4, Z8, K1  // |u| > 0x7f800000: a NaN
	VPORD     Z5, Z6, K1, Z7  // the NaN truncated, quiet bit set
	VPMOVDW   Z7, (DI)
	ADDQ      $64, SI
	ADDQ      $32, DI
	SUBQ      $16, CX
	JMP       rbloop

rbdone:
	VZEROUPPER
	RET
