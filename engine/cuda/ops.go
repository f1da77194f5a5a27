// This file implements the ops of engine.Backend as kernel launches on the
// device's stream. A shape mismatch is a programmer error and panics; a bad
// batch (a token or position out of range) and every driver failure are
// recorded as the sticky error that Sync and Read return.
package cuda

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// Block sizes of the launches (kernels/*.cu).
const (
	elemThreads  = 256 // swiglu, add, copy_rows, kv_store
	embedThreads = 128 // embed.cu EMBED_THREADS
	normThreads  = 256 // rmsnorm_f32
	attnThreads  = 128 // attention.cu ATT_THREADS
	attnChunk    = 256 // attention.cu ATT_CHUNK
	attnMaxHead  = 256 // attention.cu ATT_MAX_HEAD
	argmaxThread = 256 // argmax.cu, fixed by its shared arrays
)

// attnScratchMax bounds the attention partials of one launch (a long
// context's prefill would otherwise need gigabytes). A variable so tests can
// force several row groups.
var attnScratchMax int64 = 64 << 20

// Scratch buffers the ops grow on demand.
const (
	scratchAttn   = iota // attention partial results
	scratchIdx           // CopyRows indices
	scratchArgmax        // Argmax results
	numScratch
)

type scratchBuf struct {
	ptr   uint64
	bytes int64
}

// scratchPtr returns scratch buffer i with at least bytes; the device must be
// locked. Growing frees the old buffer after the queued work, or, while a
// graph that may use it lives, retires it until the last graph goes. It
// must not grow during a graph capture (freeing synchronizes, which ends a
// capture); a captured step must first run once uncaptured with the same
// shapes.
func (b *Backend) scratchPtr(i int, bytes int64) (uint64, error) {
	s := &b.scratch[i]
	if s.bytes >= bytes {
		return s.ptr, nil
	}
	if b.capturing {
		return 0, fmt.Errorf("cuda: scratch buffer %d must grow from %d to %d bytes inside a graph capture; run the step once uncaptured first", i, s.bytes, bytes)
	}
	if b.graphs > 0 && s.ptr != 0 {
		b.retired = append(b.retired, *s)
	} else {
		b.free(s.ptr, s.bytes)
	}
	*s = scratchBuf{}
	p, err := b.alloc(bytes, "scratch")
	if err != nil {
		return 0, err
	}
	*s = scratchBuf{p, bytes}
	return p, nil
}

// freeRetired frees the scratch buffers kept for graphs; the device must be
// locked.
func (b *Backend) freeRetired() {
	for _, s := range b.retired {
		b.free(s.ptr, s.bytes)
	}
	b.retired = nil
}

// op runs f with the device locked unless an error is already pending.
func (b *Backend) op(f func() error) {
	if b.err != nil {
		return
	}
	if err := b.Failed(); err != nil {
		b.fail(err)
		return
	}
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		b.fail(err)
		return
	}
	err := f()
	b.dev.unlock()
	b.fail(err)
}

func buf(x engine.Buffer) *buffer    { return x.(*buffer) }
func wgt(w engine.Weight) *weight    { return w.(*weight) }
func rowsOf(r engine.Rows) *rowsBuf  { return r.(*rowsBuf) }
func kvOf(c engine.KVCache) *kvCache { return c.(*kvCache) }

func need(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("cuda: "+format, args...))
	}
}

// batch returns the first n uploaded rows.
func batch(r *rowsBuf, n int) []engine.Row {
	need(n >= 0 && n <= len(r.host), "%d rows used, %d set", n, len(r.host))
	return r.host[:n]
}

// replayBatch is batch for a graph's launch, where too few rows is an
// error of the caller's step, not of the captured op.
func replayBatch(r *rowsBuf, n int) ([]engine.Row, error) {
	if n > len(r.host) {
		return nil, fmt.Errorf("cuda: the graph reads %d batch rows, %d are set", n, len(r.host))
	}
	return r.host[:n], nil
}

// Write copies src to dst[0:len(src)].
func (b *Backend) Write(dst engine.Buffer, src []float32) error {
	d := buf(dst)
	need(len(src) <= d.n, "write of %d floats into a buffer of %d", len(src), d.n)
	if len(src) == 0 {
		return nil
	}
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return err
	}
	defer b.dev.unlock()
	return b.upload(d.ptr, unsafe.Pointer(&src[0]), int64(4*len(src)))
}

