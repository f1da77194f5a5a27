// AVX2 activation quantization: the kernel behind quantizeRow, declared in
// actquant_amd64.go. quantizeBlockGo in actquant.go is the reference; the
// kernel matches it bit for bit (TestQuantizeRowAssembly, FuzzQuantizeRow).

#include "textflag.h"

// func quantizeBlocksAVX2(x *float32, qs *int8, d *float32, sums *int16, nb, bs int) int
//
// Per block of bs floats: amax = max |x| taken on the bit patterns (for
// non-negative floats the integer order is the float order, and NaN sorts
// above +Inf, so one compare catches both); d = amax/127 and id = 127/amax
// in float32 as Go computes them (id = 0 for an all-zero block, which
// gives zero quants); q = VCVTPS2DQ(x*id), which rounds half to even under
// the default MXCSR, as roundEven; the int16 sums come from VPMADDUBSW with
// ones. A block whose amax is not finite, or whose 127/amax overflows,
// ends the call: the caller does it in Go.
TEXT ·quantizeBlocksAVX2(SB), NOSPLIT, $0-56
	MOVQ         x+0(FP), SI
	MOVQ         qs+8(FP), DI
	MOVQ         d+16(FP), R8
	MOVQ         sums+24(FP), R9
	MOVQ         nb+32(FP), CX
	MOVQ         bs+40(FP), DX
	XORQ         R10, R10
	MOVL         $0x7FFFFFFF, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15          // |x| mask
	MOVQ         $0x0703060205010400, AX
	VMOVQ        AX, X14
	VPMOVZXBD    X14, Y14          // dword order after the two packs
	MOVL         $0x01010101, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13          // bytes of 1
	MOVL         $0x00010001, AX
	VMOVD        AX, X12
	VPBROADCASTD X12, Y12          // words of 1
	MOVL         $0x42FE0000, AX
	VMOVD        AX, X11           // 127.0

block:
	CMPQ    R10, CX
	JAE     done
	VPXOR   Y0, Y0, Y0
	VPXOR   Y1, Y1, Y1
	MOVQ    SI, BX
	MOVQ    DX, R11

amax:
	VPAND   0(BX), Y15, Y2
	VPAND   32(BX), Y15, Y3
	VPAND   64(BX), Y15, Y4
	VPAND   96(BX), Y15, Y5
	VPMAXSD Y2, Y0, Y0
	VPMAXSD Y3, Y1, Y1
	VPMAXSD Y4, Y0, Y0
	VPMAXSD Y5, Y1, Y1
	ADDQ    $128, BX
	SUBQ    $32, R11
	JNZ     amax

	VPMAXSD      Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPMAXSD      X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPMAXSD      X1, X0, X0
	VPSHUFD      $0xB1, X0, X1
	VPMAXSD      X1, X0, X0
	VMOVD        X0, AX
	CMPL         AX, $0x7F800000
	JAE          done              // NaN or ±Inf: Go does the block
	VDIVSS       X11, X0, X4       // d = amax/127
	VXORPS       X3, X3, X3        // id = 0 for a zero block
	TESTL        AX, AX
	JZ           scaled
	VDIVSS       X0, X11, X3       // id = 127/amax
	VMOVD        X3, AX
	CMPL         AX, $0x7F800000
	JEQ          done              // 127/amax overflows: Go does the block

scaled:
	VMOVSS       X4, 0(R8)
	VBROADCASTSS X3, Y3
	MOVQ         DX, R11

quant:
	VMULPS       0(SI), Y3, Y4
	VMULPS       32(SI), Y3, Y5
	VMULPS       64(SI), Y3, Y6
	VMULPS       96(SI), Y3, Y7
	VCVTPS2DQ    Y4, Y4
	VCVTPS2DQ    Y5, Y5
	VCVTPS2DQ    Y6, Y6
	VCVTPS2DQ    Y7, Y7
	VPACKSSDW    Y5, Y4, Y4
	VPACKSSDW    Y7, Y6, Y6
	VPACKSSWB    Y6, Y4, Y4
	VPERMD       Y4, Y14, Y4
	VMOVDQU      Y4, 0(DI)
	VPMADDUBSW   Y4, Y13, Y5       // pair sums of the quants
	VPMADDWD     Y12, Y5, Y5       // sums of 4
	VPSHUFD      $0x4E, Y5, Y6
	VPADDD       Y6, Y5, Y5
	VPSHUFD      $0xB1, Y5, Y6
	VPADDD       Y6, Y5, Y5        // each lane: sum of its 16 quants
	VEXTRACTI128 $1, Y5, X6
	VMOVD        X5, AX
	VMOVD        X6, BX
	CMPQ         DX, $32
	JNE          sum16
	ADDL         BX, AX
	MOVW         AX, 0(R9)
	ADDQ         $2, R9
	JMP          next

sum16:
	MOVW AX, 0(R9)
	MOVW BX, 2(R9)
	ADDQ $4, R9

next:
	ADDQ $128, SI
	ADDQ $32, DI
	SUBQ $32, R11
	JNZ  quant
	ADDQ $4, R8
	INCQ R10
	JMP  block

done:
	VZEROUPPER
	MOVQ R10, ret+48(FP)
	RET
