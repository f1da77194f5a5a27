// The float32 vector exp shared by attn_amd64.s (softmax) and
// swiglu_amd64.s: the constants and the arithmetic of attnkern.go's expf,
// which the Go version repeats bit for bit.

// Constants of EXP8 (attnkern.go's expf is the same arithmetic).
DATA expc<>+0(SB)/4, $-88.0
DATA expc<>+4(SB)/4, $88.0
DATA expc<>+8(SB)/4, $1.44269504088896341
DATA expc<>+12(SB)/4, $0.693359375
DATA expc<>+16(SB)/4, $-2.12194440e-4
DATA expc<>+20(SB)/4, $1.9875691500e-4
DATA expc<>+24(SB)/4, $1.3981999507e-3
DATA expc<>+28(SB)/4, $8.3334519073e-3
DATA expc<>+32(SB)/4, $4.1665795894e-2
DATA expc<>+36(SB)/4, $1.6666665459e-1
DATA expc<>+40(SB)/4, $5.0000001201e-1
DATA expc<>+44(SB)/4, $1.0
DATA expc<>+48(SB)/4, $127
GLOBL expc<>(SB), RODATA|NOPTR, $52

// EXP8_CONSTS loads the constants EXP8 keeps in registers: Y14 = -88,
// Y13 = 88, Y12 = log2 e, Y11 = C1, Y10 = C2, Y9 = 1, Y8 = 127 (int32).
#define EXP8_CONSTS \
	VBROADCASTSS expc<>+0(SB), Y14 \
	VBROADCASTSS expc<>+4(SB), Y13 \
	VBROADCASTSS expc<>+8(SB), Y12 \
	VBROADCASTSS expc<>+12(SB), Y11 \
	VBROADCASTSS expc<>+16(SB), Y10 \
	VBROADCASTSS expc<>+44(SB), Y9 \
	VPBROADCASTD expc<>+48(SB), Y8

// EXP8 sets Y4 = expf(Y0) for eight floats, with the EXP8_CONSTS registers
// loaded: clamp to ±88, k = round(x·log2 e), r = (x - k·C1) - k·C2, a
// degree-6 polynomial in r without FMA, times 2^k. It overwrites Y0 (with
// r), Y1, Y2, Y3 and Y5.
#define EXP8 \
	VMAXPS    Y14, Y0, Y0 \
	VMINPS    Y13, Y0, Y0 \
	VMULPS    Y12, Y0, Y1 \
	VROUNDPS  $0, Y1, Y1 \
	VMULPS    Y11, Y1, Y2 \
	VSUBPS    Y2, Y0, Y0 \
	VMULPS    Y10, Y1, Y2 \
	VSUBPS    Y2, Y0, Y0 \
	VMULPS    Y0, Y0, Y3 \
	VBROADCASTSS expc<>+20(SB), Y4 \
	VMULPS    Y0, Y4, Y4 \
	VBROADCASTSS expc<>+24(SB), Y5 \
	VADDPS    Y5, Y4, Y4 \
	VMULPS    Y0, Y4, Y4 \
	VBROADCASTSS expc<>+28(SB), Y5 \
	VADDPS    Y5, Y4, Y4 \
	VMULPS    Y0, Y4, Y4 \
	VBROADCASTSS expc<>+32(SB), Y5 \
	VADDPS    Y5, Y4, Y4 \
	VMULPS    Y0, Y4, Y4 \
	VBROADCASTSS expc<>+36(SB), Y5 \
	VADDPS    Y5, Y4, Y4 \
	VMULPS    Y0, Y4, Y4 \
	VBROADCASTSS expc<>+40(SB), Y5 \
	VADDPS    Y5, Y4, Y4 \
	VMULPS    Y3, Y4, Y4 \
	VADDPS    Y0, Y4, Y4 \
	VADDPS    Y9, Y4, Y4 \
	VCVTPS2DQ Y1, Y1 \
	VPADDD    Y8, Y1, Y1 \
	VPSLLD    $23, Y1, Y1 \
	VMULPS    Y1, Y4, Y4
