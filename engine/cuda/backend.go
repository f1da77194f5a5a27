// Package cuda is the CUDA backend of the engine: the ops of engine.Backend
// run as hand-written kernels (package kernels) on an NVIDIA GPU, driven
// through the CUDA driver API opened at run time (driver.go), so the package
// needs neither cgo nor the CUDA toolkit to build.
//
// This file holds the backend and its device-resident resources: weights in
// their GGUF types, f32 activation buffers, batch rows, KV caches, and the
// memory accounting behind /models and the fit check. The ops are in ops.go.
package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

func init() {
	engine.Register("cuda", func(dev int, _ engine.BackendOptions) (engine.Backend, error) {
		b, err := Open(dev)
		if err != nil {
			return nil, err // not a nil *Backend inside a non-nil interface
		}
		return b, nil
	})
}

// fitReserve is device memory CanFit keeps free beyond the request, for the
// driver's own use (JIT-compiled module, stream and launch bookkeeping) and
// the backend's scratch buffers; an estimate, not a driver figure.
const fitReserve = 512 << 20

// MemoryReporter is implemented by backends with their own device memory.
// The engine calls CanFit with a model's size (weights plus KV cache and
// activations) before loading anything, so a model that does not fit is
// refused with a clear error instead of failing half-way.
type MemoryReporter interface {
	// MemInfo returns the device's free and total memory in bytes.
	MemInfo() (free, total int64, err error)
	// CanFit returns nil when bytes more can be allocated, else an error
	// wrapping ErrOutOfMemory that names the sizes.
	CanFit(bytes int64) error
	// Allocated is the device memory this backend holds now.
	Allocated() int64
}

// Backend is an engine.Backend on one GPU. Ops queue kernels on one stream
// and record the first failure, which Sync and Read return.
type Backend struct {
	dev       *device
	allocated atomic.Int64
	err       error                  // first failure since the last Sync/Read
	failed    atomic.Pointer[error]  // the device failure (ErrDeviceFailed), for good
	invFreq   map[ropeKey]scratchBuf // RoPE frequency tables
	scratch   [numScratch]scratchBuf // grow-on-demand work buffers
	idxHost   []int32                // CopyRows index staging
	closed    bool

	// Graph state (graph.go).
	capturing    bool           // a capture is under way: no uploads, no scratch growth
	replayChecks []func() error // batch checks of the ops captured so far
	graphs       int            // live graphs: scratch they use must not be freed
	retired      []scratchBuf   // scratch replaced while graphs lived
}

var (
	_ engine.Backend       = (*Backend)(nil)
	_ engine.MemoryChecker = (*Backend)(nil)
	_ MemoryReporter       = (*Backend)(nil)
)

// Open opens GPU ordinal dev (-1 for the first). Without a driver or a
// usable GPU the error wraps ErrNoDevice.
func Open(dev int) (*Backend, error) {
	d, err := openDevice(dev)
	if err != nil {
		return nil, err
	}
	return newBackend(d), nil
}

// newBackend returns a backend on an opened device.
func newBackend(d *device) *Backend {
	d.openUser()
	return &Backend{dev: d, invFreq: map[ropeKey]scratchBuf{}}
}

// Name returns "cuda:N".
func (b *Backend) Name() string { return fmt.Sprintf("cuda:%d", b.dev.ordinal) }

// DeviceName is the GPU's marketing name ("NVIDIA H100 80GB HBM3").
func (b *Backend) DeviceName() string { return b.dev.name }

// ComputeCapability returns major*10 + minor.
func (b *Backend) ComputeCapability() int { return b.dev.cc }

// Multiprocessors is the number of SMs.
func (b *Backend) Multiprocessors() int { return b.dev.sms }

// Arch names the PTX the kernels were loaded from ("sm_90").
func (b *Backend) Arch() string { return b.dev.arch }

// DriverVersion is the CUDA version the driver supports (12040 for 12.4).
func (b *Backend) DriverVersion() int {
	var v int32
	if b.dev.d.cuDriverGetVersion == nil || b.dev.d.cuDriverGetVersion(&v) != cudaSuccess {
		return 0
	}
	return int(v)
}

// Allocated is the device memory held by this backend's resources, in bytes.
func (b *Backend) Allocated() int64 { return b.allocated.Load() }

