// Tests of the generation pipeline with scripted model output: a stand-in
// forward pass makes the chosen text the greedy continuation, so the chat
// parser's reasoning and tool-call split, finish reasons, stop strings and
// end-of-generation handling are checked on exact text. The tokenizer and
// chat template are those of a synthetic tiny model.
package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/tokenizer"
)

// scripted is a forwarder whose logits make script[i] the argmax at the
// i-th sampled step and the end-of-sequence id after the script.
type scripted struct {
	nVocab int
	script []int32
	eos    int32
	step   int
}

func (s *scripted) Forward(rows []Row, logitRows []int, logits []float32) error {
	if len(logitRows) == 0 {
		return nil
	}
	want := s.eos
	if s.step < len(s.script) {
		want = s.script[s.step]
	}
	s.step++
	out := logits[:s.nVocab]
	for i := range out {
		out[i] = 0
	}
	out[want] = 10
	return nil
}

// scriptTokenizer returns the tokenizer and template of a synthetic tiny
// model.
func scriptTokenizer(t *testing.T) (*tokenizer.Tokenizer, chat.Template) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := WriteSynth(path, SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "f32", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := chat.FromSource(tok.ChatTemplate())
	if err != nil {
		t.Fatal(err)
	}
	return tok, tmpl
}

func TestGenerateScripted(t *testing.T) {
	tok, tmpl := scriptTokenizer(t)
	eos, _ := tok.EOS()
	off := false
	user := []api.Message{{Role: "user", Content: api.Content{Text: "What is the weather in Paris?"}}}
	weather := api.Tool{Type: "function", Function: api.FunctionDecl{Name: "get_weather",
		Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}
	cases := []struct {
		name          string
		req           GenerateRequest
		script        string
		wantFinish    string
		wantText      string
		wantContent   string
		wantReasoning string
		wantCalls     []api.FunctionCall
	}{
		{
			name:          "reasoning then tool call",
			req:           GenerateRequest{Chat: &chat.Request{Messages: user, Tools: []api.Tool{weather}, AddGenerationPrompt: true}},
			script:        "<think>\nThe user wants weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
			wantFinish:    FinishToolCalls,
			wantReasoning: "The user wants weather.",
			wantCalls:     []api.FunctionCall{{Name: "get_weather", Arguments: `{"city": "Paris"}`}},
		},
		{
			name:          "reasoning then answer",
			req:           GenerateRequest{Chat: &chat.Request{Messages: user, AddGenerationPrompt: true}},
			script:        "<think>\nSunny, probably.\n</think>\n\nIt is sunny.",
			wantFinish:    FinishStop,
			wantText:      "<think>\nSunny, probably.\n</think>\n\nIt is sunny.",
			wantContent:   "It is sunny.",
			wantReasoning: "Sunny, probably.",
		},
		{
			name:        "thinking off",
			req:         GenerateRequest{Chat: &chat.Request{Messages: user, EnableThinking: &off, AddGenerationPrompt: true}},
			script:      "Sunny.",
			wantFinish:  FinishStop,
			wantText:    "Sunny.",
			wantContent: "Sunny.",
		},
		{
			name:        "stop string across tokens",
			req:         GenerateRequest{Prompt: "Say it:", Stop: []string{"lo wor"}},
			script:      "hello world and more",
			wantFinish:  FinishStop,
			wantText:    "hel",
			wantContent: "hel",
		},
		{
			name:        "max tokens",
			req:         GenerateRequest{Prompt: "Count:", MaxTokens: 3},
			script:      "a b c d e f g",
			wantFinish:  FinishLength,
			wantText:    "a b c", // "a", " b", " c"
			wantContent: "a b c",
		},
		{
			name:        "raw mode keeps tags as content",
			req:         GenerateRequest{Prompt: "x"},
			script:      "<think>hm</think>ok",
			wantFinish:  FinishStop,
			wantText:    "<think>hm</think>ok",
			wantContent: "<think>hm</think>ok",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			script := tok.Encode(tc.script)
			f := &scripted{nVocab: tok.VocabSize(), script: script, eos: eos}
			g := newGenerator(f, tok.VocabSize(), ContextOptions{Seqs: 1, Ctx: 512, Batch: 32}, tok, tmpl, nil)
			var content, reasoning strings.Builder
			var calls []api.ToolCall
			var evTokens []int32
			res, err := g.Generate(context.Background(), tc.req, func(ev Event) error {
				content.WriteString(ev.Content)
				reasoning.WriteString(ev.Reasoning)
				calls = append(calls, ev.ToolCalls...)
				evTokens = append(evTokens, ev.Tokens...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.FinishReason != tc.wantFinish {
				t.Fatalf("finish %q, want %q", res.FinishReason, tc.wantFinish)
			}
			if tc.wantText != "" && res.Text != tc.wantText {
				t.Fatalf("text %q, want %q", res.Text, tc.wantText)
			}
			if res.Content != tc.wantContent || content.String() != tc.wantContent {
				t.Fatalf("content %q (streamed %q), want %q", res.Content, content.String(), tc.wantContent)
			}
			if res.Reasoning != tc.wantReasoning || reasoning.String() != tc.wantReasoning {
				t.Fatalf("reasoning %q (streamed %q), want %q", res.Reasoning, reasoning.String(), tc.wantReasoning)
			}
			if len(calls) != len(tc.wantCalls) || len(res.ToolCalls) != len(tc.wantCalls) {
				t.Fatalf("tool calls %+v (result %+v), want %+v", calls, res.ToolCalls, tc.wantCalls)
			}
			for i, want := range tc.wantCalls {
				got := res.ToolCalls[i].Function
				var a, b any
				if json.Unmarshal([]byte(got.Arguments), &a) != nil || json.Unmarshal([]byte(want.Arguments), &b) != nil ||
					got.Name != want.Name || !reflect.DeepEqual(a, b) {
					t.Fatalf("tool call %d = %+v, want %+v", i, got, want)
				}
			}
			if !reflect.DeepEqual(evTokens, res.Tokens) {
				t.Fatalf("events carried %v, result has %v", evTokens, res.Tokens)
			}
			if tc.wantFinish == FinishStop && tc.req.Stop == nil && res.Tokens[len(res.Tokens)-1] != eos {
				t.Fatalf("tokens %v do not end with the end-of-sequence id %d", res.Tokens, eos)
			}
		})
	}
}
