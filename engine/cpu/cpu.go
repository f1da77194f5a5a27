// Package cpu is the reference backend of the engine. It runs every op of
// engine.Backend on the host, parallel over output rows on a persistent
// worker pool; weights stay in their GGUF type, memory-mapped, and MatMul
// dequantizes them tile by tile (or dots them block by block, for the types
// with a fused kernel). Hot loops have amd64 AVX2/FMA/F16C assembly beside
// a plain Go version, which is what runs elsewhere and what the assembly is
// tested against.
//
// This file holds the backend itself: registration, buffers, batch rows and
// host transfers. The ops live in ops.go, matmul.go and attention.go.
package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/helexa/helexa/engine"
)

func init() {
	engine.Register("cpu", func(device int, opts engine.BackendOptions) (engine.Backend, error) {
		if device > 0 {
			return nil, fmt.Errorf("cpu: no device %d (the cpu backend has device 0 only)", device)
		}
		return New(opts), nil
	})
}

var _ engine.Backend = (*Backend)(nil)

// Backend is the CPU implementation of engine.Backend. Ops are synchronous:
// when an op returns its result is in the destination buffer.
//
// Ops may be called from several goroutines (two contexts of one model):
// the ops that use the worker pool or the preallocated op descriptors hold
// mu for their whole run.
type Backend struct {
	mu   sync.Mutex
	pool *pool

	// scratch is per-worker float32 memory (a tile of dequantized weight
	// rows, the attention scores of one head); each holds at least
	// maxScratch floats.
	scratch    [][]float32
	maxScratch int

	// exact turns off activation quantization: MatMul keeps float32
	// activations (engine.BackendOptions.Exact).
	exact bool
	// act holds the latest quantized MatMul input of each format, reused
	// while its source buffer is unchanged.
	act [actQ8K + 1]actQuant
	// bf16 holds the latest MatMul input rounded to BF16 (bf16dot.go).
	bf16 bf16Act

	// Preallocated op descriptors, so dispatching an op allocates nothing.
	mm   matmulTask
	aq   quantTask
	rt   roundTask
	emb  embedTask
	norm normTask
	rope ropeTask
	att  attentionTask
	elem elemTask
}

// New returns a CPU backend with opts.Threads workers (all cores when 0).
func New(opts engine.BackendOptions) *Backend {
	n := opts.Threads
	if n <= 0 {
		n = runtime.NumCPU()
	}
	b := &Backend{pool: newPool(n), exact: opts.Exact}
	b.scratch = make([][]float32, n)
	return b
}

// Threads is the number of workers ops run on.
func (b *Backend) Threads() int { return b.pool.n }

// Name identifies the backend.
func (b *Backend) Name() string { return "cpu" }

// growScratch makes every worker's scratch hold at least n floats. It runs
// when weights and caches are created, never inside an op, and holds mu so
// that an op running meanwhile (another context's Forward) never sees the
// scratch slices change under it.
func (b *Backend) growScratch(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n <= b.maxScratch {
		return
	}
	b.maxScratch = n
	for i := range b.scratch {
		b.scratch[i] = make([]float32, n)
	}
}

// buffer is a host float32 activation buffer. gen counts the ops that
// wrote it, so a quantized copy of its contents (actQuant) knows when it
// is stale.
type buffer struct {
	d   []float32
	gen uint64
}

func (x *buffer) Len() int { return len(x.d) }
func (x *buffer) Free()    { x.d = nil }

// NewBuffer allocates a zeroed buffer of n floats.
func (b *Backend) NewBuffer(n int) (engine.Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("cpu: buffer of %d elements", n)
	}
	return &buffer{d: make([]float32, n)}, nil
}

// rows is the batch description: a host copy of the rows and of the block
// tables.
type rows struct {
	r     []engine.Row
	cap   int
	tab   []int32 // block tables, [seqs, width]
	width int
	gen   uint64 // generation of tab (engine.BlockTables.Gen)
}

func (r *rows) Cap() int { return r.cap }

// Set copies batch and, when its generation changed, the block tables into
// the description; it fails beyond the capacity.
func (r *rows) Set(batch []engine.Row, t engine.BlockTables) error {
	if len(batch) > r.cap {
		return fmt.Errorf("cpu: batch of %d rows exceeds capacity %d", len(batch), r.cap)
	}
	if len(t.Table) > cap(r.tab) {
		return fmt.Errorf("cpu: block tables of %d entries exceed capacity %d", len(t.Table), cap(r.tab))
	}
	r.r = r.r[:len(batch)]
	copy(r.r, batch)
	if t.Gen == 0 || t.Gen != r.gen || t.Width != r.width || len(t.Table) != len(r.tab) {
		r.tab = r.tab[:len(t.Table)]
		copy(r.tab, t.Table)
		r.width, r.gen = t.Width, t.Gen
	}
	return nil
}

func (r *rows) Free() { r.r, r.tab = nil, nil }

// NewRows allocates a batch description for up to capacity rows and block
// tables of up to table entries.
func (b *Backend) NewRows(capacity, table int) (engine.Rows, error) {
	if capacity <= 0 || table < 0 {
		return nil, fmt.Errorf("cpu: rows capacity %d, table capacity %d", capacity, table)
	}
	return &rows{r: make([]engine.Row, 0, capacity), cap: capacity, tab: make([]int32, 0, table)}, nil
}

// Write copies src into dst.
func (b *Backend) Write(dst engine.Buffer, src []float32) error {
	d := wbuf(dst)
	if len(src) > len(d) {
		return fmt.Errorf("cpu: write of %d floats into a buffer of %d", len(src), len(d))
	}
	copy(d, src)
	return nil
}

// Read copies the first len(dst) floats of src.
func (b *Backend) Read(dst []float32, src engine.Buffer) error {
	s := buf(src)
	if len(dst) > len(s) {
		return fmt.Errorf("cpu: read of %d floats from a buffer of %d", len(dst), len(s))
	}
	copy(dst, s)
	return nil
}

// Sync returns nil: CPU ops finish before they return and record no errors.
func (b *Backend) Sync() error { return nil }

// Close stops the worker pool.
func (b *Backend) Close() error {
	b.pool.close()
	return nil
}

// buf returns the host slice of a buffer created by this backend, to read.
func buf(x engine.Buffer) []float32 { return x.(*buffer).d }

// wbuf returns the host slice of a buffer an op is about to write: every
// op writing a buffer takes it through wbuf, which bumps its generation.
func wbuf(x engine.Buffer) []float32 {
	b := x.(*buffer)
	b.gen++
	return b.d
}

// batch returns the rows set on r.
func batch(r engine.Rows) []engine.Row { return r.(*rows).r }

// tablesOf returns the rows set on r with their block tables.
func tablesOf(r engine.Rows) *rows { return r.(*rows) }
