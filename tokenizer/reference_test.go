// This file checks the tokenizer against the reference data in
// <repo>/../shared/reference: the Qwen3 tokenizer files and the ids the
// Hugging Face tokenizer gives for each string of tokenizer-cases.json.
package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/helexa/helexa/internal/reftest"
)

type refCase struct {
	Text    string  `json:"text"`
	IDs     []int32 `json:"ids"`
	Decoded string  `json:"decoded"`
	HFIDs   []int32 `json:"hf_ids"`
}

func loadCases(t testing.TB, path string) []refCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []refCase
	if err := json.Unmarshal(data, &cases); err != nil {
		var wrapped struct{ Cases []refCase }
		if err2 := json.Unmarshal(data, &wrapped); err2 != nil {
			t.Fatalf("%s: %v", path, err)
		}
		cases = wrapped.Cases
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return cases
}

var (
	qwen3Once sync.Once
	qwen3Tok  *Tokenizer
	qwen3Err  error
)

// qwen3 loads the reference Qwen3 tokenizer once for all tests.
func qwen3(t testing.TB) *Tokenizer {
	t.Helper()
	ref := reftest.Dir(t)
	qwen3Once.Do(func() {
		dir := filepath.Join(ref, "qwen3-tokenizer")
		qwen3Tok, qwen3Err = FromFiles(filepath.Join(dir, "tokenizer.json"), filepath.Join(dir, "tokenizer_config.json"))
	})
	if qwen3Err != nil {
		t.Fatal(qwen3Err)
	}
	return qwen3Tok
}

// checkCases encodes every case with tk and compares with want(case), then
// checks that decoding gives the NFC form of the text back.
func checkCases(t *testing.T, tk *Tokenizer, cases []refCase, want func(refCase) []int32) {
	t.Helper()
	for _, c := range cases {
		got := tk.Encode(c.Text)
		if !slices.Equal(got, want(c)) {
			t.Errorf("Encode(%q) = %v, want %v", c.Text, got, want(c))
		}
		if dec, nfc := tk.Decode(got), norm.NFC.String(c.Text); dec != nfc {
			t.Errorf("Decode(Encode(%q)) = %q, want NFC %q", c.Text, dec, nfc)
		}
	}
}

func TestQwen3ReferenceCases(t *testing.T) {
	tk := qwen3(t)
	cases := loadCases(t, filepath.Join(reftest.Dir(t), "tokenizer-cases.json"))
	checkCases(t, tk, cases, func(c refCase) []int32 { return c.IDs })
	for _, c := range cases {
		if got := tk.Decode(c.IDs); got != c.Decoded {
			t.Errorf("Decode(%v) = %q, want %q", c.IDs, got, c.Decoded)
		}
	}
}

func TestQwen3Metadata(t *testing.T) {
	tk := qwen3(t)
	if got, want := tk.VocabSize(), 151669; got != want {
		t.Errorf("VocabSize = %d, want %d", got, want)
	}
	if id, ok := tk.ID("<|im_end|>"); !ok || id != 151645 {
		t.Errorf(`ID("<|im_end|>") = %d, %v; want 151645`, id, ok)
	}
	if got := tk.Token(151667); got != "<think>" {
		t.Errorf("Token(151667) = %q, want <think>", got)
	}
	if !tk.IsSpecial(151667) || tk.TokenType(151667) != TypeUserDefined {
		t.Errorf("<think> type %d, want user-defined", tk.TokenType(151667))
	}
	if tk.TokenType(151645) != TypeControl {
		t.Errorf("<|im_end|> type %d, want control", tk.TokenType(151645))
	}
	if id, ok := tk.EOS(); !ok || id != 151645 {
		t.Errorf("EOS = %d, %v; want 151645", id, ok)
	}
	if _, ok := tk.BOS(); ok || tk.AddBOS() {
		t.Errorf("BOS present or AddBOS set; tokenizer_config has bos_token null, add_bos_token false")
	}
	// <|endoftext|>, <|im_end|>, <|fim_pad|>, <|repo_name|>, <|file_sep|>:
	// the ids llama.cpp treats as end of generation for Qwen3.
	if got, want := tk.EOG(), []int32{151643, 151645, 151662, 151663, 151664}; !slices.Equal(got, want) {
		t.Errorf("EOG = %v, want %v", got, want)
	}
	if tpl := tk.ChatTemplate(); len(tpl) < 100 || !containsAll(tpl, "<|im_start|>", "enable_thinking") {
		t.Errorf("ChatTemplate does not look like the Qwen3 template: %.80q", tpl)
	}
	if got := tk.PreTokenizer().Name(); got != "qwen2" {
		t.Errorf("pre-tokenizer %q, want qwen2", got)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