// Read waits for the queued work and copies src[0:len(dst)] to dst. It
// returns the sticky error first, if any.
func (b *Backend) Read(dst []float32, src engine.Buffer) error {
	s := buf(src)
	need(len(dst) <= s.n, "read of %d floats from a buffer of %d", len(dst), s.n)
	if err := b.Failed(); err != nil {
		return err
	}
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return err
	}
	defer b.dev.unlock()
	if len(dst) > 0 && b.err == nil {
		b.fail(b.dev.d.check("cuMemcpyDtoHAsync_v2",
			b.dev.d.cuMemcpyDtoHAsync(unsafe.Pointer(&dst[0]), s.ptr, uint64(4*len(dst)), b.dev.stream)))
	}
	b.fail(b.dev.d.check("cuStreamSynchronize", b.dev.d.cuStreamSynchronize(b.dev.stream)))
	runtime.KeepAlive(dst) // the copy writes dst until the synchronize
	return b.takeErr()
}

// Sync waits for the queued work and returns the sticky error.
func (b *Backend) Sync() error {
	if err := b.Failed(); err != nil {
		b.err = nil
		return err
	}
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return err
	}
	defer b.dev.unlock()
	b.fail(b.dev.d.check("cuStreamSynchronize", b.dev.d.cuStreamSynchronize(b.dev.stream)))
	return b.takeErr()
}

// Embed writes dst[r] = row rows[r].Token of w.
func (b *Backend) Embed(dst engine.Buffer, w engine.Weight, rows engine.Rows, n int) {
	d, ww, rs := buf(dst), wgt(w), rowsOf(rows)
	need(d.n >= n*ww.ne0, "embed: dst %d < %d", d.n, n*ww.ne0)
	batch(rs, n)
	check := func() error {
		rws, err := replayBatch(rs, n)
		if err != nil {
			return err
		}
		for i, r := range rws {
			if int(r.Token) >= ww.ne1 {
				return fmt.Errorf("cuda: embed: row %d: token %d outside the vocabulary of %d", i, r.Token, ww.ne1)
			}
		}
		return nil
	}
	if err := check(); err != nil {
		b.fail(err)
		return
	}
	b.onReplay(check)
	if n == 0 {
		return
	}
	b.op(func() error {
		return b.dev.launchKernel(embedKernel(ww.typ),
			dim3{uint32(n), uint32((ww.ne0/8 + embedThreads - 1) / embedThreads), 1}, dim3{embedThreads, 1, 1},
			argPtr(d.ptr), argPtr(ww.ptr), argPtr(rs.ptr), argInt(ww.ne0), argU64(uint64(ww.rowBytes)))
	})
}

// RMSNorm normalizes n rows of dim elements and scales them by w.
func (b *Backend) RMSNorm(dst, x engine.Buffer, w engine.Weight, n, dim int, eps float32) {
	d, xx, ww := buf(dst), buf(x), wgt(w)
	need(ww.typ == gguf.TypeF32 && ww.ne0 == dim && ww.ne1 == 1, "rmsnorm: weight %s [%d, %d] for dim %d", ww.typ, ww.ne0, ww.ne1, dim)
	need(d.n >= n*dim && xx.n >= n*dim, "rmsnorm: buffers %d, %d < %d", d.n, xx.n, n*dim)
	if n == 0 {
		return
	}
	b.op(func() error {
		return b.dev.launchKernel(kRMSNorm, dim3{uint32(n), 1, 1}, dim3{normThreads, 1, 1},
			argPtr(d.ptr), argPtr(xx.ptr), argPtr(ww.ptr), argInt(dim), argF32(eps))
	})
}

// MatMul writes dst[n, ne1] = x[n, ne0] · Wᵀ.
func (b *Backend) MatMul(dst engine.Buffer, w engine.Weight, x engine.Buffer, n int) {
	d, ww, xx := buf(dst), wgt(w), buf(x)
	need(xx.n >= n*ww.ne0 && d.n >= n*ww.ne1, "matmul: x %d, dst %d for [%d, %d] x %d rows", xx.n, d.n, ww.ne0, ww.ne1, n)
	if n == 0 {
		return
	}
	k := chooseMatMul(ww.typ, b.dev.cc, n)
	need(k.kind != kindNone, "matmul: no kernel for %s", ww.typ)
	grid, block := k.launchShape(ww.ne1, n)
	b.op(func() error {
		return b.dev.launchKernel(k.name, grid, block,
			argPtr(d.ptr), argPtr(ww.ptr), argPtr(xx.ptr), argInt(ww.ne0), argInt(ww.ne1), argInt(n), argU64(uint64(ww.rowBytes)))
	})
}

// ropeKey identifies a RoPE frequency table.
type ropeKey struct {
	headDim int
	base    float32
}

