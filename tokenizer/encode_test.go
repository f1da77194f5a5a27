// This file tests encoding beyond the reference strings: the two BPE merge
// algorithms against each other, long pieces, concurrent use of the shared
// word cache, and a fuzz target over arbitrary bytes.
package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/helexa/helexa/internal/reftest"
)

// fuzzTokenizer is the reference Qwen3 tokenizer when the reference data
// is present, else the small test vocabulary, so the fuzz target always
// runs.
func fuzzTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	if _, err := reftest.Find("qwen3-tokenizer", "tokenizer.json"); err == nil {
		return qwen3(t)
	}
	tok, cfg := smallHF()
	tk, err := New(mustVocab(ParseHF(mustJSON(t, tok), mustJSON(t, cfg))))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func mustVocab(v *Vocab, err error) *Vocab {
	if err != nil {
		panic(err)
	}
	return v
}

func TestBPEScanEqualsHeap(t *testing.T) {
	tk := qwen3(t)
	inputs := []string{
		"Hello", " world", "internationalization", " antidisestablishmentarianism",
		strings.Repeat("a", 300), strings.Repeat(" ", 257), strings.Repeat("ab", 100),
		"中文测试中文测试中文测试", strings.Repeat("😀", 40), strings.Repeat("\n", 70),
		" " + strings.Repeat("the", 50),
	}
	for _, c := range loadCases(t, reftest.Dir(t)+"/tokenizer-cases.json") {
		inputs = append(inputs, Split(tk.pre, nil, norm.NFC.String(c.Text))...)
	}
	for _, in := range inputs {
		scan := tk.bpe(nil, in, false)
		heap := tk.bpe(nil, in, true)
		if !slices.Equal(scan, heap) {
			t.Errorf("piece %q: scan %v, heap %v", in, scan, heap)
		}
		if got := tk.Decode(heap); got != in {
			t.Errorf("piece %q decodes to %q", in, got)
		}
	}
}

func TestEncodeLongInputs(t *testing.T) {
	tk := qwen3(t)
	for _, s := range []string{
		strings.Repeat("a", 1<<16),
		strings.Repeat(" ", 1<<16),
		strings.Repeat("\xff", 1<<12),
		strings.Repeat("<|im_end|>", 1000),
		strings.Repeat("e\u0301", 1000),
	} {
		ids := tk.Encode(s)
		if got, want := tk.Decode(ids), strings.ToValidUTF8(norm.NFC.String(s), "\uFFFD"); utf8.ValidString(s) && got != want {
			t.Errorf("Decode(Encode(%.20q...)) differs from NFC", s)
		}
	}
	if n := len(tk.Encode(strings.Repeat("<|im_end|>", 1000))); n != 1000 {
		t.Errorf("1000 <|im_end|> gave %d ids", n)
	}
}

func TestEncodeConcurrent(t *testing.T) {
	tk := qwen3(t)
	texts := make([]string, 64)
	want := make([][]int32, len(texts))
	for i := range texts {
		texts[i] = fmt.Sprintf("request %d: 中文 café %d emoji 😀 code x[%d] = y;", i, i*7919, i)
		want[i] = tk.Encode(texts[i])
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 200 {
				i := (g*31 + r) % len(texts)
				if got := tk.Encode(texts[i]); !slices.Equal(got, want[i]) {
					t.Errorf("goroutine %d: Encode(%q) = %v, want %v", g, texts[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{
		"Hello world", "don't 'S", "12345 3.14", "中文😀👩\u200d💻", "e\u0301 A\u030a",
		"<|im_start|>user\nhi<|im_end|>", "<|im_end|>\u0338", "\xff\xfe\xe2\x82", "  \n\n\t x ",
	} {
		f.Add(s)
	}
	tk := fuzzTokenizer(f)
	f.Fuzz(func(t *testing.T, s string) {
		ids := tk.Encode(s)
		for _, id := range ids {
			if id < 0 || int(id) >= tk.VocabSize() {
				t.Fatalf("Encode(%q): id %d out of range", s, id)
			}
		}
		dec := tk.Decode(ids)
		if !utf8.ValidString(dec) {
			t.Fatalf("Decode(Encode(%q)) = %q is not valid UTF-8", s, dec)
		}
		if !utf8.ValidString(s) {
			return
		}
		// Added tokens are cut out before normalization, so NFC applies to
		// the text between them (as in Hugging Face tokenizers).
		var want strings.Builder
		tk.specials.split(s, func(seg string, id int32) {
			if id >= 0 {
				want.WriteString(tk.Token(id))
			} else {
				want.WriteString(norm.NFC.String(seg))
			}
		})
		if dec != want.String() {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q", s, dec, want.String())
		}
		if !strings.Contains(s, "<") && dec != norm.NFC.String(s) {
			t.Fatalf("Decode(Encode(%q)) = %q, want NFC %q", s, dec, norm.NFC.String(s))
		}
		for _, p := range Split(tk.pre, nil, norm.NFC.String(s)) {
			if a, b := tk.bpe(nil, p, false), tk.bpe(nil, p, true); !slices.Equal(a, b) {
				t.Fatalf("piece %q: scan %v, heap %v", p, a, b)
			}
		}
	})
}