// MemInfo returns the device's free and total memory (cuMemGetInfo).
func (b *Backend) MemInfo() (free, total int64, err error) {
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return 0, 0, err
	}
	defer b.dev.unlock()
	var f, t uint64
	if err := b.dev.d.check("cuMemGetInfo_v2", b.dev.d.cuMemGetInfo(&f, &t)); err != nil {
		return 0, 0, err
	}
	return int64(f), int64(t), nil
}

// CanFit reports whether bytes more fit in the free device memory, keeping
// fitReserve spare.
func (b *Backend) CanFit(bytes int64) error {
	free, total, err := b.MemInfo()
	if err != nil {
		return err
	}
	if bytes+fitReserve > free {
		return fmt.Errorf("%w: %s needs %d MiB (+%d MiB reserve), %s (%s) has %d MiB free of %d MiB",
			ErrOutOfMemory, "the model", bytes>>20, fitReserve>>20, b.Name(), b.dev.name, free>>20, total>>20)
	}
	return nil
}

// failure returns the error to report for err: once the device has failed
// (a sticky driver error, ErrDeviceFailed), that failure, recorded the
// first time it is seen.
func (b *Backend) failure(err error) error {
	if f := b.Failed(); f != nil {
		return f
	}
	if errors.Is(err, ErrDeviceFailed) {
		f := fmt.Errorf("%s (%s) failed and cannot run work until it is reset; unload its models "+
			"(the device is reset when the last one goes) or restart: %w", b.Name(), b.dev.name, err)
		b.failed.CompareAndSwap(nil, &f)
		return *b.failed.Load()
	}
	return err
}

// Failed returns the device failure that stops this backend, or nil: after
// a kernel fault the context is unusable, every op and load fails with this
// error (wrapping ErrDeviceFailed), and the backend holds no device work
// until it is closed. It implements engine.HealthReporter and is safe to
// call from any goroutine.
func (b *Backend) Failed() error {
	if f := b.failed.Load(); f != nil {
		return *f
	}
	return nil
}

// fail records the first error of a batch of ops.
func (b *Backend) fail(err error) {
	if err == nil {
		return
	}
	err = b.failure(err)
	if b.err == nil {
		b.err = err
	}
}

// takeErr returns and clears the error of the batch of ops; a device
// failure is returned every time.
func (b *Backend) takeErr() error {
	err := b.err
	b.err = nil
	if f := b.Failed(); f != nil {
		return f
	}
	return err
}

// alloc allocates device memory; the device must be locked.
func (b *Backend) alloc(bytes int64, what string) (uint64, error) {
	if err := b.Failed(); err != nil {
		return 0, err
	}
	if bytes <= 0 {
		bytes = 4 // a zero-sized resource still gets a distinct valid pointer
	}
	var p uint64
	if err := b.dev.d.check("cuMemAlloc_v2", b.dev.d.cuMemAlloc(&p, uint64(bytes))); err != nil {
		if errors.Is(err, ErrDeviceFailed) {
			return 0, b.failure(err)
		}
		if errors.Is(err, ErrOutOfMemory) {
			free, total := b.memInfoLocked()
			return 0, fmt.Errorf("cuda: %s: %d MiB requested, %d MiB free of %d MiB: %w", what, bytes>>20, free>>20, total>>20, err)
		}
		return 0, fmt.Errorf("cuda: %s: %w", what, err)
	}
	b.allocated.Add(bytes)
	return p, nil
}

func (b *Backend) memInfoLocked() (free, total int64) {
	var f, t uint64
	b.dev.d.cuMemGetInfo(&f, &t)
	return int64(f), int64(t)
}

// free releases device memory after the queued work that may use it; the
// device must be locked.
func (b *Backend) free(p uint64, bytes int64) {
	if p == 0 {
		return
	}
	if bytes <= 0 {
		bytes = 4
	}
	// On a failed device the memory goes with the context's reset.
	if b.Failed() == nil {
		b.fail(b.dev.d.check("cuStreamSynchronize", b.dev.d.cuStreamSynchronize(b.dev.stream)))
		b.fail(b.dev.d.check("cuMemFree_v2", b.dev.d.cuMemFree(p)))
	}
	b.allocated.Add(-bytes)
}

