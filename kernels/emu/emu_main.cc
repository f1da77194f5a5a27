// emu_main.cc: runs the helexa kernels under the CPU emulation (emu.h) and
// checks them against double-precision references. kernels/emu_test.go
// builds and runs it with clang++-16; by hand:
//
//   clang++-16 -std=c++20 -O2 -pthread -DHELEXA_EMU -I kernels -o /tmp/emu kernels/emu/emu_main.cc
//   /tmp/emu selftest [seed]
//   /tmp/emu deq TYPE NE0 NROWS raw.bin out.bin   (dequantize rows through embed_TYPE)
//
// selftest prints one line per check and exits 1 if any check fails.
#define HELEXA_EMU 1
#include "../argmax.cu"
#include "../attention.cu"
#include "../elementwise.cu"
#include "../embed.cu"
#include "../matmul.cu"
#include "../matvec.cu"
#include "../norm.cu"
#include "../rope.cu"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

typedef void (*embed_fn)(float*, const u8*, const int*, int, u64);
typedef void (*mm_fn)(float*, const u8*, const float*, int, int, int, u64);

struct wtype {
  const char* name;
  int block, bytes;  // elements and bytes per block
  deq8_fn deq;
  embed_fn embed;
  mm_fn matvec, matmul;
};

#define WT(n, blk, by) {#n, blk, by, deq8_##n, embed_##n, matvec_##n##_f32, matmul_##n##_f32}
static const wtype wtypes[] = {
    WT(f32, 1, 4),           WT(f16, 1, 2),           WT(bf16, 1, 2),          WT(q8_0, 32, Q8_0_BYTES),
    WT(q4_0, 32, Q4_0_BYTES), WT(q4_k, 256, Q4_K_BYTES), WT(q5_k, 256, Q5_K_BYTES), WT(q6_k, 256, Q6_K_BYTES),
};

static std::mt19937_64 rng;
static int failures;

static double normal() { return std::normal_distribution<double>(0, 1)(rng); }
static double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }

static std::vector<float> randn(size_t n, double scale) {
  std::vector<float> x(n);
  for (auto& v : x) v = (float)(normal() * scale);
  return x;
}

