// This file tests the GGUF metadata mapping without a GGUF file: a map of
// the keys llama.cpp's converter writes stands in for the file, built from
// the reference tokenizer.json in the converter's layout (full vocabulary,
// and the truncated "mini" vocabulary of the reference models).
package tokenizer

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

// mapMetadata is Metadata over a map of Go values, typed as the GGUF
// writer would store them.
type mapMetadata map[string]any

func (m mapMetadata) Has(key string) bool { _, ok := m[key]; return ok }

func get[T any](m mapMetadata, key string) (T, error) {
	var zero T
	v, ok := m[key]
	if !ok {
		return zero, fmt.Errorf("key %q missing", key)
	}
	x, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("key %q: wrong type %T", key, v)
	}
	return x, nil
}

func (m mapMetadata) String(key string) (string, error)    { return get[string](m, key) }
func (m mapMetadata) Strings(key string) ([]string, error) { return get[[]string](m, key) }
func (m mapMetadata) Int32s(key string) ([]int32, error)   { return get[[]int32](m, key) }
func (m mapMetadata) Uint32(key string) (uint32, error)    { return get[uint32](m, key) }
func (m mapMetadata) Bool(key string) (bool, error)        { return get[bool](m, key) }

// converterKVs returns the tokenizer metadata that convert_hf_to_gguf.py
// writes for the Qwen3 vocabulary hf: tokens padded with [PADn] rows of
// type UNUSED up to rows, merges as "left right" strings. With keep > 0 the
// vocabulary is truncated as for the reference mini models: normal tokens
// below keep, the merges among them, then the added tokens renumbered.
func converterKVs(t testing.TB, hf *Vocab, keep, rows int) mapMetadata {
	t.Helper()
	var tokens []string
	var types []int32
	old2new := map[int]int{}
	for i, tok := range hf.Tokens {
		if hf.Types[i] == TypeNormal && (keep == 0 || i < keep) {
			old2new[i] = len(tokens)
			tokens = append(tokens, tok)
			types = append(types, int32(TypeNormal))
		}
	}
	for i, tok := range hf.Tokens {
		if IsSpecialType(hf.Types[i]) {
			old2new[i] = len(tokens)
			tokens = append(tokens, tok)
			types = append(types, int32(hf.Types[i]))
		}
	}
	kept := map[string]bool{}
	for _, tok := range tokens {
		kept[tok] = true
	}
	var merges []string
	for _, m := range hf.Merges {
		if kept[m[0]] && kept[m[1]] && kept[m[0]+m[1]] {
			merges = append(merges, m[0]+" "+m[1])
		}
	}
	for len(tokens) < rows {
		tokens = append(tokens, fmt.Sprintf("[PAD%d]", len(tokens)))
		types = append(types, int32(TypeUnused))
	}
	id := func(tok string) uint32 {
		for i, x := range tokens {
			if x == tok {
				return uint32(i)
			}
		}
		t.Fatalf("no token %q", tok)
		return 0
	}
	return mapMetadata{
		keyModel:        "gpt2",
		keyPre:          "qwen2",
		keyTokens:       tokens,
		keyTokenType:    types,
		keyMerges:       merges,
		keyEOS:          id("<|im_end|>"),
		keyPAD:          id("<|endoftext|>"),
		keyBOS:          id("<|endoftext|>"),
		keyAddBOS:       false,
		keyChatTemplate: hf.ChatTemplate,
	}
}

