// This file holds the vocabulary side of a constraint: every token's bytes
// and kind, built once per model.

package constrain

import "unicode/utf8"

// Kind says what a token is, as bit flags.
type Kind uint8

const (
	// Plain marks a token that may appear in constrained text: a normal or
	// byte token with at least one byte.
	Plain Kind = 1 << iota
	// EOG marks an end-of-generation token.
	EOG
	// Special marks a non-control added token with text (Qwen3's
	// <tool_call>, </tool_call>, <think>): allowed only where the matcher
	// accepts its text outside a string, never inside one.
	Special

	// stringSafe marks a plain token of whole, well-formed UTF-8
	// characters without control characters, '"' or '\\': inside a string
	// it is always allowed (the common case of a full scan).
	stringSafe
)

// Vocab holds every token's bytes and kind.
type Vocab struct {
	data  []byte
	off   []int32  // [n+1] token id's bytes are data[off[id]:off[id+1]]
	kind  []Kind   // [n]
	runes []uint16 // [n] characters of a string-safe token
}

// NewVocab collects the bytes and kind of ids [0, n). Plain tokens that are
// string-safe are recognized here.
func NewVocab(n int, bytes func(id int32) []byte, kind func(id int32) Kind) *Vocab {
	v := &Vocab{off: make([]int32, n+1), kind: make([]Kind, n), runes: make([]uint16, n)}
	for id := range int32(n) {
		b := bytes(id)
		k := kind(id)
		if len(b) == 0 {
			k &^= Plain | Special
		}
		if k&Plain != 0 && isStringSafe(b) {
			k |= stringSafe
			v.runes[id] = uint16(min(utf8.RuneCount(b), 1<<16-1))
		}
		v.data = append(v.data, b...)
		v.off[id+1] = int32(len(v.data))
		v.kind[id] = k
	}
	return v
}

// Size returns the number of token ids.
func (v *Vocab) Size() int { return len(v.kind) }

// Bytes returns the bytes of id.
func (v *Vocab) Bytes(id int32) []byte { return v.data[v.off[id]:v.off[id+1]] }

// isStringSafe reports whether b is well-formed UTF-8 without control
// characters, '"' and '\\': text that can continue any string.
func isStringSafe(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}
