// emu.h: a CPU emulation of the CUDA execution model, just large enough to
// run the helexa kernels as host C++ (compiled with -DHELEXA_EMU) so their
// indexing, reductions and tensor-core fragment handling are tested on
// machines without a GPU.
//
// The threads of a block are fibers on the calling OS thread;
// blocks run one after another, so __shared__ variables become
// function-local statics shared by the fibers of the current block. A
// fiber runs until it reaches a barrier: __syncthreads waits for every live
// thread of the block, a warp shuffle or mma.sync for every live lane of
// its warp (values pass through a per-warp slot array between two such
// barriers). The schedule is random but reproducible (emu_seed): warps are
// released from their barriers in random order, so that a missing
// __syncthreads shows up as a wrong result. A block whose threads all wait
// with none releasable is a deadlock and aborts.
//
// What the emulation cannot show: timing, memory-model effects of missing
// fences, the hardware's exact rounding of ex2/sin/cos.approx (the host's
// exp2f/sinf/cosf stand in), and PTX-level problems; those are checked on a
// device (scripts/gpu-check.sh).
#pragma once

#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <tuple>
#include <vector>

struct emu_dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// Fiber states.
enum { EMU_RUN, EMU_WAIT_WARP, EMU_WAIT_BLOCK, EMU_DONE };

// Context switching: on x86-64 a hand-written switch that saves only the
// callee-saved registers (swapcontext also saves the signal mask, a system
// call per switch, which made the emulation ten times slower); elsewhere
// ucontext.
#if defined(__x86_64__)
extern "C" void emu_switch(void** from, void* to);
asm(R"(
.text
.globl emu_switch
.type emu_switch,@function
emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size emu_switch, .-emu_switch
)");
struct emu_ctx {
  void* sp;
};
inline void emu_swap(emu_ctx* from, emu_ctx* to) { emu_switch(&from->sp, to->sp); }
// emu_make prepares ctx to start entry on stack: six zeroed callee-saved
// registers, then entry as the return address of emu_switch, then a zero
// return address for entry that keeps the ABI's 16-byte stack alignment.
inline void emu_make(emu_ctx* ctx, char* stack, size_t size, void (*entry)()) {
  uintptr_t top = ((uintptr_t)(stack + size)) & ~(uintptr_t)15;
  void** sp = (void**)top;
  *--sp = nullptr;
  *--sp = (void*)entry;
  for (int i = 0; i < 6; i++) *--sp = nullptr;
  ctx->sp = sp;
}
#else
struct emu_ctx {
  ucontext_t uc;
};
inline void emu_swap(emu_ctx* from, emu_ctx* to) { swapcontext(&from->uc, &to->uc); }
inline void emu_make(emu_ctx* ctx, char* stack, size_t size, void (*entry)()) {
  getcontext(&ctx->uc);
  ctx->uc.uc_stack.ss_sp = stack;
  ctx->uc.uc_stack.ss_size = size;
  ctx->uc.uc_link = nullptr;
  makecontext(&ctx->uc, entry, 0);
}
#endif

// EMU_STACK is each fiber's stack; the kernels need a few hundred bytes.
#define EMU_STACK (64 << 10)

struct emu_fiber {
  emu_ctx ctx;
  std::unique_ptr<char[]> stack;
  emu_dim3 tid;
  int state;
};

// emu_warp is the exchange area of one warp.
struct emu_warp {
  float f[32];
  uint32_t u[32][6];
};

inline emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
inline int emu_lane;
inline emu_warp* emu_warp_ptr;
inline emu_fiber* emu_cur;
inline emu_ctx emu_sched;

// emu_rand drives the scheduling choices (xorshift64; emu_seed sets it).
inline uint64_t emu_state = 0x9e3779b97f4a7c15ull;
inline void emu_seed(uint64_t s) { emu_state = s ? s : 0x9e3779b97f4a7c15ull; }
inline uint64_t emu_rand() {
  emu_state ^= emu_state << 13;
  emu_state ^= emu_state >> 7;
  emu_state ^= emu_state << 17;
  return emu_state;
}

