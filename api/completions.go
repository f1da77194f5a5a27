// This file holds the wire types of POST /v1/completions (raw prompt text).

package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// CompletionRequest is the body of POST /v1/completions. Fields neuron does
// not act on are ignored when decoded.
type CompletionRequest struct {
	Model  string `json:"model"`
	Prompt Prompt `json:"prompt"`
	GenerationParams
	// Logprobs is the number of alternatives per position (0-5) to return.
	Logprobs *int    `json:"logprobs,omitempty"`
	Echo     bool    `json:"echo,omitempty"`
	Suffix   *string `json:"suffix,omitempty"`
	BestOf   *int    `json:"best_of,omitempty"`
}

// Prompt is the prompt field: a string, a list of one string, a list of token
// ids, or a list of one list of token ids.
type Prompt struct {
	Text   string
	Tokens []int32
	// Set is true when the field was present and not null.
	Set bool
}

// UnmarshalJSON accepts the prompt shapes of the OpenAI API that carry one
// prompt; a batch of several prompts is an error.
func (p *Prompt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*p = Prompt{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = Prompt{Text: s, Set: true}
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("prompt must be a string, a list of strings or a list of token ids")
	}
	if len(list) == 0 {
		return fmt.Errorf("prompt must not be an empty list")
	}
	first := bytes.TrimSpace(list[0])
	switch {
	case len(first) > 0 && first[0] == '"':
		if len(list) > 1 {
			return fmt.Errorf("prompt: a batch of %d prompts is not supported, send one", len(list))
		}
		var s string
		if err := json.Unmarshal(first, &s); err != nil {
			return err
		}
		*p = Prompt{Text: s, Set: true}
	case len(first) > 0 && first[0] == '[':
		if len(list) > 1 {
			return fmt.Errorf("prompt: a batch of %d prompts is not supported, send one", len(list))
		}
		var ids []int32
		if err := json.Unmarshal(first, &ids); err != nil {
			return fmt.Errorf("prompt: token ids must be integers")
		}
		*p = Prompt{Tokens: ids, Set: true}
	default:
		var ids []int32
		if err := json.Unmarshal(b, &ids); err != nil {
			return fmt.Errorf("prompt: token ids must be integers")
		}
		*p = Prompt{Tokens: ids, Set: true}
	}
	return nil
}

// MarshalJSON writes the text, or the token ids when there are any.
func (p Prompt) MarshalJSON() ([]byte, error) {
	if p.Tokens != nil {
		return json.Marshal(p.Tokens)
	}
	return json.Marshal(p.Text)
}

// Completion is the response of a non-streaming completion, and also the
// shape of each chunk of a streamed one (object "text_completion" in both).
type Completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"` // "text_completion"
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint,omitempty"`
	Choices           []CompletionChoice `json:"choices"`
	Usage             *Usage             `json:"usage,omitempty"`
}

// CompletionChoice is one choice of a completion; FinishReason is null in the
// chunks before the last.
type CompletionChoice struct {
	Index        int                 `json:"index"`
	Text         string              `json:"text"`
	Logprobs     *CompletionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
}

// CompletionLogprobs is the legacy logprobs object of the completions API.
type CompletionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}
