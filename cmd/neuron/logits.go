// This file holds `neuron logits`: it loads a model, evaluates a list of
// token ids with engine.EvalLogits and prints the logits (or their top K,
// engine.TopK) as JSON, the tool for checking numerical fidelity against
// other engines (llama.cpp, transformers).

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// logitsOptions are the settings of one `neuron logits` run.
type logitsOptions struct {
	Model   string  // GGUF file
	Tokens  []int32 // token ids to evaluate, positions 0..n-1 of one sequence
	All     bool    // logits of every position, not only the last
	Top     int     // > 0: print the Top largest logits per position instead
	Threads int     // CPU worker threads, 0 = all cores
	CtxSize int     // KV cache positions, 0 = the number of tokens
	Device  string  // "auto", "cpu", "cuda" or "cuda:N"
}

func init() {
	var o logitsOptions
	var tokens string
	cmd := &cobra.Command{
		Use:   "logits MODEL --tokens 1,2,3",
		Short: "Print the logits a model gives a list of token ids, as JSON",
		Long: `Evaluate token ids with a model and print {"n_vocab":N,"logits":[[...]]} for the
last position (every position with --all). With --top K print instead
{"n_vocab":N,"top":[[[id,logit],...],...]}: the K largest logits per position,
descending (ties by lowest id).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			var err error
			if o.Tokens, err = parseTokenList(tokens); err != nil {
				return err
			}
			return runLogits(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&tokens, "tokens", "", "comma-separated token ids (required)")
	f.BoolVar(&o.All, "all", false, "print the logits of every position")
	f.IntVar(&o.Top, "top", 0, "print only the K largest logits per position")
	f.IntVar(&o.Threads, "threads", 0, "CPU threads (0 = all cores)")
	f.IntVar(&o.CtxSize, "ctx-size", 0, "context size (0 = the number of tokens)")
	f.StringVar(&o.Device, "device", "cpu", "backend: auto, cpu, cuda or cuda:N")
	_ = cmd.MarkFlagRequired("tokens")
	rootCmd.AddCommand(cmd)
}

// parseTokenList parses "1,2,3" into token ids.
func parseTokenList(s string) ([]int32, error) {
	var ids []int32
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		v, err := strconv.ParseInt(part, 10, 32)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("--tokens: item %d %q is not a token id", i, part)
		}
		ids = append(ids, int32(v))
	}
	return ids, nil
}

// runLogits evaluates o.Tokens and writes the JSON result to w.
func runLogits(w io.Writer, o logitsOptions) error {
	if len(o.Tokens) == 0 {
		return fmt.Errorf("logits: no tokens")
	}
	if o.Top < 0 {
		return fmt.Errorf("logits: --top %d is negative", o.Top)
	}
	b, err := engine.OpenDevice(o.Device, engine.BackendOptions{Threads: o.Threads}, nil)
	if err != nil {
		return err
	}
	defer b.Close()
	path, err := resolveModel(context.Background(), o.Model, os.Stderr)
	if err != nil {
		return err
	}
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	n := len(o.Tokens)
	ctxSize := max(o.CtxSize, n)
	if o.CtxSize > 0 && n > o.CtxSize {
		return fmt.Errorf("logits: %d tokens do not fit --ctx-size %d", n, o.CtxSize)
	}
	batch := min(n, 512) // llama.cpp's default n_batch
	copts := engine.ContextOptions{Ctx: ctxSize, Batch: batch, KV: engine.KVF32}
	if err := engine.CheckFit(b, f, copts); err != nil {
		return err
	}
	m, err := engine.LoadModel(f, b)
	if err != nil {
		return err
	}
	defer m.Free()
	c, err := m.NewContext(copts)
	if err != nil {
		return err
	}
	defer c.Free()

	logits, err := engine.EvalLogits(context.Background(), c, o.Tokens, o.All)
	if err != nil {
		return fmt.Errorf("logits: %w", err)
	}
	nVocab := m.Config().NVocab
	return writeLogitsJSON(w, logits, nVocab, o.Top)
}

// writeLogitsJSON prints the logits of each position (nVocab floats each),
// or their top k as [id, logit] pairs when k > 0. Floats use the shortest
// text that reads back as the same float32; NaN and infinities print as null.
func writeLogitsJSON(w io.Writer, logits []float32, nVocab, k int) error {
	bw := bufio.NewWriter(w)
	var num []byte
	appendF := func(v float32) {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			bw.WriteString("null") // JSON has no NaN or infinity
			return
		}
		num = strconv.AppendFloat(num[:0], float64(v), 'g', -1, 32)
		bw.Write(num)
	}
	fmt.Fprintf(bw, `{"n_vocab":%d,`, nVocab)
	if k > 0 {
		bw.WriteString(`"top":[`)
	} else {
		bw.WriteString(`"logits":[`)
	}
	for p := 0; p*nVocab < len(logits); p++ {
		if p > 0 {
			bw.WriteByte(',')
		}
		row := logits[p*nVocab : (p+1)*nVocab]
		bw.WriteByte('[')
		if k > 0 {
			for j, id := range engine.TopK(row, k) {
				if j > 0 {
					bw.WriteByte(',')
				}
				fmt.Fprintf(bw, "[%d,", id)
				appendF(row[id])
				bw.WriteByte(']')
			}
		} else {
			for j, v := range row {
				if j > 0 {
					bw.WriteByte(',')
				}
				appendF(v)
			}
		}
		bw.WriteByte(']')
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
