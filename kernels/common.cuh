// common.cuh: the shared definitions of the helexa CUDA kernels.
//
// The kernels are compiled by clang without the CUDA toolkit headers
// (-nocudainc -nocudalib), so this header supplies what those headers would:
// the function qualifiers, the builtin variables (threadIdx, blockIdx, ...),
// half-precision conversions through inline PTX, warp shuffles and the few
// math functions the kernels use, built on the __nvvm_* builtins. It also
// holds the on-the-fly dequantizers, one per GGUF weight type, which every
// op family (embedding, matrix-vector, matrix-matrix) shares.
//
// Block layouts are ggml's (ggml-common.h block_q8_0, block_q4_0,
// block_q4_K, block_q5_K, block_q6_K); sizes are in bytes.
//
// With HELEXA_EMU defined the same sources compile as host C++ against the
// CPU emulation in emu/emu.h, which is how the kernels are tested on
// machines without a GPU (kernels/emu_test.go).
#pragma once

#ifdef HELEXA_EMU
#include "emu/emu.h"
#else
#include <__clang_cuda_builtin_vars.h>

#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define DEVINLINE __attribute__((device)) __attribute__((always_inline)) inline
#endif

typedef unsigned char u8;
typedef signed char i8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

// WARP is the number of threads in a warp on every NVIDIA GPU.
#define WARP 32
#define FULL_MASK 0xffffffffu

// Block sizes of the quantized types (ggml-common.h QK8_0, QK4_0, QK_K).
#define QK8_0 32
#define QK4_0 32
#define QK_K 256
#define Q8_0_BYTES 34   // f16 d + 32 int8
#define Q4_0_BYTES 18   // f16 d + 16 bytes of nibbles
#define Q4_K_BYTES 144  // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
#define Q5_K_BYTES 176  // as Q4_K plus 32 bytes of high bits
#define Q6_K_BYTES 210  // 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, f16 d

// ---- conversions -----------------------------------------------------------

#ifndef HELEXA_EMU
DEVINLINE float h2f(u16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
}

DEVINLINE u16 f2h(float f) {
  u16 h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}

