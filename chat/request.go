// This file decodes the body of an OpenAI chat-completions request into a
// Request: the messages, the tools (raw bytes kept for the template), the
// template switches chat_template_kwargs.enable_thinking and
// add_generation_prompt, and reasoning_effort "none" as an alias for
// turning thinking off.

package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/helexa/helexa/api"
)

// wireMessage is api.Message with tool-call arguments kept raw, because
// Hugging Face-style clients send them as a JSON object where the OpenAI API
// sends a JSON string.
type wireMessage struct {
	Role             string         `json:"role"`
	Content          api.Content    `json:"content"`
	ReasoningContent *string        `json:"reasoning_content"`
	ToolCalls        []wireToolCall `json:"tool_calls"`
	ToolCallID       string         `json:"tool_call_id"`
	Name             string         `json:"name"`
}

// wireToolCall is a tool call as OpenAI sends it ({"function": {"name",
// "arguments"}}) or in the flat form chat templates also accept ({"name",
// "arguments"}, used when "function" is absent).
type wireToolCall struct {
	ID       string        `json:"id"`
	Type     string        `json:"type"`
	Function *wireFunction `json:"function"`
	wireFunction
}

type wireFunction struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// wireRequest is the part of a chat-completions body that templates use.
type wireRequest struct {
	Messages            []wireMessage              `json:"messages"`
	Tools               []api.Tool                 `json:"tools"`
	ChatTemplateKwargs  map[string]json.RawMessage `json:"chat_template_kwargs"`
	AddGenerationPrompt *bool                      `json:"add_generation_prompt"`
	ReasoningEffort     *string                    `json:"reasoning_effort"`
}

// RequestFromJSON decodes an OpenAI chat-completions request body. Fields
// other than messages, tools, chat_template_kwargs, add_generation_prompt
// (default true) and reasoning_effort are ignored. Tool-call arguments may be
// a JSON string (OpenAI), used as is, or a JSON value (Hugging Face), stored
// as its json.dumps text so the template renders it as `tojson` would.
func RequestFromJSON(body []byte) (Request, error) {
	var w wireRequest
	if err := json.Unmarshal(body, &w); err != nil {
		return Request{}, fmt.Errorf("chat: request: %w", err)
	}
	if w.Messages == nil {
		return Request{}, errors.New("chat: request: no messages")
	}
	r := Request{Tools: w.Tools, AddGenerationPrompt: true}
	if w.AddGenerationPrompt != nil {
		r.AddGenerationPrompt = *w.AddGenerationPrompt
	}
	think, err := enableThinking(w.ChatTemplateKwargs, w.ReasoningEffort)
	if err != nil {
		return Request{}, err
	}
	r.EnableThinking = think
	r.Messages = make([]api.Message, len(w.Messages))
	for i, m := range w.Messages {
		if m.Role == "" {
			return Request{}, fmt.Errorf("chat: request: message %d: no role", i)
		}
		out := api.Message{Role: m.Role, Content: m.Content, ReasoningContent: m.ReasoningContent,
			ToolCallID: m.ToolCallID, Name: m.Name}
		for j, tc := range m.ToolCalls {
			fn := tc.wireFunction
			if tc.Function != nil {
				fn = *tc.Function
			}
			args, err := argumentsText(fn.Arguments)
			if err != nil {
				return Request{}, fmt.Errorf("chat: request: message %d: tool call %d: %w", i, j, err)
			}
			out.ToolCalls = append(out.ToolCalls, api.ToolCall{ID: tc.ID, Type: tc.Type,
				Function: api.FunctionCall{Name: fn.Name, Arguments: args}})
		}
		r.Messages[i] = out
	}
	return r, nil
}

// RequestFromAPI builds a Request from a decoded chat-completions request,
// with the generation prompt added. Tool-call arguments are the strings the
// client sent.
func RequestFromAPI(req *api.ChatCompletionRequest) (Request, error) {
	think, err := enableThinking(req.ChatTemplateKwargs, req.ReasoningEffort)
	if err != nil {
		return Request{}, err
	}
	return Request{Messages: req.Messages, Tools: req.Tools, EnableThinking: think, AddGenerationPrompt: true}, nil
}

// enableThinking reads chat_template_kwargs.enable_thinking (a bool or null)
// and reasoning_effort ("none" turns thinking off, other levels leave the
// default). It returns nil for the template default.
func enableThinking(kwargs map[string]json.RawMessage, effort *string) (*bool, error) {
	var think *bool
	if raw, ok := kwargs["enable_thinking"]; ok {
		if err := json.Unmarshal(raw, &think); err != nil {
			return nil, fmt.Errorf("chat: request: chat_template_kwargs.enable_thinking must be true or false, not %s", bytes.TrimSpace(raw))
		}
	}
	if think == nil && effort != nil && *effort == "none" {
		off := false
		think = &off
	}
	return think, nil
}

// argumentsText returns the text a template writes for a tool call's
// arguments: the string itself for a JSON string, the json.dumps form of
// any other value.
func argumentsText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", errors.New("function.arguments missing")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("function.arguments: %w", err)
		}
		return s, nil
	}
	s, err := pythonJSON(raw)
	if err != nil {
		return "", fmt.Errorf("function.arguments: %w", err)
	}
	return s, nil
}
