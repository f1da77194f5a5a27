// This file tests `neuron tokenize` on the reference Qwen3 tokenizer and a
// reference mini GGUF model.
package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

func TestRunTokenize(t *testing.T) {
	ref := reftest.Dir(t)
	tokJSON := filepath.Join(ref, "qwen3-tokenizer", "tokenizer.json")
	mini := filepath.Join(ref, "models", "mini-q8_0.gguf")
	tests := []struct {
		name  string
		opts  tokenizeOptions
		args  []string
		stdin string
		want  string
	}{
		// Ids from reference/tokenizer-cases.json and README.md.
		{"plain", tokenizeOptions{model: tokJSON}, []string{"Hello world"}, "", "9707 1879\n"},
		{"json", tokenizeOptions{model: tokJSON, json: true}, []string{"<|im_end|>"}, "", `{"ids":[151645]}` + "\n"},
		{"joined args", tokenizeOptions{model: mini}, []string{"Hello,", "world!"}, "", "39 301 385 11 1879 0\n"},
		{"stdin", tokenizeOptions{model: mini}, []string{"-"}, "Hello, world!", "39 301 385 11 1879 0\n"},
		{"empty json", tokenizeOptions{model: mini, json: true}, []string{""}, "", `{"ids":[]}` + "\n"},
		{"gguf", tokenizeOptions{model: mini}, []string{"Hello, world!"}, "", "39 301 385 11 1879 0\n"},
		{"decode commas", tokenizeOptions{model: tokJSON, decode: true}, []string{"9707,1879"}, "", "Hello world\n"},
		{"decode spaces json", tokenizeOptions{model: mini, decode: true, json: true}, []string{"39 301", "385"}, "", `{"text":"Hello"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := runTokenize(&out, strings.NewReader(tt.stdin), tt.opts, tt.args); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("output %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestRunTokenizeErrors(t *testing.T) {
	ref := reftest.Dir(t)
	mini := filepath.Join(ref, "models", "mini-q8_0.gguf")
	tests := []struct {
		name string
		opts tokenizeOptions
		args []string
		want string
	}{
		{"missing model", tokenizeOptions{model: filepath.Join(t.TempDir(), "none.gguf")}, []string{"x"}, "none.gguf\" does not exist"},
		{"id out of range", tokenizeOptions{model: mini, decode: true}, []string{"2112"}, `token id "2112"`},
		{"id not a number", tokenizeOptions{model: mini, decode: true}, []string{"12,x"}, `token id "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runTokenize(&bytes.Buffer{}, strings.NewReader(""), tt.opts, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
