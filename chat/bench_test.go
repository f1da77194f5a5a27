// Benchmarks of prompt rendering and output parsing.

package chat

import (
	"strings"
	"testing"
)

// benchRequest is a conversation of 20 turns with tools and tool calls.
func benchRequest(b *testing.B) Request {
	var msgs []string
	for i := 0; i < 5; i++ {
		msgs = append(msgs,
			`{"role":"user","content":"What is the weather in city number `+strings.Repeat("x", i)+`?"}`,
			`{"role":"assistant","content":"<think>\nLook it up.\n</think>\n\nChecking.","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Oslo","unit":"celsius"}}}]}`,
			`{"role":"tool","content":"{\"temp\": 4}"}`,
			`{"role":"assistant","content":"It is 4 degrees."}`)
	}
	body := `{"messages":[` + strings.Join(msgs, ",") + `],"tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}}}]}`
	r, err := RequestFromJSON([]byte(body))
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func BenchmarkQwen3Render(b *testing.B) {
	r := benchRequest(b)
	out, err := Qwen3{}.Render(r)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if _, err := (Qwen3{}).Render(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParser feeds a reasoning, answer and tool-call output in pieces
// of about four bytes, as a token stream arrives.
func BenchmarkParser(b *testing.B) {
	text := "<think>\n" + strings.Repeat("Some reasoning about the question. ", 40) + "\n</think>\n\n" +
		strings.Repeat("The answer has several sentences. ", 40) +
		"\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>"
	var pieces []string
	for i := 0; i < len(text); i += 4 {
		pieces = append(pieces, text[i:min(i+4, len(text))])
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		p := NewParser(ParserOptions{Thinking: true, Tools: true})
		for _, s := range pieces {
			p.Feed(s)
		}
		p.Finish()
	}
}
