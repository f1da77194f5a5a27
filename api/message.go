// Package api holds the wire types of neuron's HTTP API: the OpenAI-compatible
// chat and completion endpoints and the model-management endpoints the
// gateway uses. It depends on the standard library only.
//
// This file holds the chat message and tool types, shared by the chat template
// (package chat) and the HTTP server.
package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Message is one chat message of a chat-completions request.
type Message struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
	// ReasoningContent is an assistant turn's reasoning (Qwen3 thinking), when
	// the client sends it back separately from the content.
	ReasoningContent *string    `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID       string     `json:"tool_call_id,omitempty"`
	Name             string     `json:"name,omitempty"`
}

// Content is a message's content: a plain string, or a list of content parts
// of which only text parts are supported. Null decodes to the empty string.
type Content struct {
	Text string
	// Parts is true when the content arrived as a list of parts.
	Parts bool
}

// ContentPart is one element of a list-shaped message content.
type ContentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// UnmarshalJSON accepts a string, null, or a list of text parts (joined
// with no separator, as the OpenAI API concatenates them).
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*c = Content{}
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = Content{Text: s}
		return nil
	case len(b) > 0 && b[0] == '[':
		var parts []ContentPart
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		var buf bytes.Buffer
		for i, p := range parts {
			if p.Type != "text" {
				return fmt.Errorf("content part %d: type %q not supported (only \"text\")", i, p.Type)
			}
			buf.WriteString(p.Text)
		}
		*c = Content{Text: buf.String(), Parts: true}
		return nil
	}
	return fmt.Errorf("content must be a string or a list of content parts")
}

// MarshalJSON writes the content as a JSON string.
func (c Content) MarshalJSON() ([]byte, error) { return json.Marshal(c.Text) }

// ToolCall is a function call made by the assistant.
type ToolCall struct {
	// Index is the call's position within a streamed delta (streaming only).
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"` // "function"
	Function FunctionCall `json:"function"`
}

// FunctionCall names a function and carries its arguments as a JSON string.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Tool is a tool definition offered to the model. Raw keeps the definition
// exactly as the client sent it (key order included), because chat templates
// render it back verbatim.
type Tool struct {
	Type     string          `json:"type"`
	Function FunctionDecl    `json:"function"`
	Raw      json.RawMessage `json:"-"`
}

// FunctionDecl declares a callable function.
type FunctionDecl struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// UnmarshalJSON decodes a tool and keeps its raw bytes.
func (t *Tool) UnmarshalJSON(b []byte) error {
	type plain Tool
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = Tool(p)
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the raw definition when there is one.
func (t Tool) MarshalJSON() ([]byte, error) {
	if len(t.Raw) > 0 {
		return t.Raw, nil
	}
	type plain Tool
	return json.Marshal(plain(t))
}