func qwen3Vocab(t testing.TB) *Vocab {
	t.Helper()
	dir := filepath.Join(reftest.Dir(t), "qwen3-tokenizer")
	v, err := VocabFromFiles(filepath.Join(dir, "tokenizer.json"), filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Full vocabulary rows of the Qwen3 models (151669 tokens padded to the
// embedding's 151936 rows) and of the mini models (2048 BPE tokens, 26
// added, padded to 2112), from reference/README.md.
const (
	qwen3Rows = 151936
	miniKeep  = 2048
	miniRows  = 2112
)

func TestMetadataFullVocabulary(t *testing.T) {
	md := converterKVs(t, qwen3Vocab(t), 0, qwen3Rows)
	tk, err := NewFromMetadata(md)
	if err != nil {
		t.Fatal(err)
	}
	if tk.VocabSize() != qwen3Rows {
		t.Errorf("VocabSize = %d, want %d", tk.VocabSize(), qwen3Rows)
	}
	if got := tk.Decode([]int32{151700, 151645}); got != "<|im_end|>" {
		t.Errorf("padding row decodes to %q, want nothing", got)
	}
	cases := loadCases(t, filepath.Join(reftest.Dir(t), "tokenizer-cases.json"))
	checkCases(t, tk, cases, func(c refCase) []int32 { return c.IDs })
}

func TestMetadataMiniVocabulary(t *testing.T) {
	md := converterKVs(t, qwen3Vocab(t), miniKeep, miniRows)
	if n := len(md[keyMerges].([]string)); n != 1792 {
		t.Fatalf("mini vocabulary has %d merges, reference/README.md says 1792", n)
	}
	tk, err := NewFromMetadata(md)
	if err != nil {
		t.Fatal(err)
	}
	checkMini(t, tk)
}

// checkMini runs expected/mini-tokenizer-cases.json; where llama.cpp and
// Hugging Face differ (NFC), Hugging Face's ids are the expectation.
func checkMini(t *testing.T, tk *Tokenizer) {
	t.Helper()
	cases := loadCases(t, filepath.Join(reftest.Dir(t), "expected", "mini-tokenizer-cases.json"))
	checkCases(t, tk, cases, func(c refCase) []int32 {
		if c.HFIDs != nil {
			return c.HFIDs
		}
		return c.IDs
	})
	// Hello, world! -> H el lo , " world" ! (reference/README.md).
	if got := fmt.Sprint(tk.Encode("Hello, world!")); got != "[39 301 385 11 1879 0]" {
		t.Errorf("Encode(Hello, world!) = %s", got)
	}
	// llama.cpp treats these as end of generation (reference/README.md).
	if got := fmt.Sprint(tk.EOG()); got != "[2048 2050 2067 2068 2069]" {
		t.Errorf("EOG = %s, want [2048 2050 2067 2068 2069]", got)
	}
	if id, ok := tk.BOS(); !ok || id != 2048 || tk.AddBOS() {
		t.Errorf("BOS = %d, %v, AddBOS %v; want 2048, true, false", id, ok, tk.AddBOS())
	}
}

func TestMetadataErrors(t *testing.T) {
	base := func() mapMetadata {
		return mapMetadata{
			keyModel:     "gpt2",
			keyPre:       "qwen2",
			keyTokens:    byteTokens("ab", "abc"),
			keyTokenType: make([]int32, 258),
			keyMerges:    []string{"a b", "ab c"},
			keyEOS:       uint32(257),
		}
	}
	tests := []struct {
		name   string
		modify func(m mapMetadata)
		want   string
	}{
		{"ok", func(m mapMetadata) {}, ""},
		{"unknown model", func(m mapMetadata) { m[keyModel] = "llama" }, `unsupported model type "llama"`},
		{"missing model", func(m mapMetadata) { delete(m, keyModel) }, "tokenizer.ggml.model"},
		{"unknown pre", func(m mapMetadata) { m[keyPre] = "klingon" }, `unsupported pre-tokenizer "klingon"`},
		{"missing pre", func(m mapMetadata) { delete(m, keyPre) }, "tokenizer.ggml.pre missing"},
		{"merge of unknown token", func(m mapMetadata) { m[keyMerges] = []string{"a b", "ab xy"} }, `merge 1 ("ab" "xy"): "xy" is not in the vocabulary`},
		{"merge result unknown", func(m mapMetadata) { m[keyMerges] = []string{"b c"} }, `"bc" is not in the vocabulary`},
		{"merge without space", func(m mapMetadata) { m[keyMerges] = []string{"ab"} }, "not two tokens"},
		{"eos out of range", func(m mapMetadata) { m[keyEOS] = uint32(258) }, "eos_token_id 258 out of range"},
		{"bos out of range", func(m mapMetadata) { m[keyBOS] = uint32(1 << 31) }, "bos_token_id 2147483648 out of range"},
		{"eot out of range", func(m mapMetadata) { m[keyEOT] = uint32(999) }, "eot_token_id 999 out of range"},
		{"types length", func(m mapMetadata) { m[keyTokenType] = []int32{1} }, "1 entries for 258 tokens"},
		{"unknown type", func(m mapMetadata) { m[keyTokenType].([]int32)[3] = 9 }, "unknown token type 9"},
		{"malformed byte token", func(m mapMetadata) { m[keyTokenType].([]int32)[256] = int32(TypeByte) }, `malformed byte token "ab"`},
		{"missing byte symbol", func(m mapMetadata) { m[keyTokens].([]string)[65] = "zz" }, "byte 0x41"},
		{"tokens wrong type", func(m mapMetadata) { m[keyTokens] = []int32{1} }, "wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.modify(m)
			tk, err := NewFromMetadata(m)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := fmt.Sprint(tk.Encode("abc")); got != "[257]" {
					t.Errorf("Encode(abc) = %s, want [257]", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "tokenizer: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if strings.Contains(tt.want, "unsupported") && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q is not ErrInvalid", err)
			}
		})
	}
}

// byteTokens returns the 256 byte-level symbols followed by extra tokens.
func byteTokens(extra ...string) []string {
	toks := make([]string, 0, 256+len(extra))
	for b := 0; b < 256; b++ {
		toks = append(toks, string(byteRune[b]))
	}
	return append(toks, extra...)
}

// TestIgnoreMerges checks the llama3 rule: a piece that is itself a
// vocabulary entry is one token even when the merges cannot build it.
func TestIgnoreMerges(t *testing.T) {
	for _, tt := range []struct {
		pre  string
		want string
	}{
		{"llama3", "[258]"},   // "abc" as a whole
		{"qwen2", "[256 99]"}, // "ab" "c" by the merges
		{"gpt2", "[256 99]"},
	} {
		md := mapMetadata{
			keyModel:  "gpt2",
			keyPre:    tt.pre,
			keyTokens: byteTokens("ab", "bc", "abc"),
			keyMerges: []string{"a b", "b c"},
		}
		tk, err := NewFromMetadata(md)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(tk.Encode("abc")); got != tt.want {
			t.Errorf("%s: Encode(abc) = %s, want %s", tt.pre, got, tt.want)
		}
	}
}

// FuzzMetadata builds vocabularies from fuzzed tokens, types, merges and
// special ids: loading either fails with an error or gives a tokenizer
// that encodes and decodes without panicking.
func FuzzMetadata(f *testing.F) {
	f.Add("ab\x00abc\x00<|x|>", []byte{1, 1, 3}, "a b\nab c", uint32(257), "qwen2")
	f.Add("", []byte{}, "", uint32(0), "llama3")
	f.Add("zz\x00", []byte{6}, "z z", uint32(1<<31), "gpt2")
	f.Fuzz(func(t *testing.T, extra string, types []byte, merges string, eos uint32, pre string) {
		toks := byteTokens(strings.Split(extra, "\x00")...)
		md := mapMetadata{
			keyModel:  "gpt2",
			keyPre:    pre,
			keyTokens: toks,
			keyMerges: strings.Split(merges, "\n"),
			keyEOS:    eos,
		}
		if len(types) > 0 {
			tt := make([]int32, len(toks))
			for i := range tt {
				tt[i] = int32(types[i%len(types)] % 8)
			}
			md[keyTokenType] = tt
		}
		tk, err := NewFromMetadata(md)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		ids := tk.Encode(extra + " abc <|x|> \xff")
		for _, id := range ids {
			if id < 0 || int(id) >= tk.VocabSize() {
				t.Fatalf("id %d out of range", id)
			}
		}
		tk.Decode(ids)
	})
}
