// This file holds the row-wise ops of the backend: Embed, RMSNorm, RoPE,
// SwiGLU, Add and CopyRows. Each is written plainly in float32 (sums of
// squares in float64, as ggml does) and parallel over rows where a batch
// makes that worth it.

package cpu

import (
	"fmt"
	"math"

	"github.com/helexa/helexa/engine"
)

// embedTask dequantizes token rows of the embedding.
type embedTask struct {
	dst  []float32
	w    *weight
	rows []engine.Row
}

func (t *embedTask) run(_, lo, hi int) {
	ne0 := t.w.ne0
	for r := lo; r < hi; r++ {
		tok := int(t.rows[r].Token)
		if t.w.f32 != nil {
			copy(t.dst[r*ne0:(r+1)*ne0], t.w.f32[tok*ne0:(tok+1)*ne0])
			continue
		}
		dequantRow(t.w.typ, t.w.rowBytes(tok), t.dst[r*ne0:(r+1)*ne0])
	}
}

// Embed writes dst[r] = row rows[r].Token of w.
func (b *Backend) Embed(dst engine.Buffer, w engine.Weight, rs engine.Rows, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := &b.emb
	t.w = w.(*weight)
	t.dst = wbuf(dst)[:n*t.w.ne0]
	t.rows = batch(rs)[:n]
	for r := range t.rows {
		if tok := t.rows[r].Token; tok < 0 || int(tok) >= t.w.ne1 {
			panic(fmt.Sprintf("cpu: embed: token %d outside [0, %d)", tok, t.w.ne1))
		}
	}
	b.pool.parallel(t, n, 8) // a row is a dequantized nEmbd-wide copy: cheap, so several per chunk
	t.w, t.dst, t.rows = nil, nil, nil
}

// normTask is RMSNorm over rows of dim elements.
type normTask struct {
	dst, x, w []float32
	dim       int
	eps       float32
}

func (t *normTask) run(_, lo, hi int) {
	for r := lo; r < hi; r++ {
		x := t.x[r*t.dim : (r+1)*t.dim]
		d := t.dst[r*t.dim : (r+1)*t.dim]
		var sum float64
		for _, v := range x {
			sum += float64(v * v)
		}
		mean := float32(sum / float64(t.dim))
		scale := float32(1 / math.Sqrt(float64(mean+t.eps)))
		for i, v := range x {
			d[i] = (v * scale) * t.w[i]
		}
	}
}

// RMSNorm writes dst[r] = x[r] / sqrt(mean(x[r]²) + eps) * w.
func (b *Backend) RMSNorm(dst, x engine.Buffer, w engine.Weight, n, dim int, eps float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := &b.norm
	ww := w.(*weight)
	if ww.ne0*ww.ne1 != dim || ww.f32 == nil {
		panic(fmt.Sprintf("cpu: rmsnorm: weight [%d, %d] for dim %d", ww.ne0, ww.ne1, dim))
	}
	t.dst, t.x, t.w = wbuf(dst)[:n*dim], buf(x)[:n*dim], ww.f32
	t.dim, t.eps = dim, eps
	b.pool.parallel(t, n, max(1, elemChunk/dim)) // about elemChunk elements per chunk
	t.dst, t.x, t.w = nil, nil, nil
}

// maxHeadDim bounds headDim for the on-stack RoPE tables.
const maxHeadDim = 1024

// ropeTask rotates the heads of rows by their positions (NeoX layout).
type ropeTask struct {
	x              []float32
	rows           []engine.Row
	nHead, headDim int
	// invFreq[i] = base^(-2i/headDim) for the (base, headDim) it was built
	// for; rebuilt only when those change.
	invFreq     [maxHeadDim / 2]float64
	base        float32
	freqHeadDim int
}

