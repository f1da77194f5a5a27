// The OpenAI Node SDK against the real daemon for embeddings and n=3
// (scripts/openai-node/surface.mjs makes the calls, this test checks what
// came back). It needs Node 20+ and the SDK installed in
// scripts/openai-node (npm ci there; .ci/run does it) and skips without them.

package main

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

func TestOpenAINodeSDKSurface(t *testing.T) {
	node, dir := nodeSDK(t)
	model := reftest.Model(t, "mini-f32")
	base := serveModels(t, DefaultModel{Model: model, Alias: "mini"})
	stdout := runNodeScript(t, node, dir, "surface.mjs", base+"/v1", "mini", banEOG(t, model))
	type choice struct {
		Index   int    `json:"index"`
		Content string `json:"content"`
		Finish  string `json:"finish"`
	}
	type usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
	var out struct {
		Batch struct {
			Vectors [][]float64 `json:"vectors"`
			Indexes []int       `json:"indexes"`
			Usage   usage       `json:"usage"`
		} `json:"batch"`
		Alone struct {
			Vector []float64 `json:"vector"`
			Usage  usage     `json:"usage"`
		} `json:"alone"`
		Short struct {
			Vector []float64 `json:"vector"`
		} `json:"short"`
		Choices  []choice `json:"choices"`
		Usage    usage    `json:"usage"`
		Streamed []choice `json:"streamed"`
		Singles  []string `json:"singles"`
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("surface.mjs output %s: %v", stdout, err)
	}

	// Embeddings: the base64 batch decodes to unit vectors, its second
	// vector is the float vector of that text alone, dimensions give the
	// normalized prefix.
	b := out.Batch
	if len(b.Vectors) != 2 || !slices.Equal(b.Indexes, []int{0, 1}) || b.Usage.PromptTokens <= out.Alone.Usage.PromptTokens {
		t.Fatalf("batch %+v, alone usage %+v", b.Indexes, out.Alone.Usage)
	}
	norm := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x * x
		}
		return math.Sqrt(s)
	}
	for i, v := range b.Vectors {
		if len(v) != 256 || math.Abs(norm(v)-1) > 1e-5 {
			t.Errorf("vector %d: %d dims, norm %.6f", i, len(v), norm(v))
		}
	}
	if d := maxAbsDiff(b.Vectors[1], out.Alone.Vector); d > 1e-5 {
		t.Errorf("batched (base64) and alone (float) differ by %g", d)
	}
	full, short := out.Alone.Vector, out.Short.Vector
	if len(short) != 32 {
		t.Fatalf("dimensions 32: %d", len(short))
	}
	scale := norm(full[:32])
	for i := range short {
		if math.Abs(short[i]-full[i]/scale) > 1e-6 {
			t.Fatalf("dimensions 32: element %d %g, want %g", i, short[i], full[i]/scale)
		}
	}

	// n=3: three choices of max_tokens each; streamed the same; choice i is
	// the single request with seed+i.
	if len(out.Choices) != 3 || out.Usage.CompletionTokens != 24 || out.Usage.TotalTokens != out.Usage.PromptTokens+24 {
		t.Fatalf("choices %+v usage %+v", out.Choices, out.Usage)
	}
	for i, c := range out.Choices {
		if c.Index != i || c.Finish != "length" {
			t.Errorf("choice %d: %+v", i, c)
		}
		if s := out.Streamed[i]; s.Content != c.Content || s.Finish != "length" {
			t.Errorf("choice %d streamed %+v, whole %q", i, s, c.Content)
		}
		if out.Singles[i] != c.Content {
			t.Errorf("choice %d %q; alone with seed+%d %q", i, c.Content, i, out.Singles[i])
		}
	}
	if out.Choices[0].Content == out.Choices[1].Content && out.Choices[1].Content == out.Choices[2].Content {
		t.Errorf("three identical choices %q", out.Choices[0].Content)
	}
}
