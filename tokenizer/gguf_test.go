// This file loads the tokenizer from the reference mini GGUF models and
// checks llama.cpp's tokenization of their vocabulary.
package tokenizer

import (
	"path/filepath"
	"testing"

	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
)

func TestFromGGUFMiniModels(t *testing.T) {
	ref := reftest.Dir(t)
	paths, err := filepath.Glob(filepath.Join(ref, "models", "mini-*.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Skipf("no mini-*.gguf under %s/models", ref)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			tk, err := FromGGUF(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if tk.VocabSize() != miniRows {
				t.Errorf("VocabSize = %d, want %d", tk.VocabSize(), miniRows)
			}
			if tk.ChatTemplate() == "" {
				t.Error("no chat template")
			}
			checkMini(t, tk)
		})
	}
}