func (t *ropeTask) run(_, lo, hi int) {
	half := t.headDim / 2
	var cos, sin [maxHeadDim / 2]float32
	for r := lo; r < hi; r++ {
		pos := float64(t.rows[r].Pos)
		for i := range half {
			s, c := math.Sincos(pos * t.invFreq[i])
			cos[i], sin[i] = float32(c), float32(s)
		}
		row := t.x[r*t.nHead*t.headDim : (r+1)*t.nHead*t.headDim]
		for h := range t.nHead {
			v := row[h*t.headDim : (h+1)*t.headDim]
			for i := range half {
				x0, x1 := v[i], v[i+half]
				v[i] = x0*cos[i] - x1*sin[i]
				v[i+half] = x0*sin[i] + x1*cos[i]
			}
		}
	}
}

// RoPE rotates each head of x by its row's position: element i pairs with
// i+headDim/2 and turns by pos·base^(-2i/headDim), computed in float64.
func (b *Backend) RoPE(x engine.Buffer, rs engine.Rows, n, nHead, headDim int, base float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if headDim%2 != 0 || headDim > maxHeadDim {
		panic(fmt.Sprintf("cpu: rope: headDim %d must be even and at most %d", headDim, maxHeadDim))
	}
	t := &b.rope
	if t.base != base || t.freqHeadDim != headDim {
		for i := range headDim / 2 {
			t.invFreq[i] = math.Pow(float64(base), -2*float64(i)/float64(headDim))
		}
		t.base, t.freqHeadDim = base, headDim
	}
	t.x, t.rows = wbuf(x)[:n*nHead*headDim], batch(rs)[:n]
	t.nHead, t.headDim = nHead, headDim
	b.pool.parallel(t, n, 4) // a row costs headDim/2 sincos plus every head's rotation
	t.x, t.rows = nil, nil
}

// elemTask is an elementwise op over n floats: SwiGLU (up != nil) or Add.
type elemTask struct {
	dst, a, up []float32
}

func (t *elemTask) run(_, lo, hi int) {
	d, a := t.dst[lo:hi], t.a[lo:hi]
	if t.up == nil {
		for i, v := range a {
			d[i] += v
		}
		return
	}
	swiglu(d, a, t.up[lo:hi])
}

// swiglu sets d[i] = silu(g[i])·u[i], with swigluAVX2 over the multiple of
// eight and swigluGo for the rest.
func swiglu(d, g, u []float32) {
	i := 0
	if hasAVX2 && len(g) >= 8 {
		i = len(g) &^ 7
		swigluAVX2(&d[0], &g[0], &u[0], i)
	}
	swigluGo(d[i:], g[i:], u[i:])
}

// swigluGo is silu(g)·u in float32 as ggml_vec_swiglu_f32, g/(1+e^-g) then
// ·u, with expf for e^-g; swigluAVX2 repeats it bit for bit. expf clamps
// its input to ±88, so e^-g is taken as +Inf where -g > 88: silu(g) is then
// -0 for g ≪ 0 as with an unclamped exp, and g for g ≫ 0 (expf(-88) = 0).
func swigluGo(d, g, u []float32) {
	u = u[:len(g)]
	d = d[:len(g)]
	for i, v := range g {
		x := -v
		e := expf(x)
		if x > 88 {
			e = float32(math.Inf(1))
		}
		d[i] = v / (1 + e) * u[i]
	}
}

// elemChunk is the smallest elementwise range worth a worker (a few µs).
const elemChunk = 4096

// SwiGLU writes dst[i] = silu(gate[i]) * up[i].
func (b *Backend) SwiGLU(dst, gate, up engine.Buffer, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := &b.elem
	t.dst, t.a, t.up = wbuf(dst)[:n], buf(gate)[:n], buf(up)[:n]
	b.pool.parallel(t, n, elemChunk)
	t.dst, t.a, t.up = nil, nil, nil
}

// Add writes dst[i] += x[i].
func (b *Backend) Add(dst, x engine.Buffer, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := &b.elem
	t.dst, t.a, t.up = wbuf(dst)[:n], buf(x)[:n], nil
	b.pool.parallel(t, n, elemChunk)
	t.dst, t.a = nil, nil
}

// CopyRows copies row idx[i] of src to row i of dst.
func (b *Backend) CopyRows(dst, src engine.Buffer, idx []int, dim int) {
	d, s := wbuf(dst), buf(src)
	for i, j := range idx {
		copy(d[i*dim:(i+1)*dim], s[j*dim:(j+1)*dim])
	}
}
