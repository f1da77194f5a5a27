// This file tests each op of the CPU backend against a plain float64
// implementation written here, on random inputs, with a stated tolerance.

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// opTol is the largest normalized error accepted for float32 ops checked
// against float64: a few float32 roundings on sums of a few hundred terms.
const opTol = 1e-5

func newTestBackend(t testing.TB, threads int) *Backend {
	t.Helper()
	b := New(engine.BackendOptions{Threads: threads})
	t.Cleanup(func() { b.Close() })
	return b
}

func TestMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, exact := range []bool{true, false} {
		b := New(engine.BackendOptions{Threads: 3, Exact: exact})
		t.Cleanup(func() { b.Close() })
		for _, typ := range allTypes {
			// n = 1 and 3 take the one-row in-place kernels of F16 and BF16,
			// 5, 8 and 40 their 4×4 kernel where AVX-512 is, else the
			// dequantize-then-dot path (groups of four rows, pairs and a
			// single tail row), a tail row the one-row kernel; the block types take their fused kernels
			// (exact) or integer kernels for every n; the types without an
			// integer kernel in assembly, the tile path.
			for _, n := range []int{1, 3, 5, 8, 40} {
				t.Run(fmt.Sprintf("exact=%v/%s/n=%d", exact, typ, n), func(t *testing.T) {
					const ne0, ne1 = 512, 37
					data := randomWeight(rng, typ, ne0, ne1)
					w, err := b.LoadWeight("w", typ, ne0, ne1, data)
					if err != nil {
						t.Fatal(err)
					}
					x := randomVec(rng, n*ne0)
					dst := newBuffer(t, b, make([]float32, n*ne1))
					b.MatMul(dst, w, newBuffer(t, b, x), n)
					got := make([]float32, n*ne1)
					if err := b.Read(got, dst); err != nil {
						t.Fatal(err)
					}
					// The integer path multiplies x as quantized: the
					// reference takes the same rounded activations.
					if ik := intKernels[typ]; ik != nil && ik.serves(n) && !exact {
						x = roundTrip(ik.format, x, n, ne0)
					}
					// So does the BF16 pair path, with x rounded to BF16.
					if typ == gguf.TypeBF16 && bf16Pairs(exact, ne0) {
						x = bf16RoundTrip(x)
					}
					want := refMatMul(dequantAll(t, typ, data, ne0*ne1), x, n, ne0, ne1)
					if rel, abs := maxRelErr(got, want); rel > opTol {
						t.Errorf("%s n=%d: normalized error %.3g (max |Δ| %.3g), tolerance %g", typ, n, rel, abs, opTol)
					}
				})
			}
		}
	}
}

// bf16RoundTrip returns x rounded to BF16 and widened again.
func bf16RoundTrip(x []float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = gguf.BF16ToF32(gguf.F32ToBF16(v))
	}
	return y
}

// roundTrip returns x quantized in format f and dequantized again.
func roundTrip(f actFormat, x []float32, n, ne0 int) []float32 {
	var a actQuant
	a.quantize(f, x, n, ne0)
	y := make([]float32, len(x))
	for i, q := range a.qs {
		y[i] = a.d[i/f.blockSize()] * float32(q)
	}
	return y
}

// TestMatMulQuantCache checks that the quantized input is reused only while
// its buffer is unchanged: a second MatMul after a Write sees the new input.
func TestMatMulQuantCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := newTestBackend(t, 2)
	const ne0, ne1, n = 256, 8, 2
	for _, typ := range []gguf.Type{gguf.TypeQ8_0, gguf.TypeQ4_K} {
		if !intKernels[typ].serves(n) {
			t.Skipf("skipping: %s takes the float path here (no integer kernel in assembly), which quantizes nothing", typ)
		}
		data := randomWeight(rng, typ, ne0, ne1)
		w, err := b.LoadWeight("w", typ, ne0, ne1, data)
		if err != nil {
			t.Fatal(err)
		}
		wf := dequantAll(t, typ, data, ne0*ne1)
		xb := newBuffer(t, b, make([]float32, n*ne0))
		dst := newBuffer(t, b, make([]float32, n*ne1))
		for step := range 3 {
			x := randomVec(rng, n*ne0)
			if err := b.Write(xb, x); err != nil {
				t.Fatal(err)
			}
			b.MatMul(dst, w, xb, n)
			b.MatMul(dst, w, xb, n) // the cached quantization
			want := refMatMul(wf, roundTrip(intKernels[typ].format, x, n, ne0), n, ne0, ne1)
			if rel, abs := maxRelErr(buf(dst), want); rel > opTol {
				t.Errorf("%s step %d: normalized error %.3g (max |Δ| %.3g): a stale quantized input?", typ, step, rel, abs)
			}
		}
	}
}

