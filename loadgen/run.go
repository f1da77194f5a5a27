// Package loadgen drives an OpenAI-compatible server (neuron, cortex or any
// other) with concurrent streaming chat completions of fixed prompt and
// output lengths, and reports aggregate generated tokens per second, time to
// first token, inter-token latency and errors; a sweep repeats the load at
// several concurrencies, and a multi-turn scenario measures how much faster
// a chat's second turn starts than its first (prompt-prefix reuse). This
// file holds the options and the load run; `neuron loadtest` is its command.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a load test.
type Options struct {
	URL    string // base URL of the server, without /v1
	Model  string
	APIKey string
	// Concurrency is the number of clients, each with one request in
	// flight; Sweep, when set, runs the load once per value instead.
	Concurrency int
	Sweep       []int
	// Requests is the number of measured requests per level (0: two per
	// client); Duration, when set, instead keeps every client sending
	// until it has passed (requests under way then finish and count).
	Requests int
	Duration time.Duration
	// Rounds repeats the levels, alternating their order (see Run).
	Rounds int
	// Warmup requests run one after another before the first level and
	// are not measured.
	Warmup int
	// PromptTokens is about the prompt length; MaxTokens the tokens every
	// request generates (with IgnoreEOS, or LogitBias banning the
	// end-of-generation tokens, exactly that many).
	PromptTokens int
	MaxTokens    int
	IgnoreEOS    bool
	LogitBias    map[string]float64
	Temperature  float64
	Seed         int64
	// Thinking leaves the model's thinking on; by default requests send
	// chat_template_kwargs.enable_thinking=false.
	Thinking bool
	// Timeout bounds each request; 0: 10 minutes.
	Timeout time.Duration
	// words is the number of letters in a load prompt: PromptTokens less
	// the chat template's tokens that the warm-up measured.
	words int
	// HTTPClient, when set, sends the requests.
	HTTPClient *http.Client
	// Progress, when set, hears one line per finished level or conversation.
	Progress func(string)
}

// ErrOptions is returned for options that cannot make a test.
var ErrOptions = errors.New("loadgen: invalid options")

func (o *Options) check() error {
	switch {
	case o.URL == "":
		return fmt.Errorf("%w: url is required", ErrOptions)
	case o.Model == "":
		return fmt.Errorf("%w: model is required", ErrOptions)
	case o.MaxTokens < 1:
		return fmt.Errorf("%w: max tokens must be at least 1, got %d", ErrOptions, o.MaxTokens)
	case o.PromptTokens < 1:
		return fmt.Errorf("%w: prompt tokens must be at least 1, got %d", ErrOptions, o.PromptTokens)
	case o.Requests < 0 || o.Duration < 0 || o.Warmup < 0 || o.Rounds < 0:
		return fmt.Errorf("%w: requests, duration, rounds and warm-up must not be negative", ErrOptions)
	}
	for _, c := range o.levels() {
		if c < 1 {
			return fmt.Errorf("%w: concurrency must be at least 1, got %d", ErrOptions, c)
		}
	}
	return nil
}

// levels are the concurrencies to run.
func (o *Options) levels() []int {
	if len(o.Sweep) > 0 {
		return o.Sweep
	}
	return []int{o.Concurrency}
}

func (o *Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 10 * time.Minute
}

func (o *Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}

// request is the body of request i: its own prompt, the fixed output
// length and sampling.
func (o *Options) request(msgs []message, maxTokens int) *chatRequest {
	r := &chatRequest{
		Model: o.Model, Messages: msgs, Stream: true, StreamOptions: map[string]bool{"include_usage": true},
		MaxTokens: maxTokens, Temperature: o.Temperature, IgnoreEOS: o.IgnoreEOS, LogitBias: o.LogitBias,
	}
	seed := o.Seed
	r.Seed = &seed
	if !o.Thinking {
		r.ChatTemplateKwargs = map[string]any{"enable_thinking": false}
	}
	return r
}

