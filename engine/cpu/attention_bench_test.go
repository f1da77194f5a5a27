// This file benchmarks Attention at the shapes of a Qwen3-0.6B decode step
// of 8 sequences at position 4000: over a paged cache whose blocks are
// contiguous per sequence, and over one whose blocks are scattered; and
// at those of a short prefill over a long cached history.

package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/engine"
)

func BenchmarkAttention(b *testing.B) {
	const nHead, nHeadKV, headDim, seqs, ctx, bs, pos = 16, 8, 128, 8, 4096, 16, 4000
	const width = ctx / bs
	rng := rand.New(rand.NewPCG(1, 2))
	perm := rng.Perm(seqs * width)
	tabs := map[string]engine.BlockTables{"contiguous": engine.ContiguousTables(seqs, width)}
	tabs["scattered"] = engine.BlockTables{Table: make([]int32, seqs*width), Width: width, Gen: 1}
	for i, v := range perm {
		tabs["scattered"].Table[i] = int32(v)
	}
	be := New(engineOpts(0))
	defer be.Close()
	kc, err := be.NewKVCache(engine.KVShape{Layers: 1, Blocks: seqs * width, BlockSize: bs, KVDim: nHeadKV * headDim, Type: engine.KVF16})
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]engine.Row, seqs)
	for s := range rows {
		rows[s] = engine.Row{Pos: pos, Seq: int32(s)}
	}
	q := newBuffer(b, be, randomVec(rng, seqs*nHead*headDim))
	dst := newBuffer(b, be, make([]float32, seqs*nHead*headDim))
	for _, name := range []string{"contiguous", "scattered"} {
		b.Run(name, func(b *testing.B) {
			rs := newRowsTab(b, be, rows, tabs[name])
			b.ReportAllocs()
			for b.Loop() {
				be.Attention(dst, q, kc, 0, rs, seqs, nHead, nHeadKV, headDim, 0.088)
			}
		})
	}
}

// BenchmarkAttentionPrefill is the next turn of a chat after prompt-prefix
// reuse: 32 new rows of one sequence over about 1000 cached positions, at
// Qwen3-0.6B's head shapes.
func BenchmarkAttentionPrefill(b *testing.B) {
	const nHead, nHeadKV, headDim, rowsN, ctx, bs, pos0 = 16, 8, 128, 32, 2048, 16, 1000
	const width = ctx / bs
	rng := rand.New(rand.NewPCG(3, 4))
	be := New(engineOpts(0))
	defer be.Close()
	kc, err := be.NewKVCache(engine.KVShape{Layers: 1, Blocks: width, BlockSize: bs, KVDim: nHeadKV * headDim, Type: engine.KVF16})
	if err != nil {
		b.Fatal(err)
	}
	kv := newBuffer(b, be, randomVec(rng, nHeadKV*headDim))
	rows := make([]engine.Row, rowsN)
	for r := range rows {
		rows[r] = engine.Row{Pos: int32(pos0 + r)}
	}
	rs := newRowsTab(b, be, rows, engine.ContiguousTables(1, width))
	for p := range pos0 + rowsN {
		one := newRowsTab(b, be, []engine.Row{{Pos: int32(p)}}, engine.ContiguousTables(1, width))
		be.StoreKV(kc, 0, kv, kv, one, 1)
	}
	q := newBuffer(b, be, randomVec(rng, rowsN*nHead*headDim))
	dst := newBuffer(b, be, make([]float32, rowsN*nHead*headDim))
	b.ReportAllocs()
	for b.Loop() {
		be.Attention(dst, q, kc, 0, rs, rowsN, nHead, nHeadKV, headDim, 0.088)
	}
}
