// Tests of the model registry: loading (idempotent, id conflicts, device
// fallback), listing with memory use, acquiring, and unloading that never
// frees a model under a running generation.
package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

func TestDefaultCtxSize(t *testing.T) {
	qwen06 := engine.Config{NLayer: 28, NHeadKV: 8, HeadDim: 128, NCtxTrain: 40960}
	qwen32 := engine.Config{NLayer: 64, NHeadKV: 8, HeadDim: 128, NCtxTrain: 40960}
	mini := engine.Config{NLayer: 2, NHeadKV: 2, HeadDim: 64, NCtxTrain: 4096}
	cases := []struct {
		name string
		cfg  engine.Config
		kv   engine.KVType
		seqs int
		want int
	}{
		{"0.6b f16: capped at 8192", qwen06, engine.KVF16, 1, 8192},
		{"32b f16: 256 KiB per position fills 2 GiB at 8192", qwen32, engine.KVF16, 1, 8192},
		{"32b f32: budget gives 4096", qwen32, engine.KVF32, 1, 4096},
		{"32b f16 4 sequences: 2048", qwen32, engine.KVF16, 4, 2048},
		{"mini: trained context 4096", mini, engine.KVF16, 1, 4096},
		{"tiny trained context", engine.Config{NLayer: 2, NHeadKV: 2, HeadDim: 64, NCtxTrain: 100}, engine.KVF16, 1, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := engine.DefaultCtxSize(tc.cfg, tc.kv, tc.seqs); got != tc.want {
				t.Fatalf("DefaultCtxSize = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseDevice(t *testing.T) {
	cases := []struct {
		in   string
		name string
		ord  int
		bad  bool
	}{
		{"", "auto", -1, false},
		{"auto", "auto", -1, false},
		{"cpu", "cpu", -1, false},
		{"CUDA", "cuda", -1, false},
		{"cuda:1", "cuda", 1, false},
		{"cuda:-1", "", 0, true},
		{"cuda:x", "", 0, true},
		{"cpu:0", "", 0, true},
		{"tpu", "", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			name, ord, err := engine.ParseDevice(tc.in)
			if (err != nil) != tc.bad || (!tc.bad && (name != tc.name || ord != tc.ord)) {
				t.Fatalf("ParseDevice(%q) = %q, %d, %v; want %q, %d, error %v", tc.in, name, ord, err, tc.name, tc.ord, tc.bad)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRegistryLoadList(t *testing.T) {
	var logs syncBuffer
	r := engine.NewRegistry(slog.New(slog.NewTextHandler(&logs, nil)))
	defer r.Close(context.Background())
	path := reftest.Model(t, "mini-f32")
	info, err := r.Load(context.Background(), engine.LoadOptions{Path: path, Aliases: []string{"mini"}, Device: "auto", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != "mini-f32" || info.Backend != "cpu" || info.CtxSize != 4096 || info.CtxTrain != 4096 || info.Arch != "qwen3" {
		t.Fatalf("info %+v", info)
	}
	// The default cache: every one of the DefaultMaxParallel slots can hold
	// the 4096 trained positions (2 GiB would hold more): 2 layers · 2 (K,
	// V) · 4096 positions · 128 wide · 2 bytes (f16) per slot.
	if info.Seqs != engine.DefaultMaxParallel || info.KVBytes != engine.DefaultMaxParallel*2*2*4096*128*2 || info.WeightBytes <= 0 || info.MemoryBytes != info.WeightBytes+info.KVBytes {
		t.Fatalf("memory: weights %d kv %d total %d", info.WeightBytes, info.KVBytes, info.MemoryBytes)
	}
	if !strings.Contains(logs.String(), "cuda backend unavailable, using cpu") {
		t.Fatalf("no fallback log line in %q", logs.String())
	}
	again, err := r.Load(context.Background(), engine.LoadOptions{Path: path})
	if err != nil || !again.LoadedAt.Equal(info.LoadedAt) {
		t.Fatalf("second Load: %+v, %v; want the first model back", again, err)
	}
	_, err = r.Load(context.Background(), engine.LoadOptions{Path: reftest.Model(t, "mini-q8_0"), ID: "mini-f32"})
	if !errors.Is(err, engine.ErrModelExists) {
		t.Fatalf("Load of another file under a taken id: %v, want ErrModelExists", err)
	}
	if _, err := r.Load(context.Background(), engine.LoadOptions{Path: filepath.Join(t.TempDir(), "missing.gguf")}); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
	if _, err := r.Load(context.Background(), engine.LoadOptions{Path: path, ID: "x", Device: "tpu"}); err == nil {
		t.Fatal("Load on an unknown device succeeded")
	}
	list := r.List()
	if len(list) != 1 || list[0].ID != "mini-f32" || list[0].InFlight != 0 {
		t.Fatalf("List = %+v", list)
	}
	g, release, err := r.Acquire("mini") // alias
	if err != nil {
		t.Fatal(err)
	}
	if n := r.List()[0].InFlight; n != 1 {
		t.Fatalf("in flight %d, want 1", n)
	}
	res, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: []int32{1, 2, 3}, MaxTokens: 3, IgnoreEOS: true}, nil)
	if err != nil || len(res.Tokens) != 3 {
		t.Fatalf("Generate: %v, %v", res, err)
	}
	release()
	release() // idempotent
	if n := r.List()[0].InFlight; n != 0 {
		t.Fatalf("in flight %d after release, want 0", n)
	}
	if _, _, err := r.Acquire("nope"); !errors.Is(err, engine.ErrModelNotLoaded) {
		t.Fatalf("Acquire(nope): %v, want ErrModelNotLoaded", err)
	}
}

// TestRegistryUnloadWaits checks that Unload refuses while a generation runs
// past the deadline, and otherwise waits for it and frees the model after.
func TestRegistryUnloadWaits(t *testing.T) {
	r := engine.NewRegistry(nil)
	defer r.Close(context.Background())
	if _, err := r.Load(context.Background(), engine.LoadOptions{Path: reftest.Model(t, "mini-f32"), ID: "m", Device: "cpu", CtxSize: 256}); err != nil {
		t.Fatal(err)
	}
	g, release, err := r.Acquire("m")
	if err != nil {
		t.Fatal(err)
	}
	started, proceed := make(chan struct{}), make(chan struct{})
	var proceedOnce sync.Once
	letGo := func() { proceedOnce.Do(func() { close(proceed) }) }
	defer letGo() // never leave the generation (and r.Close) blocked on failure
	genDone := make(chan error, 1)
	go func() {
		defer release()
		first := true
		_, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: []int32{5, 6, 7}, MaxTokens: 6, IgnoreEOS: true},
			func(engine.Event) error {
				if first {
					first = false
					close(started)
					<-proceed // hold the generation mid-way
				}
				return nil
			})
		genDone <- err
	}()
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	err = r.Unload(ctx, "m")
	cancel()
	if !errors.Is(err, engine.ErrModelBusy) {
		t.Fatalf("Unload under a running generation: %v, want ErrModelBusy", err)
	}
	if len(r.List()) != 1 {
		t.Fatal("model gone after a refused Unload")
	}

	unloaded := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		unloaded <- r.Unload(ctx, "m")
	}()
	// While Unload waits, new requests are refused and the model stays.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, rel, err := r.Acquire("m")
		if errors.Is(err, engine.ErrModelNotLoaded) {
			break
		}
		if err == nil {
			rel() // acquired before Unload began; give it back
		}
		if time.Now().After(deadline) {
			t.Fatal("Acquire still succeeds while the model is being unloaded")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-unloaded:
		t.Fatalf("Unload returned (%v) while a generation was running", err)
	case <-time.After(20 * time.Millisecond):
	}
	letGo()
	if err := <-genDone; err != nil {
		t.Fatalf("generation under a waiting Unload failed: %v", err)
	}
	if err := <-unloaded; err != nil {
		t.Fatalf("Unload after the generation ended: %v", err)
	}
	if len(r.List()) != 0 {
		t.Fatalf("List after Unload = %+v", r.List())
	}
	if err := r.Unload(context.Background(), "m"); !errors.Is(err, engine.ErrModelNotLoaded) {
		t.Fatalf("second Unload: %v, want ErrModelNotLoaded", err)
	}
}

func TestLoadKVCacheSize(t *testing.T) {
	path := reftest.Model(t, "mini-f16")
	cases := []struct {
		name       string
		o          engine.LoadOptions
		blocks     int
		ctx        int
		badLoadErr bool
	}{
		{"default: every slot holds ctx_size", engine.LoadOptions{CtxSize: 100, Seqs: 3}, 3 * 7, 100, false},
		{"blocks", engine.LoadOptions{CtxSize: 100, Seqs: 3, KVCache: engine.KVCacheSize{Blocks: 10}}, 10, 100, false},
		// A block of the mini model is 16 KiB: 2 layers x K,V x 16 positions x 128 x f16.
		{"bytes, default ctx capped at the cache", engine.LoadOptions{Seqs: 2, KVCache: engine.KVCacheSize{Bytes: 1 << 20}}, 64, 1024, false},
		{"smaller than one sequence", engine.LoadOptions{CtxSize: 100, KVCache: engine.KVCacheSize{Blocks: 6}}, 0, 0, true},
		{"smaller than one block", engine.LoadOptions{KVCache: engine.KVCacheSize{Bytes: 1000}}, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := engine.NewRegistry(slog.New(slog.DiscardHandler))
			tc.o.Path, tc.o.Device, tc.o.Threads = path, "cpu", 1
			info, err := r.Load(context.Background(), tc.o)
			if tc.badLoadErr {
				if !errors.Is(err, engine.ErrBadLoad) {
					t.Fatalf("load: %v, want ErrBadLoad", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Unload(context.Background(), info.ID)
			g, release, err := r.Acquire(info.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			st := g.Context().KVStats()
			if st.Total != tc.blocks || st.BlockSize != 16 || st.Used != 0 || info.CtxSize != tc.ctx {
				t.Fatalf("loaded with %+v, ctx %d; want %d blocks of 16, none used, ctx %d", st, info.CtxSize, tc.blocks, tc.ctx)
			}
		})
	}
}

// TestRegistryNoMmap loads a model read into memory and one mapped: both
// generate the same greedy tokens.
func TestRegistryNoMmap(t *testing.T) {
	r := engine.NewRegistry(slog.New(slog.DiscardHandler))
	defer r.Close(context.Background())
	path := reftest.Model(t, "mini-q8_0")
	var got [2][]int32
	for i, noMmap := range []bool{false, true} {
		id := fmt.Sprintf("m%d", i)
		if _, err := r.Load(context.Background(), engine.LoadOptions{Path: path, ID: id, Device: "cpu", Threads: 1, CtxSize: 128, NoMmap: noMmap}); err != nil {
			t.Fatal(err)
		}
		g, release, err := r.Acquire(id)
		if err != nil {
			t.Fatal(err)
		}
		res, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: []int32{5, 6, 7}, MaxTokens: 8, IgnoreEOS: true}, nil)
		release()
		if err != nil {
			t.Fatal(err)
		}
		got[i] = res.Tokens
	}
	if !slices.Equal(got[0], got[1]) || len(got[0]) != 8 {
		t.Fatalf("mapped %v, read into memory %v", got[0], got[1])
	}
}
