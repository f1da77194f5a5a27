// Macros shared by the Q2_K and Q3_K multi-row kernels of
// intdotk23_amd64.s (ymm) and intdotk23z_amd64.s (zmm): argument loading,
// the row and super-block loops, and each activation row's float
// arithmetic, which is the one-row kernels' (see intdotk23_amd64.s for
// the register use).

#define G23_START \
	MOVQ         w+0(FP), DI \
	MOVQ         nrows+16(FP), R10 \
	MOVQ         out+64(FP), R14 \
	MOVQ         xstride+48(FP), R11 \
	LEAQ         (R11)(R11*2), R9 \
	MOVQ         nsb+56(FP), R12 \
	SHLQ         $2, R12 \
	LEAQ         (R12)(R12*2), R13 \
	MOVQ         ostride+72(FP), AX \
	SHLQ         $2, AX \
	MOVQ         AX, 256(SP) \
	MOVQ         R9, 264(SP) \
	MOVQ         R11, 272(SP) \
	MOVQ         R12, 280(SP) \
	MOVQ         R13, 288(SP) \
	MOVL         $0x03030303, AX \
	VMOVD        AX, X15 \
	VPBROADCASTD X15, Y15

#define G23_ROW_START \
	MOVQ DI, SI \
	MOVQ xq+24(FP), BX \
	MOVQ xd+32(FP), DX \
	MOVQ sums+40(FP), R8 \
	MOVQ nsb+56(FP), CX

#define G23_SB_NEXT(size) \
	ADDQ $size, SI \
	ADDQ $256, BX \
	ADDQ $4, DX \
	ADDQ $32, R8 \
	DECQ CX

// G23_SHUFFLES stores the eight quarters' scale vectors from lo (groups
// 0..7 in both lanes) and hi (8..15), with Y14 as scratch.
#define G23_SHUFFLE(j, src, slot) \
	VPSHUFB k23shuf<>+(32*j)(SB), src, Y14 \
	VMOVDQU Y14, slot(SP)

#define G23_SHUFFLES(lo, hi) \
	G23_SHUFFLE(0, lo, 0) \
	G23_SHUFFLE(1, lo, 32) \
	G23_SHUFFLE(2, lo, 64) \
	G23_SHUFFLE(3, lo, 96) \
	G23_SHUFFLE(0, hi, 128) \
	G23_SHUFFLE(1, hi, 160) \
	G23_SHUFFLE(2, hi, 192) \
	G23_SHUFFLE(3, hi, 224)

// G23_R: one activation row's step of a quarter (Y13): its products with
// the quants at xa, scaled by the vector at slot(SP), added to sumi.
#define G23_R(xa, sumi, slot) \
	VPMADDUBSW xa, Y13, Y14 \
	VPMADDWD   slot(SP), Y14, Y14 \
	VPADDD     Y14, sumi, sumi

#define G23_R1(off, slot) G23_R(off(BX), Y4, slot)
#define G23_R2(off, slot) G23_R1(off, slot) \
	G23_R(off(BX)(R11*1), Y5, slot)
#define G23_R3(off, slot) G23_R2(off, slot) \
	G23_R(off(BX)(R11*2), Y6, slot)
#define G23_R4(off, slot) G23_R3(off, slot) \
	G23_R(off(BX)(R9*1), Y7, slot)

// G23_FLOAT: one activation row's super-block end: its int32 sums to
// float, times d·dx (the d of X12 lane 0 times the scale at xd), added to
// acc.
#define G23_FLOAT(xd, sumi, acc) \
	VBROADCASTSS xd, X13 \
	VMULPS       X13, X12, X13 \
	VBROADCASTSS X13, Y13 \
	VCVTDQ2PS    sumi, sumi \
	VFMADD231PS  sumi, Y13, acc

#define G23_FLOAT1 G23_FLOAT((DX), Y4, Y8)
#define G23_FLOAT2 G23_FLOAT1 \
	G23_FLOAT((DX)(R12*1), Y5, Y9)
#define G23_FLOAT3 G23_FLOAT2 \
	G23_FLOAT((DX)(R12*2), Y6, Y10)
#define G23_FLOAT4 G23_FLOAT3 \
	G23_FLOAT((DX)(R13*1), Y7, Y11)

#define G23_ZERO1 VPXOR Y4, Y4, Y4
#define G23_ZERO2 G23_ZERO1 \
	VPXOR Y5, Y5, Y5
#define G23_ZERO3 G23_ZERO2 \
	VPXOR Y6, Y6, Y6
#define G23_ZERO4 G23_ZERO3 \
	VPXOR Y7, Y7, Y7