// ropeTable returns the device table invFreq[i] = base^(-2i/headDim) in
// float64 (the CPU backend's formula), uploading it on first use; the device
// must be locked.
func (b *Backend) ropeTable(headDim int, base float32) (uint64, error) {
	key := ropeKey{headDim, base}
	if t, ok := b.invFreq[key]; ok {
		return t.ptr, nil
	}
	tab := make([]float64, headDim/2)
	for i := range tab {
		tab[i] = math.Pow(float64(base), -2*float64(i)/float64(headDim))
	}
	bytes := int64(8 * len(tab))
	p, err := b.alloc(bytes, "rope table")
	if err != nil {
		return 0, err
	}
	// Waited for: tab is a Go slice the device must not read later.
	if err := b.upload(p, unsafe.Pointer(&tab[0]), bytes); err != nil {
		b.free(p, bytes)
		return 0, err
	}
	b.invFreq[key] = scratchBuf{p, bytes}
	return p, nil
}

// RoPE rotates the nHead heads of n rows of x in place, NeoX layout.
func (b *Backend) RoPE(x engine.Buffer, rows engine.Rows, n, nHead, headDim int, base float32) {
	xx, rs := buf(x), rowsOf(rows)
	need(headDim%2 == 0 && headDim/2 <= 1024, "rope: headDim %d", headDim)
	need(xx.n >= n*nHead*headDim, "rope: x %d < %d", xx.n, n*nHead*headDim)
	batch(rs, n)
	if n == 0 {
		return
	}
	b.op(func() error {
		tab, err := b.ropeTable(headDim, base)
		if err != nil {
			return err
		}
		return b.dev.launchKernel(kRoPE, dim3{uint32(n), uint32(nHead), 1}, dim3{uint32(headDim / 2), 1, 1},
			argPtr(xx.ptr), argPtr(rs.ptr), argPtr(tab), argInt(nHead), argInt(headDim))
	})
}

// checkSlots records an error if a row's cache rows are not all mapped by
// the block tables to blocks of c (the block of its position for a store,
// every block up to it for attention), and has a graph being captured check
// it again at every launch. A batch passes once per Set and cache.
func (b *Backend) checkSlots(op string, c *kvCache, rs *rowsBuf, n int) bool {
	batch(rs, n)
	check := func() error {
		rows, err := replayBatch(rs, n)
		if err != nil {
			return err
		}
		if rs.checked == rs.sets && rs.checkedC == c && rs.checkedN >= n {
			return nil
		}
		bs, w := c.shape.BlockSize, rs.width
		for i, r := range rows {
			if j := int(r.Pos) / bs; j >= w || (int(r.Seq)+1)*w > len(rs.hostTab) {
				return fmt.Errorf("cuda: %s: row %d: (seq %d, pos %d) outside the block tables (%d slots x %d blocks of %d positions)",
					op, i, r.Seq, r.Pos, len(rs.hostTab)/max(w, 1), w, bs)
			}
			for j, blk := range rs.hostTab[int(r.Seq)*w : int(r.Seq)*w+int(r.Pos)/bs+1] {
				if blk < 0 || int(blk) >= c.shape.Blocks {
					return fmt.Errorf("cuda: %s: row %d: (seq %d, pos %d): positions %d.. map to block %d of a %d-block cache",
						op, i, r.Seq, r.Pos, j*bs, blk, c.shape.Blocks)
				}
			}
		}
		rs.checked, rs.checkedC, rs.checkedN = rs.sets, c, n
		return nil
	}
	if err := check(); err != nil {
		b.fail(err)
		return false
	}
	b.onReplay(check)
	return true
}

// StoreKV writes rows of k and v into layer's cache, in the blocks the
// tables map their positions to.
func (b *Backend) StoreKV(c engine.KVCache, layer int, k, v engine.Buffer, rows engine.Rows, n int) {
	cc, kk, vv, rs := kvOf(c), buf(k), buf(v), rowsOf(rows)
	dim := cc.shape.KVDim
	need(layer >= 0 && layer < cc.shape.Layers, "store kv: layer %d of %d", layer, cc.shape.Layers)
	need(kk.n >= n*dim && vv.n >= n*dim, "store kv: k %d, v %d < %d", kk.n, vv.n, n*dim)
	if n == 0 || !b.checkSlots("store kv", cc, rs, n) {
		return
	}
	name := kKVStoreF16
	if cc.shape.Type == engine.KVF32 {
		name = kKVStoreF32
	}
	b.op(func() error {
		return b.dev.launchKernel(name, dim3{uint32(n), uint32((dim + elemThreads - 1) / elemThreads), 1}, dim3{elemThreads, 1, 1},
			argPtr(cc.k(layer)), argPtr(cc.v(layer)), argPtr(kk.ptr), argPtr(vv.ptr), argPtr(rs.ptr), argPtr(rs.tab),
			argInt(rs.width), argInt(cc.shape.BlockSize), argInt(dim))
	})
}

