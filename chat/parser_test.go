// Tests of the output parser: expected splits of Qwen3-style outputs, and
// the incremental property that feeding any output in pieces split at any
// byte gives the same reasoning, content and tool calls as feeding it whole.

package chat

import (
	"fmt"
	"strings"
	"testing"

	"github.com/helexa/helexa/api"
)

// parsed is the merged result of a parse: all reasoning, all content, and
// the calls as "name args" strings.
type parsed struct {
	Reasoning, Content string
	Calls              []string
}

// collect merges deltas, checking that each has exactly one field set, no
// empty text, and well-formed calls numbered from 0.
func collect(t *testing.T, ds []Delta, into *parsed) {
	t.Helper()
	for _, d := range ds {
		set := 0
		if d.Content != "" {
			set++
			into.Content += d.Content
		}
		if d.Reasoning != "" {
			set++
			into.Reasoning += d.Reasoning
		}
		if len(d.ToolCalls) > 0 {
			set++
			for _, c := range d.ToolCalls {
				if c.Type != "function" || !strings.HasPrefix(c.ID, "call_") || c.Index == nil || *c.Index != len(into.Calls) {
					t.Fatalf("bad tool call %+v (index want %d)", c, len(into.Calls))
				}
				into.Calls = append(into.Calls, c.Function.Name+" "+c.Function.Arguments)
			}
		}
		if set != 1 {
			t.Fatalf("delta %+v has %d fields set, want 1", d, set)
		}
	}
}

// parseChunks feeds the chunks in order and finishes.
func parseChunks(t *testing.T, opts ParserOptions, chunks []string) parsed {
	t.Helper()
	p := NewParser(opts)
	var r parsed
	for _, c := range chunks {
		collect(t, p.Feed(c), &r)
	}
	collect(t, p.Finish(), &r)
	if p.SawToolCall() != (len(r.Calls) > 0) {
		t.Fatalf("SawToolCall = %v with %d calls", p.SawToolCall(), len(r.Calls))
	}
	return r
}

func (r parsed) String() string {
	return fmt.Sprintf("reasoning %q content %q calls %q", r.Reasoning, r.Content, r.Calls)
}

func equalParsed(a, b parsed) bool { return a.String() == b.String() }

var (
	thinkTools = ParserOptions{Thinking: true, Tools: true}
	thinkOnly  = ParserOptions{Thinking: true}
	plain      = ParserOptions{}
	toolsOnly  = ParserOptions{Tools: true}
)

// parserCases are Qwen3-style outputs with the split Qwen3's template
// implies: reasoning stripped of surrounding newlines, content with its
// leading newlines removed, whitespace around valid tool-call blocks dropped,
// arguments compacted.
var parserCases = []struct {
	name string
	opts ParserOptions
	in   string
	want parsed
}{
	{"thinking answer", thinkOnly, "<think>\nLet me think.\n\nStep 2.\n</think>\n\nThe answer is 4.",
		parsed{Reasoning: "Let me think.\n\nStep 2.", Content: "The answer is 4."}},
	{"think already in prompt", thinkOnly, "Reasoning here\n</think>\n\nAnswer",
		parsed{Reasoning: "Reasoning here", Content: "Answer"}},
	{"empty think block", thinkOnly, "<think>\n\n</think>\n\nHi", parsed{Content: "Hi"}},
	{"unclosed think", thinkOnly, "<think>\nstill thinking\n", parsed{Reasoning: "still thinking"}},
	{"partial think tag at end", thinkOnly, "<thin", parsed{Reasoning: "<thin"}},
	{"partial close tag at end", thinkOnly, "<think>\nabc</thi", parsed{Reasoning: "abc</thi"}},
	{"thinking off keeps tags", plain, "<think>\nx\n</think>\n\nHello", parsed{Content: "<think>\nx\n</think>\n\nHello"}},
	{"tools off keeps blocks", thinkOnly, "<think>\nr\n</think>\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
		parsed{Reasoning: "r", Content: "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>"}},
	{"multibyte text", thinkTools, "<think>\n日本語で考える\n</think>\n\nおはよう ☀️",
		parsed{Reasoning: "日本語で考える", Content: "おはよう ☀️"}},
	{"one call after reasoning", thinkTools,
		"<think>\nNeed the weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>",
		parsed{Reasoning: "Need the weather.", Calls: []string{`get_weather {"city":"Paris","unit":"celsius"}`}}},
	{"two calls", toolsOnly,
		"<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": [1, 2]}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>",
		parsed{Calls: []string{`a {"x":[1,2]}`, "b {}"}}},
	{"content then call", toolsOnly, "Let me check.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"q\": \"é\"}}\n</tool_call>",
		parsed{Content: "Let me check.", Calls: []string{`f {"q":"é"}`}}},
	{"text after call", toolsOnly, "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>\n\nDone.",
		parsed{Content: "Done.", Calls: []string{"f {}"}}},
	{"string arguments", toolsOnly, "<tool_call>\n{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}\n</tool_call>",
		parsed{Calls: []string{`f {"a": 1}`}}},
	{"missing arguments", toolsOnly, "<tool_call>{\"name\": \"f\"}</tool_call>", parsed{Calls: []string{"f {}"}}},
	{"malformed json", toolsOnly, "Hi \n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": }\n</tool_call> tail",
		parsed{Content: "Hi \n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": }\n</tool_call> tail"}},
	{"no name", toolsOnly, "<tool_call>{\"arguments\": {}}</tool_call>", parsed{Content: "<tool_call>{\"arguments\": {}}</tool_call>"}},
	{"array arguments", toolsOnly, "<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>",
		parsed{Content: "<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>"}},
	{"malformed then valid", toolsOnly, "<tool_call>oops</tool_call>\n<tool_call>{\"name\": \"g\", \"arguments\": {}}</tool_call>",
		parsed{Content: "<tool_call>oops</tool_call>", Calls: []string{"g {}"}}},
	{"unclosed call", toolsOnly, "Text <tool_call>\n{\"name\": \"f\"", parsed{Content: "Text <tool_call>\n{\"name\": \"f\""}},
	{"partial open tag at end", toolsOnly, "Hello <tool_", parsed{Content: "Hello <tool_"}},
	{"trailing whitespace kept without call", toolsOnly, "Hello \n", parsed{Content: "Hello \n"}},
	{"tag-like text", toolsOnly, "a < b and <tool> <tool_cal", parsed{Content: "a < b and <tool> <tool_cal"}},
	{"empty output", thinkTools, "", parsed{}},
}

