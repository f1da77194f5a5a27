// This file reads a Vocab from GGUF `tokenizer.*` metadata, as llama.cpp's
// convert_hf_to_gguf.py writes it. It works on a small metadata interface
// so that the mapping is independent of the file reader (FromGGUF adapts a
// *gguf.File to it).

package tokenizer

import (
	"fmt"
	"math"
)

// GGUF metadata keys of the tokenizer (llama.cpp gguf-py constants).
const (
	keyModel        = "tokenizer.ggml.model"
	keyPre          = "tokenizer.ggml.pre"
	keyTokens       = "tokenizer.ggml.tokens"
	keyTokenType    = "tokenizer.ggml.token_type"
	keyMerges       = "tokenizer.ggml.merges"
	keyEOS          = "tokenizer.ggml.eos_token_id"
	keyBOS          = "tokenizer.ggml.bos_token_id"
	keyPAD          = "tokenizer.ggml.padding_token_id"
	keyEOT          = "tokenizer.ggml.eot_token_id"
	keyEOM          = "tokenizer.ggml.eom_token_id"
	keyAddBOS       = "tokenizer.ggml.add_bos_token"
	keyAddEOS       = "tokenizer.ggml.add_eos_token"
	keyChatTemplate = "tokenizer.chat_template"
)

// Metadata is the view of GGUF key/value metadata the tokenizer needs;
// *gguf.File provides it through FromGGUF. Has reports whether a key is
// present; the getters fail on a missing key or a wrong type.
type Metadata interface {
	Has(key string) bool
	String(key string) (string, error)
	Strings(key string) ([]string, error)
	Int32s(key string) ([]int32, error)
	Uint32(key string) (uint32, error)
	Bool(key string) (bool, error)
}

// VocabFromMetadata reads the Vocab stored in GGUF metadata.
func VocabFromMetadata(md Metadata) (*Vocab, error) {
	model, err := md.String(keyModel)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if model != "gpt2" {
		return nil, fmt.Errorf("%w: unsupported model type %q (want gpt2, byte-level BPE)", ErrInvalid, model)
	}
	if !md.Has(keyPre) {
		return nil, fmt.Errorf("%w: %s missing (needed to choose the pre-tokenizer)", ErrInvalid, keyPre)
	}
	pre, err := md.String(keyPre)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	pt, ok := preTokenizers[pre]
	if !ok {
		return nil, fmt.Errorf("%w: unsupported pre-tokenizer %q (%s)", ErrInvalid, pre, keyPre)
	}
	v := &Vocab{
		Model:        model,
		Pre:          pre,
		Normalizer:   pt.normalizer,
		IgnoreMerges: pt.ignoreMerges,
		EOS:          -1,
		BOS:          -1,
		PAD:          -1,
	}
	if v.Tokens, err = md.Strings(keyTokens); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if md.Has(keyTokenType) {
		types, err := md.Int32s(keyTokenType)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		if len(types) != len(v.Tokens) {
			return nil, fmt.Errorf("%w: %s has %d entries for %d tokens", ErrInvalid, keyTokenType, len(types), len(v.Tokens))
		}
		v.Types = make([]TokenType, len(types))
		for i, t := range types {
			v.Types[i] = TokenType(t)
		}
	}
	if md.Has(keyMerges) {
		lines, err := md.Strings(keyMerges)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		v.Merges = make([][2]string, len(lines))
		for i, l := range lines {
			p, ok := splitMerge(l)
			if !ok {
				return nil, fmt.Errorf("%w: %s[%d] %q is not two tokens separated by a space", ErrInvalid, keyMerges, i, l)
			}
			v.Merges[i] = p
		}
	}
	for _, s := range []struct {
		key string
		dst *int32
	}{{keyEOS, &v.EOS}, {keyBOS, &v.BOS}, {keyPAD, &v.PAD}} {
		id, ok, err := optionalID(md, s.key, len(v.Tokens))
		if err != nil {
			return nil, err
		}
		if ok {
			*s.dst = id
		}
	}
	for _, key := range []string{keyEOT, keyEOM} {
		id, ok, err := optionalID(md, key, len(v.Tokens))
		if err != nil {
			return nil, err
		}
		if ok {
			v.ExtraEOG = append(v.ExtraEOG, id)
		}
	}
	if md.Has(keyAddBOS) {
		if v.AddBOS, err = md.Bool(keyAddBOS); err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
	}
	if md.Has(keyAddEOS) {
		if v.AddEOS, err = md.Bool(keyAddEOS); err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
	}
	if md.Has(keyChatTemplate) {
		if v.ChatTemplate, err = md.String(keyChatTemplate); err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
	}
	return v, nil
}

// optionalID reads a token id key if present and checks it is below n.
func optionalID(md Metadata, key string, n int) (int32, bool, error) {
	if !md.Has(key) {
		return 0, false, nil
	}
	id, err := md.Uint32(key)
	if err != nil {
		return 0, false, fmt.Errorf("tokenizer: %w", err)
	}
	if id > math.MaxInt32 || int64(id) >= int64(n) {
		return 0, false, fmt.Errorf("%w: %s %d out of range [0, %d)", ErrInvalid, key, id, n)
	}
	return int32(id), true, nil
}

// NewFromMetadata builds a Tokenizer from GGUF metadata.
func NewFromMetadata(md Metadata) (*Tokenizer, error) {
	v, err := VocabFromMetadata(md)
	if err != nil {
		return nil, err
	}
	return New(v)
}