// Attention computes softmax(q·Kᵀ·scale)·V over each row's cached positions.
func (b *Backend) Attention(dst, q engine.Buffer, c engine.KVCache, layer int, rows engine.Rows, n, nHead, nHeadKV, headDim int, scale float32) {
	d, qq, cc, rs := buf(dst), buf(q), kvOf(c), rowsOf(rows)
	need(nHeadKV > 0 && nHead%nHeadKV == 0, "attention: %d heads over %d kv heads", nHead, nHeadKV)
	need(headDim > 0 && headDim <= attnMaxHead, "attention: headDim %d (at most %d)", headDim, attnMaxHead)
	need(nHeadKV*headDim == cc.shape.KVDim, "attention: %d kv heads x %d != kv dim %d", nHeadKV, headDim, cc.shape.KVDim)
	need(layer >= 0 && layer < cc.shape.Layers, "attention: layer %d of %d", layer, cc.shape.Layers)
	need(qq.n >= n*nHead*headDim && d.n >= n*nHead*headDim, "attention: q %d, dst %d < %d", qq.n, d.n, n*nHead*headDim)
	rws := batch(rs, n)
	if n == 0 || !b.checkSlots("attention", cc, rs, n) {
		return
	}
	maxPos := 0
	for _, r := range rws {
		maxPos = max(maxPos, int(r.Pos))
	}
	// A graph replays its split count: captured, the splits cover every
	// position the block tables can map (splits past a row's position are
	// empty and cost one early exit).
	full := attnSplits(rs.width*cc.shape.BlockSize - 1)
	nSplit := attnSplits(maxPos)
	if b.capturing {
		nSplit = full
	}
	name := kAttnF16
	if cc.shape.Type == engine.KVF32 {
		name = kAttnF32
	}
	group, partBytes := attnGroup(n, nHead, nSplit, headDim)
	// The scratch is sized for a capture of the same batch as well, so the
	// uncaptured run of a step prepares it.
	_, fullBytes := attnGroup(n, nHead, full, headDim)
	b.op(func() error {
		part, err := b.scratchPtr(scratchAttn, max(partBytes, fullBytes))
		if err != nil {
			return err
		}
		for r0 := 0; r0 < n; r0 += group {
			g := min(group, n-r0)
			qOff := uint64(4 * r0 * nHead * headDim)
			err = b.dev.launchKernel(name, dim3{uint32(nSplit), uint32(nHead), uint32(g)}, dim3{attnThreads, 1, 1},
				argPtr(part), argPtr(qq.ptr+qOff), argPtr(cc.k(layer)), argPtr(cc.v(layer)), argPtr(rs.ptr+uint64(12*r0)),
				argPtr(rs.tab), argInt(nHead), argInt(nHeadKV), argInt(headDim), argInt(rs.width), argInt(cc.shape.BlockSize),
				argF32(scale))
			if err != nil {
				return err
			}
			err = b.dev.launchKernel(kAttnReduce, dim3{uint32(nHead), uint32(g), 1}, dim3{attnThreads, 1, 1},
				argPtr(d.ptr+qOff), argPtr(part), argInt(nHead), argInt(headDim), argInt(nSplit))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// attnSplits is the number of attention splits that cover positions
// 0..maxPos.
func attnSplits(maxPos int) int { return maxPos/attnChunk + 1 }

// attnGroup returns how many rows go into one attention launch and the
// scratch bytes their partial results take: 4*(headDim+2) bytes per (row,
// head, split), in groups under attnScratchMax and within the grid's z
// limit (65535).
func attnGroup(n, nHead, nSplit, headDim int) (group int, bytes int64) {
	perRow := int64(4 * nHead * nSplit * (headDim + 2))
	group = int(max(1, min(int64(n), attnScratchMax/perRow, 65535)))
	return group, perRow * int64(group)
}

// SwiGLU writes dst[i] = silu(gate[i]) * up[i].
func (b *Backend) SwiGLU(dst, gate, up engine.Buffer, n int) {
	d, g, u := buf(dst), buf(gate), buf(up)
	need(d.n >= n && g.n >= n && u.n >= n, "swiglu: buffers shorter than %d", n)
	if n == 0 {
		return
	}
	b.op(func() error {
		return b.dev.launchKernel(kSwiGLU, grid1(n, elemThreads), dim3{elemThreads, 1, 1},
			argPtr(d.ptr), argPtr(g.ptr), argPtr(u.ptr), argInt(n))
	})
}

// Add writes dst[i] += x[i].
func (b *Backend) Add(dst, x engine.Buffer, n int) {
	d, xx := buf(dst), buf(x)
	need(d.n >= n && xx.n >= n, "add: buffers shorter than %d", n)
	if n == 0 {
		return
	}
	b.op(func() error {
		return b.dev.launchKernel(kAdd, grid1(n, elemThreads), dim3{elemThreads, 1, 1},
			argPtr(d.ptr), argPtr(xx.ptr), argInt(n))
	})
}

// CopyRows copies row idx[i] of src to row i of dst.
func (b *Backend) CopyRows(dst, src engine.Buffer, idx []int, dim int) {
	d, s := buf(dst), buf(src)
	need(d.n >= len(idx)*dim, "copy rows: dst %d < %d", d.n, len(idx)*dim)
	for _, i := range idx {
		need(i >= 0 && (i+1)*dim <= s.n, "copy rows: row %d outside src of %d", i, s.n)
	}
	if len(idx) == 0 {
		return
	}
	b.idxHost = b.idxHost[:0]
	for _, i := range idx {
		b.idxHost = append(b.idxHost, int32(i))
	}
	b.op(func() error {
		p, err := b.scratchPtr(scratchIdx, int64(4*len(idx)))
		if err != nil {
			return err
		}
		if err := b.upload(p, unsafe.Pointer(&b.idxHost[0]), int64(4*len(idx))); err != nil {
			return err
		}
		return b.dev.launchKernel(kCopyRows, dim3{uint32(len(idx)), uint32((dim + elemThreads - 1) / elemThreads), 1}, dim3{elemThreads, 1, 1},
			argPtr(d.ptr), argPtr(s.ptr), argPtr(p), argInt(dim))
	})
}

// Argmaxer is implemented by backends that can reduce logits to the index of
// their maximum on the device, so greedy decoding reads one int32 per row
// instead of nVocab floats. Use ArgmaxRows, which falls back to Read and a
// host scan on other backends.
type Argmaxer interface {
	// Argmax writes to dst[r] the index of the largest of the dim elements
	// of row r of x (ties to the lowest index), for len(dst) rows.
	Argmax(dst []int32, x engine.Buffer, dim int) error
}

// Argmax implements Argmaxer.
func (b *Backend) Argmax(dst []int32, x engine.Buffer, dim int) error {
	xx := buf(x)
	n := len(dst)
	need(dim > 0 && xx.n >= n*dim, "argmax: x %d < %d rows x %d", xx.n, n, dim)
	if n == 0 {
		return b.Sync()
	}
	var out uint64
	b.op(func() error {
		var err error
		out, err = b.scratchPtr(scratchArgmax, int64(4*n))
		if err != nil {
			return err
		}
		return b.dev.launchKernel(kArgmax, dim3{uint32(n), 1, 1}, dim3{argmaxThread, 1, 1},
			argPtr(out), argPtr(xx.ptr), argInt(dim))
	})
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return err
	}
	defer b.dev.unlock()
	if b.err == nil {
		b.fail(b.dev.d.check("cuMemcpyDtoHAsync_v2",
			b.dev.d.cuMemcpyDtoHAsync(unsafe.Pointer(&dst[0]), out, uint64(4*n), b.dev.stream)))
	}
	b.fail(b.dev.d.check("cuStreamSynchronize", b.dev.d.cuStreamSynchronize(b.dev.stream)))
	runtime.KeepAlive(dst) // the copy writes dst until the synchronize
	return b.takeErr()
}

// ArgmaxRows reduces n rows of dim logits in x to their argmax, on the device
// when b implements Argmaxer, else by reading the logits back.
func ArgmaxRows(b engine.Backend, dst []int32, x engine.Buffer, dim int) error {
	if a, ok := b.(Argmaxer); ok {
		return a.Argmax(dst, x, dim)
	}
	host := make([]float32, len(dst)*dim)
	if err := b.Read(host, x); err != nil {
		return err
	}
	for r := range dst {
		row := host[r*dim : (r+1)*dim]
		best := int32(-1)
		for i, v := range row {
			if v == v && (best < 0 || v > row[best]) {
				best = int32(i)
			}
		}
		dst[r] = best
	}
	return nil
}
