// JSON mode's sampling side (OpenAI response_format json_object): the
// tokens a sequence may draw are restricted to those whose bytes keep the
// output a valid prefix of a JSON object (JSONValidator), and generation
// stops as soon as the object closes.
//
// Checking every token of a 151k vocabulary at every step would cost more
// than the rest of sampling, so the sampler works like llama.cpp's grammar
// sampling (common_sampler_sample): it samples as usual, checks only the
// chosen token, and when that token is not allowed masks it and samples
// again; after jsonRetries rejected tokens it masks the whole vocabulary in
// one scan and samples from what is left. Masking and redrawing from the
// same sampler keeps greedy decoding and seeded sampling deterministic.
//
// With thinking on, the reasoning is free text: the constraint starts after
// the output's first </think> (the token, or the same text in pieces), where
// the chat parser's content starts. End-of-generation tokens are held
// back until the object is complete, so the output never ends early.

package engine

import (
	"math"
	"unicode/utf8"

	"github.com/helexa/helexa/tokenizer"
)

// jsonRetries is how many sampled tokens may be rejected in one step before
// the whole vocabulary is masked. A model asked for JSON almost always
// proposes a valid token first; the bound keeps a model that insists on
// invalid ones from costing more than one full scan per step.
const jsonRetries = 4

// jsonMaxSpace bounds each run of whitespace between JSON tokens, like the
// ws rule of llama.cpp's JSON grammar (grammars/json.gbnf: a newline and at
// most 20 indentation characters), with room for 2-space indentation 15
// levels deep. Without it a model can pad with whitespace until the limit.
const jsonMaxSpace = 32

// thinkEnd is the text that ends Qwen3's reasoning block.
const thinkEnd = "</think>"

// SampleAllowed is Sample restricted to the tokens allow accepts: the usual
// chain picks a token, and a token allow rejects is masked (its logit set
// to -Inf) and the pick repeated; after jsonRetries rejections every token
// allow rejects is masked at once. It reports false when allow accepts no
// token of the vocabulary at all. Log-probabilities are those of the
// model's distribution, as with Sample.
func (s *Sampler) SampleAllowed(logits []float32, lp *TokenLogprob, allow func(id int32) bool) (int32, bool) {
	logits = s.prepare(logits, lp)
	id := s.pick(logits)
	for try := 0; !allow(id); try++ {
		if try == jsonRetries {
			var ok bool
			if id, ok = s.pickMasked(logits, allow); !ok {
				return 0, false
			}
			break
		}
		logits[id] = float32(math.Inf(-1))
		id = s.pick(logits)
	}
	if lp != nil {
		s.logprobs(id, lp)
	}
	return id, true
}

// pickMasked masks every token allow rejects and picks among the rest. When
// all allowed tokens have -Inf (or NaN) logits the pick could land on a
// masked one; the lowest allowed id is taken then, so the result is always
// allowed.
func (s *Sampler) pickMasked(logits []float32, allow func(id int32) bool) (int32, bool) {
	first := int32(-1)
	for i := range logits {
		if !allow(int32(i)) {
			logits[i] = float32(math.Inf(-1))
		} else if first < 0 {
			first = int32(i)
		}
	}
	if first < 0 {
		return 0, false
	}
	if id := s.pick(logits); allow(id) {
		return id, true
	}
	return first, true
}

// Token kinds of a tokenTable, as bit flags.
const (
	// tokPlain marks a token that may appear inside JSON text: a normal or
	// byte token with at least one byte (not control, user-defined,
	// unknown or unused rows).
	tokPlain uint8 = 1 << iota
	// tokStringSafe marks a plain token of whole, well-formed UTF-8
	// characters without control characters, '"' or '\\': inside a string
	// it is always allowed, no need to run the validator (the common case
	// of a full scan).
	tokStringSafe
	// tokEOG marks an end-of-generation token.
	tokEOG
)

