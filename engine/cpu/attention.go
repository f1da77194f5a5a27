// This file holds the paged KV cache and attention. The cache keeps, for
// every layer, Blocks blocks of BlockSize rows of K and of V
// (nHeadKV*headDim wide) in f16 or f32, shared by all sequences; the block
// tables set with the batch rows say which block holds which positions of
// which sequence. StoreKV writes the batch's rows at their (seq, pos)
// slots; Attention then lets each row attend to positions 0..pos of its
// own sequence, which makes it causal by construction.

package cpu

import (
	"fmt"
	"math"

	"github.com/helexa/helexa/engine"
)

// kvCache is the host KV cache: per layer, K and V each [blocks, bs,
// kvDim]. Exactly one of the f32 and f16 pairs is set.
type kvCache struct {
	s        engine.KVShape
	k32, v32 []float32
	k16, v16 []uint16
}

func (c *kvCache) Blocks() int    { return c.s.Blocks }
func (c *kvCache) BlockSize() int { return c.s.BlockSize }
func (c *kvCache) Free()          { c.k32, c.v32, c.k16, c.v16 = nil, nil, nil, nil }

func (c *kvCache) Bytes() int64 {
	return int64(len(c.k32)+len(c.v32))*4 + int64(len(c.k16)+len(c.v16))*2
}

// off is the element offset of row slot of block in layer.
func (c *kvCache) off(layer, block, slot int) int {
	return ((layer*c.s.Blocks+block)*c.s.BlockSize + slot) * c.s.KVDim
}

// blockOf returns the block holding position pos of sequence seq under the
// tables of rs, panicking, naming op, when the engine should have refused
// the row: a slot or position outside the tables, an unmapped block.
func (c *kvCache) blockOf(op string, rs *rows, seq, pos int32) int {
	j := int(pos) / c.s.BlockSize
	if seq < 0 || pos < 0 || j >= rs.width || (int(seq)+1)*rs.width > len(rs.tab) {
		panic(fmt.Sprintf("cpu: %s: (seq %d, pos %d) outside block tables %d wide for %d slots", op, seq, pos, rs.width, len(rs.tab)/max(rs.width, 1)))
	}
	b := rs.tab[int(seq)*rs.width+j]
	if b < 0 || int(b) >= c.s.Blocks {
		panic(fmt.Sprintf("cpu: %s: (seq %d, pos %d) maps to block %d of %d", op, seq, pos, b, c.s.Blocks))
	}
	return int(b)
}

// maxKVElements bounds one of the K and V arrays (2^37 elements, 256 GiB in
// f16): a larger request is a configuration mistake, not an allocation to try.
const maxKVElements = 1 << 37

// NewKVCache allocates a zeroed cache.
func (b *Backend) NewKVCache(s engine.KVShape) (engine.KVCache, error) {
	if s.Layers <= 0 || s.Blocks <= 0 || s.BlockSize <= 0 || s.KVDim <= 0 {
		return nil, fmt.Errorf("cpu: kv cache shape %+v", s)
	}
	n := 1
	for _, d := range [...]int{s.Layers, s.Blocks, s.BlockSize, s.KVDim} {
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
	// A sequence maps distinct blocks, so it holds at most every position
	// of the cache: the attention scores of one head fit in that.
	b.growScratch(s.Blocks * s.BlockSize)
	return c, nil
}

// StoreKV writes row r of k and v at position rows[r].Pos of sequence
// rows[r].Seq of layer, in the block the tables map it to.
func (b *Backend) StoreKV(kc engine.KVCache, layer int, k, v engine.Buffer, rs engine.Rows, n int) {
	c, t := kc.(*kvCache), tablesOf(rs)
	dim := c.s.KVDim
	kb, vb := buf(k), buf(v)
	for r, row := range t.r[:n] {
		blk := c.blockOf("storekv", t, row.Seq, row.Pos)
		o := c.off(layer, blk, int(row.Pos)%c.s.BlockSize)
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
	tab                     []int32 // block tables
	width                   int
	layer                   int
	nHead, nHeadKV, headDim int
	scale                   float32
}

func (t *attentionTask) run(wid, lo, hi int) {
	c, hd, bs, kvDim := t.c, t.headDim, t.c.s.BlockSize, t.c.s.KVDim
	group := t.nHead / t.nHeadKV
	scores := t.b.scratch[wid]
	for idx := lo; idx < hi; idx++ {
		r, h := idx/t.nHead, idx%t.nHead
		row := t.rows[r]
		q := t.q[(r*t.nHead+h)*hd : (r*t.nHead+h+1)*hd]
		out := t.dst[(r*t.nHead+h)*hd : (r*t.nHead+h+1)*hd]
		kvOff := (h / group) * hd // this head's K/V columns within a cache row
		blocks := t.tab[int(row.Seq)*t.width:]
		n := int(row.Pos) + 1
		s := scores[:n]
		mx := float32(math.Inf(-1))
		for p0 := 0; p0 < n; p0 += bs {
			base := c.off(t.layer, int(blocks[p0/bs]), 0) + kvOff
			p1 := min(p0+bs, n)
			if c.k32 != nil {
				for p := p0; p < p1; p++ {
					o := base + (p-p0)*kvDim
					s[p] = dot(q, c.k32[o:o+hd])
				}
			} else {
				dotsF16(q, c.k16[base:], kvDim, s[p0:p1])
			}
			for p := p0; p < p1; p++ {
				v := s[p] * t.scale
				s[p] = v
				if v > mx {
					mx = v
				}
			}
		}
		// Softmax: expf over the run, summed in four float64 partial sums
		// in an order fixed by n alone.
		expShift(s, mx)
		var s0, s1, s2, s3 float64
		p := 0
		for ; p+4 <= n; p += 4 {
			e := s[p : p+4 : p+4]
			s0 += float64(e[0])
			s1 += float64(e[1])
			s2 += float64(e[2])
			s3 += float64(e[3])
		}
		for ; p < n; p++ {
			s0 += float64(s[p])
		}
		inv := float32(1 / ((s0 + s1) + (s2 + s3)))
		for p := range s {
			s[p] *= inv
		}
		clear(out)
		for p0 := 0; p0 < n; p0 += bs {
			base := c.off(t.layer, int(blocks[p0/bs]), 0) + kvOff
			p1 := min(p0+bs, n)
			if c.v32 != nil {
				for p := p0; p < p1; p++ {
					o := base + (p-p0)*kvDim
					axpy(out, s[p], c.v32[o:o+hd])
				}
			} else {
				accF16(out, s[p0:p1], c.v16[base:], kvDim)
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
	rt := tablesOf(rs)
	t.rows, t.tab, t.width = rt.r[:n], rt.tab, rt.width
	for _, row := range t.rows {
		for p := row.Pos; p >= 0; p -= int32(c.s.BlockSize) {
			c.blockOf("attention", rt, row.Seq, p)
		}
	}
	t.nHead, t.nHeadKV, t.headDim, t.scale = nHead, nHeadKV, headDim, scale
	b.pool.parallel(t, n*nHead, 1)
	t.c, t.dst, t.q, t.rows, t.tab = nil, nil, nil, nil, nil
}
