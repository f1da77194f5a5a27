// This file holds `neuron run`: load a model, generate from one prompt and
// stream the text to stdout. The prompt is chat-formatted with the model's
// template (--system, --no-think), raw text (--raw) or token ids (--tokens);
// --json prints one object with the tokens, text, finish reason, usage and
// timings instead of streaming.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/engine"
)

// runOptions are the settings of one `neuron run`.
type runOptions struct {
	Model      string
	Prompt     string
	System     string
	NoThink    bool
	Raw        bool
	Tokens     []int32
	JSON       bool
	IgnoreEOS  bool
	MaxTokens  int
	Stop       []string
	Sampling   engine.SamplingParams
	Seed       int64
	CtxSize    int
	Batch      int
	Threads    int
	Exact      bool
	Device     string
	Verbose    bool
	Terminal   bool // stdout is a terminal: reasoning is shown dimmed
	StatsTo    io.Writer
	LoadLogger *slog.Logger
}

func init() {
	var o runOptions
	var tokens string
	cmd := &cobra.Command{
		Use:   "run MODEL [PROMPT]",
		Short: "Generate a reply to one prompt and stream it to stdout",
		Long: `Load MODEL (a .gguf file) and generate from PROMPT, or from standard input
when no prompt is given. The prompt is formatted with the model's chat template
(--system adds a system message, --no-think turns Qwen3's reasoning off); --raw
uses the text as it is, --tokens gives prompt token ids (and implies --raw).
On a terminal the model's reasoning is shown dimmed; otherwise it is written
between <think> and </think>. --json prints one object instead:
{"tokens":[...],"text":"...","finish_reason":"...","usage":{...},"timings":{...}}.
Defaults follow Qwen3's recommended sampling for thinking mode
(temperature 0.6, top-k 20, top-p 0.95); --temp 0 is greedy.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			if tokens != "" {
				ids, err := parseTokenList(tokens)
				if err != nil {
					return err
				}
				o.Tokens, o.Raw = ids, true
				if len(args) > 1 {
					return errors.New("run: give either PROMPT or --tokens, not both")
				}
			} else if len(args) > 1 {
				o.Prompt = args[1]
			} else {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return fmt.Errorf("run: reading the prompt from stdin: %w", err)
				}
				o.Prompt = string(b)
			}
			if o.Seed >= 0 {
				s := uint64(o.Seed)
				o.Sampling.Seed = &s
			}
			o.Terminal = styled(os.Stdout)
			o.StatsTo = cmd.ErrOrStderr()
			level := slog.LevelWarn
			if o.Verbose {
				level = slog.LevelInfo
			}
			o.LoadLogger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runGenerate(ctx, cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.System, "system", "", "system message")
	f.BoolVar(&o.NoThink, "no-think", false, "ask the model to answer without reasoning")
	f.BoolVar(&o.Raw, "raw", false, "use the prompt text as it is, without the chat template")
	f.StringVar(&tokens, "tokens", "", "comma-separated prompt token ids (implies --raw)")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object instead of streaming text")
	f.BoolVar(&o.IgnoreEOS, "ignore-eos", false, "keep generating past end-of-generation tokens")
	f.IntVar(&o.MaxTokens, "max-tokens", 0, "most tokens to generate (0 = up to the context size)")
	f.StringArrayVar(&o.Stop, "stop", nil, "stop string (repeatable)")
	f.Float32Var(&o.Sampling.Temperature, "temp", 0.6, "sampling temperature (0 = greedy)")
	f.IntVar(&o.Sampling.TopK, "top-k", 20, "keep the K most likely tokens (0 = off)")
	f.Float32Var(&o.Sampling.TopP, "top-p", 0.95, "nucleus sampling mass (1 = off)")
	f.Float32Var(&o.Sampling.MinP, "min-p", 0, "drop tokens below this fraction of the most likely one")
	f.Float32Var(&o.Sampling.RepetitionPenalty, "repeat-penalty", 1, "repetition penalty (1 = off)")
	f.Float32Var(&o.Sampling.PresencePenalty, "presence-penalty", 0, "presence penalty")
	f.Float32Var(&o.Sampling.FrequencyPenalty, "frequency-penalty", 0, "frequency penalty")
	f.Int64Var(&o.Seed, "seed", -1, "random seed (-1 = random)")
	f.IntVar(&o.CtxSize, "ctx-size", 0, "context size (0 = the smaller of the model's and 8192)")
	f.IntVar(&o.Batch, "batch-size", 0, "prefill chunk in tokens (0 = 512)")
	f.IntVar(&o.Threads, "threads", 0, "CPU threads (0 = all cores)")
	f.BoolVar(&o.Exact, "exact", false, "CPU: float32 activations in matrix products (no 8-bit quantization or BF16 rounding)")
	f.StringVar(&o.Device, "device", "auto", "backend: auto, cpu, cuda or cuda:N")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "log model loading")
	rootCmd.AddCommand(cmd)
}

// loadForRun loads the model of a command into a fresh registry and lends
// out its generator; done releases it and frees the model.
func loadForRun(ctx context.Context, log *slog.Logger, ref string, lo engine.LoadOptions) (g *engine.Generator, done func(), err error) {
	path, err := resolveModel(ctx, ref, os.Stderr)
	if err != nil {
		return nil, nil, err
	}
	reg := engine.NewRegistry(log)
	lo.Path = path
	info, err := reg.Load(ctx, lo)
	if err != nil {
		return nil, nil, err
	}
	g, release, err := reg.Acquire(info.ID)
	if err != nil {
		reg.Close(context.Background())
		return nil, nil, err
	}
	done = func() {
		release()
		reg.Close(context.Background())
	}
	return g, done, nil
}

// runJSON is the --json output of `neuron run`.
type runJSON struct {
	Tokens       []int32        `json:"tokens"`
	Text         string         `json:"text"`
	Content      string         `json:"content,omitempty"`
	Reasoning    string         `json:"reasoning,omitempty"`
	ToolCalls    []api.ToolCall `json:"tool_calls,omitempty"`
	FinishReason string         `json:"finish_reason"`
	Usage        engine.Usage   `json:"usage"`
	Timings      engine.Timings `json:"timings"`
	Seed         uint64         `json:"seed"`
}

// ANSI sequences for dimmed reasoning on a terminal.
const (
	ansiDim   = "\x1b[2m"
	ansiReset = "\x1b[0m"
)

// runGenerate loads the model and runs one generation, writing to out.
func runGenerate(ctx context.Context, out io.Writer, o runOptions) error {
	if o.StatsTo == nil {
		o.StatsTo = io.Discard
	}
	g, done, err := loadForRun(ctx, o.LoadLogger, o.Model, engine.LoadOptions{
		CtxSize: o.CtxSize, Batch: o.Batch, Device: o.Device, Threads: o.Threads, Exact: o.Exact,
	})
	if err != nil {
		return err
	}
	defer done()

	req := engine.GenerateRequest{MaxTokens: o.MaxTokens, Stop: o.Stop, IgnoreEOS: o.IgnoreEOS, Sampling: o.Sampling}
	switch {
	case len(o.Tokens) > 0:
		req.Tokens = o.Tokens
	case o.Raw:
		req.Prompt = o.Prompt
	default:
		var msgs []api.Message
		if o.System != "" {
			msgs = append(msgs, api.Message{Role: "system", Content: api.Content{Text: o.System}})
		}
		msgs = append(msgs, api.Message{Role: "user", Content: api.Content{Text: strings.TrimRight(o.Prompt, "\n")}})
		think := !o.NoThink
		req.Chat = &chat.Request{Messages: msgs, EnableThinking: &think, AddGenerationPrompt: true}
	}

	w := &streamWriter{out: out, terminal: o.Terminal}
	emit := w.event
	if o.JSON {
		emit = nil
	}
	res, genErr := g.Generate(ctx, req, emit)
	if genErr != nil && res == nil {
		return genErr
	}
	if o.JSON {
		j := runJSON{Tokens: res.Tokens, Text: res.Text, FinishReason: res.FinishReason, Usage: res.Usage, Timings: res.Timings, Seed: res.Seed}
		if req.Chat != nil {
			j.Content, j.Reasoning, j.ToolCalls = res.Content, res.Reasoning, res.ToolCalls
		}
		if j.Tokens == nil {
			j.Tokens = []int32{}
		}
		if err := printJSON(out, j); err != nil {
			return err
		}
	} else if err := w.end(); err != nil {
		return err
	}
	t := res.Timings
	fmt.Fprintf(o.StatsTo, "[%d prompt tokens, %d generated, %s; prompt %.1f tok/s, generation %.1f tok/s, first token %.0f ms]\n",
		res.Usage.PromptTokens, res.Usage.CompletionTokens, finishLabel(res.FinishReason, genErr), t.PromptTokPerSec, t.GenTokPerSec, t.TTFTMS)
	if errors.Is(genErr, context.Canceled) {
		return fmt.Errorf("run: %w", errInterrupted)
	}
	return genErr
}

// finishLabel says why generation ended.
func finishLabel(reason string, err error) string {
	if err != nil {
		return "stopped: " + err.Error()
	}
	return "finish " + reason
}

// streamWriter prints generation events as text: reasoning dimmed on a
// terminal, between <think> tags otherwise; tool calls as one line each.
type streamWriter struct {
	out        io.Writer
	terminal   bool
	inReason   bool
	wroteAny   bool
	endNewline bool
}

// event writes one event.
func (w *streamWriter) event(ev engine.Event) error {
	if ev.Reasoning != "" {
		if !w.inReason {
			w.inReason = true
			if err := w.write(w.open()); err != nil {
				return err
			}
		}
		if err := w.write(ev.Reasoning); err != nil {
			return err
		}
	}
	if ev.Content != "" || len(ev.ToolCalls) > 0 {
		if err := w.closeReasoning(); err != nil {
			return err
		}
	}
	if err := w.write(ev.Content); err != nil {
		return err
	}
	for _, tc := range ev.ToolCalls {
		if err := w.write(fmt.Sprintf("\n[tool call %s(%s)]\n", tc.Function.Name, tc.Function.Arguments)); err != nil {
			return err
		}
	}
	return nil
}

func (w *streamWriter) open() string {
	if w.terminal {
		return ansiDim
	}
	return "<think>\n"
}

// closeReasoning ends a reasoning block.
func (w *streamWriter) closeReasoning() error {
	if !w.inReason {
		return nil
	}
	w.inReason = false
	if w.terminal {
		return w.write(ansiReset + "\n")
	}
	return w.write("\n</think>\n\n")
}

func (w *streamWriter) write(s string) error {
	if s == "" {
		return nil
	}
	w.wroteAny = true
	w.endNewline = strings.HasSuffix(s, "\n")
	_, err := io.WriteString(w.out, s)
	return err
}

// end closes an open reasoning block and ends the output with a newline.
func (w *streamWriter) end() error {
	if err := w.closeReasoning(); err != nil {
		return err
	}
	if w.wroteAny && !w.endNewline {
		return w.write("\n")
	}
	return nil
}
