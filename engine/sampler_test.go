// Tests of the sampler: each filter's surviving set and renormalized
// probabilities on a small known distribution, penalties, bias, seeded
// determinism, log-probabilities, and that sampling allocates nothing.
package engine

import (
	"math"
	"slices"
	"sort"
	"testing"
)

// knownProbs is the small distribution most filter tests start from.
var knownProbs = []float64{0.40, 0.25, 0.15, 0.10, 0.06, 0.04}

// logitsOf returns log(p) for each probability: softmax gives p back.
func logitsOf(p []float64) []float32 {
	l := make([]float32, len(p))
	for i, x := range p {
		l[i] = float32(math.Log(x))
	}
	return l
}

// distribution runs bias, penalties and the filters and returns the
// surviving ids with their renormalized probabilities at the sampler's
// temperature, sorted by id.
func distribution(s *Sampler, logits []float32) ([]int32, []float64) {
	l := slices.Clone(logits)
	s.applyBias(l)
	s.applyPenalties(l)
	c := s.filter(l)
	sum, _ := softmax(c, s.p.Temperature)
	sort.Slice(c, func(i, j int) bool { return c[i].id < c[j].id })
	ids := make([]int32, len(c))
	ps := make([]float64, len(c))
	for i, x := range c {
		ids[i] = x.id
		ps[i] = float64(x.p) / sum
	}
	return ids, ps
}

func seedPtr(v uint64) *uint64 { return &v }

func TestSamplerFilters(t *testing.T) {
	const tol = 1e-6
	renorm := func(ids []int32, pow float64) []float64 {
		var sum float64
		out := make([]float64, len(ids))
		for i, id := range ids {
			out[i] = math.Pow(knownProbs[id], pow)
			sum += out[i]
		}
		for i := range out {
			out[i] /= sum
		}
		return out
	}
	cases := []struct {
		name    string
		p       SamplingParams
		wantIDs []int32
		pow     float64 // surviving probabilities are p^pow renormalized
	}{
		{"none", SamplingParams{Temperature: 1}, []int32{0, 1, 2, 3, 4, 5}, 1},
		{"top-k 3", SamplingParams{Temperature: 1, TopK: 3}, []int32{0, 1, 2}, 1},
		{"top-k 1", SamplingParams{Temperature: 1, TopK: 1}, []int32{0}, 1},
		{"top-k larger than vocab", SamplingParams{Temperature: 1, TopK: 100}, []int32{0, 1, 2, 3, 4, 5}, 1},
		{"top-p 0.6", SamplingParams{Temperature: 1, TopP: 0.6}, []int32{0, 1}, 1},
		{"top-p 0.7", SamplingParams{Temperature: 1, TopP: 0.7}, []int32{0, 1, 2}, 1},
		{"top-p 0.3 keeps one", SamplingParams{Temperature: 1, TopP: 0.3}, []int32{0}, 1},
		{"min-p 0.3", SamplingParams{Temperature: 1, MinP: 0.3}, []int32{0, 1, 2}, 1},
		{"min-p 0.2", SamplingParams{Temperature: 1, MinP: 0.2}, []int32{0, 1, 2, 3}, 1},
		{"temperature 0.5", SamplingParams{Temperature: 0.5}, []int32{0, 1, 2, 3, 4, 5}, 2},
		{"temperature 2", SamplingParams{Temperature: 2}, []int32{0, 1, 2, 3, 4, 5}, 0.5},
		// Top-p runs before temperature (llama.cpp order): the set is the
		// temperature-1 nucleus, the probabilities the tempered ones.
		{"top-p 0.7 then temperature 0.5", SamplingParams{Temperature: 0.5, TopP: 0.7}, []int32{0, 1, 2}, 2},
		{"top-k 4 then min-p 0.3", SamplingParams{Temperature: 1, TopK: 4, MinP: 0.3}, []int32{0, 1, 2}, 1},
		// Top-p sees the top-k survivors renormalized: 0.80/0.96 >= 0.82
		// although 0.80 of the original mass is not.
		{"top-k 5 then top-p 0.82", SamplingParams{Temperature: 1, TopK: 5, TopP: 0.82}, []int32{0, 1, 2}, 1},
		{"top-p 0.82 alone", SamplingParams{Temperature: 1, TopP: 0.82}, []int32{0, 1, 2, 3}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSampler(len(knownProbs), 16, tc.p, 0)
			ids, ps := distribution(s, logitsOf(knownProbs))
			if !slices.Equal(ids, tc.wantIDs) {
				t.Fatalf("surviving ids %v, want %v", ids, tc.wantIDs)
			}
			want := renorm(tc.wantIDs, tc.pow)
			var maxDiff float64
			for i := range ps {
				maxDiff = max(maxDiff, math.Abs(ps[i]-want[i]))
			}
			if maxDiff > tol {
				t.Fatalf("probabilities %v, want %v (max diff %.3g > %g)", ps, want, maxDiff, tol)
			}
		})
	}
}