func TestParser(t *testing.T) {
	for _, c := range parserCases {
		t.Run(c.name, func(t *testing.T) {
			got := parseChunks(t, c.opts, []string{c.in})
			if !equalParsed(got, c.want) {
				t.Errorf("\n got %v\nwant %v", got, c.want)
			}
		})
	}
}

// TestParserSplits feeds every case split at every byte position (two
// pieces), and byte by byte, and compares with the one-shot parse.
func TestParserSplits(t *testing.T) {
	for _, c := range parserCases {
		t.Run(c.name, func(t *testing.T) {
			whole := parseChunks(t, c.opts, []string{c.in})
			for i := 0; i <= len(c.in); i++ {
				got := parseChunks(t, c.opts, []string{c.in[:i], c.in[i:]})
				if !equalParsed(got, whole) {
					t.Fatalf("split at %d:\n got %v\nwant %v", i, got, whole)
				}
			}
			bytes := make([]string, len(c.in))
			for i := 0; i < len(c.in); i++ {
				bytes[i] = c.in[i : i+1]
			}
			if got := parseChunks(t, c.opts, bytes); !equalParsed(got, whole) {
				t.Fatalf("byte by byte:\n got %v\nwant %v", got, whole)
			}
		})
	}
}

// TestParserHoldsOnlyTagPrefixes checks that text which cannot start a tag
// is released by the Feed that brings it.
func TestParserHoldsOnlyTagPrefixes(t *testing.T) {
	cases := []struct {
		name      string
		opts      ParserOptions
		feeds     []string
		wantFirst parsed // after the first feed
	}{
		{"content released", toolsOnly, []string{"Hello world", "!"}, parsed{Content: "Hello world"}},
		{"partial tag held", toolsOnly, []string{"Hello <tool", "_call>"}, parsed{Content: "Hello"}},
		{"reasoning released", thinkOnly, []string{"<think>\nabc", "</think>"}, parsed{Reasoning: "abc"}},
		{"reasoning newline held", thinkOnly, []string{"<think>\nabc\n", "</think>"}, parsed{Reasoning: "abc"}},
		{"no tools no hold", plain, []string{"a <tool_call", "x"}, parsed{Content: "a <tool_call"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := NewParser(c.opts)
			var first parsed
			collect(t, p.Feed(c.feeds[0]), &first)
			if !equalParsed(first, c.wantFirst) {
				t.Errorf("after first feed got %v, want %v", first, c.wantFirst)
			}
		})
	}
}

