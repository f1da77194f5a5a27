// This file implements the Qwen3 chat template natively. It follows the
// Jinja source in Qwen3's tokenizer_config.json statement by statement; the
// comments quote the decisions of that source so the two can be compared.
// Jinja runs with trim_blocks and lstrip_blocks and every tag of the source
// strips the whitespace before it, so the prompt is exactly the
// concatenation of the emitted strings below.

package chat

import (
	"errors"
	"fmt"
	"strings"

	"github.com/helexa/helexa/api"
)

// qwen3Fingerprint is Fingerprint of the Qwen3 template source (the
// chat_template of Qwen3's tokenizer_config.json, also stored in every GGUF
// converted from it).
const qwen3Fingerprint = "87a2728cb8dc9fe424d624542f6060ec05a1d285ebbec578bb078900e33396b5"

// Qwen3 renders the chat template of the Qwen3 models: ChatML turns, an
// optional tools block in the system turn, <think> reasoning kept only for
// the turns after the last user query, tool calls as <tool_call> JSON
// blocks and tool results as <tool_response> blocks in a user turn.
type Qwen3 struct{}

// Name returns "qwen3".
func (Qwen3) Name() string { return "qwen3" }

// Qwen3 template literals, verbatim from the Jinja source.
const (
	qwen3ToolsHeader = "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
		"You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
	qwen3ToolsFooter = "\n</tools>\n\nFor each function call, return a json object with function name and " +
		"arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n" +
		"{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
)

// Render renders r. Where the Jinja source would fail (no messages, a tool
// whose definition is not JSON) Render returns an error. Content that is
// null in the request renders as the empty string, where Jinja would fail
// on concatenating None; messages with a role other than system, user,
// assistant and tool render nothing, as in the source.
func (Qwen3) Render(r Request) (string, error) {
	msgs := r.Messages
	if len(msgs) == 0 {
		return "", errors.New("chat: qwen3: the request has no messages")
	}
	var b strings.Builder

	// {%- if tools %} ... system turn with the tool signatures, one
	// `tool | tojson` per line, after the first message's content when that
	// message is a system message.
	if len(r.Tools) > 0 {
		b.WriteString("<|im_start|>system\n")
		if msgs[0].Role == "system" {
			b.WriteString(msgs[0].Content.Text)
			b.WriteString("\n\n")
		}
		b.WriteString(qwen3ToolsHeader)
		for i, t := range r.Tools {
			js, err := toolJSON(t)
			if err != nil {
				return "", fmt.Errorf("chat: qwen3: tool %d: %w", i, err)
			}
			b.WriteString("\n")
			b.WriteString(js)
		}
		b.WriteString(qwen3ToolsFooter)
	} else if msgs[0].Role == "system" {
		b.WriteString("<|im_start|>system\n" + msgs[0].Content.Text + "<|im_end|>\n")
	}

	// The reverse scan: last_query_index is the index of the last user
	// message that is not a wrapped tool response (content starting with
	// <tool_response> and ending with </tool_response>); len-1 if none.
	lastQuery := len(msgs) - 1
	for i := len(msgs) - 1; i >= 0; i-- {
		c := msgs[i].Content.Text
		if msgs[i].Role == "user" && !(strings.HasPrefix(c, "<tool_response>") && strings.HasSuffix(c, "</tool_response>")) {
			lastQuery = i
			break
		}
	}

	for i, m := range msgs {
		first, last := i == 0, i == len(msgs)-1
		switch {
		case m.Role == "user" || (m.Role == "system" && !first):
			b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content.Text + "<|im_end|>\n")
		case m.Role == "assistant":
			qwen3Assistant(&b, m, i > lastQuery, last)
		case m.Role == "tool":
			// Consecutive tool messages share one user turn.
			if first || msgs[i-1].Role != "tool" {
				b.WriteString("<|im_start|>user")
			}
			b.WriteString("\n<tool_response>\n" + m.Content.Text + "\n</tool_response>")
			if last || msgs[i+1].Role != "tool" {
				b.WriteString("<|im_end|>\n")
			}
		}
	}

	if r.AddGenerationPrompt {
		b.WriteString("<|im_start|>assistant\n")
		// {%- if enable_thinking is defined and enable_thinking is false %}
		if r.EnableThinking != nil && !*r.EnableThinking {
			b.WriteString("<think>\n\n</think>\n\n")
		}
	}
	return b.String(), nil
}

// qwen3Assistant writes one assistant turn. afterQuery is
// loop.index0 > ns.last_query_index.
func qwen3Assistant(b *strings.Builder, m api.Message, afterQuery, last bool) {
	content := m.Content.Text
	reasoning := ""
	if m.ReasoningContent != nil {
		// message.reasoning_content is defined and is not none: used as is,
		// and the content is not searched for </think>.
		reasoning = *m.ReasoningContent
	} else if strings.Contains(content, "</think>") {
		// content = content.split('</think>')[-1].lstrip('\n')
		// reasoning = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')
		whole := content
		content = strings.TrimLeft(whole[strings.LastIndex(whole, "</think>")+len("</think>"):], "\n")
		before := strings.TrimRight(whole[:strings.Index(whole, "</think>")], "\n")
		if j := strings.LastIndex(before, "<think>"); j >= 0 {
			before = before[j+len("<think>"):]
		}
		reasoning = strings.TrimLeft(before, "\n")
	}
	// Reasoning is shown only for turns after the last user query, and there
	// only for the final message or a turn that has reasoning.
	if afterQuery && (last || reasoning != "") {
		b.WriteString("<|im_start|>assistant\n<think>\n" + strings.Trim(reasoning, "\n") +
			"\n</think>\n\n" + strings.TrimLeft(content, "\n"))
	} else {
		b.WriteString("<|im_start|>assistant\n" + content)
	}
	for j, tc := range m.ToolCalls {
		// A newline separates a call from the content before it (when the
		// content, before its lstrip, is not empty) and from the previous call.
		if (j == 0 && content != "") || j > 0 {
			b.WriteString("\n")
		}
		// {%- if tool_call.arguments is string %}: arguments is always a string
		// here (objects sent by a client are converted to json.dumps text when
		// the request is decoded, see RequestFromJSON), so it is written as is.
		b.WriteString("<tool_call>\n{\"name\": \"" + tc.Function.Name + "\", \"arguments\": " +
			tc.Function.Arguments + "}\n</tool_call>")
	}
	b.WriteString("<|im_end|>\n")
}

// toolJSON is `tool | tojson`: the tool definition as the client sent it,
// re-serialized in json.dumps style.
func toolJSON(t api.Tool) (string, error) {
	raw := []byte(t.Raw)
	if len(raw) == 0 {
		var err error
		if raw, err = t.MarshalJSON(); err != nil {
			return "", err
		}
	}
	return pythonJSON(raw)
}

// ParserOptions says that Qwen3 reasons unless r turns thinking off, and
// may call tools when r offers them.
func (Qwen3) ParserOptions(r Request) ParserOptions {
	return ParserOptions{
		Thinking: r.EnableThinking == nil || *r.EnableThinking,
		Tools:    len(r.Tools) > 0,
	}
}
