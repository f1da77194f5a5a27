// This file reads a chat template's source from a Hugging Face
// tokenizer_config.json, where chat_template is either a string or a list of
// named templates.

package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

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
