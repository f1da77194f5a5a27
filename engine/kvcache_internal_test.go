// Unit tests of the paged KV cache's bookkeeping without a model: the block
// allocator's refcounts and LRU eviction, the prefix index's verification
// under hash collisions, and reservations that are never oversubscribed.

package engine

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// toks returns n tokens starting at from (from, from+1, ...).
func toks(from, n int) []int32 {
	t := make([]int32, n)
	for i := range t {
		t[i] = int32(from + i)
	}
	return t
}

// fill makes slot s of p write positions [0, n) as Forward would.
func fill(t *testing.T, p *pager, s, n int) {
	t.Helper()
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{Pos: int32(i), Seq: int32(s)}
	}
	if err := p.prepare(rows); err != nil {
		t.Fatalf("slot %d, %d positions: %v", s, n, err)
	}
}

// wantStats compares p's counts.
func wantStats(t *testing.T, p *pager, used, cached int) {
	t.Helper()
	if s := p.stats(); s.Used != used || s.Cached != cached {
		t.Fatalf("stats %+v, want used %d, cached %d", s, used, cached)
	}
}

func TestBlockPoolRefcountsAndLRU(t *testing.T) {
	p := newBlockPool(4)
	var got []int32
	for range 4 {
		b, evicted := p.take()
		if evicted {
			t.Fatalf("block %d evicted while free blocks remained", b)
		}
		got = append(got, b)
	}
	if b, _ := p.take(); b != -1 || p.available() != 0 {
		t.Fatalf("a fifth block %d from a pool of 4 (available %d)", b, p.available())
	}
	p.hold(got[1]) // a second sequence maps block got[1]
	p.drop(got[0], true)
	p.drop(got[1], true) // still held once: not evictable
	p.drop(got[2], false)
	p.drop(got[3], true)
	if used, cached := p.counted(); used != 1 || cached != 2 || p.available() != 3 {
		t.Fatalf("used %d cached %d available %d, want 1, 2, 3", used, cached, p.available())
	}
	// The free block goes first, then the cached ones oldest first.
	for i, want := range []struct {
		b       int32
		evicted bool
	}{{got[2], false}, {got[0], true}, {got[3], true}} {
		if b, ev := p.take(); b != want.b || ev != want.evicted {
			t.Fatalf("take %d: block %d (evicted %v), want %d (%v)", i, b, ev, want.b, want.evicted)
		}
	}
	if b, _ := p.take(); b != -1 {
		t.Fatalf("took block %d, which a sequence holds", b)
	}
	// A cached block mapped again leaves the LRU list; dropped again, it
	// is the most recently used.
	p.drop(got[1], true)
	p.drop(got[0], true)
	p.hold(got[1])
	p.drop(got[1], true)
	if b, _ := p.take(); b != got[0] {
		t.Fatalf("evicted %d, want the least recently used %d", b, got[0])
	}
}

