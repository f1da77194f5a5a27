// This file compiles enforced tool calls (tool_choice "required" or a named
// function) into a schema over the whole output: one or more Qwen3
// tool-call blocks,
//
//	<tool_call>
//	{"name": "get_weather", "arguments": {"city": "Paris"}}
//	</tool_call>
//
// separated by a newline, each calling one of the offered functions with
// arguments valid against that function's parameters schema. The tags are
// text here; the tokenizer's <tool_call> and </tool_call> tokens carry the
// same text and are allowed where it is (special tokens, see Kind).

package constrain

import (
	"errors"
	"fmt"
)

// Tool is a function a forced tool call may name.
type Tool struct {
	Name string
	// Parameters is the JSON Schema of the arguments; empty or null
	// means any JSON object.
	Parameters []byte
}

// Qwen3's tool-call block (the chat template writes calls this way).
const (
	toolCallOpen  = "<tool_call>\n"
	toolCallClose = "\n</tool_call>"
	toolCallSep   = "\n"
)

// CompileToolCalls compiles the blocks of calls to tools: at least one
// call, at most one when single is set.
func CompileToolCalls(tools []Tool, single bool) (*Schema, error) {
	if len(tools) == 0 {
		return nil, fmt.Errorf("%w: no tools to call", ErrSchema)
	}
	g, err := newGraph()
	if err != nil {
		return nil, err
	}
	calls, err := g.newNode(kUnion)
	if err != nil {
		return nil, err
	}
	for i, t := range tools {
		params := t.Parameters
		if len(params) == 0 || string(params) == "null" {
			params = []byte(`{"type": "object"}`)
		}
		doc, err := decodeSchema(params)
		if err != nil {
			return nil, fmt.Errorf("tool %q parameters: %w", t.Name, err)
		}
		// Arguments are an object (OpenAI function parameters are an
		// object schema): an empty schema means any object, not any value.
		if m, ok := doc.(map[string]any); (ok && len(propertyOrder(m)) == 0) || doc == true {
			doc, _ = decodeSchema([]byte(`{"type": "object"}`))
		}
		args, err := g.compileDoc(doc, fmt.Sprintf("tools[%d].function.parameters", i))
		if err != nil {
			return nil, fmt.Errorf("tool %q: %w", t.Name, err)
		}
		name, err := canonical(t.Name)
		if err != nil {
			return nil, err
		}
		lit, err := g.literal(name)
		if err != nil {
			return nil, err
		}
		call, err := g.newNode(kObject)
		if err != nil {
			return nil, err
		}
		call.props = []prop{
			{name: "name", key: `"name"`, value: lit, required: true},
			{name: "arguments", key: `"arguments"`, value: args, required: true},
		}
		call.reqFrom = requiredFrom(call.props)
		calls.alts = append(calls.alts, call)
	}
	open, err := g.literal(toolCallOpen)
	if err != nil {
		return nil, err
	}
	closing, err := g.literal(toolCallClose)
	if err != nil {
		return nil, err
	}
	block, err := g.newNode(kSeq)
	if err != nil {
		return nil, err
	}
	block.alts = []*node{open, calls, closing}
	root, err := g.newNode(kRepeat)
	if err != nil {
		return nil, err
	}
	root.alts, root.sep, root.min, root.max = []*node{block}, toolCallSep, 1, -1
	if single {
		root.max = 1
	}
	s, err := g.finish(root)
	if err != nil && !errors.Is(err, ErrSchema) {
		err = fmt.Errorf("%w: %w", ErrSchema, err)
	}
	return s, err
}