// emu_wait parks the current fiber until its barrier releases it.
inline void emu_wait(int state) {
  emu_cur->state = state;
  emu_swap(&emu_cur->ctx, &emu_sched);
}

#define __global__
#define __device__
#define __shared__ static
#define DEVINLINE inline

#define __syncthreads() emu_wait(EMU_WAIT_BLOCK)

inline float emu_shfl_xor(float v, int m) {
  emu_warp* w = emu_warp_ptr;
  int l = emu_lane;
  w->f[l] = v;
  emu_wait(EMU_WAIT_WARP);
  float r = w->f[l ^ m];
  emu_wait(EMU_WAIT_WARP);
  return r;
}

#define __nvvm_shfl_sync_bfly_f32(mask, v, m, c) emu_shfl_xor((v), (m))
#define __nvvm_ex2_approx_f(x) exp2f(x)
#define __nvvm_fmax_f(a, b) fmaxf((a), (b))
#define __nvvm_fmin_f(a, b) fminf((a), (b))
#define __nvvm_sqrt_rn_f(x) sqrtf(x)
#define __nvvm_sin_approx_f(x) sinf(x)
#define __nvvm_cos_approx_f(x) cosf(x)
#define __nvvm_floor_d(x) floor(x)

// Half-precision conversions, round to nearest even as cvt.rn does.
inline float h2f(uint16_t h) { return (float)__builtin_bit_cast(_Float16, h); }
inline uint16_t f2h(float f) { return __builtin_bit_cast(uint16_t, (_Float16)f); }
inline uint32_t pack_h2(float lo, float hi) { return (uint32_t)f2h(lo) | (uint32_t)f2h(hi) << 16; }

// emu_mma16816 is mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 with the
// fragment layout of the PTX ISA (groupID = lane/4, threadID_in_group =
// lane%4): A element (row, k) is held by lane (row%8)*4 + (k%8)/2 in
// register (row>=8) + 2*(k>=8), half k%2; B element (k, col) by lane
// col*4 + (k%8)/2 in register (k>=8), half k%2; C element i of a lane is
// (groupID + 8*(i/2), 2*threadID_in_group + i%2).
inline void emu_mma16816(float* c, const uint32_t* a, uint32_t b0, uint32_t b1) {
  emu_warp* w = emu_warp_ptr;
  int l = emu_lane;
  for (int i = 0; i < 4; i++) w->u[l][i] = a[i];
  w->u[l][4] = b0;
  w->u[l][5] = b1;
  emu_wait(EMU_WAIT_WARP);
  auto half = [](uint32_t r, int hi) { return h2f((uint16_t)(hi ? r >> 16 : r & 0xffff)); };
  auto A = [&](int row, int k) { return half(w->u[(row % 8) * 4 + (k % 8) / 2][(row >= 8) + 2 * (k >= 8)], k % 2); };
  auto B = [&](int k, int col) { return half(w->u[col * 4 + (k % 8) / 2][4 + (k >= 8)], k % 2); };
  int g = l / 4, t = l % 4;
  for (int i = 0; i < 4; i++) {
    int row = g + 8 * (i / 2), col = 2 * t + i % 2;
    double s = 0;
    for (int k = 0; k < 16; k++) s += (double)A(row, k) * (double)B(k, col);
    c[i] += (float)s;
  }
  emu_wait(EMU_WAIT_WARP);
}

// emu_entry runs the kernel call of the current launch in a fiber.
inline void (*emu_body)();
inline void emu_entry() {
  emu_body();
  emu_cur->state = EMU_DONE;
  emu_swap(&emu_cur->ctx, &emu_sched);
  abort();  // a finished fiber is never resumed
}

