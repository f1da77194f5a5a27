// This file turns request results into a report: percentiles of time to
// first token, inter-token latency and time per output token, aggregate
// token and request throughput over the measured window, token totals and
// errors by kind.
//
// Inter-token latency comes from chunk arrival times. A server may put
// several tokens in one chunk (neuron holds text back while it could still
// be a stop string or an incomplete UTF-8 sequence), so a gap is split
// evenly over the tokens of the chunk that ends it: k tokens arriving after
// a gap g count as k samples of g/k. A chunk's token count is its logprobs
// entries when the server sent them, else one when the usage total equals
// the number of chunks, else the usage total spread evenly over the chunks
// after the first (the first chunk's tokens are behind the TTFT).

package loadgen

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Dist summarizes a sample of durations, in milliseconds.
type Dist struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// percentile is the p-th percentile (0-100) of sorted xs, interpolated
// linearly between the closest ranks (numpy's default); NaN when empty.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	r := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(r))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (r-float64(lo))*(sorted[hi]-sorted[lo])
}

// summarize returns the distribution of ds in milliseconds; the zero Dist
// when ds is empty.
func summarize(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	ms := make([]float64, len(ds))
	sum := 0.0
	for i, d := range ds {
		ms[i] = msOf(d)
		sum += ms[i]
	}
	sort.Float64s(ms)
	return Dist{N: len(ms), Mean: sum / float64(len(ms)), P50: percentile(ms, 50), P90: percentile(ms, 90),
		P99: percentile(ms, 99), Max: ms[len(ms)-1]}
}

// tokensPerChunk returns the token count of each chunk of r (see the file
// comment) and whether any count was estimated rather than known.
func tokensPerChunk(r *result) (counts []int, estimated bool) {
	n := len(r.chunks)
	counts = make([]int, n)
	if !slices.Contains(r.chunkTokens, 0) {
		copy(counts, r.chunkTokens)
		return counts, false
	}
	total := r.completionTokens()
	if total <= n || n == 1 {
		for i := range counts {
			counts[i] = 1
		}
		if n == 1 {
			counts[0] = max(total, 1)
		}
		return counts, total > n
	}
	counts[0] = 1
	rest, k := total-1, n-1
	for i := 1; i < n; i++ {
		counts[i] = rest / k
		if i-1 < rest%k {
			counts[i]++
		}
	}
	return counts, true
}

// interTokenLatencies appends r's inter-token latencies to out.
func interTokenLatencies(out []time.Duration, r *result) ([]time.Duration, bool) {
	counts, estimated := tokensPerChunk(r)
	for i := 1; i < len(r.chunks); i++ {
		gap := r.chunks[i] - r.chunks[i-1]
		k := max(counts[i], 1)
		for range k {
			out = append(out, gap/time.Duration(k))
		}
	}
	return out, estimated
}

// Report is the outcome of one load level.
type Report struct {
	Concurrency int `json:"concurrency"`
	// Requests were sent in the measured window; Succeeded of them streamed
	// to their end.
	Requests  int            `json:"requests"`
	Succeeded int            `json:"succeeded"`
	Errors    map[string]int `json:"errors"`
	// WallSeconds is the measured window: from the first request's start
	// to the last one's end.
	WallSeconds float64 `json:"wall_seconds"`
	// CompletionTokens and PromptTokens are totals over the requests that
	// succeeded (usage, else chunks counted); CachedTokens the reused prompt
	// tokens, nil when the server reported none.
	CompletionTokens int  `json:"completion_tokens"`
	PromptTokens     int  `json:"prompt_tokens"`
	CachedTokens     *int `json:"cached_tokens"`
	// UsageReported is false when some stream ended without a usage chunk.
	UsageReported bool `json:"usage_reported"`
	// TokensPerSecond is CompletionTokens / WallSeconds.
	TokensPerSecond float64 `json:"output_tokens_per_second"`
	// DecodeTokensPerSecond leaves prompt processing out: the tokens after
	// each request's first chunk over the time at least one request was
	// between its first and its last chunk (the union of those spans).
	DecodeTokensPerSecond float64 `json:"decode_tokens_per_second"`
	DecodeSeconds         float64 `json:"decode_seconds"`
	RequestsPerSecond     float64 `json:"requests_per_second"`
	TTFT                  Dist    `json:"ttft_ms"`
	ITL                   Dist    `json:"itl_ms"`
	// TPOT is per request: (last chunk - first chunk) / (tokens - 1).
	TPOT           Dist    `json:"tpot_ms"`
	TokensPerChunk float64 `json:"tokens_per_chunk"`
	// ITLEstimated is true when some chunk held several tokens and their
	// count was spread evenly (see the file comment).
	ITLEstimated bool `json:"itl_estimated"`
	// ShortFinishes counts requests that ended before max_tokens.
	ShortFinishes int `json:"short_finishes"`
	// Rounds is the number of times the level ran; with more than one,
	// TokensPerSecond and RequestsPerSecond are medians over the rounds
	// (RoundTokensPerSecond), WallSeconds their sum, and the distributions
	// pool every round's requests.
	Rounds               int       `json:"rounds"`
	RoundTokensPerSecond []float64 `json:"round_tokens_per_second"`
	// DecodeSpeedupVsFirst is the same for DecodeTokensPerSecond.
	DecodeSpeedupVsFirst float64 `json:"decode_speedup_vs_first,omitempty"`
	// SpeedupVsFirst and ITLRatioVsFirst compare with the first level of a
	// sweep (TokensPerSecond and ITL p50 ratios, medians of the ratios
	// within each round); 1 for that level.
	SpeedupVsFirst  float64 `json:"speedup_vs_first,omitempty"`
	ITLRatioVsFirst float64 `json:"itl_p50_ratio_vs_first,omitempty"`
}

