// This file holds `neuron synth`: write a synthetic model of real Qwen3
// shapes with random weights (engine.WriteSynth), for benchmarks and device
// checks without downloads.

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/engine"
)

func init() {
	var o engine.SynthOptions
	var out string
	cmd := &cobra.Command{
		Use:   "synth --preset P --type T -o FILE",
		Short: "Write a random-weight model of real shapes (for benchmarks and tests)",
		Long: fmt.Sprintf(`Write a GGUF model with the shapes of a real model, random weights from a fixed
seed, a synthetic vocabulary of the real size and the model family's chat
template. It loads in neuron and in llama.cpp; its output is noise.
Presets (qwen3): %s. Types: %s.
q4_k_m and q5_k_m use Q6_K for the output matrix and, in about half of the
layers, attn_v and ffn_down, as llama.cpp's mixes do; q2_k uses Q6_K for the
output and Q3_K for attn_v, attn_output and ffn_down; q3_k_m Q6_K for the
output and Q4_K (Q5_K in the first layers) for those three.`,
			strings.Join(engine.SynthPresets("qwen3"), ", "), strings.Join(engine.SynthTypes(), ", ")),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSynth(cmd.OutOrStdout(), out, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Arch, "arch", "qwen3", "architecture")
	f.StringVar(&o.Preset, "preset", "", "model size: "+strings.Join(engine.SynthPresets("qwen3"), ", "))
	f.StringVar(&o.Type, "type", "q8_0", "tensor type: "+strings.Join(engine.SynthTypes(), ", "))
	f.Uint64Var(&o.Seed, "seed", 1, "random seed")
	f.StringVarP(&out, "output", "o", "", "output file")
	_ = cmd.MarkFlagRequired("preset")
	_ = cmd.MarkFlagRequired("output")
	rootCmd.AddCommand(cmd)
}

// runSynth writes the model and reports its size and the time taken.
func runSynth(w io.Writer, path string, o engine.SynthOptions) error {
	start := time.Now()
	if err := engine.WriteSynth(path, o); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "wrote %s: %s %s %s, %.2f GiB in %.1f s\n", path, o.Arch, o.Preset, o.Type,
		float64(st.Size())/(1<<30), time.Since(start).Seconds())
	return err
}