// TestMatMulOddWidth covers F32 rows whose width is not a multiple of the
// vector kernels' 8 lanes, and a batch tail.
func TestMatMulOddWidth(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	b := newTestBackend(t, 2)
	const ne0, ne1, n = 100, 23, 6
	data := randomWeight(rng, gguf.TypeF32, ne0, ne1)
	w, err := b.LoadWeight("w", gguf.TypeF32, ne0, ne1, data)
	if err != nil {
		t.Fatal(err)
	}
	x := randomVec(rng, n*ne0)
	dst := newBuffer(t, b, make([]float32, n*ne1))
	b.MatMul(dst, w, newBuffer(t, b, x), n)
	want := refMatMul(dequantAll(t, gguf.TypeF32, data, ne0*ne1), x, n, ne0, ne1)
	if rel, abs := maxRelErr(buf(dst), want); rel > opTol {
		t.Errorf("normalized error %.3g (max |Δ| %.3g), tolerance %g", rel, abs, opTol)
	}
}

// TestLoadWeightNoCopy checks that matrices keep the caller's bytes (the
// memory-mapped file) instead of copying them.
func TestLoadWeightNoCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	b := newTestBackend(t, 1)
	for _, typ := range []gguf.Type{gguf.TypeF32, gguf.TypeQ4_K} {
		data := randomWeight(rng, typ, 256, 4)
		w, err := b.LoadWeight("w", typ, 256, 4, data)
		if err != nil {
			t.Fatal(err)
		}
		ww := w.(*weight)
		if unsafe.SliceData(ww.data) != unsafe.SliceData(data) {
			t.Errorf("%s: weight bytes were copied", typ)
		}
		if ww.f32 != nil && unsafe.Pointer(unsafe.SliceData(ww.f32)) != unsafe.Pointer(unsafe.SliceData(data)) {
			t.Errorf("%s: float32 view is a copy", typ)
		}
	}
}

func TestLoadWeightErrors(t *testing.T) {
	b := newTestBackend(t, 1)
	cases := []struct {
		name     string
		typ      gguf.Type
		ne0, ne1 int
		bytes    int
	}{
		{"unsupported type", gguf.TypeIQ2_XXS, 256, 1, 66},
		{"short data", gguf.TypeF32, 8, 2, 60},
		{"partial block", gguf.TypeQ8_0, 48, 1, 51},
		{"zero rows", gguf.TypeF32, 8, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := b.LoadWeight("w", c.typ, c.ne0, c.ne1, make([]byte, c.bytes)); err == nil {
				t.Fatal("LoadWeight succeeded, want an error")
			}
		})
	}
}

func TestNewKVCacheErrors(t *testing.T) {
	b := newTestBackend(t, 1)
	cases := []struct {
		name string
		s    engine.KVShape
	}{
		{"zero layers", engine.KVShape{Layers: 0, Blocks: 1, BlockSize: 8, KVDim: 8}},
		{"negative block size", engine.KVShape{Layers: 1, Blocks: 1, BlockSize: -8, KVDim: 8}},
		{"zero blocks", engine.KVShape{Layers: 1, Blocks: 0, BlockSize: 8, KVDim: 8}},
		{"too large", engine.KVShape{Layers: 64, Blocks: 64 << 16, BlockSize: 16, KVDim: 8192}},
		{"overflow", engine.KVShape{Layers: 1 << 20, Blocks: 1 << 20, BlockSize: 1 << 20, KVDim: 1 << 20}},
		{"bad type", engine.KVShape{Layers: 1, Blocks: 1, BlockSize: 8, KVDim: 8, Type: 7}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := b.NewKVCache(c.s); err == nil {
				t.Fatal("NewKVCache succeeded, want an error")
			}
		})
	}
}

