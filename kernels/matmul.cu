// matmul.cu: matrix-matrix products for prefill on the tensor cores.
// matmul_<type>_f32 computes dst[n, ne1] = x[n, ne0] * W^T: a block stages a
// 64x32 tile of x and a 64x32 tile of W (dequantized) in shared memory as
// f16 and multiplies them with mma.sync.m16n8k16 (f16 inputs, f32
// accumulation; PTX ISA "Matrix multiply-accumulate operation using mma
// instruction", available from sm_80 in this form).
#include "common.cuh"

#define MM_BM 64   // batch rows per block
#define MM_BN 64   // output features per block
#define MM_BK 32   // reduction step
#define MM_PAD 8   // f16 padding per shared row: a 40-element (80-byte) stride keeps
                   // the fragment loads of a warp on 32 distinct banks
#define MM_ROWW ((MM_BK + MM_PAD) / 2)  // a shared row in 32-bit words (f16 pairs)
#define MM_THREADS 128
#define F16_MAX 65504.0f  // largest finite f16

DEVINLINE void mma16816(float* c, const u32* a, u32 b0, u32 b1) {
#ifdef HELEXA_EMU
  emu_mma16816(c, a, b0, b1);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

// matmul_impl: grid (ceil(ne1/MM_BN), ceil(n/MM_BM)), block MM_THREADS.
// Warp w computes batch rows 16w..16w+15 of the tile against all 64 output
// features (8 mma tiles of 16x8). ne0 must be a multiple of 8; the tail of a
// 32-wide step beyond ne0 is zero-filled.
template <deq8_fn DEQ>
DEVINLINE void matmul_impl(float* dst, const u8* w, const float* x, int ne0, int ne1, int n, u64 rowBytes) {
  // The tiles hold f16 pairs as 32-bit words, the unit of the mma
  // fragments: declared as u16, every fragment load became two 16-bit loads
  // and a shift-and-or.
  __shared__ __attribute__((aligned(16))) u32 As[MM_BM][MM_ROWW];
  __shared__ __attribute__((aligned(16))) u32 Bs[MM_BN][MM_ROWW];
  int tid = threadIdx.x, warp = tid / WARP, lane = tid % WARP;
  int gid = lane / 4, tig = lane % 4;  // mma fragment coordinates
  int row0 = blockIdx.y * MM_BM, col0 = blockIdx.x * MM_BN;
  float acc[8][4];
#pragma unroll
  for (int j = 0; j < 8; j++)
#pragma unroll
    for (int i = 0; i < 4; i++) acc[j][i] = 0.0f;

  for (int k0 = 0; k0 < ne0; k0 += MM_BK) {
    // Stage: 64 rows x 4 groups of 8 for each operand, two groups per thread.
#pragma unroll
    for (int it = 0; it < 2; it++) {
      int idx = tid + it * MM_THREADS;
      int r = idx / 4, kg = idx % 4, k = k0 + 8 * kg;
      float v[8];
      int gr = row0 + r;
      if (gr < n && k < ne0) {
        const float* xp = x + (u64)gr * ne0 + k;
#pragma unroll
        for (int i = 0; i < 8; i++) v[i] = xp[i];
      } else {
#pragma unroll
        for (int i = 0; i < 8; i++) v[i] = 0.0f;
      }
      // Activations beyond the f16 range (65504) would become inf and then
      // NaN in the products; they are clamped to it instead.
#pragma unroll
      for (int i = 0; i < 8; i++) v[i] = __nvvm_fmin_f(__nvvm_fmax_f(v[i], -F16_MAX), F16_MAX);
      u32* ap = &As[r][4 * kg];
#pragma unroll
      for (int i = 0; i < 4; i++) ap[i] = pack_h2(v[2 * i], v[2 * i + 1]);
      int o = col0 + r;
      if (o < ne1 && k < ne0) {
        DEQ(w + (u64)o * rowBytes, k / 8, v);
      } else {
#pragma unroll
        for (int i = 0; i < 8; i++) v[i] = 0.0f;
      }
      u32* bp = &Bs[r][4 * kg];
#pragma unroll
      for (int i = 0; i < 4; i++) bp[i] = pack_h2(v[2 * i], v[2 * i + 1]);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < MM_BK; kk += 16) {
      // Word kw holds f16 elements 2*kw and 2*kw+1 of the row.
      u32 a[4];
      int ar = 16 * warp + gid, kw = kk / 2 + tig;
      a[0] = As[ar][kw];
      a[1] = As[ar + 8][kw];
      a[2] = As[ar][kw + 4];
      a[3] = As[ar + 8][kw + 4];
#pragma unroll
      for (int j = 0; j < 8; j++) {
        u32 b0 = Bs[8 * j + gid][kw];
        u32 b1 = Bs[8 * j + gid][kw + 4];
        mma16816(acc[j], a, b0, b1);
      }
    }
    __syncthreads();
  }
  // Accumulator fragment: c0,c1 at (gid, 2*tig + {0,1}), c2,c3 at (gid+8, ...).
  int r = row0 + 16 * warp + gid;
#pragma unroll
  for (int j = 0; j < 8; j++) {
    int c = col0 + 8 * j + 2 * tig;
#pragma unroll
    for (int h = 0; h < 2; h++) {
      int rr = r + 8 * h;
      if (rr < n) {
        if (c < ne1) dst[(u64)rr * ne1 + c] = acc[j][2 * h];
        if (c + 1 < ne1) dst[(u64)rr * ne1 + c + 1] = acc[j][2 * h + 1];
      }
    }
  }
}

#define MATMUL_ENTRY(name, deq)                                                                      \
  extern "C" __global__ void matmul_##name##_f32(float* dst, const u8* w, const float* x, int ne0, int ne1, \
                                                int n, u64 rowBytes) {                              \
    matmul_impl<deq>(dst, w, x, ne0, ne1, n, rowBytes);                                              \
  }
FOR_EACH_WEIGHT_TYPE(MATMUL_ENTRY)
