// This file lifts a byte-level Matcher to tokens: Constraint answers
// whether a token may come next and advances past the sampled one.
//
// A check runs the token's bytes through a copy of the matcher's state,
// after two shortcuts: inside a free string a string-safe token is allowed
// without running the matcher (when the string has room for its
// characters), and a per-state table of first bytes rejects most tokens
// after one byte. The sampler checks the token it drew and redraws a few
// times before it scans the whole vocabulary; once a state has answered
// maskAfter checks, the constraint computes the state's whole allowed set
// as a bit mask and keeps it under the matcher's state key, so a scan of a
// state seen before (inside a string, between members of a repeated
// shape) is a bit lookup per token.
//
// With reasoning on, the text up to the output's first </think> (the token
// or the same text in pieces) is free, and only then does the matcher
// start.

package constrain

import "math"

// MaxSpace bounds each run of whitespace between JSON tokens, like the ws
// rule of llama.cpp's JSON grammar (grammars/json.gbnf: a newline and at
// most 20 indentation characters), with room for 2-space indentation 15
// levels deep. Without it a model can pad with whitespace until the limit.
const MaxSpace = 32

// thinkEnd is the text that ends Qwen3's reasoning block.
const thinkEnd = "</think>"

// maskAfter is the number of matcher checks in one state after which the
// state's whole allowed set is computed: more than the sampler's redraws
// (a step that finds its token quickly never pays for a mask), fewer than
// a full scan.
const maskAfter = 8

// maxMasks bounds the masks kept per constraint (each is nVocab bits, 19
// KiB for Qwen3); when full, the cache starts over.
const maxMasks = 256

// Matcher recognizes the prefixes of a language one byte at a time.
type Matcher interface {
	// Accepts reports whether b keeps the text a valid prefix, leaving the
	// state as it is.
	Accepts(b []byte) bool
	// Feed appends b and reports whether the text is still a valid
	// prefix; after false the state is unspecified.
	Feed(b []byte) bool
	// Complete reports whether the text may end here.
	Complete() bool
	// Done reports whether the text must end here: it is complete and no
	// byte continues it (or nothing more is wanted).
	Done() bool
	// StringRoom reports whether the text ends inside a free string after
	// a whole character, and how many more characters the string takes:
	// then any string-safe text of at most that many characters is
	// accepted.
	StringRoom() (room int, ok bool)
	// AppendKey appends a key of the state to b: two states with the same
	// key accept the same continuations.
	AppendKey(b []byte) []byte
}

// Constraint is the token-level state of one constrained generation. It is
// not safe for concurrent use.
type Constraint struct {
	voc *Vocab
	m   Matcher
	// active is false while the model is still reasoning; the output's
	// first thinkEnd switches it on.
	active bool
	// tail holds the last bytes of the reasoning.
	tail [len(thinkEnd)]byte
	// first caches, for the current state, whether each byte may come
	// next (0 unknown, 1 yes, -1 no); pair does the same for the first two
	// bytes of a token, valid where pairGen equals gen (a new state
	// increments gen instead of clearing 64 KiB).
	first   [256]int8
	gen     uint32
	pairGen []uint32 // [65536]
	pairOK  []bool   // [65536]
	// checks counts the matcher checks in the current state; looked says
	// whether the mask cache was consulted for it.
	checks int
	looked bool
	// mask is the current state's allowed set, nil until computed.
	mask  []uint64
	masks map[string][]uint64
	key   []byte
}

// New starts a constraint over voc with the matcher m in its initial
// state; reasoning says the output opens with a free reasoning block, up
// to </think>.
func New(voc *Vocab, m Matcher, reasoning bool) *Constraint {
	return &Constraint{voc: voc, m: m, active: !reasoning, masks: map[string][]uint64{}, gen: 1}
}

// NewJSONObject returns a Matcher for one JSON object with bounded
// whitespace (response_format json_object).
func NewJSONObject() Matcher {
	v := new(JSONValidator)
	v.LimitSpace(MaxSpace)
	return v
}

