// This file holds FromPath, which loads a tokenizer from whatever file a
// user names: a GGUF model or a Hugging Face tokenizer.json.

package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/helexa/helexa/gguf"
)

// FromPath loads the tokenizer of a .gguf file, or of a tokenizer.json
// (with the tokenizer_config.json in the same directory when there is one).
// A directory holding tokenizer.json works too.
func FromPath(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.IsDir() {
		path = filepath.Join(path, "tokenizer.json")
	}
	if strings.EqualFold(filepath.Ext(path), ".gguf") {
		f, err := gguf.Open(path)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		defer f.Close()
		tk, err := FromGGUF(f)
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", err, path)
		}
		return tk, nil
	}
	cfg := filepath.Join(filepath.Dir(path), "tokenizer_config.json")
	if _, err := os.Stat(cfg); err != nil {
		cfg = ""
	}
	return FromFiles(path, cfg)
}
