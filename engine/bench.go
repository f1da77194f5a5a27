// This file holds Bench: prompt-processing and generation speed of a model
// on a Context, in the manner of llama-bench. Prompt processing (pp) runs a
// prompt of PP pseudo-random tokens through the model in batches from an
// empty cache; text generation (tg) decodes TG tokens one at a time (greedy,
// each fed back) from an empty cache. Each test runs Reps times after one
// warm-up; the result is the mean ± sample standard deviation of tokens/s.
// DecodeBytesPerToken estimates the memory one decode step reads: every
// weight matrix once (one row of the token embedding, unless it is also the
// output) plus the KV cache up to the average position of the tg run.

package engine

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/helexa/helexa/gguf"
)

// BenchOptions say what Bench measures.
type BenchOptions struct {
	PP   int // prompt tokens to process (0 = skip the pp test)
	TG   int // tokens to generate (0 = skip the tg test)
	Reps int // repetitions of each test, at least 1
}

// BenchStat is one test's result: N tokens per run at TokS tokens/s on
// average, with sample standard deviation Std over the repetitions. The
// json tags are the shape `neuron bench --json` prints.
type BenchStat struct {
	N    int     `json:"n"`
	TokS float64 `json:"tok_s"`
	Std  float64 `json:"std"`
}

// BenchResult holds the results of the pp and tg tests; a skipped test is
// the zero BenchStat.
type BenchResult struct {
	PP BenchStat
	TG BenchStat
}

// Bench runs the pp and tg tests of o on c, whose cache must hold
// max(PP, TG) positions of sequence 0; it overwrites that sequence. ctx is
// checked before every batch and every generated token.
func Bench(ctx context.Context, c *Context, o BenchOptions) (BenchResult, error) {
	if o.PP < 0 || o.TG < 0 || o.Reps < 1 || (o.PP == 0 && o.TG == 0) {
		return BenchResult{}, fmt.Errorf("engine: bench: need pp >= 0, tg >= 0 (not both 0) and reps >= 1, got pp %d, tg %d, reps %d", o.PP, o.TG, o.Reps)
	}
	nVocab := c.Model().Config().NVocab
	logits := make([]float32, nVocab)
	// Prompt tokens: a fixed pseudo-random sequence over the vocabulary.
	prompt := make([]int32, o.PP)
	x := uint32(12345)
	for i := range prompt {
		x = x*1664525 + 1013904223 // Numerical Recipes LCG
		prompt[i] = int32(x>>8) % int32(nVocab)
	}
	pp := func(n int) error {
		batch := c.Options().Batch
		rows := make([]Row, 0, batch)
		for i := 0; i < n; i += batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			rows = rows[:0]
			for j := i; j < min(i+batch, n); j++ {
				rows = append(rows, Row{Token: prompt[j], Pos: int32(j)})
			}
			var want []int
			if i+batch >= n {
				want = []int{len(rows) - 1}
			}
			if err := c.Forward(rows, want, logits); err != nil {
				return err
			}
		}
		return nil
	}
	tg := func(n int) error {
		tok := int32(0)
		row := make([]Row, 1)
		for i := range n {
			if err := ctx.Err(); err != nil {
				return err
			}
			row[0] = Row{Token: tok, Pos: int32(i)}
			if err := c.Forward(row, []int{0}, logits); err != nil {
				return err
			}
			tok = argmax(logits)
		}
		return nil
	}
	// Warm-up: page in the weights and start the workers.
	if err := pp(min(o.PP, 16)); err != nil {
		return BenchResult{}, err
	}
	if err := tg(min(o.TG, 4)); err != nil {
		return BenchResult{}, err
	}
	var res BenchResult
	var err error
	if o.PP > 0 {
		if res.PP, err = timeReps(o.PP, o.Reps, pp); err != nil {
			return BenchResult{}, err
		}
	}
	if o.TG > 0 {
		if res.TG, err = timeReps(o.TG, o.Reps, tg); err != nil {
			return BenchResult{}, err
		}
	}
	return res, nil
}

// timeReps runs f(n) reps times and returns mean and sample standard
// deviation of n/seconds.
func timeReps(n, reps int, f func(int) error) (BenchStat, error) {
	rates := make([]float64, reps)
	for i := range rates {
		start := time.Now()
		if err := f(n); err != nil {
			return BenchStat{}, err
		}
		rates[i] = float64(n) / time.Since(start).Seconds()
	}
	var mean, sq float64
	for _, r := range rates {
		mean += r
	}
	mean /= float64(reps)
	for _, r := range rates {
		sq += (r - mean) * (r - mean)
	}
	std := 0.0
	if reps > 1 {
		std = math.Sqrt(sq / float64(reps-1))
	}
	return BenchStat{N: n, TokS: mean, Std: std}, nil
}

// DecodeBytesPerToken estimates the bytes one decode step reads from the
// tensor sizes in f: every tensor once, except the token embedding of which
// one row is read (all of it when it doubles as the output matrix), plus K
// and V (f16) of every layer up to the mean position of a tg-token run. It
// also returns the size of all tensors.
func DecodeBytesPerToken(f *gguf.File, tg int) (perToken, total int64, err error) {
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return 0, 0, err
	}
	for _, t := range f.Tensors {
		total += t.Size
		if t.Name == "token_embd.weight" && !cfg.TiedOutput {
			perToken += t.Type.RowSize(int64(cfg.NEmbd))
			continue
		}
		perToken += t.Size
	}
	const f16 = 2
	kvPerPos := int64(2 * cfg.NLayer * cfg.KVDim() * f16)
	perToken += kvPerPos * int64(tg+1) / 2
	return perToken, total, nil
}
