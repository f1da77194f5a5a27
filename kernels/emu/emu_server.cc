// emu_server.cc: an emulated CUDA device as a process. It runs the helexa
// kernels under emu.h on memory it holds, driven by a binary protocol on
// stdin/stdout, so that the Go backend's tests (engine/cuda) can run whole
// forward passes without a GPU: the test's fake driver forwards
// allocations, copies and launches here.
//
// Protocol (little-endian; replies only where noted):
//   'A' u64 addr, u64 bytes           allocate a region at addr
//   'F' u64 addr                      free it
//   'W' u64 addr, u64 n, n bytes      host-to-device copy
//   'R' u64 addr, u64 n               device-to-host copy; reply n bytes
//   'S' u64 addr, u64 n, u32 v        set n 32-bit words
//   'L' u8 len, name, 6 x u32 grid/block, u8 nargs, nargs x u64
//                                     launch; reply u8 status (0 ok, 1 unknown
//                                     kernel, 2 wrong argument count)
//   'Q'                               quit
// An address outside every region is fatal: the server reports it on stderr
// and exits 3.
#define HELEXA_EMU 1
#include "../argmax.cu"
#include "../attention.cu"
#include "../elementwise.cu"
#include "../embed.cu"
#include "../matmul.cu"
#include "../matvec.cu"
#include "../norm.cu"
#include "../rope.cu"

#include <cstdio>
#include <map>
#include <string>
#include <type_traits>
#include <utility>

static std::map<u64, std::vector<u8>> regions;

static u8* translate(u64 addr, u64 n) {
  auto it = regions.upper_bound(addr);
  if (it != regions.begin()) {
    --it;
    if (addr >= it->first && addr + n <= it->first + it->second.size()) return it->second.data() + (addr - it->first);
  }
  fprintf(stderr, "emu_server: address %#llx (+%llu) outside every allocation\n", (unsigned long long)addr,
          (unsigned long long)n);
  exit(3);
}

template <typename T>
static T conv(u64 v) {
  if constexpr (std::is_pointer_v<T>)
    return (T)translate(v, 0);
  else if constexpr (std::is_same_v<T, float>)
    return __builtin_bit_cast(float, (u32)v);
  else
    return (T)v;
}

template <typename... P, size_t... I>
static void invoke(void (*k)(P...), emu_dim3 g, emu_dim3 b, const u64* a, std::index_sequence<I...>) {
  emu_launch(k, g, b, conv<P>(a[I])...);
}

// dispatch launches k with the encoded arguments; false if their count is wrong.
template <typename... P>
static bool dispatch(void (*k)(P...), emu_dim3 g, emu_dim3 b, const u64* a, int n) {
  if (n != (int)sizeof...(P)) return false;
  invoke(k, g, b, a, std::index_sequence_for<P...>{});
  return true;
}

typedef bool (*runner)(emu_dim3, emu_dim3, const u64*, int);
#define ENTRY(k) {#k, [](emu_dim3 g, emu_dim3 b, const u64* a, int n) { return dispatch(k, g, b, a, n); }}
#define WEIGHT_ENTRIES(name, deq) ENTRY(embed_##name), ENTRY(matvec_##name##_f32), ENTRY(matmul_##name##_f32),
static const std::map<std::string, runner> kernels = {
    FOR_EACH_WEIGHT_TYPE(WEIGHT_ENTRIES) ENTRY(rmsnorm_f32),
    ENTRY(rope_neox_f32), ENTRY(swiglu_f32), ENTRY(add_f32), ENTRY(copy_rows_f32), ENTRY(kv_store_f16),
    ENTRY(kv_store_f32), ENTRY(attn_split_f16), ENTRY(attn_split_f32), ENTRY(attn_reduce_f32), ENTRY(argmax_f32),
};

static void rd(void* p, size_t n) {
  if (fread(p, 1, n, stdin) != n) exit(0);  // the test closed the pipe
}
template <typename T>
static T rd() {
  T v;
  rd(&v, sizeof v);
  return v;
}

int main(int argc, char** argv) {
  emu_seed(argc > 1 ? strtoull(argv[1], nullptr, 10) : 1);
  for (;;) {
    int op = fgetc(stdin);
    if (op == EOF || op == 'Q') return 0;
    switch (op) {
      case 'A': {
        u64 addr = rd<u64>(), n = rd<u64>();
        regions[addr] = std::vector<u8>(n, 0xAB);  // garbage, like fresh device memory
        break;
      }
      case 'F':
        regions.erase(rd<u64>());
        break;
      case 'W': {
        u64 addr = rd<u64>(), n = rd<u64>();
        rd(translate(addr, n), n);
        break;
      }
      case 'R': {
        u64 addr = rd<u64>(), n = rd<u64>();
        fwrite(translate(addr, n), 1, n, stdout);
        fflush(stdout);
        break;
      }
      case 'S': {
        u64 addr = rd<u64>(), n = rd<u64>();
        u32 v = rd<u32>();
        u32* p = (u32*)translate(addr, 4 * n);
        for (u64 i = 0; i < n; i++) p[i] = v;
        break;
      }
      case 'L': {
        char name[256] = {0};
        int len = rd<u8>();
        rd(name, len);
        u32 d[6];
        rd(d, sizeof d);
        int nargs = rd<u8>();
        u64 args[32];
        rd(args, 8 * (size_t)nargs);
        u8 status = 1;
        auto it = kernels.find(name);
        if (it != kernels.end()) status = it->second({d[0], d[1], d[2]}, {d[3], d[4], d[5]}, args, nargs) ? 0 : 2;
        fwrite(&status, 1, 1, stdout);
        fflush(stdout);
        break;
      }
      default:
        fprintf(stderr, "emu_server: unknown command %#x\n", op);
        return 3;
    }
  }
}
