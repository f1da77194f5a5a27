// The token sampler: turns one row of logits into the next token.
//
// The chain follows llama.cpp's default sampler order (common/sampling.cpp):
// logit bias -> repetition/presence/frequency penalties -> top-k -> top-p ->
// min-p -> temperature -> weighted draw. Temperature 0 (or below) is greedy:
// the argmax after bias and penalties, lowest id on ties. Like llama.cpp and
// HF, the sampler never masks vocabulary rows on its own (control, unused and
// padding rows can be drawn like any other).
//
// Penalties use llama.cpp semantics (llama_sampler_penalties_apply): over the
// last PenaltyLastN tokens of the sequence (prompt included), a token seen c
// times gets its logit divided by RepetitionPenalty when positive and
// multiplied by it when negative, then lowered by c·FrequencyPenalty +
// PresencePenalty. Top-p and min-p are computed on the softmax of the logits
// before temperature, as llama.cpp does.
//
// A Sampler belongs to one sequence; all working arrays are allocated when it
// is made, so sampling a token allocates nothing.

package engine

import (
	"math"
	"slices"
)

// DefaultPenaltyLastN is the penalty window used when SamplingParams leaves
// it at 0 (llama.cpp's penalty_last_n default).
const DefaultPenaltyLastN = 64

// SamplingParams selects how tokens are drawn from the logits. The zero value
// is greedy decoding with no penalties.
type SamplingParams struct {
	// Temperature divides the logits before the draw; 0 or less is greedy.
	Temperature float32
	// TopP keeps the smallest set of most likely tokens whose probability
	// adds up to at least TopP; 0 or >= 1 disables it.
	TopP float32
	// MinP drops tokens less likely than MinP times the most likely one;
	// 0 disables it.
	MinP float32
	// TopK keeps the TopK most likely tokens; 0 or less disables it.
	TopK int
	// RepetitionPenalty (llama.cpp repeat_penalty) scales the logits of
	// recent tokens; 0 or 1 disables it.
	RepetitionPenalty float32
	// PresencePenalty is subtracted once from the logit of every recent token.
	PresencePenalty float32
	// FrequencyPenalty is subtracted per occurrence of a recent token.
	FrequencyPenalty float32
	// PenaltyLastN is how many of the most recent tokens the penalties look
	// at: 0 means DefaultPenaltyLastN, a negative value the whole sequence.
	PenaltyLastN int
	// LogitBias is added to the logits of the given token ids before
	// anything else (ids outside the vocabulary are ignored).
	LogitBias map[int32]float32
	// Seed fixes the random stream; nil draws a fresh seed.
	Seed *uint64
}

// greedy reports whether p selects the argmax.
func (p *SamplingParams) greedy() bool { return p.Temperature <= 0 }

// penalized reports whether any penalty is active.
func (p *SamplingParams) penalized() bool {
	return (p.RepetitionPenalty != 0 && p.RepetitionPenalty != 1) || p.PresencePenalty != 0 || p.FrequencyPenalty != 0
}

// TokenLogprob is the log-probability of a chosen token and, on request, of
// the most likely alternatives at the same step. Log-probabilities are the
// log-softmax of the model's logits before bias, penalties, temperature and
// filters (the model's own distribution, as the OpenAI API reports it).
type TokenLogprob struct {
	Token   int32        `json:"token"`
	Text    string       `json:"text"`
	Logprob float32      `json:"logprob"`
	Top     []TopLogprob `json:"top_logprobs,omitempty"`
}

// TopLogprob is one alternative of a TokenLogprob.
type TopLogprob struct {
	Token   int32   `json:"token"`
	Text    string  `json:"text"`
	Logprob float32 `json:"logprob"`
}

// candidate is one token under consideration.
type candidate struct {
	id    int32
	logit float32
	p     float32
}

// better orders candidates by descending logit, lowest id first on ties, a
// strict total order so every selection is deterministic.
func better(a, b candidate) bool {
	return a.logit > b.logit || (a.logit == b.logit && a.id < b.id)
}

// Sampler draws tokens for one sequence.
type Sampler struct {
	p      SamplingParams
	nVocab int
	seed   uint64
	rng    rng

	cands  []candidate // [nVocab] working set
	counts []int32     // [nVocab] occurrence counts, zero between calls
	hist   []int32     // ring of recent tokens, cap = window
	histN  int         // tokens in hist
	histAt int         // next write position

	raw    []float32    // [nVocab] copy of the logits for log-probabilities
	top    []TopLogprob // [topN] alternatives of the last step
	topN   int
	window int
}

