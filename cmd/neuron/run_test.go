// This file tests `neuron run`, `neuron synth` and `neuron bench` through
// their run functions: greedy --tokens --temp 0 --json against llama.cpp's
// tokens for every reference model, streamed text against the JSON text,
// and a bench on a synthetic model.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

// TestRunGreedyReference runs `neuron run MODEL --tokens ... --temp 0
// --max-tokens 24 --ignore-eos --json` on every reference model and compares
// the tokens with llama.cpp's greedy tokens up to the first step whose
// top-1/top-2 margin is below the model's tolerance (reference README).
func TestRunGreedyReference(t *testing.T) {
	models := []struct {
		name string
		tol  float64
	}{
		{"mini-f32", 1e-4}, {"mini-tied-f32", 1e-4}, {"mini-f16", 5e-3}, {"mini-bf16", 3e-2},
		{"mini-q8_0", 0.15}, {"mini-q6_k", 0.15}, {"mini-q5_k_m", 0.15}, {"mini-q4_k_m", 0.15}, {"mini-q4_0", 0.15},
	}
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			exp := reftest.LoadExpected(t, m.name)
			compared := 0
			for p, prompt := range exp.Prompts {
				var out bytes.Buffer
				o := runOptions{Model: reftest.Model(t, m.name), Tokens: prompt, Raw: true, JSON: true,
					MaxTokens: 24, IgnoreEOS: true, Threads: 2, Device: "cpu", CtxSize: 512}
				if err := runGenerate(context.Background(), &out, o); err != nil {
					t.Fatal(err)
				}
				var got runJSON
				if err := json.Unmarshal(out.Bytes(), &got); err != nil {
					t.Fatalf("output %q: %v", out.String(), err)
				}
				if len(got.Tokens) != 24 || got.FinishReason != "length" || got.Usage.PromptTokens != len(prompt) {
					t.Fatalf("prompt %d: %d tokens, finish %q, usage %+v", p, len(got.Tokens), got.FinishReason, got.Usage)
				}
				for s, want := range exp.Greedy[p] {
					if exp.GreedyMargins[p][s] < m.tol {
						break
					}
					if got.Tokens[s] != want {
						t.Fatalf("prompt %d step %d: token %d, want %d\ngot  %v\nwant %v", p, s, got.Tokens[s], want, got.Tokens, exp.Greedy[p])
					}
					compared++
				}
			}
			t.Logf("%d greedy steps compared", compared)
		})
	}
}

// TestRunStreamMatchesJSON checks that streamed text equals the JSON text
// of the same seeded request.
func TestRunStreamMatchesJSON(t *testing.T) {
	seed := uint64(11)
	o := runOptions{Model: reftest.Model(t, "mini-f32"), Prompt: "Once upon a time", Raw: true,
		MaxTokens: 16, IgnoreEOS: true, Threads: 2, Device: "cpu", CtxSize: 128,
		Sampling: engine.SamplingParams{Temperature: 0.8, TopK: 40, Seed: &seed}}
	var stream, js bytes.Buffer
	if err := runGenerate(context.Background(), &stream, o); err != nil {
		t.Fatal(err)
	}
	o.JSON = true
	if err := runGenerate(context.Background(), &js, o); err != nil {
		t.Fatal(err)
	}
	var got runJSON
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Text == "" || strings.TrimSuffix(stream.String(), "\n") != got.Text || got.Seed != seed {
		t.Fatalf("streamed %q, JSON text %q (seed %d)", stream.String(), got.Text, got.Seed)
	}
}

func TestRunErrors(t *testing.T) {
	model := reftest.Model(t, "mini-f32")
	cases := []struct {
		name string
		o    runOptions
		want string
	}{
		{"missing model", runOptions{Model: filepath.Join(t.TempDir(), "none.gguf"), Prompt: "x"}, "none.gguf\" does not exist"},
		{"context too small", runOptions{Model: model, Tokens: []int32{1, 2, 3}, CtxSize: 8, MaxTokens: 10, Device: "cpu"}, "context length exceeded"},
		{"token out of range", runOptions{Model: model, Tokens: []int32{99999}, Device: "cpu"}, "outside the vocabulary"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := runGenerate(context.Background(), &bytes.Buffer{}, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestStreamWriterReasoning(t *testing.T) {
	cases := []struct {
		name     string
		terminal bool
		want     string
	}{
		{"plain", false, "<think>\nhmm\n</think>\n\nanswer\n"},
		{"terminal", true, ansiDim + "hmm" + ansiReset + "\nanswer\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := &streamWriter{out: &out, terminal: tc.terminal}
			for _, ev := range []engine.Event{{Reasoning: "hm"}, {Reasoning: "m"}, {Content: "ans"}, {Content: "wer"}} {
				if err := w.event(ev); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.end(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Fatalf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

// TestSynthBench writes a tiny synthetic model with `neuron synth` and runs
// `neuron bench` on it.
func TestSynthBench(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	var out bytes.Buffer
	if err := runSynth(&out, path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "q4_k_m", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "wrote "+path) {
		t.Fatalf("synth printed %q", out.String())
	}
	res, err := runBench(context.Background(), nil, benchOptions{Model: path, PP: 32, TG: 4, Reps: 2, Batch: 16, Threads: 1, Device: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	if res.PP.N != 32 || res.TG.N != 4 || !(res.PP.TokS > 0) || !(res.TG.TokS > 0) || res.Device != "cpu" || res.Threads != 1 {
		t.Fatalf("result %+v", res)
	}
	// Every tensor but the embedding (one row of 256 Q4_K values: 144
	// bytes) plus K and V of 2 layers · 128 wide · f16 at positions 0..4 on
	// average (4+1)/2 = 2.
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	embd := int64(2112 * 144)
	want := res.ModelBytes - embd + 144 + 2*2*128*2*5/2
	if res.BytesPerToken != want || res.ModelBytes >= st.Size() {
		t.Fatalf("bytes per token %d, want %d (model %d bytes, file %d)", res.BytesPerToken, want, res.ModelBytes, st.Size())
	}
	var js bytes.Buffer
	if err := writeBench(&js, res, true); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"model", "device", "threads", "pp", "tg", "bytes_per_token"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("bench JSON %s lacks %q", js.String(), k)
		}
	}
}
