// rope.cu: rotary position embedding, NeoX layout (element i of a head pairs
// with element i + headDim/2), as llama.cpp applies it to Qwen3.
#include "common.cuh"

#define TWO_PI 6.283185307179586

// rope_neox_f32 rotates x in place: grid (n rows, nHead), block headDim/2
// threads. invFreq[i] = base^(-2i/headDim), computed on the host in double
// precision. The angle pos*invFreq[i] is formed and reduced to [-pi, pi] in
// double precision so that sin.approx/cos.approx (accurate to ~1e-6 on that
// range) stay accurate at large positions.
extern "C" __global__ void rope_neox_f32(float* x, const int* rows, const double* invFreq, int nHead, int headDim) {
  int r = blockIdx.x, h = blockIdx.y, i = threadIdx.x;
  int half = headDim / 2;
  if (i >= half) return;
  double theta = (double)rows[3 * r + 1] * invFreq[i];
  double k = __nvvm_floor_d(theta * (1.0 / TWO_PI) + 0.5);
  float a = (float)(theta - k * TWO_PI);
  float s = __nvvm_sin_approx_f(a), c = __nvvm_cos_approx_f(a);
  float* p = x + ((u64)r * nHead + h) * headDim;
  float x0 = p[i], x1 = p[i + half];
  p[i] = x0 * c - x1 * s;
  p[i + half] = x0 * s + x1 * c;
}