// NewSampler makes a sampler for a vocabulary of nVocab rows. maxTokens
// bounds the sequence length (prompt + generated); it sizes the penalty
// history when PenaltyLastN is negative. topN is the number of alternatives
// to report per step (0 for none).
func NewSampler(nVocab, maxTokens int, p SamplingParams, topN int) *Sampler {
	s := &Sampler{nVocab: nVocab}
	s.cands = make([]candidate, nVocab)
	s.counts = make([]int32, nVocab)
	s.raw = make([]float32, nVocab)
	s.Reset(p, topN, maxTokens)
	return s
}

// Reset prepares the sampler for a new request without reallocating its
// vocabulary-sized arrays.
func (s *Sampler) Reset(p SamplingParams, topN, maxTokens int) {
	s.p = p
	if p.Seed != nil {
		s.seed = *p.Seed
	} else {
		s.seed = randomSeed()
	}
	s.rng.seed(s.seed)
	s.window = p.PenaltyLastN
	if s.window == 0 {
		s.window = DefaultPenaltyLastN
	}
	if s.window < 0 {
		s.window = max(maxTokens, 1)
	}
	if !p.penalized() {
		s.window = 0
	}
	if cap(s.hist) < s.window {
		s.hist = make([]int32, s.window)
	}
	s.hist = s.hist[:s.window]
	s.histN, s.histAt = 0, 0
	topN = max(topN, 0)
	if cap(s.top) < topN {
		s.top = make([]TopLogprob, topN)
	}
	s.top = s.top[:topN]
	s.topN = topN
}

// Seed returns the seed the random stream started from.
func (s *Sampler) Seed() uint64 { return s.seed }

// Accept records a token of the sequence (prompt or generated) for the
// penalties.
func (s *Sampler) Accept(tok int32) {
	if s.window == 0 {
		return
	}
	s.hist[s.histAt] = tok
	s.histAt = (s.histAt + 1) % s.window
	if s.histN < s.window {
		s.histN++
	}
}

// Sample picks the next token from logits ([nVocab], modified in place).
// When lp is non-nil it receives the chosen token's log-probability and the
// top alternatives; lp.Top aliases the sampler's storage until the next call.
func (s *Sampler) Sample(logits []float32, lp *TokenLogprob) int32 {
	logits = s.prepare(logits, lp)
	id := s.pick(logits)
	if lp != nil {
		s.logprobs(id, lp)
	}
	return id
}

// prepare runs the start of the chain on logits, trimmed to the vocabulary:
// it saves the raw logits when log-probabilities are wanted (lp non-nil),
// then applies the bias and the penalties.
func (s *Sampler) prepare(logits []float32, lp *TokenLogprob) []float32 {
	logits = logits[:s.nVocab]
	if lp != nil {
		copy(s.raw, logits)
	}
	s.applyBias(logits)
	s.applyPenalties(logits)
	return logits
}

// pick runs the final step of the chain: argmax or the filtered draw.
func (s *Sampler) pick(logits []float32) int32 {
	if s.p.greedy() {
		return argmax(logits)
	}
	return s.draw(logits)
}

// applyBias adds the logit bias.
func (s *Sampler) applyBias(logits []float32) {
	for id, b := range s.p.LogitBias {
		if id >= 0 && int(id) < len(logits) {
			logits[id] += b
		}
	}
}

// applyPenalties applies the repetition, presence and frequency penalties to
// the tokens in the history window, once per distinct token.
func (s *Sampler) applyPenalties(logits []float32) {
	if s.histN == 0 {
		return
	}
	h := s.hist[:s.histN]
	for _, t := range h {
		if t >= 0 && int(t) < s.nVocab {
			s.counts[t]++
		}
	}
	rep := s.p.RepetitionPenalty
	if rep == 0 {
		rep = 1
	}
	for _, t := range h {
		if t < 0 || int(t) >= s.nVocab || s.counts[t] == 0 {
			continue
		}
		c := s.counts[t]
		s.counts[t] = 0
		l := logits[t]
		if l <= 0 {
			l *= rep
		} else {
			l /= rep
		}
		logits[t] = l - float32(c)*s.p.FrequencyPenalty - s.p.PresencePenalty
	}
}

