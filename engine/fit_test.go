// This file tests the memory-fit check a GPU backend relies on: the
// estimate of a context's bytes matches what a context really allocates,
// and a backend with a memory budget refuses a model before any tensor is
// loaded.

package engine_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// budgetBackend is the CPU backend with a fixed memory budget, counting the
// weights it is asked to load.
type budgetBackend struct {
	engine.Backend
	budget  int64
	loaded  int
	lastAsk int64
}

var errNoRoom = errors.New("no room")

func (b *budgetBackend) CanFit(n int64) error {
	b.lastAsk = n
	if n > b.budget {
		return fmt.Errorf("%w: need %d, have %d", errNoRoom, n, b.budget)
	}
	return nil
}

func (b *budgetBackend) LoadWeight(name string, typ gguf.Type, ne0, ne1 int, data []byte) (engine.Weight, error) {
	b.loaded++
	return b.Backend.LoadWeight(name, typ, ne0, ne1, data)
}

// allocBackend counts the bytes of the buffers and KV caches it allocates.
type allocBackend struct {
	engine.Backend
	bytes int64
}

func (b *allocBackend) NewBuffer(n int) (engine.Buffer, error) {
	b.bytes += int64(n) * 4
	return b.Backend.NewBuffer(n)
}

func (b *allocBackend) NewKVCache(s engine.KVShape) (engine.KVCache, error) {
	c, err := b.Backend.NewKVCache(s)
	if err == nil {
		b.bytes += c.Bytes()
	}
	return c, err
}

func TestContextBytesMatchesAllocation(t *testing.T) {
	ab := &allocBackend{Backend: cpuBackend(t)}
	m, err := engine.LoadModel(newTinySpec(false).open(t), ab)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Free)
	for _, o := range []engine.ContextOptions{
		{},
		{Seqs: 2, Ctx: 64, Batch: 16, KV: engine.KVF32},
		{Ctx: 100, Batch: 40, KV: engine.KVF16},
	} {
		ab.bytes = 0
		newCtx(t, m, o)
		got, err := engine.ContextBytes(m.Config(), o)
		if err != nil {
			t.Fatal(err)
		}
		if got != ab.bytes || got == 0 {
			t.Errorf("%+v: estimate %d bytes, the context allocated %d", o, got, ab.bytes)
		}
	}
	if _, err := engine.ContextBytes(m.Config(), engine.ContextOptions{Ctx: -1}); err == nil {
		t.Error("negative context size: no error")
	}
}

func TestCheckFitRefusesBeforeLoading(t *testing.T) {
	f := newTinySpec(false).open(t)
	o := engine.ContextOptions{Ctx: 64, Batch: 8}
	var weights int64
	for _, ti := range f.Tensors {
		weights += ti.Size
	}
	cfg, err := engine.ConfigFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	ctxBytes, err := engine.ContextBytes(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	need := weights + ctxBytes

	small := &budgetBackend{Backend: cpuBackend(t), budget: need - 1}
	err = engine.CheckFit(small, f, o)
	if !errors.Is(err, errNoRoom) || small.lastAsk != need {
		t.Fatalf("budget %d for %d bytes: err %v, asked for %d", small.budget, need, err, small.lastAsk)
	}
	if small.loaded != 0 {
		t.Errorf("%d weights loaded before the fit check failed", small.loaded)
	}

	enough := &budgetBackend{Backend: cpuBackend(t), budget: need}
	if err := engine.CheckFit(enough, f, o); err != nil {
		t.Fatalf("budget %d for %d bytes: %v", enough.budget, need, err)
	}
	// A backend without a budget (the CPU) always fits.
	if err := engine.CheckFit(cpuBackend(t), f, o); err != nil {
		t.Fatal(err)
	}
}

// nilBackend is a backend type whose opener fails with a typed nil.
type nilBackend struct{ engine.Backend }

var errOpen = errors.New("no such device")

func TestOpenBackendErrorIsUntypedNil(t *testing.T) {
	if !slices.Contains(engine.Backends(), "test-typed-nil") { // once per test binary (-count)
		engine.Register("test-typed-nil", func(int, engine.BackendOptions) (engine.Backend, error) {
			var b *nilBackend
			return b, errOpen
		})
	}
	b, err := engine.OpenBackend("test-typed-nil", 0, engine.BackendOptions{})
	if !errors.Is(err, errOpen) {
		t.Fatalf("err = %v", err)
	}
	if b != nil {
		t.Fatalf("backend = %#v on error, want nil", b)
	}
}
