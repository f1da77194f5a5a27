// This file holds the request type, the Template interface and the choice of
// a template from its source.

// Package chat turns chat messages into the prompt text a model was trained
// on, and turns the model's generated text back into reasoning, content and
// tool calls. Templates are implemented natively in Go and chosen by
// recognising the model's own Jinja template source; a template we do not
// implement is an error, never a guessed prompt.
package chat

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/helexa/helexa/api"
)

// ErrUnsupportedTemplate is returned (wrapped) for a chat template this
// package does not implement, and for a model that has none.
var ErrUnsupportedTemplate = errors.New("chat: unsupported chat template")

// Request is what a template renders: the conversation, the tools offered,
// and the template switches.
type Request struct {
	Messages []api.Message
	Tools    []api.Tool
	// EnableThinking is nil to keep the template's default (thinking on
	// for Qwen3); false asks for an answer without reasoning.
	EnableThinking *bool
	// AddGenerationPrompt appends the opening of the assistant's turn.
	AddGenerationPrompt bool
}

// Template renders requests to prompt text.
type Template interface {
	// Name identifies the template ("qwen3").
	Name() string
	// Render returns the prompt text, byte-exact to what Hugging Face's
	// apply_chat_template renders from the template's source.
	Render(r Request) (string, error)
}

// FromSource returns the native implementation of the Jinja chat template
// src, as found in GGUF metadata (tokenizer.chat_template) or in
// tokenizer_config.json (chat_template). A source is recognised when, after
// the normalisation Jinja itself applies (see normalizeSource), it equals a
// known template byte for byte; any other source yields an error wrapping
// ErrUnsupportedTemplate that says which template was looked for and gives
// the source's fingerprint.
func FromSource(src string) (Template, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("%w: the model has no chat template", ErrUnsupportedTemplate)
	}
	fp := Fingerprint(src)
	for _, k := range knownTemplates {
		if k.fingerprint == fp {
			return k.template, nil
		}
	}
	names := make([]string, len(knownTemplates))
	for i, k := range knownTemplates {
		names[i] = k.template.Name()
	}
	return nil, fmt.Errorf("%w: template (%d bytes, fingerprint %s) is not one this build renders (known: %s); "+
		"check that the model's tokenizer.chat_template is the unmodified original",
		ErrUnsupportedTemplate, len(src), fp[:16], strings.Join(names, ", "))
}

// knownTemplate pairs a native template with the fingerprint of the Jinja
// source it implements.
type knownTemplate struct {
	fingerprint string
	template    Template
}

// knownTemplates lists the templates FromSource recognises.
var knownTemplates = []knownTemplate{
	// The Qwen3 template (hybrid thinking) as shipped in the tokenizer_config.json
	// of the Qwen3 release (Qwen/Qwen3-0.6B ... Qwen3-235B-A22B, April 2025) and in
	// the GGUF files converted from it; 4116 bytes.
	{qwen3Fingerprint, Qwen3{}},
}

// Fingerprint returns the hex SHA-256 of a template source after
// normalizeSource, the value FromSource matches against.
func Fingerprint(src string) string {
	sum := sha256.Sum256([]byte(normalizeSource(src)))
	return hex.EncodeToString(sum[:])
}

// normalizeSource removes the differences between template sources that
// Jinja, configured as Hugging Face configures it, cannot render differently,
// and nothing else:
//   - line endings: Jinja's lexer rewrites "\r\n" and "\r" to "\n";
//   - whitespace before the first tag when that tag opens with "{%-" or
//     "{{-" (the dash strips it);
//   - up to two "\n" after the last tag when it is a block tag ending in
//     "%}": keep_trailing_newline=False drops one, trim_blocks the other.
//
// Anything else, such as indentation inside the template, must match exactly.
func normalizeSource(src string) string {
	s := strings.ReplaceAll(src, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if t := strings.TrimLeft(s, " \t\n"); strings.HasPrefix(t, "{%-") || strings.HasPrefix(t, "{{-") {
		s = t
	}
	if t := strings.TrimSuffix(s, "\n"); strings.HasSuffix(t, "%}") {
		s = t
	} else if t := strings.TrimSuffix(t, "\n"); strings.HasSuffix(t, "%}") {
		s = t
	}
	return s
}