// emu_run_block runs the fibers of one block until all are done.
inline void emu_run_block(emu_fiber* fs, int n, std::vector<emu_warp>& warps) {
  for (int i = 0; i < n; i++) {
    emu_make(&fs[i].ctx, fs[i].stack.get(), EMU_STACK, emu_entry);
    fs[i].state = EMU_RUN;
  }
  for (;;) {
    bool ran = false;
    for (int i = 0; i < n; i++) {
      if (fs[i].state != EMU_RUN) continue;
      ran = true;
      emu_cur = &fs[i];
      threadIdx = fs[i].tid;
      emu_lane = i % 32;
      emu_warp_ptr = &warps[i / 32];
      emu_swap(&emu_sched, &fs[i].ctx);
    }
    if (ran) continue;
    // Everyone waits or is done: release the complete warp barriers, a
    // random nonempty subset of them at a time, so that warps drift apart
    // between block barriers as they do on hardware and a missing
    // __syncthreads shows up.
    bool done = true;
    std::vector<int> ready;
    for (int w = 0; w * 32 < n; w++) {
      bool all = true, any = false;
      for (int i = 32 * w; i < n && i < 32 * w + 32; i++) {
        all = all && (fs[i].state == EMU_WAIT_WARP || fs[i].state == EMU_DONE);
        any = any || fs[i].state == EMU_WAIT_WARP;
      }
      if (all && any) ready.push_back(w);
    }
    if (!ready.empty()) {
      size_t keep = emu_rand() % ready.size();  // always release this one
      for (size_t j = 0; j < ready.size(); j++) {
        if (j != keep && emu_rand() % 2) continue;
        int w = ready[j];
        for (int i = 32 * w; i < n && i < 32 * w + 32; i++)
          if (fs[i].state == EMU_WAIT_WARP) fs[i].state = EMU_RUN;
      }
      continue;
    }
    bool block = true, anyBlock = false;
    for (int i = 0; i < n; i++) {
      done = done && fs[i].state == EMU_DONE;
      block = block && (fs[i].state == EMU_WAIT_BLOCK || fs[i].state == EMU_DONE);
      anyBlock = anyBlock || fs[i].state == EMU_WAIT_BLOCK;
    }
    if (done) return;
    if (block && anyBlock) {
      for (int i = 0; i < n; i++)
        if (fs[i].state == EMU_WAIT_BLOCK) fs[i].state = EMU_RUN;
      continue;
    }
    fprintf(stderr, "emu: deadlock in block (%u,%u,%u): threads wait at different barriers\n", blockIdx.x, blockIdx.y,
            blockIdx.z);
    abort();
  }
}

// emu_launch runs kernel k over grid with block threads per block.
template <typename... P, typename... A>
void emu_launch(void (*k)(P...), emu_dim3 grid, emu_dim3 block, A... args) {
  int n = (int)(block.x * block.y * block.z);
  // Fibers and their stacks are kept from launch to launch.
  static std::vector<emu_fiber> pool;
  if ((int)pool.size() < n) pool.resize(n);
  emu_fiber* fs = pool.data();
  for (int i = 0; i < n; i++) {
    if (!fs[i].stack) fs[i].stack.reset(new char[EMU_STACK]);
    fs[i].tid = {(unsigned)i % block.x, ((unsigned)i / block.x) % block.y, (unsigned)i / (block.x * block.y)};
  }
  std::vector<emu_warp> warps((n + 31) / 32);
  blockDim = block;
  gridDim = grid;
  // The fiber body calls k with the launch's arguments, converted to the
  // kernel's parameter types.
  static void (*kern)(P...);
  static std::tuple<P...> params;
  kern = k;
  params = std::tuple<P...>(P(args)...);
  emu_body = [] { std::apply(kern, params); };
  for (unsigned z = 0; z < grid.z; z++)
    for (unsigned y = 0; y < grid.y; y++)
      for (unsigned x = 0; x < grid.x; x++) {
        blockIdx = {x, y, z};
        emu_run_block(fs, n, warps);
      }
}
