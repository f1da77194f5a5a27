// This file checks the GGUF path on the full Qwen3 vocabulary: it writes a
// GGUF file holding the converter's tokenizer metadata with our own writer,
// reads it back and runs every reference case.
package tokenizer

import (
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
)

func TestFromGGUFFullVocabulary(t *testing.T) {
	md := converterKVs(t, qwen3Vocab(t), 0, qwen3Rows)
	w := gguf.NewWriter()
	w.AddKV("general.architecture", "qwen3")
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.AddKV(k, md[k])
	}
	path := filepath.Join(t.TempDir(), "qwen3-vocab.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tk, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	if tk.VocabSize() != qwen3Rows {
		t.Errorf("VocabSize = %d, want %d", tk.VocabSize(), qwen3Rows)
	}
	cases := loadCases(t, filepath.Join(reftest.Dir(t), "tokenizer-cases.json"))
	checkCases(t, tk, cases, func(c refCase) []int32 { return c.IDs })
	if got, want := tk.EOG(), []int32{151643, 151645, 151662, 151663, 151664}; !slices.Equal(got, want) {
		t.Errorf("EOG = %v, want %v", got, want)
	}
	if id, ok := tk.EOS(); !ok || id != 151645 {
		t.Errorf("EOS = %d, %v; want 151645", id, ok)
	}
}
