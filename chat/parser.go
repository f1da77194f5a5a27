// This file parses a model's generated text incrementally into reasoning,
// content and tool calls, the way Qwen3 writes them: reasoning inside
// <think>...</think>, then the answer, with each tool call as a
// <tool_call>{"name": ..., "arguments": {...}}</tool_call> block. Text is
// fed as the streaming decoder releases it; a tag may be split across feeds
// at any byte, so the parser holds back only text that could still turn out
// to be part of a tag (or whitespace whose fate depends on what follows).

package chat

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/helexa/helexa/api"
)

// Tags of Qwen3's output format.
const (
	thinkOpen     = "<think>"
	thinkClose    = "</think>"
	toolCallOpen  = "<tool_call>"
	toolCallClose = "</tool_call>"
	// spaceChars is the whitespace dropped around tool-call blocks.
	spaceChars = " \t\r\n"
)

// Delta is one piece of parsed output; exactly one field is set.
type Delta struct {
	Content   string
	Reasoning string
	ToolCalls []api.ToolCall
}

// ParserOptions says what the output may contain.
type ParserOptions struct {
	// Thinking means reasoning comes first: the output is reasoning up to
	// </think>, whether it opens with <think> itself or the prompt already
	// ended in "<think>\n". Without it everything is content.
	Thinking bool
	// Tools means tool-call blocks in the content are parsed into calls.
	Tools bool
	// StreamArguments means the tool-call blocks are known to be
	// well-formed calls, {"name": ..., "arguments": ...} in that order
	// (a constraint forced them): each call is emitted as soon as its
	// name is read, with empty arguments, and its arguments follow in
	// fragments as they arrive (calls without a name, with the call's
	// index). Without it a call is emitted whole when its block closes.
	StreamArguments bool
}

// parserState is where in the output the parser is.
type parserState int

const (
	stateStart     parserState = iota // thinking: before the reasoning, <think> may follow
	stateReasoning                    // inside the reasoning, up to </think>
	stateContent                      // the answer
	stateToolCall                     // inside a <tool_call> block (buf starts with the tag)
)

// Parser splits streamed output text into deltas. It is not safe for
// concurrent use.
type Parser struct {
	opts  ParserOptions
	state parserState
	// buf is text received and not yet emitted.
	buf string
	// trim is the set of characters stripped from the start of the current
	// run of text: "\n" after <think> and </think> (Qwen3 renders reasoning
	// stripped of newlines and content with its leading newlines removed),
	// whitespace after a tool call; empty once other text has passed.
	trim string
	// held is the whitespace between content and a <tool_call> tag, dropped
	// when the block is a valid call and given back when it is not.
	held  string
	calls int
	// streaming is true inside a block whose call has been emitted and
	// whose arguments are being streamed (StreamArguments); argsStarted
	// once their first non-space byte is out, argsDone once the call's
	// object has closed. arg scans the arguments' JSON so that their end
	// is found by structure, not by the first close tag (which a string
	// may hold).
	streaming, argsStarted, argsDone bool
	arg                              argScan
	out                              []Delta
	// newID makes tool-call IDs; tests replace it.
	newID func() string
}

// NewParser returns a parser for one generation.
func NewParser(opts ParserOptions) *Parser {
	p := &Parser{opts: opts, state: stateContent, newID: newToolCallID}
	if opts.Thinking {
		p.state = stateStart
	}
	return p
}

// newToolCallID returns "call_" and 26 random base32 characters.
func newToolCallID() string { return "call_" + rand.Text() }

// Feed parses the next piece of output and returns the deltas it completes.
func (p *Parser) Feed(text string) []Delta {
	p.buf += text
	p.step(false)
	return p.flush()
}

// Finish parses what is held back at the end of generation: a partial tag
// is text, an unclosed tool-call block is content, unclosed reasoning is
// reasoning.
func (p *Parser) Finish() []Delta {
	p.step(true)
	return p.flush()
}

// SawToolCall reports whether a tool call has been parsed.
func (p *Parser) SawToolCall() bool { return p.calls > 0 }

func (p *Parser) flush() []Delta {
	out := p.out
	p.out = nil
	return out
}

