// This file holds the block allocator of the paged KV cache: a refcount per
// block (the sequence slots that map it), a free list of blocks that hold
// nothing, and a least-recently-used list of the cached blocks no sequence
// holds — blocks the prefix index keeps for reuse, evicted oldest first
// when the free list is empty. It only counts; which block holds what is
// the prefix index's and the block tables' business.

package engine

import "sync/atomic"

// blockPool allocates the blocks of a paged KV cache. A block is free
// (refcount 0, not cached), held (refcount > 0, cached or not) or cached
// and unreferenced (refcount 0, on the LRU list, evictable).
type blockPool struct {
	ref  []int32 // sequence slots mapping each block
	free []int32 // stack of free blocks
	// lru is a doubly linked list of the cached unreferenced blocks through
	// prev and next (-1 ends it); head is the least recently used.
	prev, next []int32
	onLRU      []bool
	head, tail int32
	nLRU       int

	// counts mirrors the held (high 32 bits) and cached (low 32 bits)
	// block counts for KVStats, which may read them from another
	// goroutine: one word, so that a reader sees both of one moment.
	counts atomic.Int64
}

// count adds du to the held and dc to the cached block counts at once.
func (p *blockPool) count(du, dc int64) { p.counts.Add(du<<32 + dc) }

// counted returns the held and cached block counts of one moment.
func (p *blockPool) counted() (held, cached int) {
	v := p.counts.Load()
	return int(v >> 32), int(v & (1<<32 - 1))
}

// newBlockPool returns a pool of n free blocks.
func newBlockPool(n int) *blockPool {
	p := &blockPool{
		ref: make([]int32, n), free: make([]int32, n),
		prev: make([]int32, n), next: make([]int32, n), onLRU: make([]bool, n),
		head: -1, tail: -1,
	}
	for i := range p.free {
		p.free[i] = int32(n - 1 - i) // block 0 is taken first
	}
	return p
}

// total is the number of blocks.
func (p *blockPool) total() int { return len(p.ref) }

// available is the number of blocks a take can return: free ones and
// evictable cached ones.
func (p *blockPool) available() int { return len(p.free) + p.nLRU }

// take returns a block with refcount 1: a free one, else the least recently
// used cached one (evicted reports that, so the caller drops it from the
// prefix index). It returns -1 when no block is available.
func (p *blockPool) take() (b int32, evicted bool) {
	switch {
	case len(p.free) > 0:
		b = p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		p.count(1, 0)
	case p.head >= 0:
		b, evicted = p.head, true
		p.unlink(b)
		p.count(1, -1)
	default:
		return -1, false
	}
	p.ref[b] = 1
	return b, evicted
}

// hold adds a reference to block b (a cached block mapped by one more
// sequence); a cached unreferenced block leaves the LRU list.
func (p *blockPool) hold(b int32) {
	if p.ref[b] == 0 {
		if p.onLRU[b] {
			p.unlink(b)
			p.count(1, -1)
		} else {
			p.count(1, 0)
		}
	}
	p.ref[b]++
}

// drop removes a reference to block b. At refcount 0 a cached block joins
// the LRU list as its most recently used entry; any other block is free.
func (p *blockPool) drop(b int32, cached bool) {
	p.ref[b]--
	if p.ref[b] > 0 {
		return
	}
	if cached {
		p.push(b)
		p.count(-1, 1)
	} else {
		p.free = append(p.free, b)
		p.count(-1, 0)
	}
}

// uncache frees block b, cached and unreferenced, that the prefix index
// dropped.
func (p *blockPool) uncache(b int32) {
	if p.onLRU[b] {
		p.unlink(b)
		p.free = append(p.free, b)
		p.count(0, -1)
	}
}

// push appends b to the LRU list (most recently used end).
func (p *blockPool) push(b int32) {
	p.prev[b], p.next[b] = p.tail, -1
	if p.tail >= 0 {
		p.next[p.tail] = b
	} else {
		p.head = b
	}
	p.tail = b
	p.onLRU[b] = true
	p.nLRU++
}

// unlink removes b from the LRU list.
func (p *blockPool) unlink(b int32) {
	if pb := p.prev[b]; pb >= 0 {
		p.next[pb] = p.next[b]
	} else {
		p.head = p.next[b]
	}
	if nb := p.next[b]; nb >= 0 {
		p.prev[nb] = p.prev[b]
	} else {
		p.tail = p.prev[b]
	}
	p.onLRU[b] = false
	p.nLRU--
}