// Allowed reports whether id may come next: while reasoning anything but an
// end-of-generation token; then a plain token whose bytes keep the text a
// valid prefix, a special token whose text does so outside a string, or an
// end-of-generation token once the text is complete.
func (c *Constraint) Allowed(id int32) bool {
	if id < 0 || int(id) >= len(c.voc.kind) {
		return false
	}
	if !c.active {
		return c.voc.kind[id]&EOG == 0
	}
	if c.mask == nil && !c.looked {
		c.looked = true
		c.key = c.m.AppendKey(c.key[:0])
		c.mask = c.masks[string(c.key)]
	}
	if c.mask != nil {
		return c.mask[id/64]&(1<<(id%64)) != 0
	}
	if c.checks++; c.checks > maskAfter {
		c.buildMask()
		return c.mask[id/64]&(1<<(id%64)) != 0
	}
	room, inString := c.m.StringRoom()
	return c.check(id, room, inString)
}

// check runs one token against the matcher; room and inString are the
// matcher's StringRoom.
func (c *Constraint) check(id int32, room int, inString bool) bool {
	k := c.voc.kind[id]
	switch {
	case k&EOG != 0:
		return c.m.Complete()
	case k&(Plain|Special) == 0:
		return false
	}
	if inString {
		if k&stringSafe != 0 {
			return int(c.voc.runes[id]) <= room
		}
		if k&Special != 0 {
			return false
		}
	}
	b := c.voc.Bytes(id)
	f := &c.first[b[0]]
	if *f == 0 {
		*f = -1
		if c.m.Accepts(b[:1]) {
			*f = 1
		}
	}
	if *f < 0 {
		return false
	}
	if len(b) == 1 {
		return true
	}
	if c.pairGen == nil {
		return c.m.Accepts(b)
	}
	// Most tokens a full scan rejects after their first byte fail on
	// their second (a space-led word after a colon): one check per pair.
	p := int(b[0])<<8 | int(b[1])
	if c.pairGen[p] != c.gen {
		c.pairGen[p], c.pairOK[p] = c.gen, c.m.Accepts(b[:2])
	}
	if !c.pairOK[p] {
		return false
	}
	return len(b) == 2 || c.m.Accepts(b)
}

// buildMask computes the current state's allowed set and keeps it under
// the state's key.
func (c *Constraint) buildMask() {
	n := len(c.voc.kind)
	mask := make([]uint64, (n+63)/64)
	if c.pairGen == nil {
		c.pairGen, c.pairOK = make([]uint32, 1<<16), make([]bool, 1<<16)
	}
	room, inString := c.m.StringRoom()
	for id := range int32(n) {
		if c.check(id, room, inString) {
			mask[id/64] |= 1 << (id % 64)
		}
	}
	if len(c.masks) >= maxMasks {
		clear(c.masks)
	}
	c.masks[string(c.key)] = mask
	c.mask = mask
}

// Accept advances the state past a sampled token, which Allowed accepted.
func (c *Constraint) Accept(id int32) {
	if id < 0 || int(id) >= len(c.voc.kind) {
		return
	}
	b := c.voc.Bytes(id)
	if !c.active {
		for _, x := range b {
			copy(c.tail[:], c.tail[1:])
			c.tail[len(c.tail)-1] = x
		}
		c.active = string(c.tail[:]) == thinkEnd
		return
	}
	if c.voc.kind[id]&(Plain|Special) != 0 {
		c.m.Feed(b)
		c.first = [256]int8{}
		c.gen++
		c.checks, c.looked, c.mask = 0, false, nil
	}
}

// Done reports whether the constrained text is complete and must end.
func (c *Constraint) Done() bool { return c.active && c.m.Done() }

// Complete reports whether the constrained text may end here.
func (c *Constraint) Complete() bool { return c.active && c.m.Complete() }

// The JSON object validator as a Matcher.

// Done reports whether the object has closed (trailing whitespace is not
// wanted).
func (v *JSONValidator) Done() bool { return v.Complete() }

// StringRoom reports whether the text ends inside a string after a whole
// character; a JSON object's strings have no length bound.
func (v *JSONValidator) StringRoom() (int, bool) { return math.MaxInt, v.InString() }

// AppendKey appends the validator's state; the container stack counts up
// to its depth only.
func (v *JSONValidator) AppendKey(b []byte) []byte {
	b = append(b, v.state, v.sub, v.lit, v.str.phase, v.str.left, v.str.lo, v.str.hi, byte(v.space), byte(v.space>>8), byte(v.depth), byte(v.depth>>8))
	if v.key {
		b = append(b, 1)
	}
	for i := 0; i < int(v.depth+63)/64; i++ {
		w := v.stack[i]
		b = append(b, byte(w), byte(w>>8), byte(w>>16), byte(w>>24), byte(w>>32), byte(w>>40), byte(w>>48), byte(w>>56))
	}
	return b
}
