// The sampling parameters through the whole stack: a daemon serves a model
// whose next-token distribution is known and the same at every position
// (internal/knownmodel), and requests over HTTP check what each parameter
// does. Filters and temperature: hundreds of draws only ever show the
// tokens the filter keeps, at the renormalized probabilities (each within
// five standard errors). Penalties: greedy decoding follows, token by token,
// the sequence their documented formula predicts (llama.cpp's
// llama_sampler_penalties_apply, which the OpenAI parameters map to: a
// token seen c times in the last 64 loses c·frequency_penalty +
// presence_penalty, and a positive logit is divided by
// repetition_penalty).

package main

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/knownmodel"
)

// knownLogits is the model's distribution: at temperature 1 about
// a 0.73, b 0.16, c 0.09, d 0.013.
var knownLogits = map[string]float32{"a": 6, "b": 4.5, "c": 3.9, "d": 2}

// startKnownDaemon serves the known model as "known" and returns the base URL.
func startKnownDaemon(t *testing.T) string {
	t.Helper()
	path, _ := knownmodel.Write(t, knownLogits)
	return serveModels(t, DefaultModel{Model: path, Alias: "known"})
}

// complete posts a text completion with the prompt "x" and extra fields and
// returns the choices' texts.
func complete(t *testing.T, base string, fields map[string]any) []string {
	t.Helper()
	body := map[string]any{"model": "known", "prompt": "x"}
	for k, v := range fields {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(context.Background(), "POST", base+"/v1/completions", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", b, resp.StatusCode, raw)
	}
	var out struct {
		Choices []struct {
			Text string `json:"text"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, c := range out.Choices {
		texts = append(texts, c.Text)
	}
	return texts
}

func TestSamplingFiltersOnKnownDistribution(t *testing.T) {
	base := startKnownDaemon(t)
	const choices, perChoice = 4, 150 // 600 draws per case
	for _, tc := range []struct {
		name   string
		fields map[string]any
		keep   []string // tokens the filter keeps
		temp   float64
	}{
		{"temperature 1", map[string]any{"temperature": 1}, []string{"a", "b", "c", "d"}, 1},
		{"temperature 2 flattens", map[string]any{"temperature": 2}, []string{"a", "b", "c", "d"}, 2},
		{"temperature 0.5 sharpens", map[string]any{"temperature": 0.5}, []string{"a", "b", "c", "d"}, 0.5},
		{"top_k 2", map[string]any{"temperature": 1, "top_k": 2}, []string{"a", "b"}, 1},
		{"top_k 3", map[string]any{"temperature": 1, "top_k": 3}, []string{"a", "b", "c"}, 1},
		// p: a .730, b .163, c .089, d .018 (with d's share): the nucleus of
		// 0.85 needs a and b, of 0.95 a, b and c.
		{"top_p 0.85", map[string]any{"temperature": 1, "top_p": 0.85}, []string{"a", "b"}, 1},
		{"top_p 0.95", map[string]any{"temperature": 1, "top_p": 0.95}, []string{"a", "b", "c"}, 1},
		// min_p keeps tokens with p >= min_p·p(a): 0.2·0.73 = 0.146 keeps
		// a and b; 0.1·0.73 = 0.073 keeps c as well.
		{"min_p 0.2", map[string]any{"temperature": 1, "min_p": 0.2}, []string{"a", "b"}, 1},
		{"min_p 0.1", map[string]any{"temperature": 1, "min_p": 0.1}, []string{"a", "b", "c"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fields := map[string]any{"n": choices, "max_tokens": perChoice, "seed": 11}
			for k, v := range tc.fields {
				fields[k] = v
			}
			counts := map[string]int{}
			total := 0
			for _, text := range complete(t, base, fields) {
				for _, r := range text {
					counts[string(r)]++
					total++
				}
			}
			if total != choices*perChoice {
				t.Fatalf("%d tokens, want %d: %v", total, choices*perChoice, counts)
			}
			kept := map[string]float32{}
			for _, k := range tc.keep {
				kept[k] = knownLogits[k]
			}
			want := knownmodel.Probs(kept, tc.temp)
			var seen []string
			for tok := range counts {
				seen = append(seen, tok)
			}
			sort.Strings(seen)
			for _, tok := range seen {
				if _, ok := want[tok]; !ok {
					t.Errorf("token %q drawn %d times; the filter keeps only %v", tok, counts[tok], tc.keep)
				}
			}
			for tok, p := range want {
				f := float64(counts[tok]) / float64(total)
				se := math.Sqrt(p * (1 - p) / float64(total))
				if math.Abs(f-p) > 5*se+1e-9 {
					t.Errorf("token %q frequency %.3f, want %.3f ± %.3f (counts %v)", tok, f, p, 5*se, counts)
				}
			}
		})
	}
}

// greedyWithPenalties predicts greedy decoding from knownLogits under the
// penalties, as documented: a token seen c > 0 times among the last 64
// (the prompt "x" included, which is none of them) has its logit divided by
// rep when positive (multiplied when negative), then lowered by
// c·freq + presence.
func greedyWithPenalties(n int, rep, presence, freq float64) string {
	names := []string{"a", "b", "c", "d"}
	var seq []string
	for range n {
		best, bestL := "", math.Inf(-1)
		for _, tok := range names {
			l := float64(knownLogits[tok])
			c := 0
			for _, s := range seq[max(0, len(seq)-63):] { // 63 generated + the prompt token
				if s == tok {
					c++
				}
			}
			if c > 0 {
				if l > 0 {
					l /= rep
				} else {
					l *= rep
				}
				l -= float64(c)*freq + presence
			}
			if l > bestL {
				best, bestL = tok, l
			}
		}
		seq = append(seq, best)
	}
	return strings.Join(seq, "")
}

func TestPenaltiesOnKnownDistribution(t *testing.T) {
	base := startKnownDaemon(t)
	const n = 16
	plain := complete(t, base, map[string]any{"temperature": 0, "max_tokens": n})[0]
	if plain != strings.Repeat("a", n) {
		t.Fatalf("greedy without penalties: %q", plain)
	}
	for _, tc := range []struct {
		name                string
		rep, presence, freq float64
	}{
		{"presence_penalty", 1, 2, 0},
		{"frequency_penalty", 1, 0, 0.5},
		{"repetition_penalty", 2, 0, 0},
		{"repetition and frequency", 1.2, 0, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fields := map[string]any{"temperature": 0, "max_tokens": n}
			if tc.rep != 1 {
				fields["repetition_penalty"] = tc.rep
			}
			if tc.presence != 0 {
				fields["presence_penalty"] = tc.presence
			}
			if tc.freq != 0 {
				fields["frequency_penalty"] = tc.freq
			}
			got := complete(t, base, fields)[0]
			want := greedyWithPenalties(n, tc.rep, tc.presence, tc.freq)
			if got != want {
				t.Errorf("got %q, the formula gives %q", got, want)
			}
			if (tc.presence > 0 || tc.freq > 0 || tc.rep > 1) && got == plain {
				t.Errorf("the penalty changed nothing: %q", got)
			}
		})
	}
	// The predictions differ between the penalties, so each test above
	// tells its own penalty apart.
	seqs := []string{greedyWithPenalties(n, 1, 2, 0), greedyWithPenalties(n, 1, 0, 0.5), greedyWithPenalties(n, 2, 0, 0)}
	if len(slices.Compact(slices.Sorted(slices.Values(seqs)))) != 3 {
		t.Errorf("the penalties predict the same sequences %q", seqs)
	}
}