// upload copies host bytes to the device on the backend's stream and waits
// for the copy; the device must be locked. The wait is what lets src change
// or be collected when upload returns: an asynchronous copy from pageable
// memory may read its source at any time until the stream is synchronized
// (and on systems where the GPU reads host memory directly it does), so the
// source must outlive the copy. The copy is on the backend's stream, not
// the legacy default stream (cuMemcpyHtoD_v2), because the stream is
// non-blocking: a legacy copy is not ordered before the kernels that read
// its destination.
func (b *Backend) upload(dst uint64, src unsafe.Pointer, bytes int64) error {
	if bytes == 0 {
		return nil
	}
	if b.capturing {
		return errCaptureUpload
	}
	if err := b.Failed(); err != nil {
		return err
	}
	d := b.dev.d
	if err := d.check("cuMemcpyHtoDAsync_v2", d.cuMemcpyHtoDAsync(dst, src, uint64(bytes), b.dev.stream)); err != nil {
		return b.failure(err)
	}
	err := d.check("cuStreamSynchronize", d.cuStreamSynchronize(b.dev.stream))
	runtime.KeepAlive(src)
	if err != nil {
		return b.failure(err)
	}
	return nil
}

// ---- weights --------------------------------------------------------------

// weight is a tensor resident on the device in its GGUF type; vectors (ne1
// = 1, the norm weights) of F16 or BF16 are widened to F32 at load, since
// the norm kernel reads f32.
type weight struct {
	b        *Backend
	typ      gguf.Type
	ne0, ne1 int
	rowBytes int64
	ptr      uint64
	bytes    int64
}

func (w *weight) Type() gguf.Type      { return w.typ }
func (w *weight) Dims() (ne0, ne1 int) { return w.ne0, w.ne1 }
func (w *weight) Bytes() int64         { return w.bytes }
func (w *weight) Free()                { w.b.release(&w.ptr, w.bytes) }
func (b *Backend) release(p *uint64, bytes int64) {
	if *p == 0 {
		return
	}
	if b.closed {
		// Freed after Close (which reported it as not freed): the stream and
		// the context reference are gone, so there is nothing to call.
		*p = 0
		return
	}
	if err := b.dev.lock(); err != nil {
		b.fail(err)
	}
	b.free(*p, bytes)
	*p = 0
	b.dev.unlock()
}

// LoadWeight uploads a tensor in its GGUF type.
func (b *Backend) LoadWeight(name string, typ gguf.Type, ne0, ne1 int, data []byte) (engine.Weight, error) {
	if !Supported(typ) {
		return nil, fmt.Errorf("cuda: tensor %q: type %s has no CUDA kernels", name, typ)
	}
	if ne0 <= 0 || ne1 <= 0 || ne0%typ.BlockSize() != 0 {
		return nil, fmt.Errorf("cuda: tensor %q: shape [%d, %d] invalid for %s", name, ne0, ne1, typ)
	}
	// The kernels dequantize 8 elements at a time (kernels/common.cuh deq8_*).
	if ne0%8 != 0 {
		return nil, fmt.Errorf("cuda: tensor %q: ne0 %d is not a multiple of 8", name, ne0)
	}
	rowBytes := typ.RowSize(int64(ne0))
	if int64(len(data)) != rowBytes*int64(ne1) {
		return nil, fmt.Errorf("cuda: tensor %q: %d bytes, want %d for %s [%d, %d]", name, len(data), rowBytes*int64(ne1), typ, ne0, ne1)
	}
	if ne1 == 1 && typ != gguf.TypeF32 {
		f, err := widenVector(typ, data)
		if err != nil {
			return nil, fmt.Errorf("cuda: tensor %q: %w", name, err)
		}
		data = unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
		typ, rowBytes = gguf.TypeF32, int64(4*ne0)
	}
	w := &weight{b: b, typ: typ, ne0: ne0, ne1: ne1, rowBytes: rowBytes, bytes: int64(len(data))}
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return nil, err
	}
	defer b.dev.unlock()
	p, err := b.alloc(w.bytes, fmt.Sprintf("tensor %q", name))
	if err != nil {
		return nil, err
	}
	w.ptr = p
	// On the backend's stream, waited for: data may be a memory-mapped file
	// region that the caller unmaps after loading.
	if err := b.upload(p, unsafe.Pointer(&data[0]), int64(len(data))); err != nil {
		b.free(p, w.bytes)
		return nil, fmt.Errorf("cuda: tensor %q: %w", name, err)
	}
	return w, nil
}