#define G23_FZERO1 VXORPS Y8, Y8, Y8
#define G23_FZERO2 G23_FZERO1 \
	VXORPS Y9, Y9, Y9
#define G23_FZERO3 G23_FZERO2 \
	VXORPS Y10, Y10, Y10
#define G23_FZERO4 G23_FZERO3 \
	VXORPS Y11, Y11, Y11

// G23_STORE: the row ends, AX the out stride in bytes; SUB(m, acc) is
// Q2_K's VSUBPS of the minimum terms or nothing.
#define G23_STORE1(SUB) \
	SUB(Y0, Y8) \
	REDUCE8(Y8, X8, (R14))
#define G23_STORE2(SUB) G23_STORE1(SUB) \
	SUB(Y1, Y9) \
	REDUCE8(Y9, X9, (R14)(AX*1))
#define G23_STORE3(SUB) G23_STORE2(SUB) \
	SUB(Y2, Y10) \
	REDUCE8(Y10, X10, (R14)(AX*2))
#define G23_STORE4(SUB) G23_STORE3(SUB) \
	SUB(Y3, Y11) \
	LEAQ (AX)(AX*2), AX \
	REDUCE8(Y11, X11, (R14)(AX*1))

// G23_TAIL(size, STORE, SUB) closes a multi-row kernel's super-block loop
// (size bytes a super-block), row loop and function.
#define G23_TAIL(size, STORE, SUB) \
	G23_SB_NEXT(size) \
	JNZ sb \
	G23_ROW_END(STORE, SUB) \
	JNZ row \
	VZEROUPPER \
	RET

// G23_HALVES(off, x) loads the f16 pair at off(SI) (Q2_K's d and dmin,
// Q3_K's d) as floats into x.
#define G23_HALVES(off, x) \
	MOVL      off(SI), AX \
	VMOVD     AX, x \
	VCVTPH2PS x, x

// G23_Q3_SB_START(OFFS): a Q3_K multi-row kernel's super-block prologue,
// the scales as words in Y3 and every activation row's sums started at its
// offset term by OFFS; the strides the unpack clobbers come back from the
// stack.
#define G23_Q3_SB_START(OFFS) \
	Q3K_SCALES(X2) \
	MOVQ 264(SP), R9 \
	MOVQ 272(SP), R11 \
	MOVQ 280(SP), R12 \
	MOVQ 288(SP), R13 \
	OFFS

// G23_Q3_SB_END(FLOAT): a Q3_K multi-row kernel's super-block epilogue,
// d in X12 and every activation row's float step by FLOAT.
#define G23_Q3_SB_END(FLOAT) \
	MOVWLZX   108(SI), AX \
	VMOVD     AX, X12 \
	VCVTPH2PS X12, X12 \
	FLOAT

#define SUB_MINS(m, acc) VSUBPS m, acc, acc
#define SUB_NONE(m, acc)

#define G23_ROW_END(STORE, SUB) \
	MOVQ 256(SP), AX \
	STORE(SUB) \
	ADDQ $4, R14 \
	ADDQ rowSize+8(FP), DI \
	DECQ R10

// Q2_K: Q2G_MIN adds one activation row's minimum terms (Y5 the minimums
// as words, X6 d and dmin) to m, as dotQ2_KRowsAVX2 does.
#define Q2G_MIN(xd, sums, m) \
	VBROADCASTSS xd, X12 \
	VMULPS       X12, X6, X12 \
	VMOVSHDUP    X12, X13 \
	VBROADCASTSS X13, Y13 \
	VPMADDWD     sums, Y5, Y14 \
	VCVTDQ2PS    Y14, Y14 \
	VFMADD231PS  Y14, Y13, m

#define Q2G_MINS1 Q2G_MIN((DX), (R8), Y0)
#define Q2G_MINS2 Q2G_MINS1 \
	Q2G_MIN((DX)(R12*1), (R8)(R12*8), Y1)
#define Q2G_MINS3 Q2G_MINS2 \
	LEAQ (R8)(R12*8), AX \
	Q2G_MIN((DX)(R12*2), (AX)(R12*8), Y2)
#define Q2G_MINS4 Q2G_MINS3 \
	Q2G_MIN((DX)(R13*1), (R8)(R13*8), Y3)

#define Q2G_MZERO1 VXORPS Y0, Y0, Y0
#define Q2G_MZERO2 Q2G_MZERO1 \
	VXORPS Y1, Y1, Y1
#define Q2G_MZERO3 Q2G_MZERO2 \
	VXORPS Y2, Y2, Y2
