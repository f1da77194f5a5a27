// Tests of the paged KV cache on the emulated device against the CPU
// backend: StoreKV and Attention through block tables that scatter and
// interleave three sequences' blocks, and a captured attention graph that
// sees a block table uploaded after its capture.
package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/engine/cpu"
)

// pagedFixture is the same paged cache on the emulator and on the CPU,
// filled with the same keys and values.
type pagedFixture struct {
	g, c                    engine.Backend
	gc, cc                  engine.KVCache
	tab                     engine.BlockTables
	nHead, nHeadKV, headDim int
	r                       *rand.Rand
}

const pagedLayer = 1

// newPagedFixture makes a 2-layer cache of blocks of bs positions, 40 of
// 16 or as many as hold the same positions, and block tables for 3 slots
// of 128 positions each, slot s's block i being (7 + 11*(3i+s)) mod blocks:
// distinct (11 and blocks are coprime), out of order and interleaved.
func newPagedFixture(t *testing.T, kv engine.KVType, bs int) *pagedFixture {
	g, _ := closeLast(newEmuBackend(t))
	c := cpu.New(engine.BackendOptions{Threads: 2})
	t.Cleanup(func() { c.Close() })
	f := &pagedFixture{g: g, c: c, nHead: 4, nHeadKV: 2, headDim: 32, r: rand.New(rand.NewPCG(7, 8))}
	const seqs = 3
	width := (128 + bs - 1) / bs
	blocks := 40 * 16 / bs
	if blocks%11 == 0 {
		blocks++
	}
	f.tab = engine.BlockTables{Table: make([]int32, seqs*width), Width: width, Gen: 1}
	for s := range seqs {
		for i := range width {
			f.tab.Table[s*width+i] = int32((7 + 11*(3*i+s)) % blocks)
		}
	}
	shape := engine.KVShape{Layers: 2, Blocks: blocks, BlockSize: bs, KVDim: f.nHeadKV * f.headDim, Type: kv}
	var err error
	if f.gc, err = g.NewKVCache(shape); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.gc.Free)
	if f.cc, err = c.NewKVCache(shape); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.cc.Free)
	return f
}

// store writes random keys and values for positions [from, to) of seq on
// both backends, in one batch.
func (f *pagedFixture) store(t *testing.T, seq, from, to int) {
	t.Helper()
	n, kvDim := to-from, f.nHeadKV*f.headDim
	rows := make([]engine.Row, n)
	for i := range rows {
		rows[i] = engine.Row{Pos: int32(from + i), Seq: int32(seq)}
	}
	k, v := make([]float32, n*kvDim), make([]float32, n*kvDim)
	for i := range k {
		k[i], v[i] = float32(f.r.NormFloat64()), float32(f.r.NormFloat64())
	}
	for _, b := range []struct {
		be engine.Backend
		c  engine.KVCache
	}{{f.g, f.gc}, {f.c, f.cc}} {
		b.be.StoreKV(b.c, pagedLayer, upload(t, b.be, k), upload(t, b.be, v), setRowsTab(t, b.be, rows, f.tab), n)
	}
}

// attend runs Attention for rows on backend be over cache kc into a new
// buffer and returns the result.
func (f *pagedFixture) attend(t *testing.T, be engine.Backend, kc engine.KVCache, q []float32, rows []engine.Row) []float32 {
	t.Helper()
	n := len(rows) * f.nHead * f.headDim
	dst := upload(t, be, nanFill(n))
	be.Attention(dst, upload(t, be, q), kc, pagedLayer, setRowsTab(t, be, rows, f.tab), len(rows), f.nHead, f.nHeadKV, f.headDim, f.scale())
	return download(t, be, dst, n)
}

func (f *pagedFixture) scale() float32 { return float32(1 / math.Sqrt(float64(f.headDim))) }

func (f *pagedFixture) query(rows int) []float32 {
	q := make([]float32, rows*f.nHead*f.headDim)
	for i := range q {
		q[i] = float32(f.r.NormFloat64())
	}
	return q
}