func TestEmbed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := newTestBackend(t, 2)
	for _, typ := range []gguf.Type{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ6_K} {
		t.Run(typ.String(), func(t *testing.T) {
			const ne0, ne1 = 256, 50
			data := randomWeight(rng, typ, ne0, ne1)
			w, err := b.LoadWeight("emb", typ, ne0, ne1, data)
			if err != nil {
				t.Fatal(err)
			}
			want := dequantAll(t, typ, data, ne0*ne1)
			toks := []int32{7, 0, 49, 7, 23}
			rs := make([]engine.Row, len(toks))
			for i, tok := range toks {
				rs[i] = engine.Row{Token: tok, Pos: int32(i)}
			}
			dst := newBuffer(t, b, make([]float32, len(toks)*ne0))
			b.Embed(dst, w, newRows(t, b, rs), len(toks))
			got := buf(dst)
			for r, tok := range toks {
				for i := range ne0 {
					if got[r*ne0+i] != want[int(tok)*ne0+i] {
						t.Fatalf("row %d (token %d) element %d: %g, want %g", r, tok, i, got[r*ne0+i], want[int(tok)*ne0+i])
					}
				}
			}
		})
	}
}

func TestRMSNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	b := newTestBackend(t, 3)
	cases := []struct {
		name   string
		n, dim int
		alias  bool
	}{
		{"rows", 5, 256, false},
		{"in place", 3, 1024, true},
		{"per head", 4 * 16, 64, true},
	}
	const eps = 1e-6
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := randomVec(rng, c.n*c.dim)
			wv := randomVec(rng, c.dim)
			w, err := b.LoadWeight("norm", gguf.TypeF32, c.dim, 1, f32Bytes(wv))
			if err != nil {
				t.Fatal(err)
			}
			xb := newBuffer(t, b, x)
			dst := xb
			if !c.alias {
				dst = newBuffer(t, b, make([]float32, len(x)))
			}
			b.RMSNorm(dst, xb, w, c.n, c.dim, eps)
			want := make([]float64, len(x))
			for r := range c.n {
				var ss float64
				for i := range c.dim {
					ss += float64(x[r*c.dim+i]) * float64(x[r*c.dim+i])
				}
				s := 1 / math.Sqrt(ss/float64(c.dim)+eps)
				for i := range c.dim {
					want[r*c.dim+i] = float64(x[r*c.dim+i]) * s * float64(wv[i])
				}
			}
			if rel, abs := maxRelErr(buf(dst), want); rel > opTol {
				t.Errorf("normalized error %.3g (max |Δ| %.3g), tolerance %g", rel, abs, opTol)
			}
		})
	}
}

func TestRoPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	b := newTestBackend(t, 2)
	cases := []struct {
		name           string
		nHead, headDim int
		base           float64
		pos            []int32
	}{
		{"qwen3 heads", 4, 128, 1e6, []int32{0, 1, 17, 4000}},
		{"small base", 2, 64, 1e4, []int32{3, 250, 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, width := len(c.pos), c.nHead*c.headDim
			x := randomVec(rng, n*width)
			rs := make([]engine.Row, n)
			for i, p := range c.pos {
				rs[i] = engine.Row{Pos: p}
			}
			xb := newBuffer(t, b, x)
			b.RoPE(xb, newRows(t, b, rs), n, c.nHead, c.headDim, float32(c.base))
			want := make([]float64, len(x))
			half := c.headDim / 2
			for r := range n {
				for h := range c.nHead {
					o := r*width + h*c.headDim
					for i := range half {
						th := float64(c.pos[r]) * math.Pow(c.base, -2*float64(i)/float64(c.headDim))
						x0, x1 := float64(x[o+i]), float64(x[o+i+half])
						want[o+i] = x0*math.Cos(th) - x1*math.Sin(th)
						want[o+i+half] = x0*math.Sin(th) + x1*math.Cos(th)
					}
				}
			}
			if rel, abs := maxRelErr(buf(xb), want); rel > opTol {
				t.Errorf("normalized error %.3g (max |Δ| %.3g), tolerance %g", rel, abs, opTol)
			}
		})
	}
}

