// Tests of structured outputs and enforced tool calls through whole
// generations, with stand-in forward passes that prefer tokens which
// break the output (end of sequence, control tokens, plain text) over
// seeded noise: every reply of the schema corpus (../constrain/testdata)
// must validate against its schema with an independent validator, forced
// tool calls must parse into calls of the allowed functions with
// arguments valid against their parameters, and "auto" must stay free.
package engine

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/internal/schematest"
)

// hostile returns a stand-in that prefers end of sequence, a control
// token and plain text, over seeded noise with the closers lifted.
func hostile(t *testing.T, nVocab int, prefer []int32, boost []int32, seed uint64) *adversary {
	f := &adversary{nVocab: nVocab, noise: new(rng), prefer: prefer, boost: boost}
	f.noise.seed(seed)
	return f
}

func TestGenerateSchemaCorpus(t *testing.T) {
	tok, tmpl := scriptTokenizer(t)
	eos, _ := tok.EOS()
	imStart, _ := tok.ID("<|im_start|>")
	toolOpen, _ := tok.ID("<tool_call>")
	// <tool_call> is a special token: its text would fit inside a
	// string, but special tokens are never allowed there.
	prefer := []int32{eos, imStart, toolOpen}
	boost := []int32{single(t, tok, `"`), single(t, tok, "}"), single(t, tok, "]")}
	b, err := os.ReadFile("../constrain/testdata/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var corpus []struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
	}
	if err := json.Unmarshal(b, &corpus); err != nil {
		t.Fatal(err)
	}
	if len(corpus) < 50 {
		t.Fatalf("%d schemas, want at least 50", len(corpus))
	}
	user := []api.Message{{Role: "user", Content: api.Content{Text: "Reply with JSON."}}}

	// Without the constraint the stand-in writes no JSON at all.
	free, content, _ := runJSON(t, tok, tmpl, hostile(t, tok.VocabSize(), prefer, boost, 1),
		GenerateRequest{Chat: &chat.Request{Messages: user, AddGenerationPrompt: true}, MaxTokens: 50})
	if json.Valid([]byte(content)) {
		t.Fatalf("unconstrained output %q (tokens %v) is JSON: the test proves nothing", content, free.Tokens)
	}

	for i, e := range corpus {
		t.Run(e.Name, func(t *testing.T) {
			ref := schematest.Compile(t, e.Schema)
			for _, seed := range []uint64{uint64(i)} {
				req := GenerateRequest{
					Chat:       &chat.Request{Messages: user, AddGenerationPrompt: true},
					JSONSchema: e.Schema,
					MaxTokens:  900,
					Sampling:   SamplingParams{Temperature: 1, TopK: 64, Seed: &seed},
				}
				res, content, _ := runJSON(t, tok, tmpl, hostile(t, tok.VocabSize(), prefer, boost, seed), req)
				if res.FinishReason != FinishStop {
					t.Fatalf("seed %d: finish %q after %d tokens: %q", seed, res.FinishReason, len(res.Tokens), content)
				}
				if err := schematest.Validate(ref, content); err != nil {
					t.Fatalf("seed %d: %s\ndoes not validate: %v", seed, content, err)
				}
			}
		})
	}
}

