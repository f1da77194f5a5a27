// This file tests `neuron logits` through runLogits on the reference mini
// model: the printed logits must match llama.cpp's within the F32 tolerance
// of the reference README, and bad input must be an error.

package main

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

func TestRunLogits(t *testing.T) {
	exp := reftest.LoadExpected(t, "mini-f32")
	model := reftest.Model(t, "mini-f32")
	const tol = 1e-4 // the reference README's F32 tolerance
	prompt := exp.Prompts[1]

	t.Run("last", func(t *testing.T) {
		var out bytes.Buffer
		if err := runLogits(&out, logitsOptions{Model: model, Tokens: prompt, Threads: 2, Device: "cpu"}); err != nil {
			t.Fatal(err)
		}
		var got struct {
			NVocab int         `json:"n_vocab"`
			Logits [][]float64 `json:"logits"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
		if got.NVocab != 2112 || len(got.Logits) != 1 {
			t.Fatalf("n_vocab %d, %d positions; want 2112 and 1", got.NVocab, len(got.Logits))
		}
		if d := maxAbsDiff(got.Logits[0], exp.LastLogits[1]); d > tol {
			t.Errorf("logits differ from llama.cpp by %.3g (tolerance %g)", d, tol)
		}
	})
	t.Run("all in chunks", func(t *testing.T) {
		// 600 tokens, more than one 512-row batch, starting with the
		// prompt: attention is causal, so the logits at the prompt's last
		// position are llama.cpp's.
		toks := append(make([]int32, 0, 600), prompt...)
		for len(toks) < 600 {
			toks = append(toks, int32(len(toks)%2048))
		}
		var out bytes.Buffer
		if err := runLogits(&out, logitsOptions{Model: model, Tokens: toks, All: true, Threads: 2, Device: "cpu"}); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Logits [][]float64 `json:"logits"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
		if len(got.Logits) != len(toks) {
			t.Fatalf("%d positions, want %d", len(got.Logits), len(toks))
		}
		if d := maxAbsDiff(got.Logits[len(prompt)-1], exp.LastLogits[1]); d > tol {
			t.Errorf("last position differs from llama.cpp by %.3g (tolerance %g)", d, tol)
		}
	})
	t.Run("top", func(t *testing.T) {
		var out bytes.Buffer
		if err := runLogits(&out, logitsOptions{Model: model, Tokens: prompt, Top: 8, Threads: 2, Device: "cpu"}); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Top [][][2]float64 `json:"top"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
		if len(got.Top) != 1 || len(got.Top[0]) != 8 {
			t.Fatalf("top has shape %d x %d, want 1 x 8", len(got.Top), len(got.Top[0]))
		}
		for j, pair := range got.Top[0] {
			if int32(pair[0]) != exp.StepTopIDs[1][0][j] || math.Abs(pair[1]-exp.StepTopLogits[1][0][j]) > tol {
				t.Errorf("top %d: %v, llama.cpp [%d %g]", j, pair, exp.StepTopIDs[1][0][j], exp.StepTopLogits[1][0][j])
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			name string
			o    logitsOptions
			want string
		}{
			{"token beyond vocabulary", logitsOptions{Model: model, Tokens: []int32{1, 5000}, Device: "cpu"}, "token 5000"},
			{"context too small", logitsOptions{Model: model, Tokens: []int32{1, 2, 3}, CtxSize: 2, Device: "cpu"}, "ctx-size"},
			{"missing model", logitsOptions{Model: filepath.Join(t.TempDir(), "none.gguf"), Tokens: []int32{1}, Device: "cpu"}, "none.gguf"},
			{"unknown device", logitsOptions{Model: model, Tokens: []int32{1}, Device: "tpu"}, "tpu"},
			{"no tokens", logitsOptions{Model: model, Device: "cpu"}, "no tokens"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := runLogits(&bytes.Buffer{}, c.o)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want one mentioning %q", err, c.want)
				}
			})
		}
	})
}

func TestParseTokenList(t *testing.T) {
	cases := []struct {
		in   string
		want []int32
		ok   bool
	}{
		{"1,2,3", []int32{1, 2, 3}, true},
		{" 7 , 0", []int32{7, 0}, true},
		{"1,,2", nil, false},
		{"-1", nil, false},
		{"x", nil, false},
		{"99999999999", nil, false},
	}
	for _, c := range cases {
		got, err := parseTokenList(c.in)
		if (err == nil) != c.ok || (c.ok && !slices.Equal(got, c.want)) {
			t.Errorf("parseTokenList(%q) = %v, %v", c.in, got, err)
		}
	}
}

func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}
