// This file tests the pre-tokenizers on hand-worked splits of their
// patterns, and fuzzes them for coverage and termination.
package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPreTokenizers(t *testing.T) {
	qwen2 := preTokenizers["qwen2"].pre
	llama3 := preTokenizers["llama3"].pre
	gpt2 := preTokenizers["gpt2"].pre
	tests := []struct {
		name string
		pre  PreTokenizer
		in   string
		want []string
	}{
		{"qwen2 words", qwen2, "Hello world", []string{"Hello", " world"}},
		{"qwen2 spaces before word", qwen2, "hello   world", []string{"hello", "  ", " world"}},
		{"qwen2 trailing spaces", qwen2, "end  ", []string{"end", "  "}},
		{"qwen2 crlf", qwen2, "a\r\nb", []string{"a", "\r\n", "b"}},
		{"qwen2 spaces and newlines", qwen2, "  \n\n  x", []string{"  \n\n", " ", " x"}},
		{"qwen2 newline then spaces at end", qwen2, "a\n  ", []string{"a", "\n", "  "}},
		{"qwen2 digits one by one", qwen2, "12345", []string{"1", "2", "3", "4", "5"}},
		{"qwen2 contraction", qwen2, "don't", []string{"don", "'t"}},
		{"qwen2 contraction upper case", qwen2, "HE'S SHE'D", []string{"HE", "'S", " SHE", "'D"}},
		{"qwen2 contraction ll re ve", qwen2, "we'll they're I've", []string{"we", "'ll", " they", "'re", " I", "'ve"}},
		{"qwen2 contraction long s folds to s", qwen2, "'ſx", []string{"'ſ", "x"}},
		{"qwen2 apostrophe before word", qwen2, "'hello", []string{"'hello"}},
		{"qwen2 punctuation glued to word", qwen2, "x=1;y=2", []string{"x", "=", "1", ";y", "=", "2"}},
		{"qwen2 space punctuation", qwen2, "$100 & 50%", []string{"$", "1", "0", "0", " &", " ", "5", "0", "%"}},
		{"qwen2 punctuation then newlines", qwen2, "a.\n\nb", []string{"a", ".\n\n", "b"}},
		{"qwen2 ideographic space", qwen2, "a\u3000b", []string{"a", "\u3000b"}},
		{"qwen2 cjk", qwen2, "中文 测试", []string{"中文", " 测试"}},
		{"qwen2 emoji", qwen2, "hi 😀😃", []string{"hi", " 😀😃"}},
		{"qwen2 invalid byte before letters", qwen2, "\xffabc", []string{"\xffabc"}},
		{"qwen2 lone invalid bytes", qwen2, "\xff\xfe", []string{"\xff\xfe"}},
		{"qwen2 tab", qwen2, "tab\there", []string{"tab", "\there"}},
		{"llama3 digits in threes", llama3, "12345 x", []string{"123", "45", " x"}},
		{"gpt2 words", gpt2, "Hello world", []string{"Hello", " world"}},
		{"gpt2 spaces", gpt2, "hello   world", []string{"hello", "  ", " world"}},
		{"gpt2 digit runs", gpt2, "12345 678", []string{"12345", " 678"}},
		{"gpt2 crlf", gpt2, "a\r\nb", []string{"a", "\r", "\n", "b"}},
		{"gpt2 case-sensitive contractions", gpt2, "DON'T don't", []string{"DON", "'", "T", " don", "'t"}},
		{"gpt2 space punctuation", gpt2, "a ,b", []string{"a", " ,", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.pre, nil, tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Split(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzPreTokenize(f *testing.F) {
	for _, s := range []string{"Hello world", "a\r\n  b", "12345", "'s 'ſ", "\xff\xfe a", "  \n\t x ", "中文😀"} {
		f.Add(s)
	}
	names := []string{"qwen2", "llama3", "gpt2"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range names {
			pieces := Split(preTokenizers[name].pre, nil, s)
			for _, p := range pieces {
				if p == "" {
					t.Fatalf("%s: empty piece in %q", name, pieces)
				}
			}
			if got := strings.Join(pieces, ""); got != s {
				t.Fatalf("%s: pieces %q do not cover %q", name, pieces, s)
			}
		}
	})
}

// TestPreTokenizersGolden compares the splitters with the regexes
// themselves, run by Python's regex module on 600 generated strings
// (testdata/gen_pretokenize.py writes the golden file).
func TestPreTokenizersGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "pretokenize-golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Pre    string
			Text   string
			Pieces []string
		}
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) < 1000 {
		t.Fatalf("only %d golden cases", len(golden.Cases))
	}
	failed := 0
	for _, c := range golden.Cases {
		pt, ok := preTokenizers[c.Pre]
		if !ok {
			t.Fatalf("unknown pre-tokenizer %q in golden file", c.Pre)
		}
		if got := Split(pt.pre, nil, c.Text); !slices.Equal(got, c.Pieces) {
			if failed++; failed <= 20 {
				t.Errorf("%s: Split(%q) = %q, want %q", c.Pre, c.Text, got, c.Pieces)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d golden cases differ", failed, len(golden.Cases))
	}
}