// argmax returns the index of the largest logit, lowest index on ties. NaN
// logits never win.
func argmax(logits []float32) int32 {
	best := 0
	bv := float32(math.Inf(-1))
	for i, v := range logits {
		if v > bv {
			best, bv = i, v
		}
	}
	return int32(best)
}

// draw runs the filters and makes the weighted random choice.
func (s *Sampler) draw(logits []float32) int32 {
	return s.weighted(s.filter(logits), s.p.Temperature)
}

// filter runs top-k, top-p and min-p and returns the surviving candidates.
func (s *Sampler) filter(logits []float32) []candidate {
	var c []candidate
	sorted := 0 // c[:sorted] are the best candidates in descending order
	switch k := s.p.TopK; {
	case k > 0 && k <= heapTopKMax && k < s.nVocab:
		c = topKHeap(s.cands[:0], logits, k)
		sorted = k
	case k > 0 && k < s.nVocab:
		c = s.allCandidates(logits)
		selectTop(c, k)
		c = c[:k]
		sortCands(c)
		sorted = k
	default:
		c = s.allCandidates(logits)
	}
	if p := s.p.TopP; p > 0 && p < 1 {
		c, sorted = topP(c, sorted, p)
	}
	if m := s.p.MinP; m > 0 && m <= 1 {
		c = minP(c, m)
	}
	return c
}

// heapTopKMax is the largest top-k taken with a bounded heap in one pass
// over the logits; larger ones use quickselect on all candidates. With a
// small k almost every logit is rejected by one comparison with the heap's
// worst entry, several times faster than building all candidates.
const heapTopKMax = 1024

// allCandidates fills the working set with every token.
func (s *Sampler) allCandidates(logits []float32) []candidate {
	c := s.cands[:s.nVocab]
	for i, l := range logits {
		c[i] = candidate{id: int32(i), logit: l}
	}
	return c
}

// topKHeap returns the k best tokens of logits, best first, using h's
// storage for a heap whose root is its worst entry.
func topKHeap(h []candidate, logits []float32, k int) []candidate {
	for i, l := range logits {
		c := candidate{id: int32(i), logit: l}
		if len(h) < k {
			h = append(h, c)
			for j := len(h) - 1; j > 0; { // sift up
				parent := (j - 1) / 2
				if !better(h[parent], h[j]) {
					break
				}
				h[parent], h[j] = h[j], h[parent]
				j = parent
			}
			continue
		}
		if !better(c, h[0]) {
			continue
		}
		h[0] = c
		for j := 0; ; { // sift down
			worst, left, right := j, 2*j+1, 2*j+2
			if left < k && better(h[worst], h[left]) {
				worst = left
			}
			if right < k && better(h[worst], h[right]) {
				worst = right
			}
			if worst == j {
				break
			}
			h[j], h[worst] = h[worst], h[j]
			j = worst
		}
	}
	sortCands(h)
	return h
}

// Sorted-prefix sizes of topP: the first prefix it sorts, and the factor
// by which the prefix grows while the mass is short of p. A peaked
// distribution reaches p within a few dozen tokens, so one small sort
// usually suffices; growing geometrically keeps a flat one at O(n log n).
const (
	topPFirstSort = 64
	topPGrowth    = 4
)

// topP keeps the smallest prefix of the candidates (in descending order)
// whose softmax probabilities sum to at least p, sorting only as much as it
// needs: it sorts a growing prefix until the cumulative mass reaches p.
func topP(c []candidate, sorted int, p float32) ([]candidate, int) {
	if len(c) <= 1 {
		return c, len(c)
	}
	if sorted == 0 {
		sorted = growSorted(c, 0, min(topPFirstSort, len(c)))
	}
	maxL := c[0].logit
	var sum float64
	for i := range c {
		e := math.Exp(float64(c[i].logit - maxL))
		c[i].p = float32(e)
		sum += e
	}
	var cum float64
	for i := 0; i < len(c); i++ {
		if i == sorted {
			sorted = growSorted(c, sorted, min(sorted*topPGrowth, len(c)))
		}
		cum += float64(c[i].p) / sum
		if cum >= float64(p) {
			return c[:i+1], i + 1
		}
	}
	return c, sorted
}