func TestPrefixReuseAndLRUEviction(t *testing.T) {
	const bs = 2
	p := newPager(6, bs, 5, 4)
	prompt, other := toks(100, 5), toks(200, 5)
	// Slot 0 fills and publishes a prompt of two full blocks and a half.
	fill(t, p, 0, 5)
	p.publish(0, prompt)
	wantStats(t, p, 3, 0)
	p.release(0)
	wantStats(t, p, 0, 2) // the half block is free, the full ones cached
	fill(t, p, 1, 4)
	p.publish(1, other[:4])
	p.release(1)
	wantStats(t, p, 0, 4)
	// Slot 2 reuses the first prompt: both full blocks, leaving the last
	// token to compute; a prompt that ends on a block edge keeps its last
	// block to compute.
	if n := p.reuse(2, prompt); n != 4 {
		t.Fatalf("reuse of the published prompt: %d positions, want 4", n)
	}
	if n := p.reuse(3, prompt[:4]); n != 2 {
		t.Fatalf("reuse of a 4-token prompt: %d positions, want 2 (the last token is computed)", n)
	}
	if n := p.reuse(4, toks(100, 1)); n != 0 {
		t.Fatalf("reuse of a 1-token prompt: %d positions", n)
	}
	wantStats(t, p, 2, 2)
	// Slot 4 needs four blocks: two free, then the other prompt's cached
	// blocks; the held ones are never evicted.
	held := append([]int32(nil), p.row(2)[:2]...)
	fill(t, p, 4, 8)
	for _, b := range p.row(4) {
		if b == held[0] || b == held[1] {
			t.Fatalf("slot 4 got block %d, which slot 2 holds", b)
		}
	}
	wantStats(t, p, 6, 0)
	if err := p.prepare([]Row{{Pos: 4, Seq: 2}}); !errors.Is(err, ErrKVFull) {
		t.Fatalf("a seventh block from a full cache: %v, want ErrKVFull", err)
	}
	p.release(3)
	p.release(4)
	if n := p.reuse(1, other); n != 0 {
		t.Fatalf("reuse of the evicted prompt: %d positions", n)
	}
	if n := p.reuse(4, prompt); n != 4 {
		t.Fatalf("reuse of a prompt slot 2 holds: %d positions, want 4", n)
	}
	if p.pool.ref[held[0]] != 2 {
		t.Fatalf("shared block refcount %d, want 2", p.pool.ref[held[0]])
	}
	if err := p.prepare([]Row{{Pos: 4, Seq: 2}}); err != nil {
		t.Fatalf("slot 2 writes after the shared blocks: %v", err)
	}
	// Neither sharer may write into the shared blocks.
	if err := p.prepare([]Row{{Pos: 3, Seq: 4}}); !errors.Is(err, ErrBadBatch) {
		t.Fatalf("a write into a shared block: %v, want ErrBadBatch", err)
	}
	for s := range 5 {
		p.release(s)
	}
	wantStats(t, p, 0, 2)
	if p.pending != 0 {
		t.Fatalf("%d blocks still promised", p.pending)
	}
}

func TestPrefixIndexVerifiesCollisions(t *testing.T) {
	const bs = 4
	p := newPager(8, bs, 3, 3)
	// Every key collides.
	p.index.hash = func(seed, parent uint64, tokens []int32) uint64 { return 42 }
	a, b := toks(1, 9), toks(50, 9)
	fill(t, p, 0, 9)
	p.publish(0, a)
	// The second block's key is taken by the first block: only the first
	// is indexed.
	if n := p.reuse(1, a); n != bs {
		t.Fatalf("reuse under colliding keys: %d positions, want %d", n, bs)
	}
	if n := p.reuse(2, b); n != 0 {
		t.Fatalf("a different prompt under the same key reused %d positions", n)
	}
	c := append(toks(1, 4), toks(70, 5)...) // a's first block, then different tokens
	if n := p.reuse(2, c); n != bs {
		t.Fatalf("reuse of a shared first block: %d positions, want %d", n, bs)
	}
}

func TestPrefixIndexDropsRewrittenBlocks(t *testing.T) {
	const bs = 4
	p := newPager(8, bs, 2, 4)
	a := toks(1, 13)
	fill(t, p, 0, 13)
	p.publish(0, a)
	if n := p.reuse(1, a); n != 12 {
		t.Fatalf("reuse: %d positions, want 12", n)
	}
	p.release(1)
	// Slot 0 rewrites position 2: its first block leaves the index, and the
	// blocks after it no longer match although they stay indexed.
	if err := p.prepare([]Row{{Pos: 2, Seq: 0}}); err != nil {
		t.Fatal(err)
	}
	if n := p.reuse(1, a); n != 0 {
		t.Fatalf("reuse after the first block was rewritten: %d positions", n)
	}
	// Published again, the chain is whole again: the stale children are
	// replaced by the same blocks under their new parent.
	p.publish(0, a)
	if n := p.reuse(1, a); n != 12 {
		t.Fatalf("reuse after publishing again: %d positions, want 12", n)
	}
}