// buildReport aggregates the results of one level; maxTokens is what each
// request asked for.
func buildReport(concurrency, maxTokens int, results []*result) *Report {
	rep := &Report{Concurrency: concurrency, Requests: len(results), Errors: map[string]int{}, UsageReported: true}
	if len(results) == 0 {
		return rep
	}
	first, last := results[0].start, results[0].start.Add(results[0].end)
	var ttft, itl, tpot []time.Duration
	var spans []span
	decodeTokens := 0
	chunks, cached, cachedSeen := 0, 0, false
	for _, r := range results {
		if r.start.Before(first) {
			first = r.start
		}
		if e := r.start.Add(r.end); e.After(last) {
			last = e
		}
		if r.errKind != "" {
			rep.Errors[r.errKind]++
			continue
		}
		rep.Succeeded++
		toks := r.completionTokens()
		rep.CompletionTokens += toks
		chunks += len(r.chunks)
		if r.usage == nil {
			rep.UsageReported = false
		} else {
			rep.PromptTokens += r.usage.PromptTokens
			if d := r.usage.PromptTokensDetails; d != nil {
				cached += d.CachedTokens
				cachedSeen = true
			}
		}
		if toks < maxTokens {
			rep.ShortFinishes++
		}
		ttft = append(ttft, r.ttft())
		counts, _ := tokensPerChunk(r)
		decodeTokens += max(toks-counts[0], 0)
		spans = append(spans, span{r.start.Add(r.chunks[0]), r.start.Add(r.chunks[len(r.chunks)-1])})
		var est bool
		itl, est = interTokenLatencies(itl, r)
		rep.ITLEstimated = rep.ITLEstimated || est
		if toks > 1 {
			tpot = append(tpot, (r.chunks[len(r.chunks)-1]-r.chunks[0])/time.Duration(toks-1))
		}
	}
	if cachedSeen {
		rep.CachedTokens = &cached
	}
	wall := last.Sub(first).Seconds()
	rep.WallSeconds = wall
	if wall > 0 {
		rep.TokensPerSecond = float64(rep.CompletionTokens) / wall
		rep.RequestsPerSecond = float64(rep.Succeeded) / wall
	}
	rep.DecodeSeconds = union(spans).Seconds()
	if rep.DecodeSeconds > 0 {
		rep.DecodeTokensPerSecond = float64(decodeTokens) / rep.DecodeSeconds
	}
	if chunks > 0 {
		rep.TokensPerChunk = float64(rep.CompletionTokens) / float64(chunks)
	}
	rep.TTFT, rep.ITL, rep.TPOT = summarize(ttft), summarize(itl), summarize(tpot)
	return rep
}

// span is a stretch of time.
type span struct{ from, to time.Time }

// union is the length of the time the spans cover.
func union(spans []span) time.Duration {
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	var total time.Duration
	var cur span
	for i, s := range spans {
		switch {
		case i == 0:
			cur = s
		case s.from.After(cur.to):
			total += cur.to.Sub(cur.from)
			cur = s
		case s.to.After(cur.to):
			cur.to = s.to
		}
	}
	if len(spans) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return total
}

// msOf is d in milliseconds.
func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median is the median of xs (which it sorts).
func median(xs []float64) float64 {
	slices.Sort(xs)
	return percentile(xs, 50)
}
