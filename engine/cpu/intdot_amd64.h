// Macros shared by the integer kernel files intdot_amd64.s,
// intdotk_amd64.s and intdotk23_amd64.s.

// REDUCE8(acc, out) sums the eight floats of acc and stores them at out.
#define REDUCE8(acc, xacc, out) \
	VEXTRACTF128 $1, acc, X7 \
	VADDPS       X7, xacc, xacc \
	VHADDPS      xacc, xacc, xacc \
	VHADDPS      xacc, xacc, xacc \
	MOVSS        xacc, out

// K4_SCALES_MINS, for the Q4_K and Q5_K kernels (SI at the super-block,
// DX at its activation scale, R8 at its sums), unpacks the 6-bit scales and
// minimums (ggml's utmp shuffle) in registers, so no load waits on a partial
// store: the eight scales go to 16(SP) as int16, Y8 gets d·dx, and the
// minimum terms m_j·(s_2j + s_2j+1) times dmin·dx are added to Y1.
#define K4_SCALES_MINS \
	MOVL  4(SI), AX \
	MOVL  8(SI), R11 \
	MOVL  12(SI), R12 \
	MOVL  AX, R13 \
	ANDL  $0x3f3f3f3f, R13 \
	MOVL  R12, R9 \
	ANDL  $0x0f0f0f0f, R9 \
	SHRL  $6, AX \
	ANDL  $0x03030303, AX \
	SHLL  $4, AX \
	ORL   AX, R9 \
	SHLQ  $32, R9 \
	ORQ   R9, R13 \
	MOVL  R11, AX \
	ANDL  $0x3f3f3f3f, AX \
	SHRL  $4, R12 \
	ANDL  $0x0f0f0f0f, R12 \
	SHRL  $6, R11 \
	ANDL  $0x03030303, R11 \
	SHLL  $4, R11 \
	ORL   R11, R12 \
	SHLQ  $32, R12 \
	ORQ   AX, R12 \
	VMOVQ     R13, X8 \
	VPMOVZXBW X8, X8 \
	VMOVDQU   X8, 16(SP) \
	VMOVQ       R12, X9 \
	VPMOVZXBW   X9, X9 \
	VPUNPCKLWD  X9, X9, X10 \
	VPUNPCKHWD  X9, X9, X11 \
	VINSERTI128 $1, X11, Y10, Y10 \
	VPMADDWD    (R8), Y10, Y10 \
	VCVTDQ2PS   Y10, Y10 \
	VCVTPH2PS   (SI), X6 \
	VBROADCASTSS (DX), X7 \
	VMULPS      X7, X6, X6 \
	VBROADCASTSS X6, Y8 \
	VMOVSHDUP   X6, X9 \
	VBROADCASTSS X9, Y9 \
	VFMADD231PS Y10, Y9, Y1

// KROW_START and KROW_END open and close one weight row of a K-quant
// kernel (intdotk_amd64.s, intdotk23_amd64.s). Registers: DI row base, R10
// rows left, R14 out; per row SI super-block, BX activation quants, DX
// activation scales, R8 activation sums (16 int16 per super-block), CX
// super-blocks left; Y0 float accumulator, Y1 float accumulator of the
// minimum terms, subtracted at the end.
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

