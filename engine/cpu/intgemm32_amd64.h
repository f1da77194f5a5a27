// Macros shared by the block-major GEMM kernels, intgemm32_amd64.s and
// intgemm16_amd64.s. Each file defines, for activation rows j = 0..7,
// PI_j(INIT) (start row j's int32 lanes), PQ_j(off, W) (add a part of the
// block) and PF_j(MTERM) (finish the block into row j's accumulator), and
// BLOCK(PI, PQ, PF, INIT, MTERM), a block times a group of rows, each part
// across the group before the next so that the rows' VPDPBUSD chains
// interleave. ROWS_c is a block times c rows: rows 0-3, then 4-7 (their
// int32 lanes reuse Z8-Z11). ZERO_c clears the accumulators Z0..Z(c-1).

// Groups of rows 0.. (G) and 4.. (H) for one phase.
#define GI_1(INIT) PI_0(INIT)
#define GQ_1(off, W) PQ_0(off, W)
#define GF_1(MTERM) PF_0(MTERM)
#define GI_2(INIT) GI_1(INIT) \
	PI_1(INIT)
#define GQ_2(off, W) GQ_1(off, W) \
	PQ_1(off, W)
#define GF_2(MTERM) GF_1(MTERM) \
	PF_1(MTERM)
#define GI_3(INIT) GI_2(INIT) \
	PI_2(INIT)
#define GQ_3(off, W) GQ_2(off, W) \
	PQ_2(off, W)
#define GF_3(MTERM) GF_2(MTERM) \
	PF_2(MTERM)
#define GI_4(INIT) GI_3(INIT) \
	PI_3(INIT)
#define GQ_4(off, W) GQ_3(off, W) \
	PQ_3(off, W)
#define GF_4(MTERM) GF_3(MTERM) \
	PF_3(MTERM)
#define HI_1(INIT) PI_4(INIT)
#define HQ_1(off, W) PQ_4(off, W)
#define HF_1(MTERM) PF_4(MTERM)
#define HI_2(INIT) HI_1(INIT) \
	PI_5(INIT)
#define HQ_2(off, W) HQ_1(off, W) \
	PQ_5(off, W)
#define HF_2(MTERM) HF_1(MTERM) \
	PF_5(MTERM)
#define HI_3(INIT) HI_2(INIT) \
	PI_6(INIT)
#define HQ_3(off, W) HQ_2(off, W) \
	PQ_6(off, W)
#define HF_3(MTERM) HF_2(MTERM) \
	PF_6(MTERM)
#define HI_4(INIT) HI_3(INIT) \
	PI_7(INIT)
#define HQ_4(off, W) HQ_3(off, W) \
	PQ_7(off, W)
#define HF_4(MTERM) HF_3(MTERM) \
	PF_7(MTERM)

#define ROWS_1(INIT, MTERM) BLOCK(GI_1, GQ_1, GF_1, INIT, MTERM)
#define ROWS_2(INIT, MTERM) BLOCK(GI_2, GQ_2, GF_2, INIT, MTERM)
#define ROWS_3(INIT, MTERM) BLOCK(GI_3, GQ_3, GF_3, INIT, MTERM)
#define ROWS_4(INIT, MTERM) BLOCK(GI_4, GQ_4, GF_4, INIT, MTERM)
#define ROWS_5(INIT, MTERM) ROWS_4(INIT, MTERM) \
	BLOCK(HI_1, HQ_1, HF_1, INIT, MTERM)
#define ROWS_6(INIT, MTERM) ROWS_4(INIT, MTERM) \
	BLOCK(HI_2, HQ_2, HF_2, INIT, MTERM)
#define ROWS_7(INIT, MTERM) ROWS_4(INIT, MTERM) \
	BLOCK(HI_3, HQ_3, HF_3, INIT, MTERM)
#define ROWS_8(INIT, MTERM) ROWS_4(INIT, MTERM) \
	BLOCK(HI_4, HQ_4, HF_4, INIT, MTERM)

#define ZERO_1 VPXORD Z0, Z0, Z0
#define ZERO_2 ZERO_1 \
	VPXORD Z1, Z1, Z1
#define ZERO_3 ZERO_2 \
	VPXORD Z2, Z2, Z2
#define ZERO_4 ZERO_3 \
	VPXORD Z3, Z3, Z3
#define ZERO_5 ZERO_4 \
	VPXORD Z4, Z4, Z4
#define ZERO_6 ZERO_5 \
	VPXORD Z5, Z5, Z5
#define ZERO_7 ZERO_6 \
	VPXORD Z6, Z6, Z6
#define ZERO_8 ZERO_7 \
	VPXORD Z7, Z7, Z7