// pack_h2 rounds two floats to f16 and packs them, lo in the low 16 bits (the
// element order mma.sync expects).
DEVINLINE u32 pack_h2(float lo, float hi) {
  u32 r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

#endif

DEVINLINE float bf2f(u16 b) { return __builtin_bit_cast(float, (u32)b << 16); }

// ld_h reads a little-endian f16 from a 2-byte aligned address.
DEVINLINE float ld_h(const u8* p) { return h2f(*(const u16*)p); }

// ---- math --------------------------------------------------------------------

#define LOG2E 1.4426950408889634f

// fexp is e^x through ex2.approx (max relative error 2^-22 per the PTX ISA).
DEVINLINE float fexp(float x) { return __nvvm_ex2_approx_f(x * LOG2E); }

DEVINLINE float fmaxf_(float a, float b) { return __nvvm_fmax_f(a, b); }

DEVINLINE float warp_sum(float v) {
#pragma unroll
  for (int o = WARP / 2; o > 0; o >>= 1) v += __nvvm_shfl_sync_bfly_f32(FULL_MASK, v, o, 0x1f);
  return v;
}

DEVINLINE float warp_max(float v) {
#pragma unroll
  for (int o = WARP / 2; o > 0; o >>= 1) v = fmaxf_(v, __nvvm_shfl_sync_bfly_f32(FULL_MASK, v, o, 0x1f));
  return v;
}

// block_sum reduces v over the block; red holds one float per warp. Every
// thread gets the total. The block size must be a multiple of WARP.
DEVINLINE float block_sum(float v, float* red) {
  int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP, nw = blockDim.x / WARP;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = lane < nw ? red[lane] : 0.0f;
  return warp_sum(v);
}

DEVINLINE float block_max(float v, float* red) {
  int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP, nw = blockDim.x / WARP;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = lane < nw ? red[lane] : -__builtin_inff();
  return warp_max(v);
}

// ---- dequantizers -------------------------------------------------------------
// Each deq8_<type>(row, g, out) writes elements 8g .. 8g+7 of a weight row
// (row points at the row's first byte) as floats. Eight elements never cross
// a block or a sub-block boundary of any type below.

DEVINLINE void deq8_f32(const u8* row, int g, float* out) {
  const float* p = (const float*)row + 8 * g;
#pragma unroll
  for (int i = 0; i < 8; i++) out[i] = p[i];
}

DEVINLINE void deq8_f16(const u8* row, int g, float* out) {
  const u16* p = (const u16*)row + 8 * g;
#pragma unroll
  for (int i = 0; i < 8; i++) out[i] = h2f(p[i]);
}

DEVINLINE void deq8_bf16(const u8* row, int g, float* out) {
  const u16* p = (const u16*)row + 8 * g;
#pragma unroll
  for (int i = 0; i < 8; i++) out[i] = bf2f(p[i]);
}

// Q8_0: y = d * q.
DEVINLINE void deq8_q8_0(const u8* row, int g, float* out) {
  const u8* b = row + (g / 4) * Q8_0_BYTES;
  float d = ld_h(b);
  const i8* q = (const i8*)(b + 2) + (g % 4) * 8;
#pragma unroll
  for (int i = 0; i < 8; i++) out[i] = d * (float)q[i];
}

// Q4_0: element j < 16 is the low nibble of qs[j], element j+16 the high
// nibble; y = d * (q - 8).
DEVINLINE void deq8_q4_0(const u8* row, int g, float* out) {
  const u8* b = row + (g / 4) * Q4_0_BYTES;
  float d = ld_h(b);
  int e = (g % 4) * 8;
  const u8* qs = b + 2 + (e & 15);
  int shift = e < 16 ? 0 : 4;
#pragma unroll
  for (int i = 0; i < 8; i++) out[i] = d * (float)(((qs[i] >> shift) & 0xF) - 8);
}

// scale_min_k4 unpacks the 6-bit scale and min of sub-block j (0..7) of a
// Q4_K/Q5_K block (ggml get_scale_min_k4).
DEVINLINE void scale_min_k4(int j, const u8* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q4_K: 256 elements in 4 chunks of 64; chunk c uses bytes qs[32c .. 32c+32),
// low nibbles for its first 32 elements (sub-block 2c), high nibbles for the
// next 32 (sub-block 2c+1); y = d*sc*q - dmin*m.
DEVINLINE void deq8_q4_k(const u8* row, int g, float* out) {
  const u8* b = row + (g / 32) * Q4_K_BYTES;
  int e = (g % 32) * 8;          // element within the block
  int c = e / 64, hi = (e / 32) & 1, l = e % 32;
  int sc, m;
  scale_min_k4(2 * c + hi, b + 4, &sc, &m);
  float d = ld_h(b) * (float)sc, dm = ld_h(b + 2) * (float)m;
  const u8* q = b + 16 + 32 * c + l;
  int shift = hi * 4;
#pragma unroll
  for (int i = 0; i < 8; i++) out[i] = d * (float)((q[i] >> shift) & 0xF) - dm;
}

// Q5_K: as Q4_K with a fifth bit from qh[l], bit 2c for the low half of chunk
// c and bit 2c+1 for the high half.
DEVINLINE void deq8_q5_k(const u8* row, int g, float* out) {
  const u8* b = row + (g / 32) * Q5_K_BYTES;
  int e = (g % 32) * 8;
  int c = e / 64, hi = (e / 32) & 1, l = e % 32;
  int sc, m;
  scale_min_k4(2 * c + hi, b + 4, &sc, &m);
  float d = ld_h(b) * (float)sc, dm = ld_h(b + 2) * (float)m;
  const u8* qh = b + 16 + l;
  const u8* q = b + 48 + 32 * c + l;
  int shift = hi * 4, bit = 2 * c + hi;
#pragma unroll
  for (int i = 0; i < 8; i++) {
    int v = ((q[i] >> shift) & 0xF) | (((qh[i] >> bit) & 1) << 4);
    out[i] = d * (float)v - dm;
  }
}

// Q6_K: two halves of 128 elements; in half h, quarter k (32 elements) takes
// its low 4 bits from ql[64h + l] (k = 0, 2) or ql[64h + 32 + l] (k = 1, 3),
// low nibble for k < 2, high for k >= 2, and 2 high bits from qh[32h + l] at
// bit 2k; scale scales[8h + l/16 + 2k]; y = d * sc * (q - 32).
DEVINLINE void deq8_q6_k(const u8* row, int g, float* out) {
  const u8* b = row + (g / 32) * Q6_K_BYTES;
  int e = (g % 32) * 8;
  int h = e / 128, k = (e % 128) / 32, l = e % 32;
  const u8* ql = b + 64 * h + (k & 1) * 32 + l;
  const u8* qh = b + 128 + 32 * h + l;
  float d = ld_h(b + 208) * (float)((const i8*)(b + 192))[8 * h + l / 16 + 2 * k];
  int shift = (k >> 1) * 4, hshift = 2 * k;
#pragma unroll
  for (int i = 0; i < 8; i++) {
    int v = ((ql[i] >> shift) & 0xF) | (((qh[i] >> hshift) & 3) << 4);
    out[i] = d * (float)(v - 32);
  }
}

// FOR_EACH_WEIGHT_TYPE expands X(name, dequantizer) for every weight type the
// kernels support; the names are the suffixes of the entry points.
#define FOR_EACH_WEIGHT_TYPE(X) \
  X(f32, deq8_f32)              \
  X(f16, deq8_f16)              \
  X(bf16, deq8_bf16)            \
  X(q8_0, deq8_q8_0)            \
  X(q4_0, deq8_q4_0)            \
  X(q4_k, deq8_q4_k)            \
  X(q5_k, deq8_q5_k)            \
  X(q6_k, deq8_q6_k)

typedef void (*deq8_fn)(const u8*, int, float*);
