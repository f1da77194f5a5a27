// This file holds the size of a paged KV cache as a load asks for it: in
// memory ("2GiB") or in blocks ("4096 blocks"), and its conversion into
// blocks for a model.

package engine

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// KVCacheSize is the size of a model's paged KV cache: Blocks, or else
// Bytes of memory (rounded down to whole blocks). Both zero take the
// default: every sequence slot can hold ctx_size positions.
type KVCacheSize struct {
	Bytes  int64
	Blocks int
}

// IsZero reports whether s asks for the default size.
func (s KVCacheSize) IsZero() bool { return s.Bytes == 0 && s.Blocks == 0 }

// String writes s the way ParseKVCacheSize reads it.
func (s KVCacheSize) String() string {
	switch {
	case s.Blocks > 0:
		return fmt.Sprintf("%d blocks", s.Blocks)
	case s.Bytes > 0:
		return strconv.FormatInt(s.Bytes, 10)
	}
	return "default"
}

// blocks is the number of blocks of blockSize positions s holds for a
// model of cfg with a cache of type kv; 0 for the default.
func (s KVCacheSize) blocks(cfg Config, kv KVType, blockSize int) int {
	if s.Blocks > 0 {
		return s.Blocks
	}
	return int(s.Bytes / KVBlockBytes(cfg, kv, blockSize))
}

var blocksRE = regexp.MustCompile(`(?i)^\s*(\d+)\s*blocks?\s*$`)

// ParseKVCacheSize reads a KV cache size: "N blocks", or a size in memory
// as ParseBytes reads it ("2GiB", "512MB", bytes). "" and "0" are the
// default.
func ParseKVCacheSize(text string) (KVCacheSize, error) {
	if m := blocksRE.FindStringSubmatch(text); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > math.MaxInt32 {
			return KVCacheSize{}, fmt.Errorf("kv cache size %q: too many blocks", text)
		}
		return KVCacheSize{Blocks: n}, nil
	}
	b, err := ParseBytes(text)
	if err != nil {
		return KVCacheSize{}, fmt.Errorf("kv cache size: %w (or a number of blocks such as \"4096 blocks\")", err)
	}
	return KVCacheSize{Bytes: b}, nil
}

var sizeRE = regexp.MustCompile(`(?i)^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$`)

// ParseBytes reads a size: a number of bytes or a number with a unit (KB,
// MiB, G, ...; powers of 1024 with "i", of 1000 without). "" is 0.
func ParseBytes(s string) (int64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("want a size such as 24GiB or 512MB, got %q", s)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	base := 1000.0
	if m[3] != "" {
		base = 1024
	}
	if m[2] != "" {
		f *= math.Pow(base, float64(strings.Index("KMGT", strings.ToUpper(m[2]))+1))
	}
	if f > 1<<62 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(f), nil
}