// growSorted extends the sorted prefix c[:from] to c[:to].
func growSorted(c []candidate, from, to int) int {
	rest := c[from:]
	selectTop(rest, to-from)
	sortCands(rest[:to-from])
	return to
}

// minP keeps the candidates whose probability is at least m times the
// largest one: logit >= max + ln(m). Order is preserved.
func minP(c []candidate, m float32) []candidate {
	maxL := float32(math.Inf(-1))
	for _, x := range c {
		maxL = max(maxL, x.logit)
	}
	thr := maxL + float32(math.Log(float64(m)))
	n := 0
	for _, x := range c {
		if x.logit >= thr {
			c[n] = x
			n++
		}
	}
	if n == 0 { // only when every logit is NaN or -Inf: keep the first
		return c[:1]
	}
	return c[:n]
}

// softmax sets c[i].p to the unnormalized weights exp((logit-max)/temp) and
// returns their sum and the index of the most likely candidate. The sum is 0
// when no candidate has a finite logit.
func softmax(c []candidate, temp float32) (sum float64, best int) {
	maxL := float32(math.Inf(-1))
	for i, x := range c {
		if x.logit > maxL {
			maxL, best = x.logit, i
		}
	}
	if math.IsInf(float64(maxL), -1) {
		return 0, best
	}
	for i := range c {
		e := math.Exp(float64((c[i].logit - maxL) / temp))
		c[i].p = float32(e)
		sum += e
	}
	return sum, best
}

// weighted divides the candidates' logits by temp, takes their softmax and
// draws one in proportion to its probability.
func (s *Sampler) weighted(c []candidate, temp float32) int32 {
	sum, best := softmax(c, temp)
	if !(sum > 0) {
		return c[best].id
	}
	u := s.rng.float64() * sum
	var cum float64
	for _, x := range c {
		cum += float64(x.p)
		if u < cum {
			return x.id
		}
	}
	return c[best].id // rounding left u at the very end
}

// logprobs fills lp from the raw logits saved before sampling.
func (s *Sampler) logprobs(id int32, lp *TokenLogprob) {
	maxL := float32(math.Inf(-1))
	for _, v := range s.raw {
		maxL = max(maxL, v)
	}
	var sum float64
	for _, v := range s.raw {
		sum += math.Exp(float64(v - maxL))
	}
	lse := float64(maxL) + math.Log(sum)
	lp.Token = id
	lp.Logprob = float32(float64(s.raw[id]) - lse)
	lp.Top = lp.Top[:0]
	if s.topN == 0 {
		return
	}
	// Insertion into a short descending list: topN is small (the OpenAI API
	// allows at most 20).
	top := s.top[:0]
	for i, v := range s.raw {
		if len(top) == s.topN && !(v > top[len(top)-1].Logprob) {
			continue
		}
		if len(top) < s.topN {
			top = append(top, TopLogprob{})
		}
		j := len(top) - 1
		for j > 0 && v > top[j-1].Logprob {
			top[j] = top[j-1]
			j--
		}
		top[j] = TopLogprob{Token: int32(i), Logprob: v}
	}
	for i := range top {
		top[i].Logprob = float32(float64(top[i].Logprob) - lse)
	}
	lp.Top = top
}

// selectTop rearranges c so that c[:k] holds its k best candidates (in no
// particular order): a quickselect (Hoare partition, median-of-three pivot).
func selectTop(c []candidate, k int) {
	if k <= 0 || k >= len(c) {
		return
	}
	lo, hi := 0, len(c)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// Median of three: order c[lo], c[mid], c[hi] best to worst.
		if better(c[mid], c[lo]) {
			c[lo], c[mid] = c[mid], c[lo]
		}
		if better(c[hi], c[lo]) {
			c[lo], c[hi] = c[hi], c[lo]
		}
		if better(c[hi], c[mid]) {
			c[mid], c[hi] = c[hi], c[mid]
		}
		pivot := c[mid]
		i, j := lo, hi
		for i <= j {
			for better(c[i], pivot) {
				i++
			}
			for better(pivot, c[j]) {
				j--
			}
			if i <= j {
				c[i], c[j] = c[j], c[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}

// sortCands sorts candidates best first.
func sortCands(c []candidate) {
	slices.SortFunc(c, func(a, b candidate) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
}
