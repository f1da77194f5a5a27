// norm.cu: RMS normalization. rmsnorm_f32 normalizes each row of an f32
// buffer and scales it by an f32 weight vector; the per-head Q/K norm is the
// same kernel over n*nHead rows of headDim elements.
#include "common.cuh"

// rmsnorm_f32: grid n rows, block a multiple of 32 threads (256 is used).
// dst may alias x: each thread reads x[i] before it writes dst[i], and only
// after the reduction.
extern "C" __global__ void rmsnorm_f32(float* dst, const float* x, const float* w, int dim, float eps) {
  __shared__ float red[WARP];
  const float* xr = x + (u64)blockIdx.x * dim;
  float* dr = dst + (u64)blockIdx.x * dim;
  float ss = 0.0f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
  ss = block_sum(ss, red);
  float scale = 1.0f / __nvvm_sqrt_rn_f(ss / (float)dim + eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) dr[i] = xr[i] * scale * w[i];
}
