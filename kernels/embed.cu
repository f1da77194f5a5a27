// embed.cu: token embedding lookup. Each entry embed_<type> copies the rows
// of the embedding matrix named by the batch's tokens into an f32 buffer,
// dequantizing on the fly.
#include "common.cuh"

// EMBED_THREADS is the block size; each thread writes 8 elements.
#define EMBED_THREADS 128

// embed_impl: grid (n rows, ceil(nEmbd / (8*EMBED_THREADS))). rows holds
// (token, pos, seq) triples; nEmbd must be a multiple of 8.
template <deq8_fn DEQ>
DEVINLINE void embed_impl(float* dst, const u8* w, const int* rows, int nEmbd, u64 rowBytes) {
  int r = blockIdx.x;
  int g = blockIdx.y * EMBED_THREADS + threadIdx.x;
  if (8 * g >= nEmbd) return;
  int tok = rows[3 * r];
  float v[8];
  DEQ(w + (u64)tok * rowBytes, g, v);
  float* o = dst + (u64)r * nEmbd + 8 * g;
#pragma unroll
  for (int i = 0; i < 8; i++) o[i] = v[i];
}

#define EMBED_ENTRY(name, deq)                                                                      \
  extern "C" __global__ void embed_##name(float* dst, const u8* w, const int* rows, int nEmbd, u64 rowBytes) { \
    embed_impl<deq>(dst, w, rows, nEmbd, rowBytes);                                                 \
  }
FOR_EACH_WEIGHT_TYPE(EMBED_ENTRY)
