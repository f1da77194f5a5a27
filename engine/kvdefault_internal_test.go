// This file tests the default size of a model's KV cache: room for every
// sequence slot to hold the context while that fits the default budget,
// the budget when it does not, and never less than one full context.

package engine

import "testing"

func TestDefaultKVBlocks(t *testing.T) {
	// Qwen3-0.6B: 28 layers, 8 KV heads of 128: a 16-position f16 block is
	// 2·28·16·1024·2 bytes = 1.75 MiB, so 2 GiB hold 1170 blocks.
	q06 := Config{NLayer: 28, NHeadKV: 8, HeadDim: 128}
	tiny := Config{NLayer: 2, NHeadKV: 1, HeadDim: 128}
	for _, c := range []struct {
		name       string
		cfg        Config
		seqs, nCtx int
		want       int
	}{
		{"every slot holds the context", tiny, 4, 4096, 4 * 256},
		{"the budget binds", q06, 4, 8192, 1170},
		{"one context at least", q06, 4, 40960, 2560},
		{"one slot", q06, 1, 8192, 512},
		{"a partial block rounds up", tiny, 2, 100, 2 * 7},
	} {
		if got := defaultKVBlocks(c.cfg, KVF16, c.seqs, c.nCtx); got != c.want {
			t.Errorf("%s: %d blocks, want %d", c.name, got, c.want)
		}
	}
	if ctx := DefaultCtxSize(q06, KVF16, 1); ctx != 8192 {
		t.Errorf("default context of 0.6B: %d, want 8192", ctx)
	}
}
