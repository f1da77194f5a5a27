// This file holds the pre-tokenizers: they cut normalized text into the
// pieces that BPE then merges independently. Each one is a hand-written
// matcher equivalent to the regular expression its tokenizer declares
// (leftmost match, alternatives tried in order, greedy with backtracking),
// because Go's regexp package has no lookahead and cannot express `\s+(?!\S)`.
// Character classes follow the regex engines of the reference tokenizers:
// \p{L} is unicode.Letter, \p{N} unicode.Number and \s unicode.White_Space.

package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// PreTokenizer cuts text into pieces that BPE merges independently. Next
// returns the end of the piece that starts at byte i of s (0 <= i < len(s));
// it is always greater than i, so the pieces cover s exactly. It must accept
// any string, including invalid UTF-8.
type PreTokenizer interface {
	Name() string
	Next(s string, i int) int
}

// Split appends the pieces of text under p to dst.
func Split(p PreTokenizer, dst []string, text string) []string {
	for i := 0; i < len(text); {
		end := p.Next(text, i)
		dst = append(dst, text[i:end])
		i = end
	}
	return dst
}

// preTokenizers maps the GGUF `tokenizer.ggml.pre` names we support (and
// llama.cpp's aliases for them) to their pre-tokenizer settings.
var preTokenizers = map[string]preType{
	"qwen2":            {pre: regexSplitter{name: "qwen2", maxDigits: 1}, normalizer: "NFC"},
	"deepseek-r1-qwen": {pre: regexSplitter{name: "qwen2", maxDigits: 1}, normalizer: "NFC"},
	"llama3":           {pre: regexSplitter{name: "llama3", maxDigits: 3}, ignoreMerges: true},
	"llama-v3":         {pre: regexSplitter{name: "llama3", maxDigits: 3}, ignoreMerges: true},
	"llama-bpe":        {pre: regexSplitter{name: "llama3", maxDigits: 3}, ignoreMerges: true},
	"gpt2":             {pre: gpt2Splitter{}},
	"gpt-2":            {pre: gpt2Splitter{}},
}

// preType is what a pre-tokenizer name implies for a GGUF vocabulary: the
// splitter, the normalizer the matching tokenizer.json declares, and whether
// whole pieces found in the vocabulary skip merging (tokenizer.json
// "ignore_merges", which llama.cpp turns on for llama3).
type preType struct {
	pre          PreTokenizer
	normalizer   string
	ignoreMerges bool
}