// tokenTable holds every token's bytes and kind for JSON mode, built once
// per generator on the first JSON request.
type tokenTable struct {
	data []byte
	off  []int32 // [nVocab+1] token id's bytes are data[off[id]:off[id+1]]
	kind []uint8 // [nVocab] tokPlain | tokStringSafe | tokEOG
}

// newTokenTable collects the bytes of ids [0, nVocab) (ids beyond the
// tokenizer's vocabulary are empty and not plain).
func newTokenTable(tok *tokenizer.Tokenizer, nVocab int) *tokenTable {
	t := &tokenTable{off: make([]int32, nVocab+1), kind: make([]uint8, nVocab)}
	for id := range int32(nVocab) {
		b := tok.TokenBytes(id)
		t.data = append(t.data, b...)
		t.off[id+1] = int32(len(t.data))
		switch tok.TokenType(id) {
		case tokenizer.TypeNormal, tokenizer.TypeByte, tokenizer.TypeUndefined:
			if len(b) > 0 && int(id) < tok.VocabSize() {
				t.kind[id] = tokPlain
				if stringSafe(b) {
					t.kind[id] |= tokStringSafe
				}
			}
		}
		if tok.IsEOG(id) {
			t.kind[id] |= tokEOG
		}
	}
	return t
}

// stringSafe reports whether b is well-formed UTF-8 without control
// characters, '"' and '\\': text that can continue any string.
func stringSafe(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}

// bytes returns the bytes of id.
func (t *tokenTable) bytes(id int32) []byte { return t.data[t.off[id]:t.off[id+1]] }

// jsonConstraint is JSON mode's state for one generation.
type jsonConstraint struct {
	tab *tokenTable
	v   JSONValidator
	// active is false while the model is still reasoning; the output's
	// first thinkEnd switches it on.
	active bool
	// tail holds the last bytes of the reasoning.
	tail [len(thinkEnd)]byte
	// first caches, for the current state, whether each byte may come
	// next (0 unknown, 1 yes, -1 no): most tokens a full scan rejects
	// fail on their first byte, and the cache answers for them.
	first [256]int8
}

// newJSONConstraint starts JSON mode; reasoning says the output opens with
// a reasoning block, up to </think>, that stays unconstrained.
func newJSONConstraint(tab *tokenTable, reasoning bool) *jsonConstraint {
	c := &jsonConstraint{tab: tab, active: !reasoning}
	c.v.LimitSpace(jsonMaxSpace)
	return c
}

// allowed reports whether id may come next: while reasoning anything but an
// end-of-generation token; then a plain token whose bytes keep the output a
// valid JSON prefix, or an end-of-generation token once the object is
// complete.
func (c *jsonConstraint) allowed(id int32) bool {
	if int(id) >= len(c.tab.kind) || id < 0 {
		return false
	}
	k := c.tab.kind[id]
	switch {
	case !c.active:
		return k&tokEOG == 0
	case k&tokEOG != 0:
		return c.v.Complete()
	case k&tokPlain == 0:
		return false
	case k&tokStringSafe != 0 && c.v.InString():
		return true
	}
	b := c.tab.bytes(id)
	f := &c.first[b[0]]
	if *f == 0 {
		*f = -1
		if c.v.Accepts(b[:1]) {
			*f = 1
		}
	}
	if *f < 0 {
		return false
	}
	return len(b) == 1 || c.v.Accepts(b)
}

// accept advances the state past a sampled token.
func (c *jsonConstraint) accept(id int32) {
	if !c.active {
		for _, b := range c.tab.bytes(id) {
			copy(c.tail[:], c.tail[1:])
			c.tail[len(c.tail)-1] = b
		}
		c.active = string(c.tail[:]) == thinkEnd
		return
	}
	if int(id) < len(c.tab.kind) && c.tab.kind[id]&tokPlain != 0 {
		c.v.Feed(c.tab.bytes(id))
		c.first = [256]int8{}
	}
}

// done reports whether the JSON object is complete.
func (c *jsonConstraint) done() bool { return c.active && c.v.Complete() }
