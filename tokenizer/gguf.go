// This file adapts a GGUF file to the Metadata view, so that a tokenizer
// can be loaded straight from a model file.

package tokenizer

import "github.com/helexa/helexa/gguf"

// FromGGUF loads the tokenizer stored in the metadata of a GGUF file. The
// tokenizer copies what it needs; f may be closed afterwards.
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	return NewFromMetadata(ggufMetadata{f})
}

// ggufMetadata gives a *gguf.File the Has method of Metadata.
type ggufMetadata struct{ *gguf.File }

func (m ggufMetadata) Has(key string) bool {
	_, ok := m.Lookup(key)
	return ok
}
