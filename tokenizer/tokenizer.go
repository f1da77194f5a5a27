// This file holds the Tokenizer: its construction from a Vocab, encoding
// (added tokens, normalization, pre-tokenization, BPE) and the accessors the
// engine uses (special ids, end-of-generation set, chat template).

package tokenizer

import (
	"fmt"
	"math"
	"slices"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer encodes text to token ids and back. It is safe for concurrent
// use.
type Tokenizer struct {
	tokens []string
	types  []TokenType
	ids    map[string]int32 // first id of each entry
	// pieceData[pieceOff[id]:pieceOff[id+1]] are the bytes id decodes to
	// (one buffer rather than a slice per token keeps the heap small).
	pieceData []byte
	pieceOff  []uint32

	byteID       [256]int32       // id of each single byte
	merges       map[uint64]merge // pairKey(left, right) -> merge
	pre          PreTokenizer
	normalize    func(string) string
	ignoreMerges bool
	specials     specialMatcher
	cache        *wordCache

	eos, bos, pad int32
	addBOS        bool
	addEOS        bool
	eog           []int32
	chatTemplate  string
}

// merge is the result of merging a pair: its priority (lower first) and the
// id of the merged token.
type merge struct{ rank, id int32 }

func pairKey(left, right int32) uint64 { return uint64(uint32(left))<<32 | uint64(uint32(right)) }

// eogNames are entries that end generation besides EOS, as llama.cpp's
// vocabulary loader (llama-vocab.cpp, v0.5.0) treats them: end-of-turn
// tokens of the known chat formats and the fill-in-the-middle separators.
var eogNames = map[string]bool{
	"<|eot_id|>": true, "<|im_end|>": true, "<|end|>": true, "<end_of_turn>": true,
	"<|endoftext|>": true, "<|eom_id|>": true, "<EOT>": true, "_<EOT>": true,
	"<|end▁of▁sentence|>": true, "<|fim_pad|>": true, "<|repo_name|>": true,
	"<|file_sep|>": true,
}

// New builds a Tokenizer from v. Inconsistent or unsupported vocabularies
// give an error wrapping ErrInvalid.
func New(v *Vocab) (*Tokenizer, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	n := len(v.Tokens)
	t := &Tokenizer{
		tokens:       v.Tokens,
		types:        v.Types,
		ids:          make(map[string]int32, n),
		pieceOff:     make([]uint32, 1, n+1),
		merges:       make(map[uint64]merge, len(v.Merges)),
		eos:          v.EOS,
		bos:          v.BOS,
		pad:          v.PAD,
		addBOS:       v.AddBOS,
		addEOS:       v.AddEOS,
		chatTemplate: v.ChatTemplate,
		cache:        newWordCache(),
	}
	if t.types == nil {
		t.types = make([]TokenType, n)
		for i := range t.types {
			t.types[i] = TypeNormal
		}
	}
	pt := preTokenizers[v.Pre]
	t.pre = pt.pre
	t.ignoreMerges = v.IgnoreMerges
	switch v.Normalizer {
	case "NFC":
		t.normalize = norm.NFC.String
	case "NFD":
		t.normalize = norm.NFD.String
	case "NFKC":
		t.normalize = norm.NFKC.String
	case "NFKD":
		t.normalize = norm.NFKD.String
	}

	var special []int32
	for i, tok := range v.Tokens {
		id := int32(i)
		typ := t.types[i]
		if _, dup := t.ids[tok]; !dup {
			t.ids[tok] = id
		}
		switch {
		case IsSpecialType(typ):
			t.pieceData = append(t.pieceData, tok...)
			if tok != "" {
				special = append(special, id)
			}
		case typ == TypeByte:
			b, _ := parseByteToken(tok)
			t.pieceData = append(t.pieceData, b)
		case typ == TypeUnused:
			// Padding rows decode to nothing.
		default:
			t.pieceData = appendByteLevelDecode(t.pieceData, tok)
		}
		if id == v.EOS || (IsSpecialType(typ) && eogNames[tok]) {
			t.eog = append(t.eog, id)
		}
		if len(t.pieceData) > math.MaxUint32 {
			return nil, fmt.Errorf("%w: vocabulary text exceeds 4 GiB", ErrInvalid)
		}
		t.pieceOff = append(t.pieceOff, uint32(len(t.pieceData)))
	}
	t.specials = newSpecialMatcher(v.Tokens, special)
	for _, id := range v.ExtraEOG {
		if !slices.Contains(t.eog, id) {
			t.eog = append(t.eog, id)
		}
	}
	slices.Sort(t.eog)

	for b := 0; b < 256; b++ {
		sym := string(byteRune[b])
		id, ok := t.ids[sym]
		if !ok || IsSpecialType(t.types[id]) || t.types[id] == TypeUnused {
			return nil, fmt.Errorf("%w: byte 0x%02x (%q) has no normal vocabulary entry", ErrInvalid, b, sym)
		}
		t.byteID[b] = id
	}
	if len(v.Merges) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d merges exceed int32 ranks", ErrInvalid, len(v.Merges))
	}
	var joined []byte
	for i, m := range v.Merges {
		joined = append(append(joined[:0], m[0]...), m[1]...)
		left, ok := t.ids[m[0]]
		if !ok {
			return nil, mergeError(i, m, m[0])
		}
		right, ok := t.ids[m[1]]
		if !ok {
			return nil, mergeError(i, m, m[1])
		}
		res, ok := t.ids[string(joined)]
		if !ok {
			return nil, mergeError(i, m, string(joined))
		}
		k := pairKey(left, right)
		if _, dup := t.merges[k]; !dup {
			t.merges[k] = merge{rank: int32(i), id: res}
		}
	}
	return t, nil
}

