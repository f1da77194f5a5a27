// Tests of the manager's engine adapter: download progress lines, the
// conversion of log probabilities, the KV-cache usage it reports while
// a request runs on a tiny synthetic model, and the capacity it reports.

package manager

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/engine"
	_ "github.com/helexa/helexa/engine/cpu" // registers the cpu backend
	"github.com/helexa/helexa/hub"
	"github.com/helexa/helexa/internal/sysmem"
	"github.com/helexa/helexa/server"
)

func TestProgressLogger(t *testing.T) {
	var logs strings.Builder
	p := progressLogger(slog.New(slog.NewJSONHandler(&logs, nil)))
	p(hub.Progress{File: "a.gguf", Done: 100, Total: 1000, BytesPerSec: 2e6})
	p(hub.Progress{File: "a.gguf", Done: 200, Total: 1000, BytesPerSec: 2e6})  // within progressEvery: dropped
	p(hub.Progress{File: "b.gguf", Done: 1, Total: 10})                        // another file: logged
	p(hub.Progress{File: "a.gguf", Done: 1000, Total: 1000, BytesPerSec: 2e6}) // completion: always logged
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[0], `"msg":"downloading","file":"a.gguf","done_bytes":100,"total_bytes":1000,"mb_per_s":2,"percent":10,"eta":"0s"`) {
		t.Errorf("progress line %s", lines[0])
	}
	if !strings.Contains(lines[2], `"msg":"download complete","file":"a.gguf"`) {
		t.Errorf("completion line %s", lines[2])
	}
}

func TestLogprobsConversion(t *testing.T) {
	got := logprobs([]engine.TokenLogprob{{Token: 5, Text: "hé", Logprob: -0.5,
		Top: []engine.TopLogprob{{Token: 5, Text: "hé", Logprob: -0.5}, {Token: 6, Text: "x", Logprob: -2}}}})
	if len(got) != 1 || got[0].Token != "hé" || got[0].Logprob != -0.5 || len(got[0].Bytes) != 3 || got[0].Bytes[1] != 0xc3 ||
		len(got[0].TopLogprobs) != 2 || got[0].TopLogprobs[1].Token != "x" || got[0].TopLogprobs[1].Logprob != -2 {
		t.Errorf("converted %+v", got)
	}
	if logprobs(nil) != nil {
		t.Errorf("no logprobs must stay nil")
	}
}

// TestKVCacheUsage runs a raw-token request through the adapter: while it
// generates, the model holds KV blocks (usage is blocks used / blocks, never
// falling as the sequence grows); afterwards it holds none.
func TestKVCacheUsage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "q8_0", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	mgr := New(Options{Device: "cpu", Threads: 1, CtxSize: 64, ModelDirs: []string{filepath.Dir(path)},
		Hub: hub.Options{CacheDir: t.TempDir(), Offline: true}})
	if _, err := mgr.Load(context.Background(), api.LoadRequest{Model: path, Alias: "tiny"}); err != nil {
		t.Fatal(err)
	}
	defer mgr.Unload(context.Background(), "tiny")
	info := func() server.ModelInfo {
		l := mgr.List()
		if len(l) != 1 {
			t.Fatalf("%d models listed", len(l))
		}
		return l[0]
	}
	g, release, err := mgr.Acquire("tiny")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	prompt := []int32{1, 2, 3, 4, 5, 6, 7}
	generated, events, last := 0, 0, 0.0
	res, err := g.Generate(context.Background(), &server.GenerateRequest{Tokens: prompt, MaxTokens: 6, Sampling: server.Sampling{TopP: 1}},
		func(d server.Delta) error {
			generated += d.Tokens
			events++
			m := info()
			want := float64(m.KVBlocksUsed) / float64(m.KVBlocks)
			if m.KVBlocksUsed == 0 || m.KVCacheUsage != want || m.KVCacheUsage < last || m.KVBlockSize == 0 {
				t.Errorf("after %d generated tokens: KV usage %g, %d of %d blocks of %d", generated, m.KVCacheUsage, m.KVBlocksUsed, m.KVBlocks, m.KVBlockSize)
			}
			last = m.KVCacheUsage
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if events == 0 || res.PromptTokens != len(prompt) {
		t.Fatalf("%d events, %d prompt tokens; want some events and %d", events, res.PromptTokens, len(prompt))
	}
	if m := info(); m.KVCacheUsage != 0 || m.KVBlocksUsed != 0 {
		t.Errorf("after the request: KV usage %g, %d blocks used; want 0", m.KVCacheUsage, m.KVBlocksUsed)
	}
}

// TestCapacity loads a tiny synthetic model under a fixed budget: what is
// free drops by the model's memory, is bounded by the host's available
// memory, and comes back after the unload.
func TestCapacity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "q8_0", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	const budget = 1 << 30
	mgr := New(Options{Device: "cpu", Threads: 1, CtxSize: 64, ModelDirs: []string{filepath.Dir(path)}, MaxMemory: budget,
		MaxLoadedModels: 3, Hub: hub.Options{CacheDir: t.TempDir(), Offline: true}})
	host := sysmem.Info{Total: 8 << 30, Available: 4 << 30}
	mgr.hostMem = func() sysmem.Info { return host }
	want := api.Capacity{MemoryBudgetBytes: budget, MemoryFreeBytes: budget, MaxLoadedModels: 3}
	if c := mgr.Capacity(); c != want {
		t.Fatalf("capacity before a load %+v, want %+v", c, want)
	}
	info, err := mgr.Load(context.Background(), api.LoadRequest{Model: path, Alias: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	if info.MemoryBytes <= 0 {
		t.Fatalf("the model reports %d bytes", info.MemoryBytes)
	}
	want.MemoryFreeBytes, want.LoadedModels = budget-info.MemoryBytes, 1
	if c := mgr.Capacity(); c != want {
		t.Errorf("capacity with the model %+v, want %+v", c, want)
	}
	host.Available = 1 << 20 // the host has less left than the budget
	if c := mgr.Capacity(); c.MemoryFreeBytes != 1<<20 {
		t.Errorf("free %d with 1 MiB available on the host", c.MemoryFreeBytes)
	}
	host.Available = 4 << 30
	if err := mgr.Unload(context.Background(), "tiny"); err != nil {
		t.Fatal(err)
	}
	want.MemoryFreeBytes, want.LoadedModels = budget, 0
	if c := mgr.Capacity(); c != want {
		t.Errorf("capacity after the unload %+v, want %+v", c, want)
	}
}