// TestSamplerDrawFrequencies checks that draws follow the filtered,
// renormalized distribution: 40000 draws, each frequency within 5 standard
// errors of its probability.
func TestSamplerDrawFrequencies(t *testing.T) {
	const n = 40000
	p := SamplingParams{Temperature: 1, TopK: 4, Seed: seedPtr(7)}
	s := NewSampler(len(knownProbs), 16, p, 0)
	logits := logitsOf(knownProbs)
	counts := make([]int, len(knownProbs))
	buf := make([]float32, len(logits))
	for range n {
		copy(buf, logits)
		counts[s.Sample(buf, nil)]++
	}
	want := []float64{0.4 / 0.9, 0.25 / 0.9, 0.15 / 0.9, 0.10 / 0.9, 0, 0}
	for id, c := range counts {
		f := float64(c) / n
		se := math.Sqrt(want[id]*(1-want[id])/n) + 1e-12
		if math.Abs(f-want[id]) > 5*se {
			t.Errorf("token %d drawn with frequency %.4f, want %.4f ± %.4f", id, f, want[id], 5*se)
		}
	}
}

func TestSamplerGreedy(t *testing.T) {
	cases := []struct {
		name   string
		logits []float32
		p      SamplingParams
		want   int32
	}{
		{"argmax", []float32{0.1, 2, -1, 1.9}, SamplingParams{}, 1},
		{"lowest id on ties", []float32{1, 3, 3, 0}, SamplingParams{}, 1},
		{"negative temperature is greedy", []float32{0.1, 2, -1, 5}, SamplingParams{Temperature: -1}, 3},
		{"filters ignored", []float32{0.1, 2, -1, 5}, SamplingParams{TopK: 1, TopP: 0.1, MinP: 0.9}, 3},
		{"bias flips argmax", []float32{0.1, 2, -1, 1.9}, SamplingParams{LogitBias: map[int32]float32{3: 0.2}}, 3},
		{"bias bans token", []float32{0.1, 2, -1, 1.9}, SamplingParams{LogitBias: map[int32]float32{1: float32(math.Inf(-1))}}, 3},
		{"bias out of range ignored", []float32{0.1, 2, -1, 1.9}, SamplingParams{LogitBias: map[int32]float32{-1: 9, 4: 9}}, 1},
		{"control rows not masked", []float32{0, 0, 0, 9}, SamplingParams{}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSampler(len(tc.logits), 16, tc.p, 0)
			if got := s.Sample(slices.Clone(tc.logits), nil); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSamplerPenalties(t *testing.T) {
	logits := []float32{2, -1, 0.5, 3, -2}
	cases := []struct {
		name    string
		p       SamplingParams
		history []int32
		want    []float32
	}{
		{"repetition", SamplingParams{RepetitionPenalty: 2}, []int32{0, 1, 1},
			[]float32{1, -2, 0.5, 3, -2}},
		{"presence", SamplingParams{PresencePenalty: 0.5}, []int32{0, 1, 1},
			[]float32{1.5, -1.5, 0.5, 3, -2}},
		{"frequency", SamplingParams{FrequencyPenalty: 0.5}, []int32{0, 1, 1},
			[]float32{1.5, -2, 0.5, 3, -2}},
		{"all three", SamplingParams{RepetitionPenalty: 2, PresencePenalty: 0.25, FrequencyPenalty: 0.5}, []int32{3, 4, 3, 3},
			[]float32{2, -1, 0.5, 1.5 - 1.5 - 0.25, -4 - 0.5 - 0.25}},
		{"window keeps last 2", SamplingParams{PresencePenalty: 1, PenaltyLastN: 2}, []int32{0, 1, 2, 3},
			[]float32{2, -1, -0.5, 2, -2}},
		{"whole sequence", SamplingParams{PresencePenalty: 1, PenaltyLastN: -1}, []int32{0, 1, 2, 3},
			[]float32{1, -2, -0.5, 2, -2}},
		{"out-of-range history ignored", SamplingParams{PresencePenalty: 1}, []int32{-3, 99},
			[]float32{2, -1, 0.5, 3, -2}},
		{"disabled", SamplingParams{RepetitionPenalty: 1}, []int32{0, 1},
			[]float32{2, -1, 0.5, 3, -2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSampler(len(logits), 16, tc.p, 0)
			for _, h := range tc.history {
				s.Accept(h)
			}
			got := slices.Clone(logits)
			s.applyPenalties(got)
			for i := range got {
				if math.Abs(float64(got[i]-tc.want[i])) > 1e-6 {
					t.Fatalf("logits %v, want %v", got, tc.want)
				}
			}
			// Counts must be back to zero for the next step.
			for i, c := range s.counts {
				if c != 0 {
					t.Fatalf("counts[%d] = %d after penalties", i, c)
				}
			}
		})
	}
}

// randomLogits returns n logits from a fixed stream, with some ties.
func randomLogits(n int, seed uint64) []float32 {
	var r rng
	r.seed(seed)
	l := make([]float32, n)
	for i := range l {
		l[i] = float32(math.Round((r.float64()*8-4)*64) / 64) // 1/64 steps: many ties
	}
	return l
}

func TestSamplerSeedDeterminism(t *testing.T) {
	logits := randomLogits(3000, 1)
	run := func(seed uint64) []int32 {
		p := SamplingParams{Temperature: 0.9, TopK: 200, TopP: 0.95, MinP: 0.01, RepetitionPenalty: 1.1, Seed: seedPtr(seed)}
		s := NewSampler(len(logits), 64, p, 0)
		out := make([]int32, 100)
		buf := make([]float32, len(logits))
		for i := range out {
			copy(buf, logits)
			out[i] = s.Sample(buf, nil)
			s.Accept(out[i])
		}
		return out
	}
	a, b, c := run(42), run(42), run(43)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed gave different tokens:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 42 and 43 gave the same 100 tokens %v", a)
	}
	s := NewSampler(4, 4, SamplingParams{Seed: seedPtr(99)}, 0)
	if s.Seed() != 99 {
		t.Fatalf("Seed() = %d, want 99", s.Seed())
	}
}

// TestSelectTop checks the quickselect and the incremental top-p sort
// against a full sort on random logits with ties.
func TestSelectTop(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 257, 5000} {
		logits := randomLogits(n, uint64(n))
		ref := make([]candidate, n)
		for i, l := range logits {
			ref[i] = candidate{id: int32(i), logit: l}
		}
		sortCands(ref)
		for _, k := range []int{1, 2, n / 3, n - 1, n} {
			if k <= 0 || k > n {
				continue
			}
			c := make([]candidate, n)
			for i, l := range logits {
				c[i] = candidate{id: int32(i), logit: l}
			}
			selectTop(c, k)
			sortCands(c[:k])
			for i := 0; i < k; i++ {
				if c[i].id != ref[i].id {
					t.Fatalf("n=%d k=%d: position %d has id %d, want %d", n, k, i, c[i].id, ref[i].id)
				}
			}
		}
		for _, k := range []int{1, 3, 40, n} {
			got := topKHeap(make([]candidate, 0, n), logits, min(k, n))
			for i := range got {
				if got[i].id != ref[i].id {
					t.Fatalf("n=%d heap top-%d: position %d has id %d, want %d", n, k, i, got[i].id, ref[i].id)
				}
			}
		}
		for _, p := range []float32{0.1, 0.5, 0.9, 0.99} {
			c := make([]candidate, n)
			for i, l := range logits {
				c[i] = candidate{id: int32(i), logit: l}
			}
			got, _ := topP(c, 0, p)
			// Reference: cumulative softmax over the fully sorted list.
			var sum, cum float64
			for _, x := range ref {
				sum += math.Exp(float64(x.logit - ref[0].logit))
			}
			want := n
			for i, x := range ref {
				cum += math.Exp(float64(x.logit-ref[0].logit)) / sum
				if cum >= float64(p) {
					want = i + 1
					break
				}
			}
			if len(got) != want {
				t.Fatalf("n=%d top-p %g kept %d, want %d", n, p, len(got), want)
			}
			for i := range got {
				if got[i].id != ref[i].id {
					t.Fatalf("n=%d top-p %g: position %d id %d, want %d", n, p, i, got[i].id, ref[i].id)
				}
			}
		}
	}
}

func TestSamplerLogprobs(t *testing.T) {
	logits := []float32{1, 3, 2, 3, -1}
	s := NewSampler(len(logits), 8, SamplingParams{LogitBias: map[int32]float32{4: 10}}, 3)
	var lp TokenLogprob
	id := s.Sample(slices.Clone(logits), &lp)
	if id != 4 {
		t.Fatalf("sampled %d, want 4 (biased)", id)
	}
	var sum float64
	for _, l := range logits {
		sum += math.Exp(float64(l))
	}
	lse := math.Log(sum)
	// The chosen token's log-probability comes from the unbiased logits.
	if d := math.Abs(float64(lp.Logprob) - (-1 - lse)); d > 1e-5 {
		t.Fatalf("logprob %g, want %g (diff %.3g)", lp.Logprob, -1-lse, d)
	}
	wantTop := []int32{1, 3, 2}
	if len(lp.Top) != 3 {
		t.Fatalf("top has %d entries, want 3", len(lp.Top))
	}
	for i, tl := range lp.Top {
		want := float64(logits[wantTop[i]]) - lse
		if tl.Token != wantTop[i] || math.Abs(float64(tl.Logprob)-want) > 1e-5 {
			t.Fatalf("top[%d] = %+v, want token %d logprob %g", i, tl, wantTop[i], want)
		}
	}
}

// TestSamplerNoAlloc checks that a fully configured sampler allocates
// nothing per token.
func TestSamplerNoAlloc(t *testing.T) {
	logits := randomLogits(4096, 3)
	p := SamplingParams{Temperature: 0.8, TopK: 40, TopP: 0.9, MinP: 0.05, RepetitionPenalty: 1.1,
		PresencePenalty: 0.1, FrequencyPenalty: 0.1, LogitBias: map[int32]float32{5: 1, 9: -1}, Seed: seedPtr(1)}
	s := NewSampler(len(logits), 128, p, 5)
	buf := make([]float32, len(logits))
	var lp TokenLogprob
	allocs := testing.AllocsPerRun(50, func() {
		copy(buf, logits)
		s.Accept(s.Sample(buf, &lp))
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per token, want 0", allocs)
	}
	p.TopK = 2000 // quickselect path
	s.Reset(p, 5, 128)
	allocs = testing.AllocsPerRun(20, func() {
		copy(buf, logits)
		s.Accept(s.Sample(buf, &lp))
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per token with top-k 2000, want 0", allocs)
	}
	p.TopK = 0 // top-p over the whole vocabulary
	s.Reset(p, 5, 128)
	allocs = testing.AllocsPerRun(20, func() {
		copy(buf, logits)
		s.Accept(s.Sample(buf, &lp))
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per token with top-p only, want 0", allocs)
	}
}

func BenchmarkSamplerQwenVocab(b *testing.B) {
	logits := randomLogits(151936, 5)
	p := SamplingParams{Temperature: 0.7, TopK: 20, TopP: 0.8, RepetitionPenalty: 1.05, Seed: seedPtr(1)}
	s := NewSampler(len(logits), 4096, p, 0)
	buf := make([]float32, len(logits))
	for b.Loop() {
		copy(buf, logits)
		s.Accept(s.Sample(buf, nil))
	}
}