// Patterns of the Split pre-tokenizers in the Hugging Face tokenizer.json
// files that the splitters here implement, used to recognise them.
const (
	// qwen2Pattern is the Split regex of Qwen2/Qwen2.5/Qwen3 tokenizer.json.
	qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// llama3Pattern is the Split regex of Llama 3 tokenizer.json.
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// Character classes.
const (
	classOther   = iota // none of the below
	classLetter         // \p{L}
	classNumber         // \p{N}
	classSpace          // \s other than \r and \n
	classNewline        // \r or \n (also in \s)
)

// asciiClass is the class of each ASCII byte, so the common case needs no
// table lookup in package unicode.
var asciiClass [utf8.RuneSelf]uint8

func init() {
	for c := 0; c < utf8.RuneSelf; c++ {
		asciiClass[c] = uint8(classOfRune(rune(c)))
	}
}

func classOfRune(r rune) int {
	switch {
	case r == '\r' || r == '\n':
		return classNewline
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.Is(unicode.White_Space, r):
		return classSpace
	}
	return classOther
}

// classAt returns the class of the rune at s[i] and its width in bytes. An
// invalid byte counts as one character of class other, as U+FFFD would.
func classAt(s string, i int) (class, width int) {
	if c := s[i]; c < utf8.RuneSelf {
		return int(asciiClass[c]), 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return classOfRune(r), w
}

func isSpaceClass(c int) bool { return c == classSpace || c == classNewline }

// Class sets for runOf.
const (
	letters = 1 << classLetter
	others  = 1 << classOther
	spaces  = 1<<classSpace | 1<<classNewline
)

// runOf returns the end of the run of characters starting at i whose class
// is in the set, and how many characters it holds.
func runOf(s string, i int, set uint8) (end, count int) {
	for i < len(s) {
		var c, w int
		if b := s[i]; b < utf8.RuneSelf {
			c, w = int(asciiClass[b]), 1
		} else {
			c, w = classAt(s, i)
		}
		if set&(1<<c) == 0 {
			break
		}
		i += w
		count++
	}
	return i, count
}

// contraction returns the end of a contraction ('s 't 're 've 'm 'll 'd)
// starting at i, or -1. With fold set it matches case-insensitively under
// Unicode simple case folding, where 'ſ' (U+017F) also matches s.
func contraction(s string, i int, fold bool) int {
	if s[i] != '\'' || i+1 >= len(s) {
		return -1
	}
	lower := func(c byte) byte {
		if fold && c >= 'A' && c <= 'Z' {
			return c + ('a' - 'A')
		}
		return c
	}
	var want byte
	switch lower(s[i+1]) {
	case 's', 't', 'm', 'd':
		return i + 2
	case 'r', 'v':
		want = 'e'
	case 'l':
		want = 'l'
	}
	if want != 0 && i+2 < len(s) && lower(s[i+2]) == want {
		return i + 3
	}
	if fold && len(s) >= i+3 && s[i+1:i+3] == "ſ" {
		return i + 3
	}
	return -1
}

// regexSplitter implements the Qwen2 pattern (maxDigits 1) and the Llama 3
// pattern (maxDigits 3), which differ only in `\p{N}` against `\p{N}{1,3}`:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)   contractions
//	[^\r\n\p{L}\p{N}]?\p{L}+       a word with at most one leading non-letter
//	\p{N}{1,maxDigits}             digits
//	 ?[^\s\p{L}\p{N}]+[\r\n]*      punctuation, then newlines
//	\s*[\r\n]+                     whitespace ending in newlines
//	\s+(?!\S)                      whitespace not followed by text
//	\s+                            whitespace
type regexSplitter struct {
	name      string
	maxDigits int
}

// Name returns the pre-tokenizer name ("qwen2" or "llama3").
func (p regexSplitter) Name() string { return p.name }

// Next returns the end of the match starting at i (> i: every character
// is matched by some alternative).
func (p regexSplitter) Next(s string, i int) int {
	if e := contraction(s, i, true); e > 0 {
		return e
	}
	c0, w0 := classAt(s, i)
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c0 == classLetter {
		end, _ := runOf(s, i, letters)
		return end
	}
	if c0 != classNewline && c0 != classNumber && i+w0 < len(s) {
		if c1, _ := classAt(s, i+w0); c1 == classLetter {
			end, _ := runOf(s, i+w0, letters)
			return end
		}
	}
	// \p{N}{1,maxDigits}
	if c0 == classNumber {
		end := i + w0
		for n := 1; n < p.maxDigits && end < len(s); n++ {
			c, w := classAt(s, end)
			if c != classNumber {
				break
			}
			end += w
		}
		return end
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	start := i
	if s[i] == ' ' && i+1 < len(s) {
		if c1, _ := classAt(s, i+1); c1 == classOther {
			start = i + 1
		}
	}
	if c, _ := classAt(s, start); c == classOther {
		end, _ := runOf(s, start, others)
		for end < len(s) && (s[end] == '\r' || s[end] == '\n') {
			end++
		}
		return end
	}
	// Only whitespace is left: c0 is a space or newline class.
	return matchSpace(s, i)
}

// matchSpace matches `\s*[\r\n]+|\s+(?!\S)|\s+` at i, where s[i] is
// whitespace.
func matchSpace(s string, i int) int {
	end, count := runOf(s, i, spaces)
	// \s*[\r\n]+ : backtrack to the last newline of the run.
	for j := end - 1; j >= i; j-- {
		if s[j] == '\r' || s[j] == '\n' {
			return j + 1
		}
	}
	// \s+(?!\S) : the whole run at the end of text, else all but its last
	// character when that leaves at least one.
	if end == len(s) || count == 1 {
		return end
	}
	_, w := utf8.DecodeLastRuneInString(s[i:end])
	return end - w
}

// gpt2Splitter implements the GPT-2 pattern:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
type gpt2Splitter struct{}

// Name returns "gpt2".
func (gpt2Splitter) Name() string { return "gpt2" }

// Next returns the end of the match starting at i.
func (gpt2Splitter) Next(s string, i int) int {
	if e := contraction(s, i, false); e > 0 {
		return e
	}
	start := i
	if s[i] == ' ' && i+1 < len(s) {
		start = i + 1
	}
	c, _ := classAt(s, start)
	if start > i && isSpaceClass(c) {
		start, c = i, classSpace
	}
	switch c {
	case classLetter, classNumber, classOther:
		end, _ := runOf(s, start, 1<<c)
		return end
	}
	// Whitespace: `\s+(?!\S)|\s+`.
	end, count := runOf(s, i, spaces)
	if end == len(s) || count == 1 {
		return end
	}
	_, w := utf8.DecodeLastRuneInString(s[i:end])
	return end - w
}
