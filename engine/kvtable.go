// This file holds the block tables of the paged KV cache and the
// bookkeeping that ties them to the allocator and the prefix index: which
// blocks each sequence slot maps, which it was promised (reservations),
// the lazy allocation Forward asks for before any op runs, and the table
// generation the backends upload by. A slot's mapped blocks are always a
// prefix of its table: Forward maps every block up to a row's position,
// ReusePrefix maps a prompt's leading blocks.

package engine

import "fmt"

// pager is the paged KV cache's bookkeeping for one Context. It is used
// from one goroutine (the one calling Forward); only its stats, kept in
// the pool's atomics, may be read from others.
type pager struct {
	bs, width, seqs int
	pool            *blockPool
	index           *prefixIndex

	table  []int32 // [seqs, width] block of each slot's position/bs; -1 unmapped
	mapped []int   // leading mapped entries of each slot's table
	resv   []int   // each slot's reservation: table entries [0, resv) are promised
	// pending is the promised entries not yet mapped, over all slots: the
	// blocks the allocator must keep for reservations.
	pending int
	gen     uint64 // bumped on every table change
}

func newPager(blocks, bs, seqs, width int) *pager {
	p := &pager{
		bs: bs, width: width, seqs: seqs,
		pool: newBlockPool(blocks), index: newPrefixIndex(blocks, bs),
		table: make([]int32, seqs*width), mapped: make([]int, seqs), resv: make([]int, seqs),
		gen: 1,
	}
	for i := range p.table {
		p.table[i] = -1
	}
	return p
}

// tables is the block tables to hand the backend with a batch.
func (p *pager) tables() BlockTables { return BlockTables{Table: p.table, Width: p.width, Gen: p.gen} }

// row is slot s's table.
func (p *pager) row(s int) []int32 { return p.table[s*p.width : (s+1)*p.width] }

// owed is the unmapped part of slot s's reservation.
func (p *pager) owed(s int) int { return max(p.resv[s]-p.mapped[s], 0) }

// spare is the blocks an allocation outside any reservation may take.
func (p *pager) spare() int { return p.pool.available() - p.pending }

// take allocates one block, dropping an evicted one from the index.
func (p *pager) take() int32 {
	b, evicted := p.pool.take()
	if evicted {
		p.index.remove(b)
	}
	return b
}

// prepare makes a batch's rows writable before any op runs: for each row
// every block of its slot up to its position is mapped (allocated lazily,
// from the slot's reservation or else from blocks nobody was promised), and
// the block the row writes is its slot's alone. Writing a block that other
// slots share is refused (ErrBadBatch: it would change their cached
// prompt); writing a published block the slot holds alone unpublishes it.
// A row that cannot get a block fails with ErrKVFull; blocks mapped for
// earlier rows stay mapped to their slots.
func (p *pager) prepare(rows []Row) error {
	for i, r := range rows {
		s, j := int(r.Seq), int(r.Pos)/p.bs
		if j < p.mapped[s] {
			if b := p.row(s)[j]; p.pool.ref[b] > 1 {
				return fmt.Errorf("%w: row %d: position %d of sequence %d is in block %d, which %d sequences share",
					ErrBadBatch, i, r.Pos, r.Seq, b, p.pool.ref[b])
			}
		}
	}
	for i, r := range rows {
		s, j := int(r.Seq), int(r.Pos)/p.bs
		if err := p.grow(s, j+1); err != nil {
			return fmt.Errorf("engine: row %d (sequence %d, position %d): %w", i, r.Seq, r.Pos, err)
		}
		p.index.remove(p.row(s)[j]) // a no-op unless a published block is rewritten
	}
	return nil
}

// grow maps slot s's table entries up to n.
func (p *pager) grow(s, n int) error {
	t := p.row(s)
	for p.mapped[s] < n {
		i := p.mapped[s]
		promised := i < p.resv[s]
		if !promised && p.spare() < 1 {
			return fmt.Errorf("%w: no block for positions %d..%d (%d of %d blocks held, %d promised to reservations)",
				ErrKVFull, i*p.bs, (i+1)*p.bs-1, p.pool.total()-p.pool.available(), p.pool.total(), p.pending)
		}
		t[i] = p.take()
		p.mapped[s]++
		if promised {
			p.pending--
		}
		p.gen++
	}
	return nil
}