func mergeError(i int, m [2]string, missing string) error {
	return fmt.Errorf("%w: merge %d (%q %q): %q is not in the vocabulary", ErrInvalid, i, m[0], m[1], missing)
}

// Encode returns the token ids of text. Added and special tokens written in
// the text become their ids (the longest one wins where several match at
// the same place); no BOS is added. Any byte string is accepted.
func (t *Tokenizer) Encode(text string) []int32 {
	ids, _ := t.EncodeLimit(text, 0)
	return ids
}

// EncodeLimit is Encode that gives up once more than limit ids are made (a
// prompt that cannot fit a context need not be tokenized to its end): it
// then returns the ids so far and true. limit <= 0 means no limit.
func (t *Tokenizer) EncodeLimit(text string, limit int) ([]int32, bool) {
	n := len(text)/3 + 1
	if limit > 0 {
		n = min(n, limit+1)
	}
	out := make([]int32, 0, n)
	over := func() bool { return limit > 0 && len(out) > limit }
	t.specials.split(text, func(seg string, id int32) {
		if over() {
			return
		}
		if id >= 0 {
			out = append(out, id)
			return
		}
		if t.normalize != nil {
			seg = t.normalize(seg)
		}
		for i := 0; i < len(seg) && !over(); {
			end := t.pre.Next(seg, i)
			out = t.encodePiece(out, seg[i:end])
			i = end
		}
	})
	return out, over()
}

// VocabSize returns the number of vocabulary entries (ids are below it).
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// Token returns the vocabulary entry of id as stored (byte-level spelling
// for normal tokens), or "" for an id out of range.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// TokenType returns the type of id, TypeUndefined when out of range.
func (t *Tokenizer) TokenType(id int32) TokenType {
	if id < 0 || int(id) >= len(t.types) {
		return TypeUndefined
	}
	return t.types[id]
}

// IsSpecial reports whether id is a control, user-defined or unknown
// token: one matched verbatim in text and decoded verbatim.
func (t *Tokenizer) IsSpecial(id int32) bool { return IsSpecialType(t.TokenType(id)) }

// ID returns the id of a vocabulary entry spelled as Token returns it.
func (t *Tokenizer) ID(token string) (int32, bool) {
	id, ok := t.ids[token]
	return id, ok
}

// EOG returns the end-of-generation ids: EOS and the end-of-turn and
// fill-in-the-middle separator tokens, in id order. The caller must not
// modify the slice.
func (t *Tokenizer) EOG() []int32 { return t.eog }

// IsEOG reports whether id ends generation.
func (t *Tokenizer) IsEOG(id int32) bool {
	for _, e := range t.eog {
		if e == id {
			return true
		}
	}
	return false
}

// EOS returns the end-of-sequence id, if the vocabulary has one.
func (t *Tokenizer) EOS() (int32, bool) { return t.eos, t.eos >= 0 }

// BOS returns the beginning-of-sequence id, if the vocabulary has one.
func (t *Tokenizer) BOS() (int32, bool) { return t.bos, t.bos >= 0 }

// PAD returns the padding id, if the vocabulary has one.
func (t *Tokenizer) PAD() (int32, bool) { return t.pad, t.pad >= 0 }

// AddBOS reports whether prompts should start with BOS.
func (t *Tokenizer) AddBOS() bool { return t.addBOS && t.bos >= 0 }

// AddEOS reports whether an input should end with EOS
// (tokenizer.ggml.add_eos_token; llama.cpp appends it when tokenizing with
// special tokens, which embedding models rely on).
func (t *Tokenizer) AddEOS() bool { return t.addEOS && t.eos >= 0 }

// ChatTemplate returns the model's chat template, "" if none.
func (t *Tokenizer) ChatTemplate() string { return t.chatTemplate }

// PreTokenizer returns the pre-tokenizer in use.
func (t *Tokenizer) PreTokenizer() PreTokenizer { return t.pre }
