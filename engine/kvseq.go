// This file holds the sequence lifecycle of a Context's paged KV cache, the
// API the scheduler admits and retires sequences through: a sequence slot
// reuses the cached blocks of its prompt's prefix, reserves the positions
// it may fill, publishes the blocks it filled for later prompts and
// releases them when it ends. The blocks, tables and index behind it are in
// kvblocks.go, kvtable.go and kvprefix.go.

package engine

import (
	"errors"
	"fmt"
)

// ErrKVFull reports that the KV cache cannot hold the positions a sequence
// asks for now; they may fit once other sequences end.
var ErrKVFull = errors.New("engine: kv cache full")

// KVStats counts the blocks of a context's KV cache.
type KVStats struct {
	BlockSize int // positions per block
	Total     int // blocks in the cache
	Used      int // blocks held by running sequences
	Cached    int // blocks no sequence holds that keep a prompt prefix for reuse (evictable)
}

// ReusePrefix maps into the empty sequence slot seq the cached blocks that
// hold the longest prefix of tokens, and returns how many leading tokens
// need no prefill: a multiple of the block size, at most len(tokens)-1 so
// that the last token is always computed (its logits start generation).
// Whatever the slot held before is released first. A cached block no
// sequence holds is mapped only while that breaks no reservation, so the
// reuse may be shorter than the cache allows.
func (c *Context) ReusePrefix(seq int32, tokens []int32) int {
	if c.pg == nil || seq < 0 || int(seq) >= c.o.Seqs {
		return 0
	}
	return c.pg.reuse(int(seq), tokens)
}

// Reserve promises sequence slot seq the positions [0, n): later Forward
// calls for it up to position n-1 cannot run out of cache. The blocks the
// slot maps already (ReusePrefix, earlier Forward calls) count as its own;
// the rest are counted against the free and evictable blocks less what
// other sequences were promised and have not yet filled. A second Reserve
// replaces the first. It fails with ErrContextLength when n exceeds the
// context size or the whole cache, with ErrKVFull when the cache cannot
// promise the positions while the other sequences hold theirs.
func (c *Context) Reserve(seq int32, n int) error {
	if seq < 0 || int(seq) >= c.o.Seqs {
		return fmt.Errorf("%w: sequence %d outside [0, %d)", ErrBadBatch, seq, c.o.Seqs)
	}
	if n > c.o.Ctx {
		return fmt.Errorf("engine: reserve %d positions: context size %d: %w", n, c.o.Ctx, ErrContextLength)
	}
	if c.pg == nil {
		return fmt.Errorf("%w: context is freed", ErrBadBatch)
	}
	return c.pg.reserve(int(seq), (max(n, 0)+c.o.BlockSize-1)/c.o.BlockSize)
}

// Publish offers the full blocks of sequence slot seq that hold tokens
// (tokens[i] at position i, whose keys and values are in the cache) for
// reuse by later prompts. A published block stays cached after Release
// until it is evicted; a later Forward that rewrites a position of it in
// the same slot unpublishes it.
func (c *Context) Publish(seq int32, tokens []int32) {
	if c.pg == nil || seq < 0 || int(seq) >= c.o.Seqs {
		return
	}
	c.pg.publish(int(seq), tokens)
}

// Release ends sequence slot seq: its reservation is dropped and its
// blocks return to the cache (published ones stay reusable until evicted).
// The slot is then empty: a new sequence may start in it at position 0.
func (c *Context) Release(seq int32) {
	if c.pg == nil || seq < 0 || int(seq) >= c.o.Seqs {
		return
	}
	c.pg.release(int(seq))
}

// KVStats returns the cache's block counts. Unlike the other methods of a
// Context it is safe to call from any goroutine while another runs Forward
// or Free (after Free it reports the last counts).
func (c *Context) KVStats() KVStats {
	if p := c.pg; p != nil {
		return p.stats()
	}
	return KVStats{BlockSize: c.o.BlockSize}
}