func FuzzParser(f *testing.F) {
	for _, c := range parserCases {
		f.Add(c.in, uint8(3), uint16(7))
	}
	f.Fuzz(func(t *testing.T, in string, opts uint8, seed uint16) {
		o := ParserOptions{Thinking: opts&1 != 0, Tools: opts&2 != 0}
		whole := parseChunks(t, o, []string{in})
		// Split into pieces whose lengths come from the seed.
		var chunks []string
		s, rest := uint32(seed)|1, in
		for len(rest) > 0 {
			s = s*1103515245 + 12345
			n := min(int(s>>16)%5+1, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		if got := parseChunks(t, o, chunks); !equalParsed(got, whole) {
			t.Fatalf("chunks %q:\n got %v\nwant %v", chunks, got, whole)
		}
		// Without thinking or tools the parser is the identity.
		if !o.Thinking && !o.Tools && whole.Content != in {
			t.Fatalf("plain parse changed %q to %q", in, whole.Content)
		}
	})
}

func TestParserOptionsFor(t *testing.T) {
	off, on := false, true
	tools := []api.Tool{{Type: "function", Function: api.FunctionDecl{Name: "f"}}}
	cases := []struct {
		name string
		r    Request
		want ParserOptions
	}{
		{"default thinks", Request{}, ParserOptions{Thinking: true}},
		{"thinking on", Request{EnableThinking: &on}, ParserOptions{Thinking: true}},
		{"thinking off", Request{EnableThinking: &off}, ParserOptions{}},
		{"tools", Request{Tools: tools, EnableThinking: &off}, ParserOptions{Tools: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParserOptionsFor(Qwen3{}, c.r); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestParserStreamArguments(t *testing.T) {
	// The arguments hold a brace and the close tag inside strings: the
	// end of a forced call is found by its JSON, not by the first tag.
	out := "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris }\", \"note\": \"a \\\" </tool_call> b\", \"days\": [1, {\"x\": 2}]} }\n</tool_call>\n" +
		"<tool_call>\n{\"name\":\"now\",\"arguments\":{}}\n</tool_call>"
	wantArgs := []string{`{"city": "Paris }", "note": "a \" </tool_call> b", "days": [1, {"x": 2}]}`, `{}`}
	for _, size := range []int{1, 2, 3, 5, 7, 11, len(out)} {
		p := NewParser(ParserOptions{Tools: true, StreamArguments: true})
		type call struct{ name, args string }
		var calls []call
		fragments := 0
		take := func(ds []Delta) {
			for _, d := range ds {
				if d.Content != "" || d.Reasoning != "" {
					t.Fatalf("size %d: text delta %+v", size, d)
				}
				for _, c := range d.ToolCalls {
					if c.Index == nil {
						t.Fatalf("size %d: call without index", size)
					}
					if c.Function.Name != "" {
						if *c.Index != len(calls) || !strings.HasPrefix(c.ID, "call_") || c.Type != "function" || c.Function.Arguments != "" {
							t.Fatalf("size %d: bad call header %+v", size, c)
						}
						calls = append(calls, call{name: c.Function.Name})
						continue
					}
					if c.ID != "" || *c.Index != len(calls)-1 {
						t.Fatalf("size %d: bad fragment %+v", size, c)
					}
					calls[len(calls)-1].args += c.Function.Arguments
					fragments++
				}
			}
		}
		for i := 0; i < len(out); i += size {
			take(p.Feed(out[i:min(i+size, len(out))]))
		}
		take(p.Finish())
		if len(calls) != 2 || calls[0].name != "get_weather" || calls[1].name != "now" ||
			calls[0].args != wantArgs[0] || calls[1].args != wantArgs[1] || !p.SawToolCall() {
			t.Fatalf("size %d: calls %+v", size, calls)
		}
		if size == 1 && fragments < 10 {
			t.Fatalf("fed byte by byte, the arguments came in %d fragments: not streamed", fragments)
		}
	}
}

// mergeStreamed parses chunks with streamed arguments and returns the
// content and the calls as "name args" strings.
func mergeStreamed(t *testing.T, chunks []string) (string, []string) {
	t.Helper()
	p := NewParser(ParserOptions{Tools: true, StreamArguments: true})
	var content strings.Builder
	var calls []string
	take := func(ds []Delta) {
		for _, d := range ds {
			content.WriteString(d.Content)
			for _, c := range d.ToolCalls {
				switch {
				case c.Index == nil:
					t.Fatalf("call without index %+v", c)
				case c.Function.Name != "":
					if *c.Index != len(calls) {
						t.Fatalf("call index %d, want %d", *c.Index, len(calls))
					}
					calls = append(calls, c.Function.Name+" ")
				case *c.Index != len(calls)-1:
					t.Fatalf("fragment index %d with %d calls", *c.Index, len(calls))
				default:
					calls[len(calls)-1] += c.Function.Arguments
				}
			}
		}
	}
	for _, c := range chunks {
		take(p.Feed(c))
	}
	take(p.Finish())
	return content.String(), calls
}

// FuzzParserStreamArguments checks that streamed calls come out the same
// whatever the chunking, on any text.
func FuzzParserStreamArguments(f *testing.F) {
	f.Add("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": \"}</tool_call>\"}}\n</tool_call>", uint16(3))
	f.Add("hi <tool_call>\n{\"name\": 1}</tool_call> <tool_call>\n{\"name\":\"g\",\"arguments\":[1,{}]}", uint16(9))
	f.Fuzz(func(t *testing.T, in string, seed uint16) {
		wc, wcalls := mergeStreamed(t, []string{in})
		var chunks []string
		s, rest := uint32(seed)|1, in
		for len(rest) > 0 {
			s = s*1103515245 + 12345
			n := min(int(s>>16)%5+1, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		gc, gcalls := mergeStreamed(t, chunks)
		if gc != wc || strings.Join(gcalls, "\x00") != strings.Join(wcalls, "\x00") {
			t.Fatalf("chunks %q:\n got %q %q\nwant %q %q", chunks, gc, gcalls, wc, wcalls)
		}
	})
}
