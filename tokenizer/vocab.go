// This file holds the Vocab type and its validation.

// Package tokenizer implements byte-level BPE tokenization (the GPT-2 family
// of tokenizers used by Qwen2/Qwen3, Llama 3 and others) in pure Go. A
// Tokenizer is built from a Vocab, the plain in-memory description that both
// loaders produce: FromFiles reads a Hugging Face tokenizer.json (and
// tokenizer_config.json), FromGGUF reads the `tokenizer.*` metadata of a GGUF
// file.
package tokenizer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error about a vocabulary that is
// inconsistent or uses a tokenizer type this package does not support.
var ErrInvalid = errors.New("tokenizer: invalid vocabulary")

// TokenType is the kind of a vocabulary entry, numbered as llama.cpp's
// llama_token_type (the values stored in GGUF `tokenizer.ggml.token_type`).
type TokenType int32

// Token types.
const (
	TypeUndefined   TokenType = 0
	TypeNormal      TokenType = 1
	TypeUnknown     TokenType = 2
	TypeControl     TokenType = 3 // special token, e.g. <|im_end|>
	TypeUserDefined TokenType = 4 // added token that is not special, e.g. <think>
	TypeUnused      TokenType = 5 // padding row without a token
	TypeByte        TokenType = 6 // <0xXX> byte token
)

// Vocab describes a byte-level BPE tokenizer.
type Vocab struct {
	// Model is the tokenizer model, as GGUF `tokenizer.ggml.model` names it;
	// only "gpt2" (byte-level BPE) is supported.
	Model string
	// Pre names the pre-tokenizer as GGUF `tokenizer.ggml.pre` does:
	// "qwen2", "llama3" or "gpt2" (and llama.cpp's aliases of these).
	Pre string
	// Normalizer is "", "NFC", "NFD", "NFKC" or "NFKD". The GGUF loader sets
	// it from Pre, to what the model's tokenizer.json declares.
	Normalizer string
	// IgnoreMerges makes a piece that is itself a vocabulary entry one token
	// without merging (tokenizer.json "ignore_merges").
	IgnoreMerges bool
	// Tokens holds the entries by id, byte-level spelled for normal tokens
	// and verbatim for added ones.
	Tokens []string
	// Types holds the type of each entry; nil means all TypeNormal.
	Types []TokenType
	// Merges lists the BPE merges in priority order (highest first).
	Merges [][2]string
	// EOS, BOS and PAD are the special ids, -1 when absent.
	EOS, BOS, PAD int32
	// ExtraEOG lists more end-of-generation ids (GGUF eot/eom ids).
	ExtraEOG []int32
	// AddBOS tells callers to put BOS in front of a prompt.
	AddBOS bool
	// AddEOS tells callers to end an input with EOS (embedding models such
	// as Qwen3-Embedding pool the hidden state of that last EOS).
	AddEOS bool
	// ChatTemplate is the model's Jinja chat template, "" if none.
	ChatTemplate string
}

// IsSpecialType reports whether tokens of type t are matched in the text
// before BPE and decoded verbatim.
func IsSpecialType(t TokenType) bool {
	return t == TypeControl || t == TypeUserDefined || t == TypeUnknown
}

// splitMerge splits a merge rule written "left right", as GGUF and older
// tokenizer.json files store them. Like llama.cpp it looks for the space
// from the second byte on, so that a left part may itself start with one.
func splitMerge(s string) ([2]string, bool) {
	if len(s) < 3 {
		return [2]string{}, false
	}
	i := strings.IndexByte(s[1:], ' ')
	if i < 0 {
		return [2]string{}, false
	}
	i++
	if i+1 >= len(s) {
		return [2]string{}, false
	}
	return [2]string{s[:i], s[i+1:]}, true
}

// parseByteToken returns the byte of a `<0xXX>` token.
func parseByteToken(tok string) (byte, bool) {
	if len(tok) != 6 || !strings.HasPrefix(tok, "<0x") || tok[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(tok[3:5], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

// check validates what New cannot derive: sizes, types and special ids.
func (v *Vocab) check() error {
	if v.Model != "gpt2" {
		return fmt.Errorf("%w: unsupported model type %q (want gpt2, byte-level BPE)", ErrInvalid, v.Model)
	}
	if _, ok := preTokenizers[v.Pre]; !ok {
		return fmt.Errorf("%w: unsupported pre-tokenizer %q", ErrInvalid, v.Pre)
	}
	switch v.Normalizer {
	case "", "NFC", "NFD", "NFKC", "NFKD":
	default:
		return fmt.Errorf("%w: unsupported normalizer %q", ErrInvalid, v.Normalizer)
	}
	n := len(v.Tokens)
	if n == 0 {
		return fmt.Errorf("%w: empty vocabulary", ErrInvalid)
	}
	if n > 1<<31-1 {
		return fmt.Errorf("%w: %d tokens exceed int32 ids", ErrInvalid, n)
	}
	if v.Types != nil && len(v.Types) != n {
		return fmt.Errorf("%w: %d token types for %d tokens", ErrInvalid, len(v.Types), n)
	}
	for i, t := range v.Types {
		if t < TypeUndefined || t > TypeByte {
			return fmt.Errorf("%w: token %d: unknown token type %d", ErrInvalid, i, t)
		}
		if t == TypeByte {
			if _, ok := parseByteToken(v.Tokens[i]); !ok {
				return fmt.Errorf("%w: token %d: malformed byte token %q (want <0xXX>)", ErrInvalid, i, v.Tokens[i])
			}
		}
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"eos", v.EOS}, {"bos", v.BOS}, {"padding", v.PAD}} {
		if s.id < -1 || int64(s.id) >= int64(n) {
			return fmt.Errorf("%w: %s token id %d out of range [0, %d)", ErrInvalid, s.name, s.id, n)
		}
	}
	for _, id := range v.ExtraEOG {
		if id < 0 || int64(id) >= int64(n) {
			return fmt.Errorf("%w: end-of-generation id %d out of range [0, %d)", ErrInvalid, id, n)
		}
	}
	return nil
}
