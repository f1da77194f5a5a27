// This file holds `neuron bench`: prompt-processing and generation speed of
// a model, in the manner of llama-bench. Prompt processing (pp) runs a
// prompt of -p random tokens through the model in batches from an empty
// cache; text generation (tg) decodes -n tokens one at a time (greedy,
// each fed back) from an empty cache. Each test runs -r times after one
// warm-up; the result is the mean ± standard deviation of tokens/s. Bytes
// per token estimates the memory one decode step reads: every weight
// matrix once (one row of the token embedding, unless it is also the output)
// plus the KV cache up to the average position of the tg run.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// benchOptions are the settings of one `neuron bench`.
type benchOptions struct {
	Model   string
	PP, TG  int
	Reps    int
	Batch   int
	Threads int
	Device  string
	JSON    bool
	Verbose bool
}

// benchStat is one test's result.
type benchStat struct {
	N    int     `json:"n"`
	TokS float64 `json:"tok_s"`
	Std  float64 `json:"std"`
}

// benchResult is the --json output of `neuron bench`.
type benchResult struct {
	Model         string    `json:"model"`
	Device        string    `json:"device"`
	Threads       int       `json:"threads"`
	Reps          int       `json:"reps"`
	ModelBytes    int64     `json:"model_bytes"`
	PP            benchStat `json:"pp"`
	TG            benchStat `json:"tg"`
	BytesPerToken int64     `json:"bytes_per_token"`
}

func init() {
	o := benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench MODEL",
		Short: "Measure prompt-processing and generation speed (tokens/s)",
		Long: `Measure a model's prompt processing (-p tokens in batches) and text generation
(-n tokens one at a time) from an empty cache, -r times each after a warm-up,
and print tokens/s as mean ± standard deviation, with the model size and the
bytes one generated token reads. --json prints
{"model":...,"device":...,"threads":N,"pp":{"n":512,"tok_s":...,"std":...},
 "tg":{"n":128,"tok_s":...,"std":...},"bytes_per_token":...}.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			level := slog.LevelWarn
			if o.Verbose {
				level = slog.LevelInfo
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			res, err := runBench(ctx, log, o)
			if err != nil {
				return err
			}
			return writeBench(cmd.OutOrStdout(), res, o.JSON)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.PP, "p", "p", 512, "prompt tokens to process")
	f.IntVarP(&o.TG, "n", "n", 128, "tokens to generate")
	f.IntVarP(&o.Reps, "r", "r", 3, "repetitions of each test")
	f.IntVar(&o.Batch, "batch-size", 512, "prefill batch in tokens")
	f.IntVar(&o.Threads, "threads", 0, "CPU threads (0 = all cores)")
	f.StringVar(&o.Device, "device", "auto", "backend: auto, cpu, cuda or cuda:N")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "log model loading")
	rootCmd.AddCommand(cmd)
}

// runBench loads the model and runs the tests.
func runBench(ctx context.Context, log *slog.Logger, o benchOptions) (*benchResult, error) {
	if o.PP < 0 || o.TG < 0 || o.Reps < 1 || (o.PP == 0 && o.TG == 0) {
		return nil, fmt.Errorf("bench: need -p >= 0, -n >= 0 (not both 0) and -r >= 1")
	}
	path, err := resolveModel(ctx, o.Model, os.Stderr)
	if err != nil {
		return nil, err
	}
	bpt, modelBytes, err := bytesPerToken(path, o.TG)
	if err != nil {
		return nil, err
	}
	g, done, err := loadForRun(ctx, log, path, engine.LoadOptions{
		CtxSize: max(o.PP, o.TG, 1), Batch: max(min(o.Batch, o.PP), 1), Device: o.Device, Threads: o.Threads, KV: engine.KVF16,
	})
	if err != nil {
		return nil, err
	}
	defer done()
	c := g.Context()
	cfg := g.Model().Config()
	res := &benchResult{Model: o.Model, Device: g.Model().Backend().Name(), Threads: o.Threads, Reps: o.Reps,
		ModelBytes: modelBytes, BytesPerToken: bpt}
	if res.Threads == 0 {
		res.Threads = runtime.NumCPU()
	}
	logits := make([]float32, cfg.NVocab)
	// Prompt tokens: a fixed pseudo-random sequence over the vocabulary.
	prompt := make([]int32, o.PP)
	x := uint32(12345)
	for i := range prompt {
		x = x*1664525 + 1013904223 // Numerical Recipes LCG
		prompt[i] = int32(x>>8) % int32(cfg.NVocab)
	}
	pp := func(n int) error {
		batch := c.Options().Batch
		rows := make([]engine.Row, 0, batch)
		for i := 0; i < n; i += batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			rows = rows[:0]
			for j := i; j < min(i+batch, n); j++ {
				rows = append(rows, engine.Row{Token: prompt[j], Pos: int32(j)})
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
		row := make([]engine.Row, 1)
		for i := range n {
			if err := ctx.Err(); err != nil {
				return err
			}
			row[0] = engine.Row{Token: tok, Pos: int32(i)}
			if err := c.Forward(row, []int{0}, logits); err != nil {
				return err
			}
			tok = argmaxF32(logits)
		}
		return nil
	}
	// Warm-up: page in the weights and start the workers.
	if err := pp(min(o.PP, 16)); err != nil {
		return nil, err
	}
	if err := tg(min(o.TG, 4)); err != nil {
		return nil, err
	}
	if o.PP > 0 {
		if res.PP, err = timeReps(o.PP, o.Reps, pp); err != nil {
			return nil, err
		}
	}
	if o.TG > 0 {
		if res.TG, err = timeReps(o.TG, o.Reps, tg); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// timeReps runs f(n) reps times and returns mean and sample standard
// deviation of n/seconds.
func timeReps(n, reps int, f func(int) error) (benchStat, error) {
	rates := make([]float64, reps)
	for i := range rates {
		start := time.Now()
		if err := f(n); err != nil {
			return benchStat{}, err
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
	return benchStat{N: n, TokS: mean, Std: std}, nil
}

// bytesPerToken estimates the bytes one decode step reads from the tensor
// sizes in the file: every tensor once, except the token embedding of which
// one row is read (all of it when it doubles as the output matrix), plus
// K and V (f16) of every layer up to the mean position of a tg-token run.
// It also returns the size of all tensors.
func bytesPerToken(path string, tg int) (perToken, total int64, err error) {
	f, err := gguf.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cfg, err := engine.ConfigFromGGUF(f)
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

// argmaxF32 returns the index of the largest value.
func argmaxF32(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

// writeBench prints the result as a table or JSON.
func writeBench(w io.Writer, r *benchResult, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	fmt.Fprintf(w, "model   %s (%.2f GiB)\ndevice  %s, %d threads, %d repetitions\n", r.Model, float64(r.ModelBytes)/(1<<30), r.Device, r.Threads, r.Reps)
	if r.PP.N > 0 {
		fmt.Fprintf(w, "pp%-5d %10.2f ± %.2f tok/s\n", r.PP.N, r.PP.TokS, r.PP.Std)
	}
	if r.TG.N > 0 {
		fmt.Fprintf(w, "tg%-5d %10.2f ± %.2f tok/s\n", r.TG.N, r.TG.TokS, r.TG.Std)
		_, err := fmt.Fprintf(w, "bytes per generated token %.1f MiB (%.2f GB/s at the tg rate)\n",
			float64(r.BytesPerToken)/(1<<20), float64(r.BytesPerToken)*r.TG.TokS/1e9)
		return err
	}
	return nil
}