// step consumes as much of buf as can be decided; with final set,
// everything.
func (p *Parser) step(final bool) {
	for {
		switch p.state {
		case stateStart:
			b := strings.TrimLeft(p.buf, "\n")
			if strings.HasPrefix(b, thinkOpen) {
				p.buf = b[len(thinkOpen):]
			} else if !final && strings.HasPrefix(thinkOpen, b) {
				return // "", or a prefix of <think>: wait for more
			}
			p.state, p.trim = stateReasoning, "\n"

		case stateReasoning:
			if !p.trimStart(final) {
				return
			}
			if i := strings.Index(p.buf, thinkClose); i >= 0 {
				p.emitReasoning(strings.TrimRight(p.buf[:i], "\n"))
				p.buf = p.buf[i+len(thinkClose):]
				p.state, p.trim = stateContent, "\n"
				continue
			}
			if final {
				p.emitReasoning(strings.TrimRight(p.buf, "\n"))
				p.buf = ""
				return
			}
			// Hold a possible partial </think> and the newlines before it.
			safe := p.buf[:len(p.buf)-partialSuffix(p.buf, thinkClose)]
			n := len(strings.TrimRight(safe, "\n"))
			p.emitReasoning(p.buf[:n])
			p.buf = p.buf[n:]
			return

		case stateContent:
			if !p.trimStart(final) {
				return
			}
			if !p.opts.Tools {
				p.emitContent(p.buf)
				p.buf = ""
				return
			}
			if i := strings.Index(p.buf, toolCallOpen); i >= 0 {
				c := strings.TrimRight(p.buf[:i], spaceChars)
				p.emitContent(c)
				p.held = p.buf[len(c):i]
				p.buf = p.buf[i:]
				p.state = stateToolCall
				continue
			}
			if final {
				p.emitContent(p.buf)
				p.buf = ""
				return
			}
			// Hold a possible partial <tool_call> and the whitespace before it.
			safe := p.buf[:len(p.buf)-partialSuffix(p.buf, toolCallOpen)]
			n := len(strings.TrimRight(safe, spaceChars))
			p.emitContent(p.buf[:n])
			p.buf = p.buf[n:]
			return

		case stateToolCall:
			if p.opts.StreamArguments {
				if !p.streamCall(final) {
					return
				}
				continue
			}
			j := strings.Index(p.buf, toolCallClose)
			if j < 0 {
				if final {
					p.emitContent(p.held + p.buf)
					p.held, p.buf, p.state = "", "", stateContent
				}
				return
			}
			end := j + len(toolCallClose)
			if call, ok := parseToolCall(p.buf[len(toolCallOpen):j]); ok {
				idx := p.calls
				call.Index = &idx
				call.ID = p.newID()
				p.calls++
				p.out = append(p.out, Delta{ToolCalls: []api.ToolCall{call}})
				p.trim = spaceChars
			} else {
				p.emitContent(p.held + p.buf[:end])
			}
			p.held, p.buf, p.state = "", p.buf[end:], stateContent
		}
	}
}

// callHeader matches the start of a forced call's block up to its
// arguments: the name as a JSON string.
var callHeader = regexp.MustCompile(`^<tool_call>[ \t\r\n]*\{[ \t\r\n]*"name"[ \t\r\n]*:[ \t\r\n]*("(?:[^"\\]|\\.)*")[ \t\r\n]*,[ \t\r\n]*"arguments"[ \t\r\n]*:[ \t\r\n]*`)

// streamCall parses a forced call's block (buf starts with the tag, or
// with the arguments once the call is out): the call with its name, then
// the arguments as they come, holding back what may be the object's
// closing brace and the close tag. It reports whether the block ended.
func (p *Parser) streamCall(final bool) bool {
	if !p.streaming {
		m := callHeader.FindStringSubmatch(p.buf)
		var name string
		if m == nil || json.Unmarshal([]byte(m[1]), &name) != nil || name == "" {
			if final || strings.Contains(p.buf, toolCallClose) {
				// Not a forced call after all: the block is content.
				p.opts.StreamArguments = false
				return true
			}
			return false
		}
		idx := p.calls
		p.calls++
		p.out = append(p.out, Delta{ToolCalls: []api.ToolCall{{Index: &idx, ID: p.newID(), Type: "function",
			Function: api.FunctionCall{Name: name}}}})
		p.buf, p.held, p.streaming, p.argsStarted, p.argsDone, p.arg = p.buf[len(m[0]):], "", true, false, false, argScan{}
	}
	if !p.argsDone {
		n, end := p.arg.scan(p.buf)
		if end {
			// buf[n] closes the call's object: the arguments end before it.
			p.emitArguments(strings.TrimRight(p.buf[:n], spaceChars))
			p.buf, p.argsDone = p.buf[n+1:], true
		} else {
			safe := strings.TrimRight(p.buf, spaceChars)
			if final {
				safe = p.buf
			}
			p.emitArguments(safe)
			p.buf = p.buf[len(safe):]
		}
	}
	if p.argsDone {
		if j := strings.Index(p.buf, toolCallClose); j >= 0 {
			p.buf = p.buf[j+len(toolCallClose):]
		} else if !final {
			return false
		} else {
			p.buf = ""
		}
	} else if !final {
		return false
	}
	p.streaming, p.state, p.trim = false, stateContent, spaceChars
	return true
}