func TestAttention(t *testing.T) {
	const nHead, nHeadKV, headDim, ctx, seqs, layers, bs = 4, 2, 64, 16, 2, 2, 4
	const kvDim = nHeadKV * headDim
	scale := float32(1 / math.Sqrt(headDim))
	for _, kt := range []engine.KVType{engine.KVF32, engine.KVF16} {
		name := map[engine.KVType]string{engine.KVF32: "f32", engine.KVF16: "f16"}[kt]
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 10))
			b := newTestBackend(t, 3)
			// A paged cache of 9 blocks of 4 positions; the two sequences'
			// blocks are interleaved and out of order, one block unused.
			kc, err := b.NewKVCache(engine.KVShape{Layers: layers, Blocks: 9, BlockSize: bs, KVDim: kvDim, Type: kt})
			tab := engine.BlockTables{Table: []int32{5, 2, 7, 0, 1, 8, 3, 6}, Width: ctx / bs, Gen: 1}
			if err != nil {
				t.Fatal(err)
			}
			// Host copy of what the cache should hold (layer 1 only).
			var hostK, hostV [seqs][ctx][]float32
			round := func(v []float32) []float32 {
				if kt == engine.KVF16 {
					for i := range v {
						v[i] = f16ToF32(gguf.F32ToF16(v[i]))
					}
				}
				return v
			}
			// Fill: seq 0 gets a 6-token prefill, seq 1 a 3-token prefill,
			// then one batch decodes a row of each sequence.
			steps := [][]engine.Row{
				{{Seq: 0, Pos: 0}, {Seq: 0, Pos: 1}, {Seq: 0, Pos: 2}, {Seq: 0, Pos: 3}, {Seq: 0, Pos: 4}, {Seq: 0, Pos: 5}},
				{{Seq: 1, Pos: 0}, {Seq: 1, Pos: 1}, {Seq: 1, Pos: 2}},
				{{Seq: 1, Pos: 3}, {Seq: 0, Pos: 6}},
			}
			for _, rs := range steps {
				n := len(rs)
				k, v, q := randomVec(rng, n*kvDim), randomVec(rng, n*kvDim), randomVec(rng, n*nHead*headDim)
				rows := newRowsTab(t, b, rs, tab)
				b.StoreKV(kc, 1, newBuffer(t, b, k), newBuffer(t, b, v), rows, n)
				for r, row := range rs {
					hostK[row.Seq][row.Pos] = round(append([]float32(nil), k[r*kvDim:(r+1)*kvDim]...))
					hostV[row.Seq][row.Pos] = round(append([]float32(nil), v[r*kvDim:(r+1)*kvDim]...))
				}
				dst := newBuffer(t, b, make([]float32, n*nHead*headDim))
				b.Attention(dst, newBuffer(t, b, q), kc, 1, rows, n, nHead, nHeadKV, headDim, scale)
				want := make([]float64, n*nHead*headDim)
				for r, row := range rs {
					for h := range nHead {
						g := h / (nHead / nHeadKV)
						qh := q[(r*nHead+h)*headDim : (r*nHead+h+1)*headDim]
						s := make([]float64, row.Pos+1)
						mx := math.Inf(-1)
						for p := range s {
							for i := range headDim {
								s[p] += float64(qh[i]) * float64(hostK[row.Seq][p][g*headDim+i])
							}
							s[p] *= float64(scale)
							mx = max(mx, s[p])
						}
						var sum float64
						for p := range s {
							s[p] = math.Exp(s[p] - mx)
							sum += s[p]
						}
						for p := range s {
							for i := range headDim {
								want[(r*nHead+h)*headDim+i] += s[p] / sum * float64(hostV[row.Seq][p][g*headDim+i])
							}
						}
					}
				}
				if rel, abs := maxRelErr(buf(dst), want); rel > opTol {
					t.Errorf("batch %v: normalized error %.3g (max |Δ| %.3g), tolerance %g", rs, rel, abs, opTol)
				}
			}
			// Every stored key is in the block the table names.
			c := kc.(*kvCache)
			for seq := range seqs {
				for pos, want := range hostK[seq] {
					if want == nil {
						continue
					}
					o := c.off(1, int(tab.Table[seq*tab.Width+pos/bs]), pos%bs)
					for i, w := range want {
						var got float32 // w is rounded to f16 already for an f16 cache
						if kt == engine.KVF32 {
							got = c.k32[o+i]
						} else {
							got = f16ToF32(c.k16[o+i])
						}
						if got != w {
							t.Fatalf("seq %d pos %d: key element %d in block %d is %v, want %v", seq, pos, i, tab.Table[seq*tab.Width+pos/bs], got, w)
						}
					}
				}
			}
		})
	}
}

func TestElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	b := newTestBackend(t, 2)
	const n = 3*elemChunk + 5 // several worker chunks and a tail
	g, u, x := randomVec(rng, n), randomVec(rng, n), randomVec(rng, n)

	t.Run("SwiGLU", func(t *testing.T) {
		dst := newBuffer(t, b, g)
		b.SwiGLU(dst, dst, newBuffer(t, b, u), n)
		want := make([]float64, n)
		for i := range want {
			gv := float64(g[i])
			want[i] = gv / (1 + math.Exp(-gv)) * float64(u[i])
		}
		if rel, abs := maxRelErr(buf(dst), want); rel > opTol {
			t.Errorf("normalized error %.3g (max |Δ| %.3g), tolerance %g", rel, abs, opTol)
		}
	})
	t.Run("Add", func(t *testing.T) {
		dst := newBuffer(t, b, g)
		b.Add(dst, newBuffer(t, b, x), n)
		for i, v := range buf(dst) {
			if v != g[i]+x[i] {
				t.Fatalf("element %d: %g, want %g", i, v, g[i]+x[i])
			}
		}
	})
	t.Run("CopyRows", func(t *testing.T) {
		const dim = 10
		dst := newBuffer(t, b, make([]float32, 3*dim))
		idx := []int{99, 0, 42}
		b.CopyRows(dst, newBuffer(t, b, x), idx, dim)
		for i, j := range idx {
			for e := range dim {
				if buf(dst)[i*dim+e] != x[j*dim+e] {
					t.Fatalf("row %d element %d: %g, want %g", i, e, buf(dst)[i*dim+e], x[j*dim+e])
				}
			}
		}
	})
}

func TestPoolCoversRange(t *testing.T) {
	p := newPool(4)
	defer p.close()
	for _, total := range []int{1, 2, 7, 64, 1000, 4097} {
		c := &countTask{seen: make([]int32, total)}
		p.parallel(c, total, 1)
		for i, s := range c.seen {
			if s != 1 {
				t.Fatalf("total %d: index %d run %d times", total, i, s)
			}
		}
	}
}

// TestPoolParkAndWake runs back-to-back dispatches (workers spinning), then
// dispatches after pauses longer than the spin (workers parked), from two
// goroutines at once, and closes the pool while its workers are parked.
func TestPoolParkAndWake(t *testing.T) {
	p := newPool(3)
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				if i%50 == 0 {
					time.Sleep(2 * spinFor) // let the workers park
				}
				total := 1 + (i*37+g)%500
				c := &countTask{seen: make([]int32, total)}
				p.parallel(c, total, 1)
				for j, s := range c.seen {
					if s != 1 {
						t.Errorf("dispatch %d total %d: index %d run %d times", i, total, j, s)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	time.Sleep(4 * spinFor)
	p.close()
	p.close() // a second close is a no-op
}

// TestPoolCrowded checks that a spin loop whose clock jumped (its thread
// was descheduled) stops spinning for the whole pool, that dispatches still
// complete while nobody spins, and that spinning resumes afterwards.
func TestPoolCrowded(t *testing.T) {
	p := newPool(2)
	defer p.close()
	now := p.now()
	if !p.spinning() {
		t.Fatal("a new pool does not spin")
	}
	last := now - int64(2*preemptGap)
	if p.keepSpinning(now, &last) {
		t.Fatal("keepSpinning goes on after a clock jump")
	}
	if p.spinning() {
		t.Fatal("the pool still spins after a preemption was seen")
	}
	for total := 1; total < 300; total += 37 {
		c := &countTask{seen: make([]int32, total)}
		p.parallel(c, total, 1)
		for j, s := range c.seen {
			if s != 1 {
				t.Fatalf("total %d: index %d run %d times", total, j, s)
			}
		}
	}
	last = p.now()
	if start := last; !p.keepSpinning(start, &last) {
		t.Fatal("keepSpinning stops at once without a jump")
	}
	p.crowdedUntil.Store(p.now() - 1)
	if !p.spinning() {
		t.Fatal("the pool does not spin again after crowdedFor")
	}
}

type countTask struct{ seen []int32 }

func (c *countTask) run(_, lo, hi int) {
	for i := lo; i < hi; i++ {
		c.seen[i]++ // chunks are disjoint, so no two workers touch one index
	}
}

// TestHalfConversion checks f16Table against gguf.F16ToF32 for every bit
// pattern (NaNs only need to stay NaNs).
func TestHalfConversion(t *testing.T) {
	for h := range 1 << 16 {
		if got, want := f16ToF32(uint16(h)), gguf.F16ToF32(uint16(h)); math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("f16ToF32(%#04x) = %g, gguf gives %g", h, got, want)
		}
	}
}

func f32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		bits := math.Float32bits(x)
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24)
	}
	return out
}

// TestReadBandwidth checks the bandwidth probe returns a positive finite
// rate; its size is the benchmark's business.
func TestReadBandwidth(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: streams 128 MiB eight times")
	}
	b := newTestBackend(t, 2)
	if bw := b.ReadBandwidth(); !(bw > 0) || math.IsInf(bw, 0) {
		t.Fatalf("ReadBandwidth = %g bytes/s", bw)
	}
}
