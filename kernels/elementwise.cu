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

// kv_store_<kv>: writes row r of k and v ([n, kvDim]) into one layer's paged
// cache ([blocks, bs, kvDim]) at position pos of sequence seq of the row: in
// block table[seq*width + pos/bs], row pos%bs. Grid (n, ceil(kvDim/blockDim)).
DEVINLINE u64 kv_row(const int* rows, const int* table, int r, int width, int bs) {
  int pos = rows[3 * r + 1], seq = rows[3 * r + 2];
  return (u64)table[seq * width + pos / bs] * bs + pos % bs;
}

extern "C" __global__ void kv_store_f16(u16* kc, u16* vc, const float* k, const float* v, const int* rows,
                                        const int* table, int width, int bs, int kvDim) {
  int r = blockIdx.x, i = blockIdx.y * blockDim.x + threadIdx.x;
  if (i >= kvDim) return;
  u64 at = kv_row(rows, table, r, width, bs) * kvDim + i;
  kc[at] = f2h(k[(u64)r * kvDim + i]);
  vc[at] = f2h(v[(u64)r * kvDim + i]);
}

extern "C" __global__ void kv_store_f32(float* kc, float* vc, const float* k, const float* v, const int* rows,
                                        const int* table, int width, int bs, int kvDim) {
  int r = blockIdx.x, i = blockIdx.y * blockDim.x + threadIdx.x;
  if (i >= kvDim) return;
  u64 at = kv_row(rows, table, r, width, bs) * kvDim + i;
  kc[at] = k[(u64)r * kvDim + i];
  vc[at] = v[(u64)r * kvDim + i];
}
