// Argument loading and result folding shared by the AVX-512 dot kernels
// of MatMul's 16-bit float paths (dot512_amd64.s, bf16dot_amd64.s): a
// kernel's accumulators are folded by the same tree whichever product
// filled them.

// D44ARGS loads the arguments shared by the 4×4 kernels: x and its row
// stride (SI, R12, R13, BX: the four activation rows), the weight rows
// (R8-R11), n (CX); it clears the offsets AX (x) and DI (w) and the
// accumulators Z0-Z15.
#define D44ARGS \
	MOVQ   x+0(FP), SI; \
	MOVQ   xs+8(FP), DX; \
	MOVQ   w0+16(FP), R8; \
	MOVQ   w1+24(FP), R9; \
	MOVQ   w2+32(FP), R10; \
	MOVQ   w3+40(FP), R11; \
	MOVQ   n+48(FP), CX; \
	LEAQ   (SI)(DX*1), R12; \
	LEAQ   (R12)(DX*1), R13; \
	LEAQ   (R13)(DX*1), BX; \
	XORQ   AX, AX; \
	XORQ   DI, DI; \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15

// D44ROW folds the accumulators a-d of one activation row (its four
// weight rows) to their four sums and stores them at off(DX): lane j plus
// lane j+8, then ((t0+t1)+(t2+t3))+((t4+t5)+(t6+t7)) as REDUCE4 does.
#define D44ROW(za, zb, zc, zd, ya, yb, yc, yd, xa, xb, off) \
	D44ROWS(za, zb, zc, zd, ya, yb, yc, yd, xa, xb, off, Y16, Y17, Y18, Y19)

// D44ROWS is D44ROW with the scratch registers s0-s3.
#define D44ROWS(za, zb, zc, zd, ya, yb, yc, yd, xa, xb, off, s0, s1, s2, s3) \
	VEXTRACTF64X4 $1, za, s0; \
	VADDPS        s0, ya, ya; \
	VEXTRACTF64X4 $1, zb, s1; \
	VADDPS        s1, yb, yb; \
	VEXTRACTF64X4 $1, zc, s2; \
	VADDPS        s2, yc, yc; \
	VEXTRACTF64X4 $1, zd, s3; \
	VADDPS        s3, yd, yd; \
	VHADDPS       yb, ya, ya; \
	VHADDPS       yd, yc, yc; \
	VHADDPS       yc, ya, ya; \
	VEXTRACTF128  $1, ya, xb; \
	VADDPS        xb, xa, xa; \
	VMOVUPS       xa, off(DX)

// D44END writes the sixteen sums to out.
#define D44END \
	MOVQ out+56(FP), DX; \
	D44ROW(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3, X0, X1, 0); \
	D44ROW(Z4, Z5, Z6, Z7, Y4, Y5, Y6, Y7, X4, X5, 16); \
	D44ROW(Z8, Z9, Z10, Z11, Y8, Y9, Y10, Y11, X8, X9, 32); \
	D44ROW(Z12, Z13, Z14, Z15, Y12, Y13, Y14, Y15, X12, X13, 48); \
	VZEROUPPER

// D8ARGS loads x (SI), the eight row pointers (R8-R15) and n (CX) and
// clears the offsets AX (x) and DI (w) and the accumulators Z0-Z7.
#define D8ARGS \
	MOVQ   x+0(FP), SI; \
	MOVQ   w+8(FP), DX; \
	MOVQ   0(DX), R8; \
	MOVQ   8(DX), R9; \
	MOVQ   16(DX), R10; \
	MOVQ   24(DX), R11; \
	MOVQ   32(DX), R12; \
	MOVQ   40(DX), R13; \
	MOVQ   48(DX), R14; \
	MOVQ   56(DX), R15; \
	MOVQ   n+16(FP), CX; \
	XORQ   AX, AX; \
	XORQ   DI, DI; \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7

// D8END folds Z0-Z3 and Z4-Z7 as D44ROW does (lane j + lane j+8, then
// the tree) and stores the eight sums at DX.
#define D8END \
	D44ROWS(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3, X0, X1, 0, Y16, Y17, Y18, Y19); \
	D44ROWS(Z4, Z5, Z6, Z7, Y4, Y5, Y6, Y7, X4, X5, 16, Y20, Y21, Y22, Y23); \
	VZEROUPPER

// D8PREFETCH prefetches the eight weight rows R8-R15 512 bytes past the
// byte offset DI.
#define D8PREFETCH \
	PREFETCHT0 512(R8)(DI*1); \
	PREFETCHT0 512(R9)(DI*1); \
	PREFETCHT0 512(R10)(DI*1); \
	PREFETCHT0 512(R11)(DI*1); \
	PREFETCHT0 512(R12)(DI*1); \
	PREFETCHT0 512(R13)(DI*1); \
	PREFETCHT0 512(R14)(DI*1); \
	PREFETCHT0 512(R15)(DI*1)

// DLOOP(STEP, N, XB, WB) runs STEP while CX, the elements left, is at
// least N, advancing the activation offset AX by XB bytes and the weight
// offset DI by WB bytes each time (one use per kernel: it defines the
// labels dloop and dend).
#define DLOOP(STEP, N, XB, WB) \
dloop: \
	CMPQ CX, $N; \
	JL   dend; \
	STEP; \
	ADDQ $XB, AX; \
	ADDQ $WB, DI; \
	SUBQ $N, CX; \
	JMP  dloop; \
dend:
