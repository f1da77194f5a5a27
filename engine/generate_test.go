// Tests of the generation loop on the reference mini models (real Qwen3
// GGUFs with a 2112-token vocabulary and the Qwen3 template): greedy tokens
// against llama.cpp, the context-length check before any work, cancellation
// within one token (decode and prefill), stop strings across token
// boundaries, end-of-generation tokens, seeded sampling and log-probabilities.
package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/engine"
	_ "github.com/helexa/helexa/engine/cpu"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/tokenizer"
)

// countingBackend counts MatMul calls, and can cancel a context after a
// number of them, to observe how much work a request did.
type countingBackend struct {
	engine.Backend
	matmuls atomic.Int64
	cancel  func()
	after   int64
}

func (b *countingBackend) MatMul(dst engine.Buffer, w engine.Weight, x engine.Buffer, n int) {
	if c := b.matmuls.Add(1); b.cancel != nil && c == b.after {
		b.cancel()
	}
	b.Backend.MatMul(dst, w, x, n)
}

// genModel opens a reference model as a Generator on the CPU backend.
func genModel(t testing.TB, path string, o engine.ContextOptions) (*engine.Generator, *countingBackend) {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	cpu, err := engine.OpenBackend("cpu", 0, engine.BackendOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cpu.Close() })
	b := &countingBackend{Backend: cpu}
	m, err := engine.LoadModel(f, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Free)
	c, err := m.NewContext(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Free)
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, tmplErr := chat.FromSource(tok.ChatTemplate())
	return engine.NewGenerator(m, c, tok, tmpl, tmplErr), b
}

// TestGenerateGreedyReference runs greedy generation through the full loop
// and compares with llama.cpp's greedy tokens up to the first step whose
// top-1/top-2 margin is below the model's tolerance (reference README).
func TestGenerateGreedyReference(t *testing.T) {
	reftest.Dir(t) // skip the whole test, not each model, when the data is absent
	for _, m := range []struct {
		name string
		tol  float64
	}{{"mini-f32", 1e-4}, {"mini-q8_0", 0.15}} {
		t.Run(m.name, func(t *testing.T) {
			exp := reftest.LoadExpected(t, m.name)
			g, _ := genModel(t, reftest.Model(t, m.name), engine.ContextOptions{Ctx: 512, Batch: 64, KV: engine.KVF32})
			compared := 0
			for p, prompt := range exp.Prompts {
				res, err := g.Generate(context.Background(), engine.GenerateRequest{
					Tokens: prompt, MaxTokens: 24, IgnoreEOS: true,
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Tokens) != 24 || res.FinishReason != engine.FinishLength {
					t.Fatalf("prompt %d: %d tokens, finish %q; want 24, length", p, len(res.Tokens), res.FinishReason)
				}
				for s, want := range exp.Greedy[p] {
					if exp.GreedyMargins[p][s] < m.tol {
						break
					}
					if res.Tokens[s] != want {
						t.Fatalf("prompt %d step %d: token %d, want %d (llama.cpp)\ngot  %v\nwant %v", p, s, res.Tokens[s], want, res.Tokens, exp.Greedy[p])
					}
					compared++
				}
				if res.Usage.PromptTokens != len(prompt) || res.Usage.CompletionTokens != 24 {
					t.Fatalf("usage %+v, want %d prompt and 24 completion tokens", res.Usage, len(prompt))
				}
			}
			t.Logf("%d greedy steps compared", compared)
			if compared == 0 {
				t.Fatal("no greedy step was comparable")
			}
		})
	}
}

func genMini(t *testing.T, o engine.ContextOptions) (*engine.Generator, *countingBackend) {
	return genModel(t, reftest.Model(t, "mini-f32"), o)
}

func TestGenerateContextLength(t *testing.T) {
	g, b := genMini(t, engine.ContextOptions{Ctx: 64, Batch: 16})
	prompt := make([]int32, 60)
	for i := range prompt {
		prompt[i] = int32(100 + i)
	}
	cases := []struct {
		name      string
		tokens    []int32
		maxTokens int
		requested int
	}{
		{"prompt plus max tokens", prompt, 10, 10},
		{"prompt fills the context", append(slices.Clone(prompt), 1, 2, 3, 4), 0, 1},
		{"prompt longer than the context", append(slices.Clone(prompt), prompt...), 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := b.matmuls.Load()
			emitted := false
			_, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: tc.tokens, MaxTokens: tc.maxTokens},
				func(engine.Event) error { emitted = true; return nil })
			if !errors.Is(err, engine.ErrContextLength) {
				t.Fatalf("err = %v, want ErrContextLength", err)
			}
			var cle *engine.ContextLengthError
			if !errors.As(err, &cle) || cle.Prompt != len(tc.tokens) || cle.Requested != tc.requested || cle.Ctx != 64 {
				t.Fatalf("error %+v, want prompt %d requested %d ctx 64", cle, len(tc.tokens), tc.requested)
			}
			if n := b.matmuls.Load() - before; n != 0 || emitted {
				t.Fatalf("%d matrix products ran and emit called %v before the error", n, emitted)
			}
		})
	}
	// Exactly full is fine.
	res, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: prompt, MaxTokens: 4, IgnoreEOS: true}, nil)
	if err != nil || len(res.Tokens) != 4 {
		t.Fatalf("60+4 tokens in a 64 context: %v, %v", res, err)
	}
}

func TestGenerateBadRequest(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 64, Batch: 16})
	cases := []struct {
		name string
		req  engine.GenerateRequest
	}{
		{"no prompt", engine.GenerateRequest{}},
		{"two prompts", engine.GenerateRequest{Prompt: "a", Tokens: []int32{1}}},
		{"token out of range", engine.GenerateRequest{Tokens: []int32{1, 2112}}},
		{"negative token", engine.GenerateRequest{Tokens: []int32{-1}}},
		{"negative max tokens", engine.GenerateRequest{Tokens: []int32{1}, MaxTokens: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := g.Generate(context.Background(), tc.req, nil); !errors.Is(err, engine.ErrBadRequest) {
				t.Fatalf("err = %v, want ErrBadRequest", err)
			}
		})
	}
}

// TestGenerateCancelDecode cancels from the emit callback at the third token:
// no further forward pass may run.
func TestGenerateCancelDecode(t *testing.T) {
	g, b := genMini(t, engine.ContextOptions{Ctx: 128, Batch: 16})
	// Matrix products per forward pass: 7 per layer (2 layers) + output.
	const perForward = 2*7 + 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tokens := 0
	before := b.matmuls.Load()
	res, err := g.Generate(ctx, engine.GenerateRequest{Tokens: []int32{1, 2, 3}, MaxTokens: 50, IgnoreEOS: true},
		func(ev engine.Event) error {
			tokens += len(ev.Tokens)
			if tokens >= 3 {
				cancel()
			}
			return nil
		})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res == nil || len(res.Tokens) > 3 {
		t.Fatalf("generated %v after cancelling at the third token", res)
	}
	// One prefill pass plus one decode pass per token before the one that
	// saw the cancellation.
	if got, want := b.matmuls.Load()-before, int64(len(res.Tokens)*perForward); got != want {
		t.Fatalf("%d matrix products, want %d (%d forward passes)", got, want, len(res.Tokens))
	}
}

