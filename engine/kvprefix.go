// This file holds the prefix index of the paged KV cache: full blocks
// addressed by the token prefix they hold. A block's key is a hash chain,
// the hash of its parent block's key and its own tokens; a lookup verifies
// the stored tokens and the parent link, so a hash collision is never a
// false hit. The parent link is a (block, epoch) pair: a block's epoch
// changes whenever it leaves the index, so the children of a block that
// was evicted or rewritten stop matching (they stay cached, unreachable,
// until the allocator evicts them).

package engine

import "math/rand/v2"

// blockLink names one instance of a cached block: its index and the epoch
// it had when indexed. rootLink is the parent of a prompt's first block.
type blockLink struct {
	block int32
	epoch uint32
}

var rootLink = blockLink{block: -1}

// prefixIndex maps hash-chain keys to cached full blocks.
type prefixIndex struct {
	bs     int
	seed   uint64
	hash   func(seed, parent uint64, tokens []int32) uint64 // chainHash; tests force collisions
	byHash map[uint64]int32
	meta   []blockMeta // per block
	tokens []int32     // [blocks, bs]: the tokens of each indexed block
}

// blockMeta is what the index knows of one block.
type blockMeta struct {
	key     uint64    // hash-chain key, while indexed
	parent  blockLink // the block before it in the prompt
	epoch   uint32    // bumped whenever the block leaves the index
	indexed bool
}

func newPrefixIndex(blocks, bs int) *prefixIndex {
	return &prefixIndex{
		bs: bs, seed: rand.Uint64(), hash: chainHash,
		byHash: make(map[uint64]int32),
		meta:   make([]blockMeta, blocks),
		tokens: make([]int32, blocks*bs),
	}
}

// chainHash is the key of a block holding tokens after the block keyed
// parent: FNV-style multiply-xor over the tokens, seeded per cache so that
// keys cannot be precomputed, with a final avalanche (splitmix64).
func chainHash(seed, parent uint64, tokens []int32) uint64 {
	h := seed ^ parent*0x9e3779b97f4a7c15
	for _, t := range tokens {
		h = (h ^ uint64(uint32(t))) * 0x100000001b3
		h ^= h >> 29
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// link is the current instance of block b.
func (x *prefixIndex) link(b int32) blockLink { return blockLink{b, x.meta[b].epoch} }

// key of the block after parent (keyed parentKey) holding tokens; the
// root's key is 0.
func (x *prefixIndex) key(parentKey uint64, tokens []int32) uint64 {
	return x.hash(x.seed, parentKey, tokens)
}

// find returns the indexed block under key if it follows parent and holds
// tokens.
func (x *prefixIndex) find(key uint64, parent blockLink, tokens []int32) (int32, bool) {
	b, ok := x.byHash[key]
	if !ok || x.meta[b].parent != parent || !x.holds(b, tokens) {
		return -1, false
	}
	return b, true
}

// holds reports whether indexed block b holds tokens.
func (x *prefixIndex) holds(b int32, tokens []int32) bool {
	stored := x.tokens[int(b)*x.bs : (int(b)+1)*x.bs]
	for i, t := range tokens {
		if stored[i] != t {
			return false
		}
	}
	return len(tokens) == x.bs
}

// orphan reports whether indexed block b can no longer be reached: its
// parent left the index after b was indexed.
func (x *prefixIndex) orphan(b int32) bool {
	p := x.meta[b].parent
	return p != rootLink && (!x.meta[p.block].indexed || x.meta[p.block].epoch != p.epoch)
}

// insert indexes block b under key, after parent, holding tokens.
func (x *prefixIndex) insert(b int32, key uint64, parent blockLink, tokens []int32) {
	m := &x.meta[b]
	m.key, m.parent, m.indexed = key, parent, true
	copy(x.tokens[int(b)*x.bs:(int(b)+1)*x.bs], tokens)
	x.byHash[key] = b
}

// remove drops block b from the index (a no-op when it is not indexed);
// its epoch changes so that its children no longer match.
func (x *prefixIndex) remove(b int32) {
	m := &x.meta[b]
	if !m.indexed {
		return
	}
	if x.byHash[m.key] == b {
		delete(x.byHash, m.key)
	}
	m.indexed = false
	m.epoch++
}