func TestGenerateSchemaErrors(t *testing.T) {
	tok, tmpl := scriptTokenizer(t)
	g := newGenerator(&adversary{nVocab: tok.VocabSize()}, tok.VocabSize(), ContextOptions{Seqs: 1, Ctx: 1024, Batch: 64}, tok, tmpl, nil)
	user := []api.Message{{Role: "user", Content: api.Content{Text: "hi"}}}
	for _, tc := range []struct {
		name string
		req  GenerateRequest
		want string
	}{
		{"unsupported keyword", GenerateRequest{JSONSchema: []byte(`{"type":"string","pattern":"a+"}`)}, `"pattern"`},
		{"tool parameters", GenerateRequest{ToolChoice: "required"}, `"not"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Chat = &chat.Request{Messages: user, AddGenerationPrompt: true,
				Tools: []api.Tool{{Type: "function", Function: api.FunctionDecl{Name: "f", Parameters: json.RawMessage(`{"not":{}}`)}}}}
			_, err := g.Generate(t.Context(), tc.req, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !isBadRequest(err) {
				t.Fatalf("error %v, want a bad request naming %s", err, tc.want)
			}
		})
	}
}

func TestGenerateForcedToolCalls(t *testing.T) {
	tok, tmpl := scriptTokenizer(t)
	eos, _ := tok.EOS()
	imStart, _ := tok.ID("<|im_start|>")
	think, _ := tok.ID("<think>")
	prefer := []int32{eos, imStart, think}
	boost := []int32{single(t, tok, `"`), single(t, tok, "}"), single(t, tok, "]")}
	weather := api.Tool{Type: "function", Function: api.FunctionDecl{Name: "get_weather",
		Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}`)}}
	search := api.Tool{Type: "function", Function: api.FunctionDecl{Name: "search",
		Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer","minimum":1,"maximum":10}},"required":["query","limit"],"additionalProperties":false}`)}}
	noArgs := api.Tool{Type: "function", Function: api.FunctionDecl{Name: "now"}}
	params := map[string]*jsonschema.Schema{
		"get_weather": schematest.Compile(t, weather.Function.Parameters),
		"search":      schematest.Compile(t, search.Function.Parameters),
		"now":         schematest.Compile(t, []byte(`{"type":"object"}`)),
	}
	user := []api.Message{{Role: "user", Content: api.Content{Text: "Weather in Paris?"}}}
	firstCall := tok.Encode("<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>\n")
	cases := []struct {
		name     string
		tools    []api.Tool
		choice   string
		single   bool
		allowed  []string
		maxCalls int
		script   []int32
	}{
		{"named function", []api.Tool{weather}, "get_weather", false, []string{"get_weather"}, 64, nil},
		{"required, one call", []api.Tool{weather, search, noArgs}, "required", true, []string{"get_weather", "search", "now"}, 1, firstCall},
		// The script writes a first call and the newline that opens
		// another; the stand-in then writes the second.
		{"required, parallel", []api.Tool{weather, search, noArgs}, "required", false, []string{"get_weather", "search", "now"}, 64, firstCall},
	}
	sawMany := false
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(6) {
				req := GenerateRequest{
					Chat:           &chat.Request{Messages: user, Tools: tc.tools, AddGenerationPrompt: true},
					ToolChoice:     tc.choice,
					SingleToolCall: tc.single,
					MaxTokens:      800,
					Sampling:       SamplingParams{Temperature: 1, TopK: 64, Seed: &seed},
				}
				f := hostile(t, tok.VocabSize(), prefer, boost, seed+50)
				f.script = tc.script
				g := newGenerator(f, tok.VocabSize(), ContextOptions{Seqs: 1, Ctx: 2048, Batch: 64}, tok, tmpl, nil)
				var streamed []api.ToolCall
				deltas := 0
				res, err := g.Generate(t.Context(), req, func(ev Event) error {
					streamed = mergeToolCalls(streamed, ev.ToolCalls)
					deltas += len(ev.ToolCalls)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if res.FinishReason != FinishToolCalls {
					t.Fatalf("seed %d: finish %q, text %q", seed, res.FinishReason, res.Text)
				}
				if strings.TrimSpace(res.Content) != "" {
					t.Fatalf("seed %d: content %q beside the calls", seed, res.Content)
				}
				if len(res.ToolCalls) == 0 || len(res.ToolCalls) > tc.maxCalls || len(streamed) != len(res.ToolCalls) {
					t.Fatalf("seed %d: %d calls (%d streamed), want 1 to %d: %q", seed, len(res.ToolCalls), len(streamed), tc.maxCalls, res.Text)
				}
				for i, c := range streamed {
					if c.Function != res.ToolCalls[i].Function {
						t.Fatalf("seed %d: streamed call %+v, result %+v", seed, c.Function, res.ToolCalls[i].Function)
					}
				}
				if deltas <= len(res.ToolCalls) {
					t.Fatalf("seed %d: %d calls in %d deltas: the arguments did not stream", seed, len(res.ToolCalls), deltas)
				}
				if len(res.ToolCalls) > 1 {
					sawMany = true
				}
				if tc.script != nil && res.ToolCalls[0].Function.Name != "now" {
					t.Fatalf("seed %d: the scripted first call is missing: %q", seed, res.Text)
				}
				for _, call := range res.ToolCalls {
					if !slices.Contains(tc.allowed, call.Function.Name) {
						t.Fatalf("seed %d: call to %q, allowed %v", seed, call.Function.Name, tc.allowed)
					}
					if err := schematest.Validate(params[call.Function.Name], call.Function.Arguments); err != nil {
						t.Fatalf("seed %d: arguments %s do not validate: %v", seed, call.Function.Arguments, err)
					}
				}
			}
		})
	}
	if !sawMany {
		t.Error("no parallel run made more than one call: the walk does not exercise parallel calls")
	}

	t.Run("reasoning first, then the call", func(t *testing.T) {
		on := true
		script := tok.Encode("<think>\nNot a call: {[\n</think>\n\n")
		f := hostile(t, tok.VocabSize(), prefer, boost, 7)
		f.script = script
		req := GenerateRequest{Chat: &chat.Request{Messages: user, Tools: []api.Tool{weather}, AddGenerationPrompt: true, EnableThinking: &on},
			ToolChoice: "get_weather", MaxTokens: 500}
		res, content, reasoning := runJSON(t, tok, tmpl, f, req)
		if reasoning != "Not a call: {[" || strings.TrimSpace(content) != "" || res.FinishReason != FinishToolCalls || len(res.ToolCalls) == 0 {
			t.Fatalf("reasoning %q content %q finish %q calls %v", reasoning, content, res.FinishReason, res.ToolCalls)
		}
		schematest.Check(t, params["get_weather"], res.ToolCalls[0].Function.Arguments)
	})

	t.Run("auto stays free", func(t *testing.T) {
		req := GenerateRequest{Chat: &chat.Request{Messages: user, Tools: []api.Tool{weather}, AddGenerationPrompt: true},
			ToolChoice: "auto", MaxTokens: 20}
		res, _, _ := runJSON(t, tok, tmpl, hostile(t, tok.VocabSize(), prefer, boost, 3), req)
		if len(res.ToolCalls) != 0 || res.FinishReason == FinishToolCalls {
			t.Fatalf("auto produced calls %v", res.ToolCalls)
		}
	})
}

// isBadRequest reports an ErrBadRequest.
func isBadRequest(err error) bool { return errors.Is(err, ErrBadRequest) }
