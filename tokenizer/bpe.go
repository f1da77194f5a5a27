// This file holds byte-level BPE proper: a piece of pre-tokenized text
// starts as one token per byte and adjacent pairs are merged, lowest merge
// rank first and leftmost first among equal ranks (the order of Hugging Face
// tokenizers' Word::merge_all and of llama.cpp), until no pair merges. Short
// pieces use a direct scan; long ones a heap, so a pathological piece costs
// O(n log n). Results are kept in a bounded cache shared by all callers.

package tokenizer

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
)

// heapThreshold is the piece length (bytes) from which the heap is used;
// below it the quadratic scan over a rank array is faster.
const heapThreshold = 48

// encodePiece appends the ids of one pre-tokenized piece to dst.
func (t *Tokenizer) encodePiece(dst []int32, piece string) []int32 {
	if len(piece) == 1 {
		return append(dst, t.byteID[piece[0]])
	}
	if ids, ok := t.cache.get(piece); ok {
		return append(dst, ids...)
	}
	start := len(dst)
	dst = t.bpe(dst, piece, len(piece) >= heapThreshold)
	t.cache.put(piece, dst[start:])
	return dst
}

// bpe appends the merged ids of piece to dst, with the heap algorithm when
// useHeap is set (both give the same result; tests compare them).
func (t *Tokenizer) bpe(dst []int32, piece string, useHeap bool) []int32 {
	if t.ignoreMerges {
		if id, ok := t.ids[byteLevelEncode([]byte(piece))]; ok && t.types[id] == TypeNormal {
			return append(dst, id)
		}
	}
	if useHeap {
		return t.bpeHeap(dst, piece)
	}
	return t.bpeScan(dst, piece)
}

const noRank = math.MaxInt32

func (t *Tokenizer) rank(left, right int32) merge {
	if m, ok := t.merges[pairKey(left, right)]; ok {
		return m
	}
	return merge{rank: noRank}
}

// bpeScan merges with a linear scan for the best pair per step.
func (t *Tokenizer) bpeScan(dst []int32, piece string) []int32 {
	start := len(dst)
	for i := 0; i < len(piece); i++ {
		dst = append(dst, t.byteID[piece[i]])
	}
	syms := dst[start:]
	var buf [heapThreshold]merge
	ranks := buf[:0]
	for i := 0; i+1 < len(syms); i++ {
		ranks = append(ranks, t.rank(syms[i], syms[i+1]))
	}
	for len(syms) > 1 {
		best := -1
		bestRank := int32(noRank)
		for i, m := range ranks {
			if m.rank < bestRank {
				best, bestRank = i, m.rank
			}
		}
		if best < 0 {
			break
		}
		syms[best] = ranks[best].id
		copy(syms[best+1:], syms[best+2:])
		syms = syms[:len(syms)-1]
		copy(ranks[best:], ranks[best+1:])
		ranks = ranks[:len(ranks)-1]
		if best > 0 {
			ranks[best-1] = t.rank(syms[best-1], syms[best])
		}
		if best < len(ranks) {
			ranks[best] = t.rank(syms[best], syms[best+1])
		}
	}
	return dst[:start+len(syms)]
}

// heapSym is a symbol of the heap algorithm, linked to its neighbours;
// dead symbols (merged into their left neighbour) have id -1.
type heapSym struct {
	id         int32
	prev, next int32
}

// heapItem is a candidate merge of the symbol at pos with its successor.
type heapItem struct{ rank, pos int32 }

func itemLess(a, b heapItem) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// bpeHeap merges with a priority queue of candidate pairs; stale entries
// are skipped when popped.
func (t *Tokenizer) bpeHeap(dst []int32, piece string) []int32 {
	n := len(piece)
	syms := make([]heapSym, n)
	for i := 0; i < n; i++ {
		syms[i] = heapSym{id: t.byteID[piece[i]], prev: int32(i - 1), next: int32(i + 1)}
	}
	syms[n-1].next = -1
	h := make([]heapItem, 0, n)
	push := func(it heapItem) {
		h = append(h, it)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !itemLess(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	pop := func() heapItem {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && itemLess(h[l], h[m]) {
				m = l
			}
			if r < len(h) && itemLess(h[r], h[m]) {
				m = r
			}
			if m == i {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
		return top
	}
	for i := 0; i+1 < n; i++ {
		if m := t.rank(syms[i].id, syms[i+1].id); m.rank != noRank {
			push(heapItem{rank: m.rank, pos: int32(i)})
		}
	}
	for len(h) > 0 {
		it := pop()
		s := &syms[it.pos]
		if s.id < 0 || s.next < 0 {
			continue
		}
		right := &syms[s.next]
		m := t.rank(s.id, right.id)
		if m.rank != it.rank {
			continue // the pair changed since this entry was pushed
		}
		s.id = m.id
		right.id = -1
		s.next = right.next
		if s.next >= 0 {
			syms[s.next].prev = it.pos
			if m2 := t.rank(s.id, syms[s.next].id); m2.rank != noRank {
				push(heapItem{rank: m2.rank, pos: it.pos})
			}
		}
		if s.prev >= 0 {
			if m2 := t.rank(syms[s.prev].id, s.id); m2.rank != noRank {
				push(heapItem{rank: m2.rank, pos: s.prev})
			}
		}
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		dst = append(dst, syms[i].id)
	}
	return dst
}

// Cache bounds: pieces longer than maxCachedPiece bytes are not cached, and
// each of the cacheShards shards holds at most shardEntries words before it
// is emptied (about 64k words in all, a few MB).
const (
	cacheShards    = 16
	shardEntries   = 4096
	maxCachedPiece = 64
)

// wordCache maps pieces to their ids. It is safe for concurrent use; shards
// keep lock contention low and a full shard is simply cleared.
type wordCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
}

func newWordCache() *wordCache {
	c := &wordCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string][]int32)
	}
	return c
}

func (c *wordCache) shard(piece string) *cacheShard {
	return &c.shards[maphash.String(c.seed, piece)%cacheShards]
}

func (c *wordCache) get(piece string) ([]int32, bool) {
	if len(piece) > maxCachedPiece {
		return nil, false
	}
	s := c.shard(piece)
	s.mu.RLock()
	ids, ok := s.m[piece]
	s.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(piece string, ids []int32) {
	if len(piece) > maxCachedPiece {
		return
	}
	s := c.shard(piece)
	v := append([]int32(nil), ids...)
	s.mu.Lock()
	if len(s.m) >= shardEntries {
		clear(s.m)
	}
	s.m[strings.Clone(piece)] = v
	s.mu.Unlock()
}