// TestGenerateCancelPrefill cancels during the first prefill chunk of a long
// prompt: no later chunk may run.
func TestGenerateCancelPrefill(t *testing.T) {
	g, b := genMini(t, engine.ContextOptions{Ctx: 256, Batch: 8})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.cancel, b.after = cancel, b.matmuls.Load()+3
	defer func() { b.cancel = nil }()
	prompt := make([]int32, 100)
	for i := range prompt {
		prompt[i] = int32(i)
	}
	before := b.matmuls.Load()
	_, err := g.Generate(ctx, engine.GenerateRequest{Tokens: prompt, MaxTokens: 4}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The first chunk (no logits: 14 products) finishes; nothing more.
	if got := b.matmuls.Load() - before; got != 14 {
		t.Fatalf("%d matrix products ran, want 14 (one prefill chunk)", got)
	}
}

// TestGenerateStopString stops on a string that spans tokens: the text ends
// right before it, and the emitted content adds up to the text.
func TestGenerateStopString(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 256, Batch: 32})
	req := engine.GenerateRequest{Tokens: []int32{972, 1602, 1752, 1375, 211}, MaxTokens: 24, IgnoreEOS: true}
	full, err := g.Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Pick a stop string that starts inside one token's text and ends
	// inside a later one.
	tok := g.Tokenizer()
	var cut int
	var stop string
	for i := 2; i+2 < len(full.Tokens); i++ {
		a := len(tok.Decode(full.Tokens[:i]))
		b := len(tok.Decode(full.Tokens[:i+2]))
		if b-a >= 3 && a > 0 {
			cut = a - 1
			stop = full.Text[a-1 : b-1]
			break
		}
	}
	if stop == "" || strings.Index(full.Text, stop) != cut {
		t.Skipf("no stop string spanning tokens found in %q", full.Text)
	}
	req.Stop = []string{stop}
	var streamed strings.Builder
	res, err := g.Generate(context.Background(), req, func(ev engine.Event) error {
		streamed.WriteString(ev.Content)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != engine.FinishStop || res.Text != full.Text[:cut] || streamed.String() != res.Text {
		t.Fatalf("stop %q: finish %q text %q streamed %q; want stop, %q", stop, res.FinishReason, res.Text, streamed.String(), full.Text[:cut])
	}
	if strings.Contains(streamed.String(), stop) {
		t.Fatalf("stop string %q emitted", stop)
	}
}

// TestGenerateEOG forces <|im_end|> (id 2050) with a logit bias: generation
// stops on it unless IgnoreEOS.
func TestGenerateEOG(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 128, Batch: 16})
	bias := map[int32]float32{2050: 1000}
	res, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: []int32{1, 2, 3}, MaxTokens: 8,
		Sampling: engine.SamplingParams{LogitBias: bias}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != engine.FinishStop || !slices.Equal(res.Tokens, []int32{2050}) || res.Text != "" {
		t.Fatalf("finish %q tokens %v text %q; want stop, [2050], empty", res.FinishReason, res.Tokens, res.Text)
	}
	res, err = g.Generate(context.Background(), engine.GenerateRequest{Tokens: []int32{1, 2, 3}, MaxTokens: 8, IgnoreEOS: true,
		Sampling: engine.SamplingParams{LogitBias: bias}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != engine.FinishLength || len(res.Tokens) != 8 {
		t.Fatalf("ignore EOS: finish %q, %d tokens; want length, 8", res.FinishReason, len(res.Tokens))
	}
}

// TestGenerateSeeded checks that a seeded sampled request repeats exactly and
// that log-probabilities come with every token.
func TestGenerateSeeded(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 128, Batch: 16})
	seed := uint64(1234)
	req := engine.GenerateRequest{Prompt: "Hello, world!", MaxTokens: 12, IgnoreEOS: true, TopLogprobs: 3,
		Sampling: engine.SamplingParams{Temperature: 1, TopK: 50, Seed: &seed}}
	var evTokens []int32
	a, err := g.Generate(context.Background(), req, func(ev engine.Event) error {
		evTokens = append(evTokens, ev.Tokens...)
		if len(ev.Logprobs) != len(ev.Tokens) {
			t.Errorf("event with %d tokens and %d logprobs", len(ev.Tokens), len(ev.Logprobs))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Tokens, b.Tokens) || a.Seed != seed {
		t.Fatalf("same seed, different tokens:\n%v\n%v", a.Tokens, b.Tokens)
	}
	if !slices.Equal(evTokens, a.Tokens) {
		t.Fatalf("events carried tokens %v, result has %v", evTokens, a.Tokens)
	}
	if a.Usage.PromptTokens != 6 { // "Hello, world!" is 6 tokens (reference README)
		t.Fatalf("prompt tokens %d, want 6", a.Usage.PromptTokens)
	}
	if len(a.Logprobs) != len(a.Tokens) {
		t.Fatalf("%d logprobs for %d tokens", len(a.Logprobs), len(a.Tokens))
	}
	for i, lp := range a.Logprobs {
		if lp.Token != a.Tokens[i] || lp.Logprob > 0 || len(lp.Top) != 3 || lp.Top[0].Logprob < lp.Logprob {
			t.Fatalf("logprob %d = %+v for token %d", i, lp, a.Tokens[i])
		}
	}
}

// TestGenerateChat runs a chat request through the template and the output
// parser: the parsed parts come from the raw text.
func TestGenerateChat(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 256, Batch: 64})
	if g.Template() == nil {
		t.Fatal("the reference model's Qwen3 template was not recognised")
	}
	off := false
	creq := &chat.Request{Messages: []api.Message{{Role: "user", Content: api.Content{Text: "Hi there"}}},
		EnableThinking: &off, AddGenerationPrompt: true}
	rendered, err := g.Template().Render(*creq)
	if err != nil {
		t.Fatal(err)
	}
	var content strings.Builder
	res, err := g.Generate(context.Background(), engine.GenerateRequest{Chat: creq, MaxTokens: 10}, func(ev engine.Event) error {
		content.WriteString(ev.Content)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(g.Tokenizer().Encode(rendered)); res.Usage.PromptTokens != want {
		t.Fatalf("prompt tokens %d, want %d", res.Usage.PromptTokens, want)
	}
	if content.String() != res.Content || !strings.Contains(res.Text, strings.TrimSpace(res.Content)) {
		t.Fatalf("streamed content %q, result content %q, text %q", content.String(), res.Content, res.Text)
	}
}

// BenchmarkGenerateMini measures the whole loop (forward, sampling,
// decoding, stop matching) per generated token on the mini model.
func BenchmarkGenerateMini(b *testing.B) {
	g, _ := genModel(b, reftest.Model(b, "mini-f32"), engine.ContextOptions{Ctx: 256, Batch: 64})
	req := engine.GenerateRequest{Tokens: []int32{972, 1602, 1752, 1375, 211}, MaxTokens: 32, IgnoreEOS: true, Stop: []string{"never appears"},
		Sampling: engine.SamplingParams{Temperature: 0.7, TopK: 40, TopP: 0.9}}
	tokens := 0
	for b.Loop() {
		res, err := g.Generate(context.Background(), req, nil)
		if err != nil {
			b.Fatal(err)
		}
		tokens += len(res.Tokens)
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tok/s")
}

// TestGenerateConcurrent runs seeded requests from several goroutines at
// once: they queue for the sequence slot and each gets the tokens it gets
// alone.
func TestGenerateConcurrent(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 128, Batch: 16})
	req := func(seed uint64) engine.GenerateRequest {
		return engine.GenerateRequest{Tokens: []int32{7, 8, 9}, MaxTokens: 8, IgnoreEOS: true,
			Sampling: engine.SamplingParams{Temperature: 1, Seed: &seed}}
	}
	want := make([][]int32, 4)
	for i := range want {
		res, err := g.Generate(context.Background(), req(uint64(i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res.Tokens
	}
	got := make([][]int32, len(want))
	errs := make([]error, len(want))
	var wg sync.WaitGroup
	for i := range want {
		wg.Go(func() {
			res, err := g.Generate(context.Background(), req(uint64(i)), nil)
			errs[i] = err
			if res != nil {
				got[i] = res.Tokens
			}
		})
	}
	wg.Wait()
	for i := range want {
		if errs[i] != nil || !slices.Equal(got[i], want[i]) {
			t.Fatalf("request %d: %v, tokens %v; alone it gave %v", i, errs[i], got[i], want[i])
		}
	}
}

// TestGenerateKVStats checks that a running request holds KV blocks and a
// scheduler slot, and that both return when it ends, also when it fails
// before prefill.
func TestGenerateKVStats(t *testing.T) {
	g, _ := genMini(t, engine.ContextOptions{Ctx: 64, Batch: 16})
	off := false
	creq := &chat.Request{Messages: []api.Message{{Role: "user", Content: api.Content{Text: "Hi there"}}},
		EnableThinking: &off, AddGenerationPrompt: true}
	var during engine.KVStats
	var running int
	_, err := g.Generate(context.Background(), engine.GenerateRequest{Chat: creq, MaxTokens: 4}, func(engine.Event) error {
		during, running = g.KVStats(), g.Stats().Running
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if during.Used == 0 || running != 1 {
		t.Fatalf("while generating: kv %+v, %d running", during, running)
	}
	for name, r := range map[string]engine.GenerateRequest{
		"bad token":      {Tokens: []int32{1, 2112}},
		"context length": {Tokens: make([]int32, 60), MaxTokens: 10},
	} {
		if _, err := g.Generate(context.Background(), r, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if kv, st := g.KVStats(), g.Stats(); kv.Used != 0 || st.Running != 0 || st.Waiting != 0 {
		t.Fatalf("after: kv %+v, scheduler %+v", kv, st)
	}
}