// normErr is ‖a − b‖/‖b‖, NaN-safe (a NaN is an infinite error).
func normErr(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		num, den = num+d*d, den+float64(b[i])*float64(b[i])
	}
	return math.Sqrt(num / den)
}

// pagedTol bounds the normalized error between the emulated device and the
// CPU on the same cached values: f32 arithmetic over a few hundred terms,
// exp through ex2.approx (2^-21); see ops_cuda_test.go.
const pagedTol = 1e-5

func TestEmulatedPagedAttentionMatchesCPU(t *testing.T) {
	for _, tc := range []struct {
		kv engine.KVType
		bs int
	}{{engine.KVF32, 16}, {engine.KVF16, 16}, {engine.KVF16, 5}} {
		t.Run(fmt.Sprintf("%s/bs=%d", kvName(tc.kv), tc.bs), func(t *testing.T) {
			f := newPagedFixture(t, tc.kv, tc.bs)
			// Sequences of 100, 37 and 128 positions, written in chunks that
			// cross block edges, in turns.
			f.store(t, 0, 0, 50)
			f.store(t, 1, 0, 37)
			f.store(t, 2, 0, 64)
			f.store(t, 0, 50, 100)
			f.store(t, 2, 64, 128)
			rows := []engine.Row{{Seq: 0, Pos: 99}, {Seq: 1, Pos: 36}, {Seq: 2, Pos: 127}, {Seq: 0, Pos: 15}, {Seq: 2, Pos: 16}, {Seq: 1, Pos: 0}}
			q := f.query(len(rows))
			got := f.attend(t, f.g, f.gc, q, rows)
			want := f.attend(t, f.c, f.cc, q, rows)
			if e := normErr(got, want); !(e <= pagedTol) {
				t.Fatalf("paged attention: normalized error %.3g against the cpu backend (tolerance %g)", e, pagedTol)
			}
		})
	}
}

func TestEmulatedGraphSeesNewBlockTables(t *testing.T) {
	f := newPagedFixture(t, engine.KVF32, 16)
	g := f.g.(*Backend)
	f.store(t, 1, 0, 37)
	// Slot 1 holds 3 blocks; its table maps no more yet.
	for i := 3; i < f.tab.Width; i++ {
		f.tab.Table[1*f.tab.Width+i] = -1
	}
	rows := []engine.Row{{Seq: 1, Pos: 36}}
	q := f.query(1)
	n := f.nHead * f.headDim
	dst, qb := upload(t, g, nanFill(n)), upload(t, g, q)
	rs := setRowsTab(t, g, rows, f.tab)
	step := func() {
		g.Attention(dst, qb, f.gc, pagedLayer, rs, 1, f.nHead, f.nHeadKV, f.headDim, f.scale())
	}
	step() // the uncaptured run a capture follows
	graph, err := g.Capture(step)
	if err != nil {
		t.Fatal(err)
	}
	defer graph.Destroy()
	// The sequence grows into a new block (block 39 is used by nobody):
	// the table changes and is uploaded with the next batch.
	f.tab.Table[1*f.tab.Width+3] = 39
	f.tab.Gen++
	f.store(t, 1, 37, 50)
	rows[0].Pos = 49
	if err := rs.Set(rows, f.tab); err != nil {
		t.Fatal(err)
	}
	if err := graph.Launch(); err != nil {
		t.Fatal(err)
	}
	got := download(t, g, dst, n)
	want := f.attend(t, f.c, f.cc, q, rows)
	if e := normErr(got, want); !(e <= pagedTol) {
		t.Fatalf("graph replay after a table change: normalized error %.3g against the cpu backend", e)
	}
	// A replay whose table maps no block for the row's position fails
	// before launching.
	f.tab.Table[1*f.tab.Width+3] = -1
	f.tab.Gen++
	if err := rs.Set(rows, f.tab); err != nil {
		t.Fatal(err)
	}
	if err := graph.Launch(); err == nil {
		t.Fatal("graph launch with an unmapped block succeeded")
	}
}

// kvName names a cache type in test names.
func kvName(k engine.KVType) string {
	if k == engine.KVF32 {
		return "f32"
	}
	return "f16"
}
