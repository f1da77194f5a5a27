// attention.cu: attention over the KV cache, for decode and prefill alike.
// attn_split_<kv> splits each (row, head) over chunks of ATT_CHUNK cached
// positions and writes per chunk the running max m, the sum l of
// exp(score - m) and the unnormalized output sum_t exp(score_t - m) * V[t];
// attn_reduce_f32 merges the chunks (the split-softmax combination of
// FlashDecoding). Causality comes from each row's own position: row r
// attends to positions 0..pos(r) of its sequence. The cache is paged: K and
// V of one layer are [blocks, bs, kvDim], and position t of sequence seq is
// row t%bs of block table[seq*width + t/bs].
#include "common.cuh"

#define ATT_CHUNK 256    // positions per split block
#define ATT_THREADS 128  // 4 warps
#define ATT_MAX_HEAD 256 // largest headDim the shared q buffer holds

// attn_split_impl: grid (nSplit, nHead, n). part is [n, nHead, nSplit,
// headDim+2]: headDim output sums, then m, then l.
template <typename KV, float (*LD)(const KV*)>
DEVINLINE void attn_split_impl(float* part, const float* q, const KV* kc, const KV* vc, const int* rows,
                               const int* table, int nHead, int nHeadKV, int headDim, int width, int bs,
                               float scale) {
  __shared__ float qs[ATT_MAX_HEAD];
  __shared__ float ps[ATT_CHUNK];
  __shared__ u64 at[ATT_CHUNK];  // cache row of each position of the chunk
  __shared__ float red[WARP];
  int s = blockIdx.x, h = blockIdx.y, r = blockIdx.z, nSplit = gridDim.x;
  int tid = threadIdx.x, lane = tid % WARP, warp = tid / WARP;
  int pos = rows[3 * r + 1], seq = rows[3 * r + 2];
  int start = s * ATT_CHUNK, end = pos + 1 < start + ATT_CHUNK ? pos + 1 : start + ATT_CHUNK;
  float* out = part + (((u64)r * nHead + h) * nSplit + s) * (headDim + 2);
  if (start >= end) {
    for (int d = tid; d < headDim; d += ATT_THREADS) out[d] = 0.0f;
    if (tid == 0) {
      out[headDim] = -__builtin_inff();
      out[headDim + 1] = 0.0f;
    }
    return;
  }
  int kvh = h / (nHead / nHeadKV);
  int kvDim = nHeadKV * headDim;
  const float* qr = q + ((u64)r * nHead + h) * headDim;
  for (int d = tid; d < headDim; d += ATT_THREADS) qs[d] = qr[d];
  const int* blocks = table + (u64)seq * width;
  for (int t = start + tid; t < end; t += ATT_THREADS)
    at[t - start] = ((u64)blocks[t / bs] * bs + t % bs) * kvDim + (u64)kvh * headDim;
  __syncthreads();
  for (int t = start + warp; t < end; t += ATT_THREADS / WARP) {
    const KV* kt = kc + at[t - start];
    float dot = 0.0f;
    for (int d = lane; d < headDim; d += WARP) dot += qs[d] * LD(kt + d);
    dot = warp_sum(dot);
    if (lane == 0) ps[t - start] = dot * scale;
  }
  __syncthreads();
  int len = end - start;
  float m = -__builtin_inff();
  for (int i = tid; i < len; i += ATT_THREADS) m = fmaxf_(m, ps[i]);
  m = block_max(m, red);
  float l = 0.0f;
  for (int i = tid; i < len; i += ATT_THREADS) {
    float p = fexp(ps[i] - m);
    ps[i] = p;
    l += p;
  }
  l = block_sum(l, red);  // its barriers also publish ps
  for (int d = tid; d < headDim; d += ATT_THREADS) {
    float o = 0.0f;
    for (int i = 0; i < len; i++) o += ps[i] * LD(vc + at[i] + d);
    out[d] = o;
  }
  if (tid == 0) {
    out[headDim] = m;
    out[headDim + 1] = l;
  }
}

DEVINLINE float ld_f32(const float* p) { return *p; }
DEVINLINE float ld_f16(const u16* p) { return h2f(*p); }

extern "C" __global__ void attn_split_f16(float* part, const float* q, const u16* kc, const u16* vc, const int* rows,
                                          const int* table, int nHead, int nHeadKV, int headDim, int width, int bs,
                                          float scale) {
  attn_split_impl<u16, ld_f16>(part, q, kc, vc, rows, table, nHead, nHeadKV, headDim, width, bs, scale);
}

extern "C" __global__ void attn_split_f32(float* part, const float* q, const float* kc, const float* vc,
                                          const int* rows, const int* table, int nHead, int nHeadKV, int headDim,
                                          int width, int bs, float scale) {
  attn_split_impl<float, ld_f32>(part, q, kc, vc, rows, table, nHead, nHeadKV, headDim, width, bs, scale);
}

// attn_reduce_f32: grid (nHead, n), block ATT_THREADS. dst is [n, nHead*headDim].
extern "C" __global__ void attn_reduce_f32(float* dst, const float* part, int nHead, int headDim, int nSplit) {
  int h = blockIdx.x, r = blockIdx.y;
  const float* p = part + ((u64)r * nHead + h) * nSplit * (headDim + 2);
  float M = -__builtin_inff();
  for (int s = 0; s < nSplit; s++) M = fmaxf_(M, p[s * (headDim + 2) + headDim]);
  float L = 0.0f;
  for (int s = 0; s < nSplit; s++) {
    const float* ps = p + s * (headDim + 2);
    if (ps[headDim + 1] > 0.0f) L += ps[headDim + 1] * fexp(ps[headDim] - M);
  }
  float inv = 1.0f / L;
  for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
    float o = 0.0f;
    for (int s = 0; s < nSplit; s++) {
      const float* ps = p + s * (headDim + 2);
      if (ps[headDim + 1] > 0.0f) o += ps[d] * fexp(ps[headDim] - M);
    }
    dst[((u64)r * nHead + h) * headDim + d] = o * inv;
  }
}