// release unmaps every block of slot s and drops its reservation. Blocks
// go back last first, so that a prompt's tail is evicted before its head;
// an indexed block no lookup can reach any more (its parent was evicted or
// rewritten) leaves the index and is freed rather than cached.
func (p *pager) release(s int) {
	p.pending -= p.owed(s)
	p.resv[s] = 0
	t := p.row(s)
	for _, b := range t[:p.mapped[s]] { // in order: an unreachable block makes its children so
		if p.pool.ref[b] == 1 && p.index.meta[b].indexed && p.index.orphan(b) {
			p.index.remove(b)
		}
	}
	for i := p.mapped[s] - 1; i >= 0; i-- {
		b := t[i]
		p.pool.drop(b, p.index.meta[b].indexed)
		t[i] = -1
	}
	if p.mapped[s] > 0 {
		p.gen++
	}
	p.mapped[s] = 0
}

// reuse maps into the emptied slot s the cached blocks holding the longest
// prefix of tokens, leaving at least the last token to compute; it returns
// the positions mapped. It stops before a cached unreferenced block that
// reservations need.
func (p *pager) reuse(s int, tokens []int32) int {
	p.release(s)
	n := min((len(tokens)-1)/p.bs, p.width)
	parent, key := rootLink, uint64(0)
	t := p.row(s)
	for i := range max(n, 0) {
		toks := tokens[i*p.bs : (i+1)*p.bs]
		k := p.index.key(key, toks)
		b, ok := p.index.find(k, parent, toks)
		if !ok || (p.pool.ref[b] == 0 && p.spare() < 1) {
			break
		}
		p.pool.hold(b)
		t[i] = b
		p.mapped[s]++
		parent, key = p.index.link(b), k
	}
	if p.mapped[s] > 0 {
		p.gen++
	}
	return p.mapped[s] * p.bs
}

// reserve promises slot s the table entries [0, n) (positions [0, n*bs)),
// replacing its earlier reservation.
func (p *pager) reserve(s, n int) error {
	if n > p.pool.total() {
		return fmt.Errorf("engine: reserve %d blocks: the cache has %d: %w", n, p.pool.total(), ErrContextLength)
	}
	others := p.pending - p.owed(s)
	need := max(n-p.mapped[s], 0)
	if need > p.pool.available()-others {
		return fmt.Errorf("%w: %d more blocks wanted, %d free or evictable, %d promised to other sequences",
			ErrKVFull, need, p.pool.available(), others)
	}
	p.resv[s] = n
	p.pending = others + need
	return nil
}

// publish indexes slot s's full blocks holding tokens (tokens[i] at
// position i). A block whose key another block already holds for the same
// prefix is left out (the other serves), and the chain goes on from that
// one; a genuine collision or a stale key ends or replaces, see below.
func (p *pager) publish(s int, tokens []int32) {
	n := min(len(tokens)/p.bs, p.mapped[s])
	parent, key := rootLink, uint64(0)
	t := p.row(s)
	for i := range n {
		toks := tokens[i*p.bs : (i+1)*p.bs]
		k := p.index.key(key, toks)
		if b, ok := p.index.find(k, parent, toks); ok { // cached already
			parent, key = p.index.link(b), k
			continue
		}
		if e, ok := p.index.byHash[k]; ok {
			if !p.index.orphan(e) {
				return // a different live prefix under this key: a collision; keep it
			}
			p.index.remove(e) // unreachable: its key is ours to take
			p.pool.uncache(e)
		}
		b := t[i]
		if p.index.meta[b].indexed {
			return // indexed under another prefix: tokens do not match the cache
		}
		p.index.insert(b, k, parent, toks)
		parent, key = p.index.link(b), k
	}
}

// stats counts the blocks; safe from any goroutine.
func (p *pager) stats() KVStats {
	used, cached := p.pool.counted()
	return KVStats{BlockSize: p.bs, Total: p.pool.total(), Used: used, Cached: cached}
}
