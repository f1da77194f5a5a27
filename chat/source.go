// This file reads a chat template's source from a model: the
// tokenizer.chat_template string of a GGUF file, or the chat_template of a
// Hugging Face tokenizer_config.json (a string or a list of named templates).

package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/helexa/helexa/gguf"
)

// ggufTemplateKey is the GGUF metadata key of the chat template (GGUF spec,
// "tokenizer.chat_template").
const ggufTemplateKey = "tokenizer.chat_template"

// maxConfigSize bounds the tokenizer_config.json TemplateFromFile reads
// into memory. Real ones are kilobytes to a few megabytes (long templates,
// large added-token tables); anything far bigger is a file of another kind,
// such as safetensors weights, that must not be read whole.
const maxConfigSize = 64 << 20

// TemplateFromFile returns the chat template source of a model file: a GGUF
// file (recognised by its "GGUF" magic) or a tokenizer_config.json. A model
// without a template is an error wrapping ErrUnsupportedTemplate.
func TemplateFromFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("chat: %w", err)
	}
	defer fh.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(fh, magic); err == nil && string(magic) == "GGUF" {
		f, err := gguf.Open(path)
		if err != nil {
			return "", fmt.Errorf("chat: %w", err)
		}
		defer f.Close()
		return TemplateFromGGUF(f)
	}
	// The size of a regular file refuses it before reading; the limited
	// read bounds the rest (a pipe, a device).
	st, err := fh.Stat()
	if err != nil {
		return "", fmt.Errorf("chat: %w", err)
	}
	tooLarge := fmt.Errorf("chat: %s: too large for a tokenizer_config.json (more than %d bytes); is it a model file of another format?",
		path, maxConfigSize)
	if st.Mode().IsRegular() && st.Size() > maxConfigSize {
		return "", tooLarge
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("chat: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxConfigSize+1))
	if err != nil {
		return "", fmt.Errorf("chat: %w", err)
	}
	if len(data) > maxConfigSize {
		return "", tooLarge
	}
	src, err := TemplateFromConfig(data)
	if err != nil {
		return "", fmt.Errorf("%w (file %s)", err, path)
	}
	return src, nil
}

// TemplateFromGGUF returns the tokenizer.chat_template of a GGUF file.
func TemplateFromGGUF(f *gguf.File) (string, error) {
	src, err := f.String(ggufTemplateKey)
	if errors.Is(err, gguf.ErrNotFound) {
		return "", fmt.Errorf("%w: the GGUF file has no %s", ErrUnsupportedTemplate, ggufTemplateKey)
	}
	if err != nil {
		return "", fmt.Errorf("chat: %w", err)
	}
	return src, nil
}

// TemplateFromConfig returns the chat_template of a tokenizer_config.json.
// When chat_template is a list of {"name", "template"} entries, the one
// named "default" is returned. A config without a template is an error
// wrapping ErrUnsupportedTemplate.
func TemplateFromConfig(data []byte) (string, error) {
	var cfg struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", fmt.Errorf("chat: tokenizer config: %w", err)
	}
	raw := bytes.TrimSpace(cfg.ChatTemplate)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", fmt.Errorf("%w: tokenizer config has no chat_template", ErrUnsupportedTemplate)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("chat: tokenizer config: chat_template: %w", err)
		}
		return s, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return "", errors.New("chat: tokenizer config: chat_template must be a string or a list of {name, template}")
	}
	for _, n := range named {
		if n.Name == "default" {
			return n.Template, nil
		}
	}
	return "", fmt.Errorf("%w: tokenizer config lists %d named chat templates but none named \"default\"", ErrUnsupportedTemplate, len(named))
}
