// This file holds the sequence lifecycle of a Context's KV cache, the API
// the scheduler admits and retires sequences through: a sequence slot
// reuses the cached blocks of its prompt's prefix, reserves the positions
// it may fill, publishes the blocks it filled for later prompts and
// releases them when it ends. Over today's cache, one contiguous region of
// Ctx positions per slot, a slot is one block and nothing is reused; the
// paged cache keeps the same API.

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
func (c *Context) ReusePrefix(seq int32, tokens []int32) int { return 0 }

// Reserve promises sequence slot seq the positions [0, n): later Forward
// calls for it up to position n-1 cannot run out of cache. It fails with
// ErrContextLength when n exceeds the context size, with ErrKVFull when the
// cache cannot promise them while the other sequences hold theirs.
func (c *Context) Reserve(seq int32, n int) error {
	if seq < 0 || int(seq) >= c.o.Seqs {
		return fmt.Errorf("%w: sequence %d outside [0, %d)", ErrBadBatch, seq, c.o.Seqs)
	}
	if n > c.o.Ctx {
		return fmt.Errorf("engine: reserve %d positions: context size %d: %w", n, c.o.Ctx, ErrContextLength)
	}
	if c.held == nil {
		c.held = make([]bool, c.o.Seqs)
	}
	c.held[seq] = true
	return nil
}

// Publish offers the full blocks of sequence slot seq that hold tokens
// (tokens[i] at position i, whose keys and values are in the cache) for
// reuse by later prompts. Over the slot cache it keeps nothing.
func (c *Context) Publish(seq int32, tokens []int32) {}

// Release ends sequence slot seq: its reservation is dropped and its
// blocks return to the cache (published ones stay reusable until evicted).
func (c *Context) Release(seq int32) {
	if c.held != nil && seq >= 0 && int(seq) < len(c.held) {
		c.held[seq] = false
	}
}

// KVStats returns the cache's block counts.
func (c *Context) KVStats() KVStats {
	s := KVStats{BlockSize: c.o.Ctx, Total: c.o.Seqs}
	for _, h := range c.held {
		if h {
			s.Used++
		}
	}
	return s
}
