// This file benchmarks one decode step (a single row after a 100-token
// prompt) of the reference mini models on the CPU backend (allocs/op must
// be 0), and tests Bench, the speed test `neuron bench` runs, on a tiny
// synthetic model.

package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
)

func BenchmarkDecodeStep(b *testing.B) {
	for _, name := range []string{"mini-f32", "mini-f16", "mini-q8_0", "mini-q4_k_m", "mini-bf16"} {
		b.Run(name, func(b *testing.B) {
			m := openModel(b, reftest.Model(b, name), 0)
			c, err := m.NewContext(engine.ContextOptions{Ctx: 256, Batch: 128})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Free()
			const prompt = 100
			rows := make([]engine.Row, prompt)
			for i := range rows {
				rows[i] = engine.Row{Token: int32(i * 7 % 2048), Pos: int32(i)}
			}
			if err := c.Forward(rows, nil, nil); err != nil {
				b.Fatal(err)
			}
			logits := make([]float32, m.Config().NVocab)
			step := []engine.Row{{Token: 11, Pos: prompt}}
			idx := []int{0}
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Forward(step, idx, logits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBench(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "q8_0", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	m := openModel(t, path, 1)
	c, err := m.NewContext(engine.ContextOptions{Ctx: 32, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	res, err := engine.Bench(context.Background(), c, engine.BenchOptions{PP: 32, TG: 4, Reps: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.PP.N != 32 || res.TG.N != 4 || !(res.PP.TokS > 0) || !(res.TG.TokS > 0) || res.PP.Std < 0 || res.TG.Std < 0 {
		t.Fatalf("result %+v", res)
	}
	for _, o := range []engine.BenchOptions{{PP: -1, TG: 4, Reps: 1}, {PP: 0, TG: 0, Reps: 1}, {PP: 4, TG: 4, Reps: 0}} {
		if _, err := engine.Bench(context.Background(), c, o); err == nil {
			t.Errorf("Bench(%+v) gave no error", o)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := engine.Bench(ctx, c, engine.BenchOptions{PP: 32, TG: 4, Reps: 1}); err != context.Canceled {
		t.Errorf("cancelled Bench returned %v", err)
	}
}

func TestDecodeBytesPerToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "q4_k_m", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	per, total, err := engine.DecodeBytesPerToken(f, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Every tensor but the embedding (one row of 256 Q4_K values: 144
	// bytes of 2112 rows) plus K and V of 2 layers · 128 wide · f16 at
	// positions 0..4 on average (4+1)/2 = 2.
	var sum int64
	for _, ti := range f.Tensors {
		sum += ti.Size
	}
	want := total - 2112*144 + 144 + 2*2*128*2*5/2
	if total != sum || per != want {
		t.Fatalf("per token %d, total %d; want %d, %d", per, total, want, sum)
	}
}
