// AVX2 SwiGLU of the feed-forward block: dst[i] = g/(1+e^-g)·u with
// attention's float32 exp (exp_amd64.h), eight elements per step, the same
// arithmetic as ops.go's swigluGo so the two agree bit for bit.

#include "textflag.h"
#include "exp_amd64.h"

DATA swc<>+0(SB)/4, $0x80000000 // sign bit, for -g
DATA swc<>+4(SB)/4, $0x7f800000 // +Inf, e^-g where -g > 88
GLOBL swc<>(SB), RODATA|NOPTR, $8

// func swigluAVX2(dst, gate, u *float32, n int)
// dst[i] = g/(1+e)·u[i] for i < n, g = gate[i], n a multiple of 8, e = expf(-g)
// or +Inf where -g > 88 (ordered compare: a NaN keeps expf's result).
TEXT ·swigluAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         gate+8(FP), SI
	MOVQ         u+16(FP), DX
	MOVQ         n+24(FP), CX
	EXP8_CONSTS
	VBROADCASTSS swc<>+0(SB), Y15

sw8:
	CMPQ         CX, $8
	JL           swdone
	VMOVUPS      (SI), Y6
	VXORPS       Y15, Y6, Y0      // x = -g
	VCMPPS       $0x1e, Y13, Y0, Y7 // x > 88 (GT_OQ)
	EXP8
	VBROADCASTSS swc<>+4(SB), Y5
	VBLENDVPS    Y7, Y5, Y4, Y4   // e = +Inf where x > 88
	VADDPS       Y9, Y4, Y4       // 1 + e
	VDIVPS       Y4, Y6, Y6       // g / (1 + e)
	VMULPS       (DX), Y6, Y6     // · u
	VMOVUPS      Y6, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $32, DI
	SUBQ         $8, CX
	JMP          sw8

swdone:
	VZEROUPPER
	RET