#define Q2G_MZERO4 Q2G_MZERO3 \
	VXORPS Y3, Y3, Y3

// Q3_K: Q3G_OFF starts one activation row's sums at -4·Σ scale·sum (Y3
// the scales as words), as dotQ3_KRowsAVX2 does.
#define Q3G_OFF(sums, sumi) \
	VPMADDWD sums, Y3, Y2 \
	VPSLLD   $2, Y2, Y2 \
	VPXOR    sumi, sumi, sumi \
	VPSUBD   Y2, sumi, sumi

#define Q3G_OFFS1 Q3G_OFF((R8), Y4)
#define Q3G_OFFS2 Q3G_OFFS1 \
	Q3G_OFF((R8)(R12*8), Y5)
#define Q3G_OFFS3 Q3G_OFFS2 \
	LEAQ (R8)(R12*8), AX \
	Q3G_OFF((AX)(R12*8), Y6)
#define Q3G_OFFS4 Q3G_OFFS3 \
	Q3G_OFF((R8)(R13*8), Y7)


// Q3K_SCALES(tmp) unpacks the sixteen 6-bit scales of the Q3_K
// super-block at SI (bytes 96..107) less 32 into Y3 as words, ggml's kmask
// shuffle done two 32-bit words per 64-bit operation: a0 | a1<<32 and
// tmp | tmp>>2 << 32 (bits 30 and 31 of the low half are masked off).
// Clobbers AX, R9, R11, R12, R13 and the X register tmp.
#define Q3K_SCALES(tmp) \
	MOVQ         96(SI), AX \
	MOVL         104(SI), R11 \
	MOVQ         R11, R9 \
	SHLQ         $30, R9 \
	ORQ          R9, R11 \
	MOVQ         $0x0f0f0f0f0f0f0f0f, R12 \
	MOVQ         AX, R13 \
	ANDQ         R12, R13 \
	SHRQ         $4, AX \
	ANDQ         R12, AX \
	MOVQ         $0x0303030303030303, R12 \
	MOVQ         R11, R9 \
	ANDQ         R12, R9 \
	SHLQ         $4, R9 \
	ORQ          R9, R13 \
	SHRQ         $4, R11 \
	ANDQ         R12, R11 \
	SHLQ         $4, R11 \
	ORQ          R11, AX \
	VMOVQ        R13, X3 \
	VPINSRQ      $1, AX, X3, X3 \
	MOVL         $0x20202020, AX \
	VMOVD        AX, tmp \
	VPBROADCASTD tmp, tmp \
	VPSUBB       tmp, X3, X3 \
	VPMOVSXBW    X3, Y3

// Q2K_SB_START, the one-row Q2_K kernels' super-block prologue (Y13 0x0f
// bytes): the minimum terms Σ m·sum times dmin·dx added to Y1, d·dx in
// Y14 and the sixteen scales as words in Y3.
#define Q2K_SB_START \
	VMOVDQU      (SI), X3 \
	VPSRLW       $4, X3, X4 \
	VPAND        X13, X3, X3 \
	VPAND        X13, X4, X4 \
	VPMOVZXBW    X4, Y4 \
	VPMADDWD     (R8), Y4, Y4 \
	VCVTDQ2PS    Y4, Y4 \
	MOVL         80(SI), AX \
	VMOVD        AX, X5 \
	VCVTPH2PS    X5, X5 \
	VBROADCASTSS (DX), X14 \
	VMULPS       X14, X5, X5 \
	VBROADCASTSS X5, Y14 \
	VMOVSHDUP    X5, X5 \
	VBROADCASTSS X5, Y5 \
	VFMADD231PS  Y4, Y5, Y1 \
	VPMOVZXBW    X3, Y3

// Q3K_SB_OFFSET starts a one-row Q3_K kernel's int32 sums Y12 at
// -4·Σ scale·sum (the offset of 4 in every value; Y3 the scales as words).
#define Q3K_SB_OFFSET \
	VPMADDWD (R8), Y3, Y4 \
	VPSLLD   $2, Y4, Y4 \
	VPXOR    Y12, Y12, Y12 \
	VPSUBD   Y4, Y12, Y12

// Q3K_SB_END ends a one-row Q3_K kernel's super-block: its int32 sums Y12
// to float, times d·dx, added to Y0.
#define Q3K_SB_END \
	MOVWLZX      108(SI), AX \
	VMOVD        AX, X4 \
	VCVTPH2PS    X4, X4 \
	VMULSS       (DX), X4, X4 \
	VBROADCASTSS X4, Y4 \
	VCVTDQ2PS    Y12, Y12 \
	VFMADD231PS  Y12, Y4, Y0
