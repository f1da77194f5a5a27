// This file tests Decode and the StreamDecoder: lossy UTF-8 conversion,
// characters split across tokens, ill-formed byte sequences, and the
// invariant that streamed text adds up to Decode of the same ids.
package tokenizer

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/helexa/helexa/internal/reftest"
)

func TestAppendLossy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"ascii", "abc", "abc"},
		{"valid multibyte", "é€😀", "é€😀"},
		// The example of the Unicode standard, chapter 3, "U+FFFD
		// Substitution of Maximal Subparts": 61 F1 80 80 E1 80 C2 62 80 63
		// 80 BF 64 -> a FFFD FFFD FFFD b FFFD c FFFD FFFD d.
		{"unicode example", "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd"},
		{"truncated at end", "a\xE2\x82", "a\uFFFD"},
		{"surrogate", "\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"overlong", "\xC0\xAF", "\uFFFD\uFFFD"},
		{"above U+10FFFF", "\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"lone lead then ascii", "\xE2x", "\uFFFDx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendLossy(nil, []byte(tt.in))); got != tt.want {
				t.Errorf("appendLossy(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// byteTokenizer returns a tokenizer with only the 256 byte tokens and two
// added tokens, so that each id is one byte and streams can cut characters
// anywhere.
func byteTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	toks := byteTokens("<|im_end|>", "<think>", "[PAD258]")
	types := make([]TokenType, len(toks))
	for i := range types {
		types[i] = TypeNormal
	}
	types[256], types[257], types[258] = TypeControl, TypeUserDefined, TypeUnused
	tk, err := New(&Vocab{Model: "gpt2", Pre: "qwen2", Tokens: toks, Types: types, EOS: 256, BOS: -1, PAD: -1})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func bytesToIDs(b string) []int32 {
	ids := make([]int32, len(b))
	for i := 0; i < len(b); i++ {
		ids[i] = int32(b[i])
	}
	return ids
}

func TestStreamDecoder(t *testing.T) {
	tk := byteTokenizer(t)
	const end, think, pad = 256, 257, 258
	tests := []struct {
		name  string
		ids   []int32
		want  []string // one per Add
		flush string
	}{
		{"ascii", bytesToIDs("hi"), []string{"h", "i"}, ""},
		{"euro split in three", bytesToIDs("€"), []string{"", "", "€"}, ""},
		{"emoji split in four", bytesToIDs("a😀b"), []string{"a", "", "", "", "😀", "b"}, ""},
		{"stray continuation byte at once", bytesToIDs("\x80a"), []string{"\uFFFD", "a"}, ""},
		{"broken sequence released by the next byte", bytesToIDs("\xE2\x82x"), []string{"", "", "\uFFFDx"}, ""},
		{"unfinished character at flush", bytesToIDs("ok\xF0\x9F"), []string{"o", "k", "", ""}, "\uFFFD"},
		{"special token breaks a character", []int32{0xE2, end}, []string{"", "\uFFFD<|im_end|>"}, ""},
		{"user-defined token verbatim", []int32{think, 'x'}, []string{"<think>", "x"}, ""},
		{"padding row and out of range ids are nothing", []int32{pad, -1, 1 << 30, 'x'}, []string{"", "", "", "x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tk.NewDecoder()
			all := ""
			for i, id := range tt.ids {
				got := d.Add(id)
				if got != tt.want[i] {
					t.Errorf("Add #%d (%d) = %q, want %q", i, id, got, tt.want[i])
				}
				all += got
			}
			if got := d.Flush(); got != tt.flush {
				t.Errorf("Flush = %q, want %q", got, tt.flush)
			}
			if dec := tk.Decode(tt.ids); all+tt.flush != dec {
				t.Errorf("streamed %q, Decode gives %q", all+tt.flush, dec)
			}
		})
	}
}

func TestTokenBytes(t *testing.T) {
	tk := qwen3(t)
	// 104811 is "中文" (tokenizer-cases.json); 151645 <|im_end|>; 151700 is
	// beyond the Qwen3 tokenizer.json vocabulary.
	for _, tt := range []struct {
		id   int32
		want string
	}{{104811, "中文"}, {151645, "<|im_end|>"}, {220, " "}, {151700, ""}, {-1, ""}} {
		if got := string(tk.TokenBytes(tt.id)); got != tt.want {
			t.Errorf("TokenBytes(%d) = %q, want %q", tt.id, got, tt.want)
		}
	}
	b := tk.TokenBytes(104811)
	b[0] = 'x'
	if tk.Decode([]int32{104811}) != "中文" {
		t.Error("TokenBytes returned the tokenizer's own memory")
	}
}

func TestStreamDecoderSkipControl(t *testing.T) {
	tk := byteTokenizer(t)
	d := tk.NewDecoder().SkipControl(true)
	var got string
	for _, id := range []int32{'a', 256, 257, 'b'} { // a <|im_end|> <think> b
		got += d.Add(id)
	}
	if got += d.Flush(); got != "a<think>b" {
		t.Errorf("got %q, want %q", got, "a<think>b")
	}
}

// TestStreamDecoderRandom feeds random id sequences, biased towards bytes
// that form and break multi-byte characters, and checks the invariants.
func TestStreamDecoderRandom(t *testing.T) {
	tk := byteTokenizer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	interesting := []int32{0x80, 0xBF, 0xC2, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, 'a', 256, 257, 258}
	for range 2000 {
		ids := make([]int32, rng.IntN(12))
		for i := range ids {
			if rng.IntN(2) == 0 {
				ids[i] = interesting[rng.IntN(len(interesting))]
			} else {
				ids[i] = int32(rng.IntN(tk.VocabSize()))
			}
		}
		checkStream(t, tk, ids)
	}
}

func checkStream(t *testing.T, tk *Tokenizer, ids []int32) {
	t.Helper()
	d := tk.NewDecoder()
	all := ""
	for _, id := range ids {
		s := d.Add(id)
		if !utf8.ValidString(s) {
			t.Fatalf("ids %v: Add returned invalid UTF-8 %q", ids, s)
		}
		if d.Pending() > 3 {
			t.Fatalf("ids %v: %d bytes held back, at most 3 may be", ids, d.Pending())
		}
		all += s
	}
	all += d.Flush()
	if dec := tk.Decode(ids); all != dec {
		t.Fatalf("ids %v: streamed %q, Decode gives %q", ids, all, dec)
	}
}

// TestStreamDecoderQwen3 streams the ids of every reference string; the
// multi-byte strings (CJK, emoji, Devanagari) cut characters across tokens.
func TestStreamDecoderQwen3(t *testing.T) {
	tk := qwen3(t)
	cases := loadCases(t, filepath.Join(reftest.Dir(t), "tokenizer-cases.json"))
	held := 0
	for _, c := range cases {
		checkStream(t, tk, c.IDs)
		d := tk.NewDecoder()
		for _, id := range c.IDs {
			d.Add(id)
			if d.Pending() > 0 {
				held++
			}
		}
	}
	if held == 0 {
		t.Error("no reference string cut a character across tokens; the test lost its point")
	}
}

// FuzzStreamDecoder streams arbitrary byte tokens (plus the added tokens
// 256-258 and ids out of range) and checks the decoder's invariants.
func FuzzStreamDecoder(f *testing.F) {
	f.Add([]byte("a€😀\xE2\x82x\x80\xF0\x9F"), []byte{0, 3})
	tk := byteTokenizer(f)
	f.Fuzz(func(t *testing.T, data, specials []byte) {
		ids := bytesToIDs(string(data))
		for i, s := range specials {
			if len(ids) == 0 {
				break
			}
			ids[(i*7+int(s))%len(ids)] = 256 + int32(s%5) // 259, 260: out of range
		}
		checkStream(t, tk, ids)
	})
}
