// Tests of reading a template source from model files.

package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
)

// TestTemplateFromReferenceModels reads the template of every reference
// GGUF and of the reference tokenizer_config.json; all are the Qwen3
// template.
func TestTemplateFromReferenceModels(t *testing.T) {
	ref := reftest.Dir(t)
	paths, err := filepath.Glob(filepath.Join(ref, "models", "*.gguf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no reference models in %s: %v", ref, err)
	}
	paths = append(paths, filepath.Join(ref, "qwen3-tokenizer", "tokenizer_config.json"))
	want := loadReferenceTemplate(t, ref)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			src, err := TemplateFromFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if src != want {
				t.Errorf("template differs from tokenizer_config.json's (%d vs %d bytes)", len(src), len(want))
			}
			if tm, err := FromSource(src); err != nil || tm.Name() != "qwen3" {
				t.Errorf("FromSource = %v, %v", tm, err)
			}
		})
	}
}

func TestTemplateFromFileErrors(t *testing.T) {
	dir := t.TempDir()
	noTemplate := filepath.Join(dir, "none.gguf")
	w := gguf.NewWriter()
	w.AddKV("general.architecture", "qwen3")
	if err := w.WriteFile(noTemplate); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "config.json")
	if err := os.WriteFile(notJSON, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	numberTemplate := filepath.Join(dir, "number.gguf")
	w = gguf.NewWriter()
	w.AddKV("tokenizer.chat_template", uint32(7))
	if err := w.WriteFile(numberTemplate); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path  string
		unsupported bool
	}{
		{"gguf without template", noTemplate, true},
		{"template of wrong type", numberTemplate, false},
		{"config not json", notJSON, false},
		{"missing file", filepath.Join(dir, "absent.json"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := TemplateFromFile(c.path)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrUnsupportedTemplate) != c.unsupported {
				t.Errorf("error %v: errors.Is(ErrUnsupportedTemplate) = %v, want %v", err, !c.unsupported, c.unsupported)
			}
		})
	}
}

// TestTemplateFromFileTooLarge gives TemplateFromFile a file far bigger than
// any tokenizer_config.json (sparse, so the test writes nothing): it must be
// refused by its size, not read whole and then fail as JSON.
func TestTemplateFromFileTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "model.safetensors")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxConfigSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = TemplateFromFile(p)
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("TemplateFromFile of a %d-byte file: %v, want a too-large error", maxConfigSize+1, err)
	}
}
