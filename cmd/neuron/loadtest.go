// This file holds `neuron loadtest`: concurrent streaming chat clients
// against a neuron (or cortex, or any OpenAI-compatible server) with fixed
// prompt and output lengths, reporting aggregate tokens per second, TTFT,
// inter-token latency and errors (package loadgen), optionally over a sweep
// of concurrencies, and the multi-turn prefix-reuse scenario.

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/loadgen"
)

func init() {
	o := loadgen.Options{Warmup: 1}
	m := loadgen.MultiturnOptions{}
	var sweep, bias, scenario, jsonFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "loadtest --model M [--concurrency N | --sweep 1,2,4,8]",
		Short: "Measure a server under concurrent streaming chat load",
		Long: `Send concurrent streaming chat completions of a fixed prompt length and
output length to an OpenAI-compatible server and report aggregate generated
tokens per second (completion tokens over the wall time of the run), time to
first token, inter-token latency and time per output token (p50/p99), request
throughput, prompt and cached prompt tokens and errors by kind.

--sweep runs the same load at several concurrencies and compares each with the
first; --rounds repeats the sweep in alternating order (1,4,8,8,4,1,...) and
reports medians, which a shared machine's drifting load disturbs less. --scenario multiturn measures chats instead: the first turn sends a
history of about --history-tokens tokens and a question, the second the same
plus the reply and a new question; it reports both turns' time to first token.
--scenario all runs both.

Requests ask for exactly --max-tokens tokens: they send ignore_eos (an
extension vLLM and llama.cpp read) and --logit-bias, e.g. '{"151645":-100}',
bans end-of-generation tokens on any server. Thinking is turned off
(chat_template_kwargs.enable_thinking=false) unless --thinking.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.Sweep, err = parseSweep(sweep); err != nil {
				return err
			}
			if bias != "" {
				if err := json.Unmarshal([]byte(bias), &o.LogitBias); err != nil {
					return fmt.Errorf("loadtest: --logit-bias must be a JSON object of token id to bias: %w", err)
				}
			}
			stderr := cmd.ErrOrStderr()
			o.Progress = func(s string) { fmt.Fprintln(stderr, "loadtest: "+s) }
			out := loadgen.NewOutput(o)
			switch scenario {
			case "load", "all", "multiturn":
			default:
				return fmt.Errorf("loadtest: --scenario must be load, multiturn or all, got %q", scenario)
			}
			// A table is written as each part ends (a long run shows its
			// sweep before the chats); JSON once at the end.
			w := cmd.OutOrStdout()
			if !asJSON {
				if err := out.WriteHeaderText(w); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			if scenario != "multiturn" {
				if out.Load, err = loadgen.Run(ctx, o); err != nil {
					return err
				}
				if !asJSON {
					if err := out.WriteLoadText(w); err != nil {
						return err
					}
				}
			}
			if scenario != "load" {
				mo := o
				if scenario == "all" {
					mo.Warmup = 0 // the load has warmed the server up
				}
				if out.Multiturn, err = loadgen.Multiturn(ctx, mo, m); err != nil {
					return err
				}
				if !asJSON {
					if err := out.WriteMultiturnText(w); err != nil {
						return err
					}
				}
			}
			if jsonFile != "" {
				if err := writeJSONFile(jsonFile, out); err != nil {
					return err
				}
			}
			if asJSON {
				return out.WriteJSON(w)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "http://127.0.0.1:13131", "base URL of the server (without /v1)")
	f.StringVar(&o.Model, "model", "", "model id to request (required)")
	f.StringVar(&o.APIKey, "api-key", os.Getenv("NEURON_API_KEY"), "API key sent as a bearer token (default $NEURON_API_KEY)")
	f.StringVar(&scenario, "scenario", "load", "load, multiturn or all")
	f.IntVarP(&o.Concurrency, "concurrency", "c", 1, "concurrent streaming clients")
	f.StringVar(&sweep, "sweep", "", "comma-separated concurrencies to run in turn, e.g. 1,2,4,8 (overrides --concurrency)")
	f.IntVarP(&o.Requests, "requests", "n", 0, "measured requests per concurrency level (0: two per client)")
	f.IntVar(&o.Rounds, "rounds", 1, "run the sweep this many times, alternating its order; medians over rounds")
	f.DurationVar(&o.Duration, "duration", 0, "send requests for this long per level instead of a count")
	f.IntVar(&o.Warmup, "warmup", 1, "unmeasured requests sent first, one at a time")
	f.IntVar(&o.PromptTokens, "prompt-tokens", 128, "prompt length in tokens (about; the report gives the server's count)")
	f.IntVar(&o.MaxTokens, "max-tokens", 64, "tokens each request generates")
	f.BoolVar(&o.IgnoreEOS, "ignore-eos", true, "send ignore_eos so generation runs to max-tokens")
	f.StringVar(&bias, "logit-bias", "", "logit_bias JSON object sent with every request")
	f.Float64Var(&o.Temperature, "temperature", 0, "sampling temperature")
	f.Int64Var(&o.Seed, "seed", 1, "seed of the prompts and of sampling")
	f.BoolVar(&o.Thinking, "thinking", false, "leave the model's thinking on")
	f.DurationVar(&o.Timeout, "timeout", 0, "limit per request (0: 10m)")
	f.IntVar(&m.Conversations, "conversations", 3, "multiturn: conversations, run one after another")
	f.IntVar(&m.HistoryTokens, "history-tokens", 1000, "multiturn: tokens of history before the first question")
	f.IntVar(&m.TurnTokens, "turn-tokens", 100, "multiturn: tokens per history message")
	f.IntVar(&m.ReplyTokens, "reply-tokens", 16, "multiturn: max_tokens of each turn")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of tables")
	f.StringVar(&jsonFile, "json-file", "", "also write the JSON object to this file")
	_ = cmd.MarkFlagRequired("model")
	rootCmd.AddCommand(cmd)
}

// writeJSONFile writes out's JSON document to path.
func writeJSONFile(path string, out *loadgen.Output) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	if err := out.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("loadtest: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("loadtest: %s: %w", path, err)
	}
	return nil
}

// parseSweep reads "1,2,4,8"; empty gives nil.
func parseSweep(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("loadtest: --sweep wants positive integers separated by commas, got %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}