// check compares got with ref as ||got-ref|| / ||ref||; NaN fails.
static void check(const std::string& what, const std::vector<float>& got, const std::vector<double>& ref, double tol) {
  double num = 0, den = 0, maxabs = 0;
  bool nan = got.size() != ref.size();
  for (size_t i = 0; i < got.size() && !nan; i++) {
    if (std::isnan(got[i]) || std::isinf(got[i])) nan = true;
    double d = got[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
    maxabs = std::max(maxabs, std::fabs(d));
  }
  double err = nan ? INFINITY : (den > 0 ? std::sqrt(num / den) : std::sqrt(num));
  bool ok = err <= tol;
  if (!ok) failures++;
  printf("%-4s %-44s err %.3g (bound %.3g) maxabs %.3g\n", ok ? "ok" : "FAIL", what.c_str(), err, tol, maxabs);
}

static std::vector<float> poison(size_t n) { return std::vector<float>(n, NAN); }

static void put_h(u8* p, float v) {
  u16 h = f2h(v);
  memcpy(p, &h, 2);
}

// random_weight fills ne1 rows of ne0 elements of type t with random but
// valid data: random quants, small positive or signed scales.
static std::vector<u8> random_weight(const wtype& t, int ne0, int ne1) {
  size_t rowBytes = (size_t)ne0 / t.block * t.bytes;
  std::vector<u8> w(rowBytes * ne1);
  for (auto& b : w) b = (u8)rng();
  std::string n = t.name;
  size_t nblocks = w.size() / t.bytes;
  for (size_t i = 0; i < nblocks; i++) {
    u8* b = &w[i * t.bytes];
    if (n == "f32") {
      float v = (float)(normal() / std::sqrt((double)ne0));
      memcpy(b, &v, 4);
    } else if (n == "f16") {
      put_h(b, (float)(normal() / std::sqrt((double)ne0)));
    } else if (n == "bf16") {
      float v = (float)(normal() / std::sqrt((double)ne0));
      u32 bits;
      memcpy(&bits, &v, 4);
      u16 h = (u16)(bits >> 16);
      memcpy(b, &h, 2);
    } else if (n == "q8_0" || n == "q4_0") {
      put_h(b, (float)uniform(-0.02, 0.02));
    } else if (n == "q4_k" || n == "q5_k") {
      put_h(b, (float)uniform(0.0005, 0.003));
      put_h(b + 2, (float)uniform(0.0005, 0.003));
    } else if (n == "q6_k") {
      put_h(b + 208, (float)uniform(-0.002, 0.002));
    }
  }
  return w;
}

// dequant returns the weights as floats through the type's dequantizer,
// called directly (not through a kernel).
static std::vector<float> dequant(const wtype& t, const std::vector<u8>& w, int ne0, int ne1) {
  size_t rowBytes = (size_t)ne0 / t.block * t.bytes;
  std::vector<float> out((size_t)ne0 * ne1);
  for (int r = 0; r < ne1; r++)
    for (int g = 0; g < ne0 / 8; g++) t.deq(&w[r * rowBytes], g, &out[(size_t)r * ne0 + 8 * g]);
  return out;
}

static void test_weights() {
  const int ne0 = 512, ne1 = 40;  // two k-quant blocks per row; 10 matvec blocks
  for (const auto& t : wtypes) {
    auto w = random_weight(t, ne0, ne1);
    auto W = dequant(t, w, ne0, ne1);
    u64 rowBytes = (u64)ne0 / t.block * t.bytes;
    // Embedding: exact rows.
    {
      int n = 5;
      std::vector<int> rows(3 * n);
      std::vector<double> ref;
      for (int i = 0; i < n; i++) {
        rows[3 * i] = (int)(rng() % ne1);
        rows[3 * i + 1] = i;
        for (int j = 0; j < ne0; j++) ref.push_back(W[(size_t)rows[3 * i] * ne0 + j]);
      }
      auto out = poison((size_t)n * ne0);
      emu_launch(t.embed, {(unsigned)n, (unsigned)((ne0 / 8 + 127) / 128), 1}, {128, 1, 1}, out.data(), w.data(),
                 rows.data(), ne0, rowBytes);
      check(std::string("embed_") + t.name, out, ref, 0);
    }
    // Products: matvec for small batches, tensor-core matmul for any.
    for (int pass = 0; pass < 2; pass++) {
      const int ns[2][3] = {{1, 8, 9}, {1, 17, 70}};
      for (int n : ns[pass]) {
        auto x = randn((size_t)n * ne0, 1);
        std::vector<double> ref((size_t)n * ne1);
        for (int r = 0; r < n; r++)
          for (int o = 0; o < ne1; o++) {
            double s = 0;
            for (int k = 0; k < ne0; k++) s += (double)W[(size_t)o * ne0 + k] * x[(size_t)r * ne0 + k];
            ref[(size_t)r * ne1 + o] = s;
          }
        auto out = poison((size_t)n * ne1);
        char what[64];
        if (pass == 0) {
          emu_launch(t.matvec, {(unsigned)((ne1 + 3) / 4), (unsigned)((n + 7) / 8), 1}, {128, 1, 1}, out.data(),
                     w.data(), x.data(), ne0, ne1, n, rowBytes);
          snprintf(what, sizeof what, "matvec_%s_f32 n=%d", t.name, n);
          check(what, out, ref, 1e-5);
        } else {
          emu_launch(t.matmul, {(unsigned)((ne1 + 63) / 64), (unsigned)((n + 63) / 64), 1}, {128, 1, 1}, out.data(),
                     w.data(), x.data(), ne0, ne1, n, rowBytes);
          snprintf(what, sizeof what, "matmul_%s_f32 n=%d", t.name, n);
          check(what, out, ref, 3e-3);
        }
      }
    }
  }
}

// test_matmul_clamp: an activation beyond the f16 range must not turn the
// tensor-core product into inf/NaN.
static void test_matmul_clamp() {
  const int ne0 = 64, ne1 = 8, n = 16;
  const wtype& t = wtypes[1];  // f16
  auto w = random_weight(t, ne0, ne1);
  auto x = randn((size_t)n * ne0, 1);
  x[3] = 1e6f;
  auto out = poison((size_t)n * ne1);
  emu_launch(t.matmul, {1, 1, 1}, {128, 1, 1}, out.data(), w.data(), x.data(), ne0, ne1, n, (u64)ne0 * 2);
  int bad = 0;
  for (float v : out) bad += !std::isfinite(v);
  if (bad) failures++;
  printf("%-4s %-44s %d non-finite outputs\n", bad ? "FAIL" : "ok", "matmul_f16_f32 activation 1e6 clamped", bad);
}

static void test_rmsnorm() {
  const int cases[][2] = {{3, 256}, {5, 64}, {2, 1000}};
  for (auto& c : cases) {
    int n = c[0], dim = c[1];
    auto x = randn((size_t)n * dim, 3), w = randn(dim, 1);
    std::vector<double> ref(x.size());
    for (int r = 0; r < n; r++) {
      double ss = 0;
      for (int i = 0; i < dim; i++) ss += (double)x[r * dim + i] * x[r * dim + i];
      double s = 1 / std::sqrt(ss / dim + 1e-6);
      for (int i = 0; i < dim; i++) ref[r * dim + i] = x[r * dim + i] * s * w[i];
    }
    emu_launch(rmsnorm_f32, {(unsigned)n, 1, 1}, {256, 1, 1}, x.data(), x.data(), w.data(), dim, 1e-6f);
    check("rmsnorm_f32 in place n=" + std::to_string(n) + " dim=" + std::to_string(dim), x, ref, 1e-5);
  }
}

static void test_rope() {
  const int n = 4, nHead = 3, headDim = 128;
  const double base = 1e6;
  std::vector<int> rows = {0, 0, 0, 0, 7, 0, 0, 30000, 0, 0, 40959, 1};
  std::vector<double> inv(headDim / 2);
  for (int i = 0; i < headDim / 2; i++) inv[i] = std::pow(base, -2.0 * i / headDim);
  auto x = randn((size_t)n * nHead * headDim, 1);
  std::vector<double> ref(x.begin(), x.end());
  for (int r = 0; r < n; r++)
    for (int h = 0; h < nHead; h++)
      for (int i = 0; i < headDim / 2; i++) {
        double th = rows[3 * r + 1] * inv[i], s = std::sin(th), c = std::cos(th);
        double* p = &ref[((size_t)r * nHead + h) * headDim];
        double x0 = p[i], x1 = p[i + headDim / 2];
        p[i] = x0 * c - x1 * s;
        p[i + headDim / 2] = x0 * s + x1 * c;
      }
  emu_launch(rope_neox_f32, {(unsigned)n, (unsigned)nHead, 1}, {(unsigned)headDim / 2, 1, 1}, x.data(), rows.data(),
             inv.data(), nHead, headDim);
  check("rope_neox_f32 pos up to 40959", x, ref, 1e-5);
}

// test_attention stores K/V for two sequences through kv_store_<kv> into a
// paged cache whose blocks the two sequences' tables interleave out of
// order, then attends from rows at chunk and block edges.
template <typename KV>
static void test_attention(bool f16) {
  const int nHead = 4, nHeadKV = 2, headDim = 64, ctx = 520, seqs = 2, filled = 520, bs = 16;
  const int kvDim = nHeadKV * headDim, width = (ctx + bs - 1) / bs, blocks = seqs * width + 3;
  // Slot s's block i is block (7 + 5*(i*seqs + s)) mod blocks: a permutation
  // (5 and blocks are coprime) that scatters and interleaves the sequences.
  std::vector<int> table(seqs * width);
  for (int s = 0; s < seqs; s++)
    for (int i = 0; i < width; i++) table[s * width + i] = (7 + 5 * (i * seqs + s)) % blocks;
  auto phys = [&](int s, int t) { return ((size_t)table[s * width + t / bs] * bs + t % bs) * kvDim; };
  std::vector<KV> kc((size_t)blocks * bs * kvDim), vc(kc.size());
  std::vector<double> K((size_t)seqs * ctx * kvDim), V(K.size()), Kphys(kc.size());
  for (int s = 0; s < seqs; s++) {
    std::vector<int> rows(3 * filled);
    for (int p = 0; p < filled; p++) rows[3 * p] = 0, rows[3 * p + 1] = p, rows[3 * p + 2] = s;
    auto k = randn((size_t)filled * kvDim, 1), v = randn((size_t)filled * kvDim, 1);
    for (size_t i = 0; i < k.size(); i++) {
      size_t at = (size_t)s * ctx * kvDim + i;
      K[at] = f16 ? h2f(f2h(k[i])) : k[i];
      V[at] = f16 ? h2f(f2h(v[i])) : v[i];
      Kphys[phys(s, i / kvDim) + i % kvDim] = K[at];
    }
    if (f16)
      emu_launch(kv_store_f16, {(unsigned)filled, (unsigned)((kvDim + 255) / 256), 1}, {256, 1, 1}, (u16*)kc.data(),
                 (u16*)vc.data(), k.data(), v.data(), rows.data(), table.data(), width, bs, kvDim);
    else
      emu_launch(kv_store_f32, {(unsigned)filled, (unsigned)((kvDim + 255) / 256), 1}, {256, 1, 1}, (float*)kc.data(),
                 (float*)vc.data(), k.data(), v.data(), rows.data(), table.data(), width, bs, kvDim);
  }
  std::vector<double> stored(kc.size());
  for (size_t i = 0; i < kc.size(); i++) stored[i] = f16 ? h2f((u16)kc[i]) : (double)kc[i];
  check(std::string("kv_store_") + (f16 ? "f16" : "f32") + " keys (paged)",
        std::vector<float>(stored.begin(), stored.end()), Kphys, 0);
  const int pos[] = {0, 255, 256, 519, 300, 15, 16};
  const int n = 7;
  std::vector<int> rows(3 * n);
  int maxPos = 0;
  for (int i = 0; i < n; i++) rows[3 * i] = 0, rows[3 * i + 1] = pos[i], rows[3 * i + 2] = i % seqs, maxPos = std::max(maxPos, pos[i]);
  int nSplit = (maxPos + 256) / 256;
  auto q = randn((size_t)n * nHead * headDim, 1);
  float scale = 1 / std::sqrt((float)headDim);
  std::vector<double> ref((size_t)n * nHead * headDim);
  for (int r = 0; r < n; r++)
    for (int h = 0; h < nHead; h++) {
      int kvh = h / (nHead / nHeadKV), p = rows[3 * r + 1], s = rows[3 * r + 2];
      std::vector<double> sc(p + 1);
      double m = -INFINITY, l = 0;
      for (int t = 0; t <= p; t++) {
        double d = 0;
        for (int j = 0; j < headDim; j++) d += (double)q[((size_t)r * nHead + h) * headDim + j] * K[((size_t)s * ctx + t) * kvDim + kvh * headDim + j];
        sc[t] = d * scale;
        m = std::max(m, sc[t]);
      }
      for (auto& v : sc) v = std::exp(v - m), l += v;
      for (int j = 0; j < headDim; j++) {
        double o = 0;
        for (int t = 0; t <= p; t++) o += sc[t] * V[((size_t)s * ctx + t) * kvDim + kvh * headDim + j];
        ref[((size_t)r * nHead + h) * headDim + j] = o / l;
      }
    }
  std::vector<float> part((size_t)n * nHead * nSplit * (headDim + 2), NAN);
  auto out = poison(ref.size());
  if (f16)
    emu_launch(attn_split_f16, {(unsigned)nSplit, (unsigned)nHead, (unsigned)n}, {128, 1, 1}, part.data(), q.data(),
               (const u16*)kc.data(), (const u16*)vc.data(), rows.data(), table.data(), nHead, nHeadKV, headDim, width, bs, scale);
  else
    emu_launch(attn_split_f32, {(unsigned)nSplit, (unsigned)nHead, (unsigned)n}, {128, 1, 1}, part.data(), q.data(),
               (const float*)kc.data(), (const float*)vc.data(), rows.data(), table.data(), nHead, nHeadKV, headDim, width, bs, scale);
  emu_launch(attn_reduce_f32, {(unsigned)nHead, (unsigned)n, 1}, {128, 1, 1}, out.data(), part.data(), nHead, headDim,
             nSplit);
  check(std::string("attention kv ") + (f16 ? "f16" : "f32") + " (split + reduce)", out, ref, 1e-5);
}

static void test_elementwise() {
  const int n = 1000;
  auto g = randn(n, 4), u = randn(n, 1), x = randn(n, 1);
  std::vector<double> ref(n), add(n);
  for (int i = 0; i < n; i++) ref[i] = g[i] / (1 + std::exp(-(double)g[i])) * u[i], add[i] = (float)(u[i] + x[i]);
  emu_launch(swiglu_f32, {(unsigned)((n + 255) / 256), 1, 1}, {256, 1, 1}, g.data(), g.data(), u.data(), n);
  check("swiglu_f32 (dst aliases gate)", g, ref, 1e-5);
  emu_launch(add_f32, {(unsigned)((n + 255) / 256), 1, 1}, {256, 1, 1}, u.data(), x.data(), n);
  check("add_f32", u, add, 0);

  const int dim = 300;
  auto src = randn(50 * dim, 1);
  std::vector<int> idx = {3, 3, 0, 17, 49};
  std::vector<double> cref;
  for (int i : idx)
    for (int j = 0; j < dim; j++) cref.push_back(src[i * dim + j]);
  auto out = poison(idx.size() * dim);
  emu_launch(copy_rows_f32, {(unsigned)idx.size(), (unsigned)((dim + 255) / 256), 1}, {256, 1, 1}, out.data(),
             src.data(), idx.data(), dim);
  check("copy_rows_f32", out, cref, 0);
}

static void test_argmax() {
  for (int dim : {1, 31, 3000}) {
    const int n = 4;
    auto x = randn((size_t)n * dim, 1);
    if (dim > 10) x[dim + 7] = 100, x[2 * dim - 1] = 100;  // a tie in row 1
    if (dim > 10) x[2 * dim + 5] = NAN;                      // a NaN in row 2
    std::vector<int> out(n, -7);
    emu_launch(argmax_f32, {(unsigned)n, 1, 1}, {256, 1, 1}, out.data(), x.data(), dim);
    std::vector<float> got(n);
    std::vector<double> want(n);
    for (int r = 0; r < n; r++) {
      int b = -1;
      for (int i = 0; i < dim; i++) {
        float v = x[(size_t)r * dim + i];
        if (v == v && (b < 0 || v > x[(size_t)r * dim + b])) b = i;
      }
      got[r] = (float)out[r];
      want[r] = b;
    }
    check("argmax_f32 dim=" + std::to_string(dim), got, want, 0);
  }
}

static int deq(const char* type, int ne0, int nrows, const char* in, const char* out) {
  const wtype* t = nullptr;
  for (const auto& w : wtypes)
    if (std::string(w.name) == type) t = &w;
  if (!t) return fprintf(stderr, "emu: unknown type %s\n", type), 2;
  u64 rowBytes = (u64)ne0 / t->block * t->bytes;
  std::vector<u8> w(rowBytes * nrows);
  FILE* f = fopen(in, "rb");
  if (!f || fread(w.data(), 1, w.size(), f) != w.size()) return fprintf(stderr, "emu: read %s\n", in), 2;
  fclose(f);
  std::vector<int> rows(3 * nrows);
  for (int i = 0; i < nrows; i++) rows[3 * i] = i;
  auto y = poison((size_t)ne0 * nrows);
  emu_launch(t->embed, {(unsigned)nrows, (unsigned)((ne0 / 8 + 127) / 128), 1}, {128, 1, 1}, y.data(), w.data(),
             rows.data(), ne0, rowBytes);
  f = fopen(out, "wb");
  if (!f || fwrite(y.data(), 4, y.size(), f) != y.size()) return fprintf(stderr, "emu: write %s\n", out), 2;
  fclose(f);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 7 && std::string(argv[1]) == "deq") return deq(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5], argv[6]);
  if (argc < 2 || std::string(argv[1]) != "selftest") {
    fprintf(stderr, "usage: emu selftest [seed] | emu deq TYPE NE0 NROWS raw.bin out.bin\n");
    return 2;
  }
  unsigned long long seed = argc > 2 ? strtoull(argv[2], nullptr, 10) : std::random_device{}();
  printf("seed %llu\n", seed);
  rng.seed(seed);
  emu_seed(seed);
  // Each section reports its wall time on stderr (the emulation is slow;
  // this keeps an eye on the test's cost).
  auto timed = [](const char* name, void (*f)()) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    fprintf(stderr, "%s: %.2fs\n", name, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  timed("weights", test_weights);
  timed("matmul clamp", test_matmul_clamp);
  timed("rmsnorm", test_rmsnorm);
  timed("rope", test_rope);
  timed("attention f16", [] { test_attention<u16>(true); });
  timed("attention f32", [] { test_attention<float>(false); });
  timed("elementwise", test_elementwise);
  timed("argmax", test_argmax);
  printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