// argScan follows the JSON of a call's arguments: the containers open and
// whether it is inside a string, so that the '}' closing the call's own
// object is told from one inside the arguments.
type argScan struct {
	depth    int
	str, esc bool
}

// scan reads s (the bytes after those already scanned) and returns the
// index of the call object's closing brace if s holds it, else len(s).
func (a *argScan) scan(s string) (int, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case a.esc:
			a.esc = false
		case a.str && c == '\\':
			a.esc = true
		case a.str:
			a.str = c != '"'
		case c == '"':
			a.str = true
		case c == '{' || c == '[':
			a.depth++
		case (c == '}' || c == ']') && a.depth == 0:
			return i, true
		case c == '}' || c == ']':
			a.depth--
		}
	}
	return len(s), false
}

// emitArguments emits a fragment of the current call's arguments (the
// space before them dropped).
func (p *Parser) emitArguments(s string) {
	if !p.argsStarted {
		s = strings.TrimLeft(s, spaceChars)
	}
	if s == "" {
		return
	}
	p.argsStarted = true
	idx := p.calls - 1
	p.out = append(p.out, Delta{ToolCalls: []api.ToolCall{{Index: &idx, Function: api.FunctionCall{Arguments: s}}}})
}

// trimStart strips the characters in p.trim from the start of buf. It
// returns false when nothing is left to look at (wait for more text), and
// clears p.trim once other text has arrived.
func (p *Parser) trimStart(final bool) bool {
	if p.trim == "" {
		return true
	}
	p.buf = strings.TrimLeft(p.buf, p.trim)
	if p.buf == "" {
		return false
	}
	p.trim = ""
	return true
}

func (p *Parser) emitContent(s string) {
	if s == "" {
		return
	}
	if n := len(p.out); n > 0 && p.out[n-1].Content != "" {
		p.out[n-1].Content += s
		return
	}
	p.out = append(p.out, Delta{Content: s})
}

func (p *Parser) emitReasoning(s string) {
	if s == "" {
		return
	}
	if n := len(p.out); n > 0 && p.out[n-1].Reasoning != "" {
		p.out[n-1].Reasoning += s
		return
	}
	p.out = append(p.out, Delta{Reasoning: s})
}

// partialSuffix returns the length of the longest proper prefix of tag that
// s ends with.
func partialSuffix(s, tag string) int {
	for k := min(len(tag)-1, len(s)); k > 0; k-- {
		if strings.HasSuffix(s, tag[:k]) {
			return k
		}
	}
	return 0
}

// parseToolCall parses the body of a <tool_call> block: a JSON object with
// a non-empty string "name" and "arguments" that is an object (compacted),
// a string (kept as is), or absent/null ("{}").
func parseToolCall(body string) (api.ToolCall, bool) {
	body = strings.TrimSpace(body)
	if !strings.HasPrefix(body, "{") {
		return api.ToolCall{}, false
	}
	var v struct {
		Name      *string         `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.Name == nil || *v.Name == "" {
		return api.ToolCall{}, false
	}
	args := "{}"
	switch raw := bytes.TrimSpace(v.Arguments); {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '{':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return api.ToolCall{}, false
		}
		args = b.String()
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &args); err != nil {
			return api.ToolCall{}, false
		}
	default:
		return api.ToolCall{}, false
	}
	return api.ToolCall{Type: "function", Function: api.FunctionCall{Name: *v.Name, Arguments: args}}, true
}

// outputFormat is implemented by templates that know what their model's
// output holds for a request.
type outputFormat interface {
	ParserOptions(r Request) ParserOptions
}

// ParserOptionsFor returns the parser options for the output of a model
// prompted with t.Render(r): reasoning when the template enables thinking
// for r, tool calls when r offers tools. A template that does not say
// gets {Thinking: false, Tools: len(r.Tools) > 0}.
func ParserOptionsFor(t Template, r Request) ParserOptions {
	if f, ok := t.(outputFormat); ok {
		return f.ParserOptions(r)
	}
	return ParserOptions{Tools: len(r.Tools) > 0}
}