// Run runs the load at each level and returns one report per level. The
// first level is the reference of the sweep ratios. With several rounds the
// levels run in turn, forward then backward (1,4,8,8,4,1,...), so that a
// drift in the machine's load weighs on every level alike; a level's
// tokens/s is then the median over its rounds, and its ratios to the first
// level are the medians of the ratios within each round.
func Run(ctx context.Context, o Options) ([]*Report, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	c := newClient(o.URL, o.APIKey, o.HTTPClient)
	if err := warmup(ctx, c, &o); err != nil {
		return nil, err
	}
	levels := o.levels()
	rounds := max(o.Rounds, 1)
	results := make([][][]*result, len(levels)) // [level][round]
	next := 0                                   // request index, so that every prompt of the run differs
	var err error
run:
	for r := range rounds {
		for k := range levels {
			li := k
			if r%2 == 1 {
				li = len(levels) - 1 - k
			}
			res := runLevel(ctx, c, &o, levels[li], &next)
			results[li] = append(results[li], res)
			rep := buildReport(levels[li], o.MaxTokens, res)
			o.progress("round %d, concurrency %d: %d/%d ok, %.1f tok/s", r+1, levels[li], rep.Succeeded, rep.Requests, rep.TokensPerSecond)
			if err = ctx.Err(); err != nil {
				break run
			}
		}
	}
	return combine(levels, o.MaxTokens, results), err
}

// combine makes the reports of each level out of its rounds' results.
func combine(levels []int, maxTokens int, results [][][]*result) []*Report {
	var reports []*Report
	var first []*Report
	for li, rounds := range results {
		if len(rounds) == 0 {
			continue
		}
		var all []*result
		var per []*Report
		for _, res := range rounds {
			all = append(all, res...)
			per = append(per, buildReport(levels[li], maxTokens, res))
		}
		rep := buildReport(levels[li], maxTokens, all)
		if li == 0 {
			first = per
		}
		var tps, rps, wall, speedup, itl, dtps, dspeedup []float64
		for r, p := range per {
			tps, rps, wall = append(tps, p.TokensPerSecond), append(rps, p.RequestsPerSecond), append(wall, p.WallSeconds)
			dtps = append(dtps, p.DecodeTokensPerSecond)
			if r < len(first) {
				dspeedup = append(dspeedup, ratio(p.DecodeTokensPerSecond, first[r].DecodeTokensPerSecond))
				speedup = append(speedup, ratio(p.TokensPerSecond, first[r].TokensPerSecond))
				itl = append(itl, ratio(p.ITL.P50, first[r].ITL.P50))
			}
		}
		rep.Rounds = len(per)
		rep.RoundTokensPerSecond = slices.Clone(tps)
		if len(per) > 1 {
			rep.TokensPerSecond, rep.RequestsPerSecond = median(tps), median(rps)
			rep.DecodeTokensPerSecond = median(dtps)
			rep.WallSeconds = 0
			for _, w := range wall {
				rep.WallSeconds += w
			}
		}
		if len(speedup) > 0 {
			rep.SpeedupVsFirst, rep.ITLRatioVsFirst = median(speedup), median(itl)
			rep.DecodeSpeedupVsFirst = median(dspeedup)
		}
		reports = append(reports, rep)
	}
	return reports
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// warmup sends o.Warmup requests one by one; a failed one ends the test, as
// a server that cannot answer one request cannot be measured. The first
// one's usage.prompt_tokens tells how many tokens the chat template adds
// around the prompt's letters, and the load prompts are shortened by as
// many, so that the server counts about PromptTokens.
func warmup(ctx context.Context, c *client, o *Options) error {
	o.words = o.PromptTokens
	for i := range o.Warmup {
		rctx, cancel := context.WithTimeout(ctx, o.timeout())
		r := c.stream(rctx, o.request([]message{{Role: "user", Content: userPrompt(o.Seed, -1-i, o.PromptTokens)}}, o.MaxTokens))
		cancel()
		if r.errKind != "" {
			return fmt.Errorf("loadgen: warm-up request: %s: %w", r.errKind, r.err)
		}
		if i == 0 && r.usage != nil && r.usage.PromptTokens > o.PromptTokens {
			o.words = max(2*o.PromptTokens-r.usage.PromptTokens, 1)
		}
	}
	return nil
}

// runLevel runs n clients until the level's requests are sent or its
// duration has passed, and returns their results.
func runLevel(ctx context.Context, c *client, o *Options, n int, next *int) []*result {
	total := o.Requests
	if total == 0 {
		total = 2 * n
	}
	var deadline time.Time
	if o.Duration > 0 {
		deadline = time.Now().Add(o.Duration)
	}
	base := *next
	var sent atomic.Int64
	var mu sync.Mutex
	var results []*result
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					return
				}
				i := int(sent.Add(1)) - 1
				if deadline.IsZero() && i >= total {
					return
				}
				msgs := []message{{Role: "user", Content: userPrompt(o.Seed, base+i, o.words)}}
				rctx, cancel := context.WithTimeout(ctx, o.timeout())
				r := c.stream(rctx, o.request(msgs, o.MaxTokens))
				cancel()
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	*next = base + int(sent.Load())
	return results
}
