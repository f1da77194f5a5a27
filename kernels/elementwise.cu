// elementwise.cu: the small element-wise ops of the forward pass: SwiGLU,
// residual add, row gather, KV-cache store.
#include "common.cuh"

// swiglu_f32: dst[i] = silu(gate[i]) * up[i]; dst may alias gate.
extern "C" __global__ void swiglu_f32(float* dst, const float* gate, const float* up, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float g = gate[i];
  dst[i] = g / (1.0f + fexp(-g)) * up[i];
}

// add_f32: dst[i] += x[i].
extern "C" __global__ void add_f32(float* dst, const float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dst[i] += x[i];
}

// copy_rows_f32: row i of dst = row idx[i] of src; grid (nIdx, ceil(dim/blockDim)).
extern "C" __global__ void copy_rows_f32(float* dst, const float* src, const int* idx, int dim) {
  int i = blockIdx.y * blockDim.x + threadIdx.x;
  if (i >= dim) return;
  dst[(u64)blockIdx.x * dim + i] = src[(u64)idx[blockIdx.x] * dim + i];
}

// kv_store_<kv>: writes row r of k and v ([n, kvDim]) into one layer's cache
// ([seqs, ctx, kvDim]) at (seq, pos) of the row; grid (n, ceil(kvDim/blockDim)).
extern "C" __global__ void kv_store_f16(u16* kc, u16* vc, const float* k, const float* v, const int* rows, int kvDim, int ctx) {
  int r = blockIdx.x, i = blockIdx.y * blockDim.x + threadIdx.x;
  if (i >= kvDim) return;
  u64 at = ((u64)rows[3 * r + 2] * ctx + rows[3 * r + 1]) * kvDim + i;
  kc[at] = f2h(k[(u64)r * kvDim + i]);
  vc[at] = f2h(v[(u64)r * kvDim + i]);
}

extern "C" __global__ void kv_store_f32(float* kc, float* vc, const float* k, const float* v, const int* rows, int kvDim, int ctx) {
  int r = blockIdx.x, i = blockIdx.y * blockDim.x + threadIdx.x;
  if (i >= kvDim) return;
  u64 at = ((u64)rows[3 * r + 2] * ctx + rows[3 * r + 1]) * kvDim + i;
  kc[at] = k[(u64)r * kvDim + i];
  vc[at] = v[(u64)r * kvDim + i];
}