// widenVector converts an F16 or BF16 vector to float32.
func widenVector(typ gguf.Type, data []byte) ([]float32, error) {
	n := len(data) / 2
	out := make([]float32, n)
	for i := range out {
		h := uint16(data[2*i]) | uint16(data[2*i+1])<<8
		switch typ {
		case gguf.TypeF16:
			out[i] = gguf.F16ToF32(h)
		case gguf.TypeBF16:
			out[i] = gguf.BF16ToF32(h)
		default:
			return nil, fmt.Errorf("%s vectors are not supported (norm weights must be F32, F16 or BF16)", typ)
		}
	}
	return out, nil
}

// ---- buffers -------------------------------------------------------------------

// buffer is an f32 activation buffer.
type buffer struct {
	b   *Backend
	n   int
	ptr uint64
}

func (x *buffer) Len() int { return x.n }
func (x *buffer) Free()    { x.b.release(&x.ptr, int64(4*x.n)) }

// NewBuffer allocates n float32 elements.
func (b *Backend) NewBuffer(n int) (engine.Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("cuda: buffer of %d elements", n)
	}
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return nil, err
	}
	defer b.dev.unlock()
	p, err := b.alloc(int64(4*n), "buffer")
	if err != nil {
		return nil, err
	}
	return &buffer{b: b, n: n, ptr: p}, nil
}

// ---- batch rows -----------------------------------------------------------------

// rowsBuf is a batch on the device as int32 (token, pos, seq) triples
// followed by the block tables ([seqs, width] int32), with the host copies
// the ops use for bounds checks and launch shapes. One allocation holds
// both: rows at ptr, the tables at tab.
type rowsBuf struct {
	b        *Backend
	cap      int
	tabCap   int
	ptr, tab uint64
	host     []engine.Row
	packed   []int32
	hostTab  []int32
	width    int
	gen      uint64 // generation of the uploaded tables (engine.BlockTables.Gen)
	// sets counts Set calls; checked, checkedC and checkedN record the
	// last batch checkSlots passed: its Set, cache and rows.
	sets, checked uint64
	checkedC      *kvCache
	checkedN      int
}

func (r *rowsBuf) Cap() int { return r.cap }
func (r *rowsBuf) Free()    { r.b.release(&r.ptr, r.bytes()) }

// bytes is the size of the allocation.
func (r *rowsBuf) bytes() int64 { return int64(12*r.cap) + int64(4*r.tabCap) }

// Set validates and uploads the batch, and the block tables when their
// generation changed.
func (r *rowsBuf) Set(rows []engine.Row, t engine.BlockTables) error {
	if len(rows) > r.cap {
		return fmt.Errorf("cuda: batch of %d rows exceeds capacity %d", len(rows), r.cap)
	}
	if len(t.Table) > r.tabCap {
		return fmt.Errorf("cuda: block tables of %d entries exceed capacity %d", len(t.Table), r.tabCap)
	}
	for i, row := range rows {
		if row.Token < 0 || row.Pos < 0 || row.Seq < 0 {
			return fmt.Errorf("cuda: batch row %d: negative field in %+v", i, row)
		}
	}
	r.sets++
	r.host = append(r.host[:0], rows...)
	r.packed = r.packed[:0]
	for _, row := range rows {
		r.packed = append(r.packed, row.Token, row.Pos, row.Seq)
	}
	newTab := t.Gen == 0 || t.Gen != r.gen || t.Width != r.width || len(t.Table) != len(r.hostTab)
	if newTab {
		r.hostTab = append(r.hostTab[:0], t.Table...)
		r.width, r.gen = t.Width, 0 // gen is set once the upload succeeded
	}
	if len(rows) == 0 && !newTab {
		return nil
	}
	b := r.b
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return err
	}
	defer b.dev.unlock()
	if len(rows) > 0 {
		if err := b.upload(r.ptr, unsafe.Pointer(&r.packed[0]), int64(4*len(r.packed))); err != nil {
			return err
		}
	}
	if newTab && len(r.hostTab) > 0 {
		if err := b.upload(r.tab, unsafe.Pointer(&r.hostTab[0]), int64(4*len(r.hostTab))); err != nil {
			return err
		}
	}
	if newTab {
		r.gen = t.Gen
	}
	return nil
}

