// This file holds `neuron bench`: prompt-processing and generation speed of
// a model, in the manner of llama-bench. It parses the flags, loads the
// model, runs engine.Bench (the tests and their statistics) and
// engine.DecodeBytesPerToken, and prints the result as a table or JSON.

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"

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
	Exact   bool
	Device  string
	JSON    bool
	Verbose bool
}

// benchResult is the --json output of `neuron bench`.
type benchResult struct {
	Model         string           `json:"model"`
	Device        string           `json:"device"`
	Threads       int              `json:"threads"`
	Reps          int              `json:"reps"`
	ModelBytes    int64            `json:"model_bytes"`
	PP            engine.BenchStat `json:"pp"`
	TG            engine.BenchStat `json:"tg"`
	BytesPerToken int64            `json:"bytes_per_token"`
	// DecodeGBs is BytesPerToken at the tg rate; MemGBs the memory read
	// bandwidth the backend measured in the same run (0 when it cannot).
	DecodeGBs float64 `json:"decode_gb_s"`
	MemGBs    float64 `json:"mem_gb_s"`
}

// bandwidthMeter is implemented by backends that can measure the memory
// bandwidth their decode step is bound by (the CPU backend).
type bandwidthMeter interface {
	ReadBandwidth() float64
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
 "tg":{"n":128,"tok_s":...,"std":...},"bytes_per_token":...,
 "decode_gb_s":...,"mem_gb_s":...}: decode_gb_s is bytes_per_token at the tg
rate, mem_gb_s the memory read bandwidth the CPU backend measures in the same
run with its own threads (streaming 128 MiB), so decode's distance to the
machine's limit shows.`,
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
	// The flags are llama-bench's: -p/--n-prompt, -n/--n-gen,
	// -r/--repetitions, -t/--threads, -b/--batch-size.
	f.IntVarP(&o.PP, "n-prompt", "p", 512, "prompt tokens to process")
	f.IntVarP(&o.TG, "n-gen", "n", 128, "tokens to generate")
	f.IntVarP(&o.Reps, "repetitions", "r", 3, "repetitions of each test")
	f.IntVarP(&o.Batch, "batch-size", "b", 512, "prefill batch in tokens")
	f.IntVarP(&o.Threads, "threads", "t", 0, "CPU threads (0 = all cores; fewer run while other processes keep cores busy)")
	f.BoolVar(&o.Exact, "exact", false, "CPU: float32 activations in matrix products (no 8-bit quantization or BF16 rounding)")
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
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	bpt, modelBytes, err := engine.DecodeBytesPerToken(f, o.TG)
	f.Close()
	if err != nil {
		return nil, err
	}
	g, done, err := loadForRun(ctx, log, path, engine.LoadOptions{
		CtxSize: max(o.PP, o.TG, 1), Batch: max(min(o.Batch, o.PP), 1), Device: o.Device, Threads: o.Threads, Exact: o.Exact, KV: engine.KVF16,
	})
	if err != nil {
		return nil, err
	}
	defer done()
	res := &benchResult{Model: o.Model, Device: g.Model().Backend().Name(), Threads: o.Threads, Reps: o.Reps,
		ModelBytes: modelBytes, BytesPerToken: bpt}
	if res.Threads == 0 {
		res.Threads = runtime.NumCPU()
	}
	r, err := engine.Bench(ctx, g.Context(), engine.BenchOptions{PP: o.PP, TG: o.TG, Reps: o.Reps})
	if err != nil {
		return nil, err
	}
	res.PP, res.TG = r.PP, r.TG
	res.DecodeGBs = float64(bpt) * r.TG.TokS / 1e9
	if m, ok := g.Model().Backend().(bandwidthMeter); ok && o.TG > 0 {
		res.MemGBs = m.ReadBandwidth() / 1e9
	}
	return res, nil
}

// writeBench prints the result as a table or JSON.
func writeBench(w io.Writer, r *benchResult, asJSON bool) error {
	if asJSON {
		return printJSON(w, r)
	}
	fmt.Fprintf(w, "model   %s (%.2f GiB)\ndevice  %s, %d threads, %d repetitions\n", r.Model, float64(r.ModelBytes)/(1<<30), r.Device, r.Threads, r.Reps)
	if r.PP.N > 0 {
		fmt.Fprintf(w, "pp%-5d %10.2f ± %.2f tok/s\n", r.PP.N, r.PP.TokS, r.PP.Std)
	}
	if r.TG.N > 0 {
		fmt.Fprintf(w, "tg%-5d %10.2f ± %.2f tok/s\n", r.TG.N, r.TG.TokS, r.TG.Std)
		if _, err := fmt.Fprintf(w, "bytes per generated token %.1f MiB (%.2f GB/s at the tg rate)\n",
			float64(r.BytesPerToken)/(1<<20), r.DecodeGBs); err != nil {
			return err
		}
		if r.MemGBs > 0 {
			_, err := fmt.Fprintf(w, "memory read bandwidth %.2f GB/s measured now (decode reaches %.0f%% of it)\n",
				r.MemGBs, 100*r.DecodeGBs/r.MemGBs)
			return err
		}
	}
	return nil
}
