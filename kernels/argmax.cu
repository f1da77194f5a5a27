// argmax.cu: greedy sampling support. argmax_f32 finds the index of the
// largest element of each row, so greedy decoding reads back one int per row
// instead of the logits.
#include "common.cuh"

// better reports whether (v, i) beats (bv, bi): larger value, ties to the
// lower index; NaN never wins.
DEVINLINE bool better(float v, int i, float bv, int bi) {
  return v > bv || (v == bv && i < bi && bi >= 0) || (bi < 0 && v == v);
}

// argmax_f32: grid n rows, block 256 threads. out[r] = argmax of row r, -1
// if the row holds only NaN.
extern "C" __global__ void argmax_f32(int* out, const float* x, int dim) {
  __shared__ float sv[256];
  __shared__ int si[256];
  const float* xr = x + (u64)blockIdx.x * dim;
  float bv = -__builtin_inff();
  int bi = -1;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = xr[i];
    if (better(v, i, bv, bi)) { bv = v; bi = i; }
  }
  sv[threadIdx.x] = bv;
  si[threadIdx.x] = bi;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      float v = sv[threadIdx.x + s];
      int i = si[threadIdx.x + s];
      if (i >= 0 && better(v, i, sv[threadIdx.x], si[threadIdx.x])) {
        sv[threadIdx.x] = v;
        si[threadIdx.x] = i;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = si[0];
}