// NewRows allocates a batch of up to capacity rows and block tables of up
// to table entries.
func (b *Backend) NewRows(capacity, table int) (engine.Rows, error) {
	if capacity <= 0 || table < 0 {
		return nil, fmt.Errorf("cuda: rows capacity %d, table capacity %d", capacity, table)
	}
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return nil, err
	}
	defer b.dev.unlock()
	r := &rowsBuf{b: b, cap: capacity, tabCap: table, packed: make([]int32, 0, 3*capacity), hostTab: make([]int32, 0, table)}
	p, err := b.alloc(r.bytes(), "rows")
	if err != nil {
		return nil, err
	}
	r.ptr, r.tab = p, p+uint64(12*capacity)
	return r, nil
}

// ---- KV cache -------------------------------------------------------------------

// kvCache holds K and V of every layer in one allocation: layer l's K is at
// l*2*layerBytes, its V right after, each [blocks, blockSize, kvDim].
type kvCache struct {
	b          *Backend
	shape      engine.KVShape
	elt        int64
	layerBytes int64
	ptr        uint64
	bytes      int64
}

func (c *kvCache) Blocks() int    { return c.shape.Blocks }
func (c *kvCache) BlockSize() int { return c.shape.BlockSize }
func (c *kvCache) Bytes() int64   { return c.bytes }
func (c *kvCache) Free()          { c.b.release(&c.ptr, c.bytes) }

func (c *kvCache) k(layer int) uint64 { return c.ptr + uint64(2*int64(layer)*c.layerBytes) }
func (c *kvCache) v(layer int) uint64 { return c.k(layer) + uint64(c.layerBytes) }

// NewKVCache allocates and zeroes a cache.
func (b *Backend) NewKVCache(s engine.KVShape) (engine.KVCache, error) {
	if s.Layers <= 0 || s.Blocks <= 0 || s.BlockSize <= 0 || s.KVDim <= 0 {
		return nil, fmt.Errorf("cuda: kv cache shape %+v", s)
	}
	elt := int64(2)
	switch s.Type {
	case engine.KVF16:
	case engine.KVF32:
		elt = 4
	default:
		return nil, fmt.Errorf("cuda: kv cache type %d", s.Type)
	}
	c := &kvCache{b: b, shape: s, elt: elt, layerBytes: int64(s.Blocks) * int64(s.BlockSize) * int64(s.KVDim) * elt}
	c.bytes = 2 * int64(s.Layers) * c.layerBytes
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return nil, err
	}
	defer b.dev.unlock()
	p, err := b.alloc(c.bytes, "kv cache")
	if err != nil {
		return nil, err
	}
	c.ptr = p
	if err := b.dev.d.check("cuMemsetD32Async", b.dev.d.cuMemsetD32Async(p, 0, uint64(c.bytes/4), b.dev.stream)); err != nil {
		b.free(p, c.bytes)
		return nil, err
	}
	return c, nil
}

// ---- lifetime ------------------------------------------------------------------

// Close frees the backend's own buffers and module and releases the
// context. Resources handed out must have been freed first; their memory is
// returned with the primary context's last release.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return err
	}
	defer b.dev.unlock()
	// Queued kernels must finish before their module is unloaded and their
	// stream destroyed, whether or not a buffer below is freed.
	if b.Failed() == nil {
		b.fail(b.dev.d.check("cuStreamSynchronize", b.dev.d.cuStreamSynchronize(b.dev.stream)))
	}
	for _, t := range b.invFreq {
		b.free(t.ptr, t.bytes)
	}
	clear(b.invFreq)
	for i := range b.scratch {
		b.free(b.scratch[i].ptr, b.scratch[i].bytes)
		b.scratch[i] = scratchBuf{}
	}
	b.freeRetired()
	err := b.takeErr()
	leaked := b.allocated.Load()
	b.dev.release()
	if b.dev.closeUser() && b.Failed() != nil {
		// The last backend on a failed device: reset its primary context so
		// that the next load gets a working one.
		if rerr := b.dev.d.check("cuDevicePrimaryCtxReset_v2", b.dev.d.cuDevicePrimaryCtxReset(b.dev.dev)); rerr != nil {
			err = fmt.Errorf("%w; reset: %v", err, rerr)
		}
	}
	if err == nil && leaked != 0 {
		err = fmt.Errorf("cuda: close: %d bytes of resources were not freed", leaked)
	}
	return err
}
