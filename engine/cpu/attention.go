// This file holds the KV cache and attention. The cache keeps, for every
// layer and sequence slot, Ctx rows of K and of V (nHeadKV*headDim wide) in
// f16 or f32. StoreKV writes the batch's rows at their (seq, pos) slots;
// Attention then lets each row attend to positions 0..pos of its own
// sequence, which makes it causal by construction.

package cpu

import (
	"fmt"
	"math"

	"github.com/helexa/helexa/engine"
)

// kvCache is the host KV cache. Exactly one of the f32 and f16 pairs is set.
type kvCache struct {
	s        engine.KVShape
	k32, v32 []float32
	k16, v16 []uint16
}

func (c *kvCache) Seqs() int { return c.s.Seqs }
func (c *kvCache) Ctx() int  { return c.s.Ctx }
func (c *kvCache) Free()     { c.k32, c.v32, c.k16, c.v16 = nil, nil, nil, nil }

func (c *kvCache) Bytes() int64 {
	return int64(len(c.k32)+len(c.v32))*4 + int64(len(c.k16)+len(c.v16))*2
}

// off is the element offset of the (layer, seq, pos) row.
func (c *kvCache) off(layer, seq, pos int) int {
	return ((layer*c.s.Seqs+seq)*c.s.Ctx + pos) * c.s.KVDim
}

// checkRow panics, naming op, when row's (seq, pos) slot is outside the
// cache: a batch the engine should have refused.
func (c *kvCache) checkRow(op string, row engine.Row) {
	if row.Seq < 0 || int(row.Seq) >= c.s.Seqs || row.Pos < 0 || int(row.Pos) >= c.s.Ctx {
		panic(fmt.Sprintf("cpu: %s: row (seq %d, pos %d) outside cache [%d, %d]", op, row.Seq, row.Pos, c.s.Seqs, c.s.Ctx))
	}
}

// maxKVElements bounds one of the K and V arrays (2^37 elements, 256 GiB in
// f16): a larger request is a configuration mistake, not an allocation to try.
const maxKVElements = 1 << 37

// NewKVCache allocates a zeroed cache.
func (b *Backend) NewKVCache(s engine.KVShape) (engine.KVCache, error) {
	if s.Layers <= 0 || s.Seqs <= 0 || s.Ctx <= 0 || s.KVDim <= 0 {
		return nil, fmt.Errorf("cpu: kv cache shape %+v", s)
	}
	n := 1
	for _, d := range [...]int{s.Layers, s.Seqs, s.Ctx, s.KVDim} {
		if n > maxKVElements/d {
			return nil, fmt.Errorf("cpu: kv cache %+v: more than %d elements", s, maxKVElements)
		}
		n *= d
	}
	c := &kvCache{s: s}
	switch s.Type {
	case engine.KVF32:
		c.k32, c.v32 = make([]float32, n), make([]float32, n)
	case engine.KVF16:
		c.k16, c.v16 = make([]uint16, n), make([]uint16, n)
	default:
		return nil, fmt.Errorf("cpu: kv cache type %d", s.Type)
	}
	b.growScratch(s.Ctx)
	return c, nil
}

// StoreKV writes row r of k and v at (rows[r].Seq, rows[r].Pos) of layer.
func (b *Backend) StoreKV(kc engine.KVCache, layer int, k, v engine.Buffer, rs engine.Rows, n int) {
	c := kc.(*kvCache)
	dim := c.s.KVDim
	kb, vb := buf(k), buf(v)
	for r, row := range batch(rs)[:n] {
		c.checkRow("storekv", row)
		o := c.off(layer, int(row.Seq), int(row.Pos))
		ks, vs := kb[r*dim:(r+1)*dim], vb[r*dim:(r+1)*dim]
		if c.k32 != nil {
			copy(c.k32[o:o+dim], ks)
			copy(c.v32[o:o+dim], vs)
			continue
		}
		f32sToF16(c.k16[o:o+dim], ks)
		f32sToF16(c.v16[o:o+dim], vs)
	}
}

// attentionTask computes one (row, head) pair per index.
type attentionTask struct {
	b                       *Backend
	c                       *kvCache
	dst, q                  []float32
	rows                    []engine.Row
	layer                   int
	nHead, nHeadKV, headDim int
	scale                   float32
}

func (t *attentionTask) run(wid, lo, hi int) {
	c, hd := t.c, t.headDim
	group := t.nHead / t.nHeadKV
	scores := t.b.scratch[wid]
	for idx := lo; idx < hi; idx++ {
		r, h := idx/t.nHead, idx%t.nHead
		row := t.rows[r]
		q := t.q[(r*t.nHead+h)*hd : (r*t.nHead+h+1)*hd]
		out := t.dst[(r*t.nHead+h)*hd : (r*t.nHead+h+1)*hd]
		kvOff := (h / group) * hd // this head's K/V columns within a cache row
		base := c.off(t.layer, int(row.Seq), 0)
		n := int(row.Pos) + 1
		s := scores[:n]
		mx := float32(math.Inf(-1))
		for p := range n {
			o := base + p*c.s.KVDim + kvOff
			var v float32
			if c.k32 != nil {
				v = dot(q, c.k32[o:o+hd])
			} else {
				v = dotF16(q, c.k16[o:o+hd])
			}
			v *= t.scale
			s[p] = v
			mx = max(mx, v)
		}
		var sum float64
		for p, v := range s {
			e := float32(math.Exp(float64(v - mx)))
			s[p] = e
			sum += float64(e)
		}
		inv := float32(1 / sum)
		clear(out)
		for p, w := range s {
			w *= inv
			o := base + p*c.s.KVDim + kvOff
			if c.v32 != nil {
				axpy(out, w, c.v32[o:o+hd])
			} else {
				axpyF16(out, w, c.v16[o:o+hd])
			}
		}
	}
}

// Attention writes dst[n, nHead*headDim] from q and the cache of layer.
func (b *Backend) Attention(dst, q engine.Buffer, kc engine.KVCache, layer int, rs engine.Rows, n, nHead, nHeadKV, headDim int, scale float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := kc.(*kvCache)
	if nHeadKV <= 0 || nHead%nHeadKV != 0 || nHeadKV*headDim != c.s.KVDim {
		panic(fmt.Sprintf("cpu: attention: %d heads, %d kv heads of %d for kv width %d", nHead, nHeadKV, headDim, c.s.KVDim))
	}
	t := &b.att
	t.b, t.c, t.layer = b, c, layer
	t.dst, t.q = wbuf(dst)[:n*nHead*headDim], buf(q)[:n*nHead*headDim]
	t.rows = batch(rs)[:n]
	for _, row := range t.rows {
		c.checkRow("attention", row)
	}
	t.nHead, t.nHeadKV, t.headDim, t.scale = nHead, nHeadKV, headDim, scale
	b.pool.parallel(t, n*nHead, 1)
	t.c, t.dst, t.q, t.rows = nil, nil, nil, nil
}