func TestReserveNeverOversubscribes(t *testing.T) {
	const bs = 4
	p := newPager(8, bs, 3, 4) // 3 slots of up to 16 positions, 8 blocks
	if err := p.reserve(0, 4); err != nil {
		t.Fatal(err)
	}
	if err := p.reserve(1, 4); err != nil {
		t.Fatal(err)
	}
	if err := p.reserve(2, 1); !errors.Is(err, ErrKVFull) {
		t.Fatalf("reserve beyond the cache: %v, want ErrKVFull", err)
	}
	if err := p.reserve(2, 9); !errors.Is(err, ErrContextLength) {
		t.Fatalf("reserve of more blocks than the cache has: %v, want ErrContextLength", err)
	}
	// An unreserved slot may not take promised blocks.
	if err := p.prepare([]Row{{Pos: 0, Seq: 2}}); !errors.Is(err, ErrKVFull) {
		t.Fatalf("forward of an unreserved slot into promised blocks: %v, want ErrKVFull", err)
	}
	fill(t, p, 0, 16)
	fill(t, p, 1, 16)
	p.release(0)
	if err := p.reserve(2, 4); err != nil {
		t.Fatalf("reserve after a release: %v", err)
	}
	// A published prompt cached with nobody holding it is evictable: a
	// reservation may count on it, and then reuse may not take it.
	p.release(2)
	fill(t, p, 2, 8)
	p.publish(2, toks(1, 8))
	p.release(2)
	p.release(1)
	wantStats(t, p, 0, 2)
	if err := p.reserve(0, 4); err != nil {
		t.Fatal(err)
	}
	if err := p.reserve(1, 4); err != nil {
		t.Fatal(err)
	}
	if n := p.reuse(2, toks(1, 9)); n != 0 {
		t.Fatalf("reuse took %d positions of blocks promised to reservations", n)
	}
	p.release(1)
	if n := p.reuse(2, toks(1, 9)); n != 8 {
		t.Fatalf("reuse with blocks to spare: %d positions, want 8", n)
	}
	if err := p.reserve(2, 3); err != nil { // the two reused blocks count as its own
		t.Fatal(err)
	}
	if err := p.reserve(1, 2); !errors.Is(err, ErrKVFull) { // 6 available, 4+1 promised
		t.Fatalf("reserve of 2 with 1 block spare: %v", err)
	}
	if err := p.reserve(1, 1); err != nil {
		t.Fatal(err)
	}
}

// TestReserveRandomized runs random admissions, steps, publications and
// releases and checks after each that no reservation is oversubscribed and
// that every write a reservation covers gets its block.
func TestReserveRandomized(t *testing.T) {
	const bs, seqs, width, blocks = 4, 6, 8, 20
	r := rand.New(rand.NewPCG(3, 4))
	p := newPager(blocks, bs, seqs, width)
	pos := make([]int, seqs)      // next position of each slot
	limit := make([]int, seqs)    // reserved positions
	prompts := make([][]int32, 3) // a few prompts shared by sequences
	for i := range prompts {
		prompts[i] = toks(1000*i, width*bs)
	}
	which := make([]int, seqs)
	for step := range 4000 {
		s := r.IntN(seqs)
		switch op := r.IntN(10); {
		case op == 0: // end the sequence, publishing what it wrote
			p.publish(s, prompts[which[s]][:pos[s]])
			p.release(s)
			pos[s], limit[s] = 0, 0
		case op == 1 && pos[s] == 0: // admit a new sequence
			which[s] = r.IntN(len(prompts))
			pos[s] = p.reuse(s, prompts[which[s]][:1+r.IntN(width*bs-1)])
			n := pos[s] + 1 + r.IntN(width*bs-pos[s])
			if err := p.reserve(s, (n+bs-1)/bs); err == nil {
				limit[s] = n
			} else if !errors.Is(err, ErrKVFull) {
				t.Fatal(err)
			} else {
				p.release(s)
				pos[s] = 0
			}
		case pos[s] < limit[s]: // a step within the reservation
			n := min(1+r.IntN(5), limit[s]-pos[s])
			rows := make([]Row, n)
			for i := range rows {
				rows[i] = Row{Pos: int32(pos[s] + i), Seq: int32(s)}
			}
			if err := p.prepare(rows); err != nil {
				t.Fatalf("step %d: reserved write failed: %v", step, err)
			}
			pos[s] += n
		}
		owed := 0
		for i := range seqs {
			owed += p.owed(i)
		}
		if owed != p.pending || p.pending > p.pool.available() {
			t.Fatalf("step %d: %d blocks promised (counted %d), %d available", step, owed, p.pending, p.pool.available())
		}
		st := p.stats()
		if st.Used+st.Cached+len(p.pool.free) != blocks {
			t.Fatalf("step %d: used %d + cached %d + free %d != %d", step, st.Used, st.Cached, len(p.pool.free), blocks)
		}
	}
	for s := range seqs {
		p.release(s)
	}
	if st := p.stats(); st.Used != 0 || p.pending != 0 {
		t.Fatalf("after releasing every slot: %+v, %d promised", st, p.pending)
	}
}

