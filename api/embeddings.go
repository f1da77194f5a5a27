// This file holds the wire types of POST /v1/embeddings: the request (input
// as a string, a list of strings, a list of token ids or a list of such
// lists; encoding_format float or base64; dimensions), its validation, and
// the response.

package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// EmbeddingRequest is the body of POST /v1/embeddings.
type EmbeddingRequest struct {
	Model string         `json:"model"`
	Input EmbeddingInput `json:"input"`
	// EncodingFormat is "float" (the default) or "base64" (little-endian
	// float32 bytes, base64-encoded).
	EncodingFormat string `json:"encoding_format,omitempty"`
	// Dimensions truncates each vector to its first Dimensions elements and
	// normalizes it again (Matryoshka-trained models such as
	// Qwen3-Embedding keep their meaning).
	Dimensions *int   `json:"dimensions,omitempty"`
	User       string `json:"user,omitempty"`
}

// EmbeddingInput is the input field: texts or token-id lists; exactly one
// of the two is set once decoded.
type EmbeddingInput struct {
	Texts  []string
	Tokens [][]int32
}

// UnmarshalJSON accepts a string, a list of strings, a list of token ids
// (one input) or a list of lists of token ids.
func (in *EmbeddingInput) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*in = EmbeddingInput{Texts: []string{s}}
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil || items == nil {
		return fmt.Errorf("input must be a string, a list of strings, a list of token ids or a list of such lists")
	}
	if len(items) == 0 {
		*in = EmbeddingInput{}
		return nil
	}
	switch first := bytes.TrimSpace(items[0]); {
	case len(first) > 0 && first[0] == '"':
		var texts []string
		if err := json.Unmarshal(b, &texts); err != nil {
			return fmt.Errorf("input: a list must hold only strings or only token ids")
		}
		*in = EmbeddingInput{Texts: texts}
	case len(first) > 0 && first[0] == '[':
		var lists [][]int32
		if err := json.Unmarshal(b, &lists); err != nil {
			return fmt.Errorf("input: a list of lists must hold token ids (integers)")
		}
		*in = EmbeddingInput{Tokens: lists}
	default:
		var ids []int32
		if err := json.Unmarshal(b, &ids); err != nil {
			return fmt.Errorf("input: a list must hold only strings or only token ids")
		}
		*in = EmbeddingInput{Tokens: [][]int32{ids}}
	}
	return nil
}

// MarshalJSON writes the texts, or the token-id lists when there are any.
func (in EmbeddingInput) MarshalJSON() ([]byte, error) {
	if len(in.Tokens) > 0 {
		return json.Marshal(in.Tokens)
	}
	return json.Marshal(in.Texts)
}

// Len is the number of inputs.
func (in EmbeddingInput) Len() int { return len(in.Texts) + len(in.Tokens) }

// MaxEmbeddingInputs is the most inputs one request may hold (OpenAI's
// limit).
const MaxEmbeddingInputs = 2048

// DecodeEmbeddingRequest decodes and validates an embeddings body.
func DecodeEmbeddingRequest(body []byte) (*EmbeddingRequest, *Error) {
	var r EmbeddingRequest
	if e := decodeObject(body, &r); e != nil {
		if e.Param == "" && bytes.Contains([]byte(e.Message), []byte("input")) {
			e.Param = "input"
		}
		return nil, e
	}
	if e := r.Validate(); e != nil {
		return nil, e
	}
	return &r, nil
}

// Validate checks the request.
func (r *EmbeddingRequest) Validate() *Error {
	if r.Model == "" {
		return Invalid("model", "model is required")
	}
	n := r.Input.Len()
	switch {
	case n == 0:
		return Invalid("input", "input is required and must not be empty")
	case n > MaxEmbeddingInputs:
		return Invalid("input", "input holds %d items, at most %d", n, MaxEmbeddingInputs)
	}
	for i, t := range r.Input.Texts {
		if t == "" {
			return Invalid("input", "input[%d] is an empty string", i)
		}
	}
	for i, ids := range r.Input.Tokens {
		if len(ids) == 0 {
			return Invalid("input", "input[%d] has no token ids", i)
		}
		for _, id := range ids {
			if id < 0 {
				return Invalid("input", "input[%d]: token id %d is negative", i, id)
			}
		}
	}
	switch r.EncodingFormat {
	case "", "float", "base64":
	default:
		return Invalid("encoding_format", "encoding_format must be float or base64, got %q", r.EncodingFormat)
	}
	if r.Dimensions != nil && *r.Dimensions < 1 {
		return Invalid("dimensions", "dimensions must be at least 1, got %d", *r.Dimensions)
	}
	return nil
}

// EmbeddingList is the response of POST /v1/embeddings.
type EmbeddingList struct {
	Object string         `json:"object"` // "list"
	Data   []Embedding    `json:"data"`
	Model  string         `json:"model"`
	Usage  EmbeddingUsage `json:"usage"`
}

// Embedding is one vector: a list of floats, or a base64 string of
// little-endian float32 bytes.
type Embedding struct {
	Object    string `json:"object"` // "embedding"
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// EmbeddingUsage counts the input tokens.
type EmbeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}
