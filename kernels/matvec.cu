// matvec.cu: matrix-vector products for decode. matvec_<type>_f32 computes
// dst[r][o] = sum_i W[o][i] * x[r][i] for a few batch rows r, reading each
// weight row once per launch and dequantizing it on the fly; activations are
// f32.
#include "common.cuh"

// MV_WARPS warps per block, one output row each; MV_ROWS batch rows per block.
#define MV_WARPS 4
#define MV_ROWS 8

// matvec_impl: grid (ceil(ne1/MV_WARPS), ceil(n/MV_ROWS)), block MV_WARPS*32.
// Lane l of a warp handles the 8-element groups l, l+32, ... of its weight
// row. ne0 must be a multiple of 8 (of the block size for quantized types).
template <deq8_fn DEQ>
DEVINLINE void matvec_impl(float* dst, const u8* w, const float* x, int ne0, int ne1, int n, u64 rowBytes) {
  int lane = threadIdx.x % WARP;
  int o = blockIdx.x * MV_WARPS + threadIdx.x / WARP;
  int r0 = blockIdx.y * MV_ROWS;
  if (o >= ne1) return;
  int nr = n - r0 < MV_ROWS ? n - r0 : MV_ROWS;
  const u8* row = w + (u64)o * rowBytes;
  float acc[MV_ROWS];
#pragma unroll
  for (int j = 0; j < MV_ROWS; j++) acc[j] = 0.0f;
  int groups = ne0 / 8;
  for (int g = lane; g < groups; g += WARP) {
    float v[8];
    DEQ(row, g, v);
#pragma unroll
    for (int j = 0; j < MV_ROWS; j++) {
      if (j < nr) {
        const float* xr = x + (u64)(r0 + j) * ne0 + 8 * g;
        float s = 0.0f;
#pragma unroll
        for (int i = 0; i < 8; i++) s += v[i] * xr[i];
        acc[j] += s;
      }
    }
  }
#pragma unroll
  for (int j = 0; j < MV_ROWS; j++) {
    float s = warp_sum(acc[j]);
    if (lane == 0 && j < nr) dst[(u64)(r0 + j) * ne1 + o] = s;
  }
}

#define MATVEC_ENTRY(name, deq)                                                                      \
  extern "C" __global__ void matvec_##name##_f32(float* dst, const u8* w, const float* x, int ne0, int ne1, \
                                                int n, u64 rowBytes) {                              \
    matvec_impl<deq>(dst, w, x, ne0, ne1, n, rowBytes);                                              \
  }
FOR_EACH_WEIGHT_TYPE(MATVEC_ENTRY)