func TestParseKVCacheSize(t *testing.T) {
	for in, want := range map[string]KVCacheSize{
		"": {}, "0": {}, "2GiB": {Bytes: 2 << 30}, "512 MB": {Bytes: 512e6}, "4096 blocks": {Blocks: 4096},
		"1 block": {Blocks: 1}, " 12 Blocks ": {Blocks: 12}, "1048576": {Bytes: 1 << 20},
	} {
		if got, err := ParseKVCacheSize(in); err != nil || got != want {
			t.Errorf("ParseKVCacheSize(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1", "blocks", "2 GiB blocks", "99999999999 blocks", "1.5 blocks", "lots"} {
		if _, err := ParseKVCacheSize(in); err == nil {
			t.Errorf("ParseKVCacheSize(%q) accepted", in)
		}
	}
	cfg := Config{NLayer: 28, NHeadKV: 8, HeadDim: 128} // 0.6B: 112 KiB per position in f16
	if n := (KVCacheSize{Bytes: 2 << 30}).blocks(cfg, KVF16, 16); n != 1170 {
		t.Errorf("2 GiB of 0.6B f16 cache: %d blocks, want 1170 (2 GiB / 1.75 MiB)", n)
	}
}

// FuzzParseKVCacheSize checks that any text parses or errs without a
// panic, that a parsed size is never negative, and that it reads back what
// its String writes.
func FuzzParseKVCacheSize(f *testing.F) {
	for _, s := range []string{"", "0", "2GiB", "512 MB", "4096 blocks", "1 block", "1.5 blocks", "-1", "9999999999999 blocks", "3.7tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseKVCacheSize(s)
		if err != nil {
			return
		}
		if got.Bytes < 0 || got.Blocks < 0 {
			t.Fatalf("ParseKVCacheSize(%q) = %+v: negative", s, got)
		}
		if got.IsZero() {
			return
		}
		again, err := ParseKVCacheSize(got.String())
		if err != nil || again != got {
			t.Fatalf("ParseKVCacheSize(%q) = %+v writes %q, which reads %+v, %v", s, got, got.String(), again, err)
		}
	})
}

func TestReleaseFreesUnreachableBlocks(t *testing.T) {
	const bs = 4
	p := newPager(8, bs, 1, 4)
	a := toks(1, 13)
	fill(t, p, 0, 13)
	p.publish(0, a)
	// Rewriting position 2 unpublishes the first block: the two after it
	// can no longer be found, so releasing the slot frees them all.
	if err := p.prepare([]Row{{Pos: 2}}); err != nil {
		t.Fatal(err)
	}
	p.release(0)
	wantStats(t, p, 0, 0)
	if len(p.index.byHash) != 0 {
		t.Fatalf("%d keys left in the index", len(p.index.byHash))
	}
}
